"""The Trainer tab: its controllers (the form, the runs) and the Qt-free status of a run."""
