"""The Explorer: the latent map, click to hear, paths, descriptor fields and sliders, your own sounds.

``tab.py`` is the controller between the views (``gui/views/explorer``) and the core; what it computes
without Qt is in ``map_state.py`` (map coordinates to latent points and back, the filters), the path the
user builds in ``paths.py``, the files it writes in ``exports.py``, the workers' answers in ``results.py``.
"""
