"""Names and units of the audio descriptors, importable without torch (the GUI builds its widgets with them
before the model, and torch, load)."""

from __future__ import annotations

from collections.abc import Iterable

from timbre_explorer.core.errors import ParameterError

#: Descriptor name -> unit (see :mod:`timbre_explorer.core.signal.descriptors` for their definitions).
DESCRIPTORS = {"centroid": "Hz", "bandwidth": "Hz", "flatness": "", "rolloff": "Hz", "loudness": "dB"}


def check_names(names: str | Iterable[str]) -> tuple[str, ...]:
    """Descriptor names as a tuple, each one of :data:`DESCRIPTORS` (else one sentence naming the unknown)."""
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if n not in DESCRIPTORS]
    if unknown or not names:
        got = ", ".join(map(str, unknown)) or "none"
        raise ParameterError(f"descriptors must be among {', '.join(DESCRIPTORS)}, got {got}")
    return names
