"""The files the Explorer writes: the last sound (WAV), a rendered path (WAV + JSON sidecar), the map (PNG, SVG).

The map's CSV is the core's (:func:`~timbre_explorer.core.synthesis.export.write_map_csv`); every file is
written atomically, and a path is rendered and written in a worker job (:func:`path_job`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui

from timbre_explorer.gui.explorer.results import Exported, Sound

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.pathfile import PathSpec
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.views.map_view import MapView


def write_sound(sound: Sound, path: str | os.PathLike) -> Path:
    """``sound`` as WAV, with the path's JSON sidecar when it is a path."""
    from timbre_explorer.core.signal.audio_io import save_wav
    from timbre_explorer.core.synthesis.pathfile import write_path

    path = Path(path)
    save_wav(path, sound.audio, sound.sample_rate)
    if sound.path_spec is not None:
        write_path(path.with_suffix(".json"), sound.path_spec)
    return path


def path_job(space: TimbreSpace, spec: PathSpec, path: str | os.PathLike):
    """A worker job that renders ``spec`` and writes it as WAV with its sidecar; it answers :class:`Exported`."""
    from timbre_explorer.core.signal.audio_io import save_wav
    from timbre_explorer.core.synthesis.pathfile import render_spec, write_path

    wav = Path(path)

    def job(j) -> Exported:
        save_wav(wav, render_spec(space, spec), space.sample_rate)
        write_path(wav.with_suffix(".json"), spec)
        return Exported(wav, wav.with_suffix(".json"))

    return job


def write_map_image(view: MapView, title: str, path: str | os.PathLike) -> Path:
    """The 2-D map as PNG or SVG (by suffix), written atomically.

    SVG goes through Qt's own SVG generator: pyqtgraph's SVG exporter
    fails on the paths current Qt writes (pyqtgraph issue #3485).
    """
    from timbre_explorer.core.files import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".svg":
            from PySide6.QtSvg import QSvgGenerator

            gen = QSvgGenerator()
            gen.setFileName(str(tmp))
            gen.setSize(view.size())
            gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), view.size()))
            gen.setTitle(title)
            painter = QtGui.QPainter(gen)
            view.render(painter)
            painter.end()
        else:
            import pyqtgraph.exporters as ex

            exporter = ex.ImageExporter(view.plotItem)
            exporter.parameters()["width"] = max(1600, int(view.width()))
            exporter.export(str(tmp))
    return path
