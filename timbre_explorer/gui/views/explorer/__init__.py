"""The Explorer's side panels, one per file: controls only. Each emits what the user asked for; the Explorer's
tab (``gui/explorer/tab.py``) acts on it."""
