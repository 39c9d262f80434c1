"""The Trainer tab (``tab.py``) and its views, one class per file: they show what the tab gives them and emit
what the user asks for; nothing here imports torch."""
