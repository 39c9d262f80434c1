"""The Qt skin: views and workers over :mod:`timbre_explorer.core`. Nothing here computes."""
