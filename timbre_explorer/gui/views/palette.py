"""The colours of classes (instruments, families, sources), shared by the maps, their legends and the Trainer."""

from __future__ import annotations

from PySide6 import QtGui

#: Distinct colours for up to 20 classes (then they repeat), light enough on the dark background: picked
#: greedily for the largest smallest CIE Lab distance (every pair is at least ΔE 36 apart; tests/test_explorer.py).
PALETTE = ["#3c96ff", "#00ff00", "#ff0000", "#f0e1a5", "#ff00ff", "#d25a87", "#00f0ff", "#00963c", "#e1f00f",
           "#f09600", "#788796", "#e187ff", "#878700", "#ffd2ff", "#d25a3c", "#00ffc3", "#96ff78", "#ff1eb4",
           "#ff005a", "#4ba587"]

#: The least HSL lightness (0-255) of a name's text: a dark family colour (brass's green) stays its hue, read on the
#: dark box it sits in.
LABEL_LIGHTNESS = 165


def colour(i: int) -> QtGui.QColor:
    return QtGui.QColor(PALETTE[i % len(PALETTE)])


def readable(colour: QtGui.QColor) -> QtGui.QColor:
    """``colour`` lightened to :data:`LABEL_LIGHTNESS` if darker, its hue and saturation kept."""
    if colour.lightness() >= LABEL_LIGHTNESS:
        return QtGui.QColor(colour)
    return QtGui.QColor.fromHsl(colour.hslHue(), colour.hslSaturation(), LABEL_LIGHTNESS, colour.alpha())
