"""Names and units of the audio descriptors, importable without torch (the GUI builds its widgets with them
before the model, and torch, load)."""

#: Descriptor name -> unit (see :mod:`timbre_explorer.core.signal.descriptors` for their definitions).
DESCRIPTORS = {"centroid": "Hz", "bandwidth": "Hz", "flatness": "", "rolloff": "Hz", "loudness": "dB"}
