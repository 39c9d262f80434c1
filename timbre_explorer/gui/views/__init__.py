"""Views: widgets that show things and emit what the user did; no computation."""
