"""The Trainer tab's views, one class per file: they show what the controllers (``gui/trainer``) give them and emit
what the user asks for; nothing here imports torch, the workers or the controllers."""
