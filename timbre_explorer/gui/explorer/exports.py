"""The files the Explorer writes: the last sound (WAV), a rendered path (WAV + JSON sidecar), the clicked point as
an SFZ instrument, the map (PNG, SVG).

The map's CSV is the core's (:func:`~timbre_explorer.core.synthesis.export.write_map_csv`); every file is
written atomically, and a path or an instrument is rendered and written in a worker job (:func:`path_job`,
:func:`instrument_job`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtGui

from timbre_explorer.core.errors import TimbreExplorerError
from timbre_explorer.gui.explorer.results import Exported, Sound
from timbre_explorer.gui.views.map_view import POINT_SIZE
from timbre_explorer.gui.views.widgets import PLOT_BACKGROUND

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.manifold import OnData
    from timbre_explorer.core.synthesis.pathfile import PathSpec
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.views.map_view import MapView


def write_sound(sound: Sound, path: str | os.PathLike) -> Path:
    """``sound`` as WAV (at the export rate), with the path's JSON sidecar when it is a path."""
    from timbre_explorer.core.signal.audio_io import export_wav
    from timbre_explorer.core.synthesis.pathfile import write_sound_with_path

    path = Path(path)
    if sound.path_spec is None:
        export_wav(path, sound.audio, sound.sample_rate)
    else:
        write_sound_with_path(path, sound.audio, sound.sample_rate, sound.path_spec)
    return path


def path_job(space: TimbreSpace, spec: PathSpec, path: str | os.PathLike, surface: OnData | None = None):
    """A worker job that renders ``spec`` straight to a WAV with its sidecar, a piece at a time, so a path of any
    length takes the memory of one piece; it reports its progress, stops at Cancel (writing neither file) and
    answers :class:`Exported`.

    ``surface``: the map's mapping the path is walked on (``MapState.path_surface``), as when it plays."""
    from timbre_explorer.core.synthesis.pathfile import render_to_file, walked_on

    wav = Path(path)

    def job(j) -> Exported:
        walked = walked_on(space, spec, surface)
        return Exported(wav, render_to_file(space, walked, wav, cancel=j.cancelled, progress=j.progress))

    return job


def instrument_job(space: TimbreSpace, z: np.ndarray, path: str | os.PathLike):
    """A worker job that writes latent point ``z`` as the SFZ instrument ``path`` with its samples; it answers the
    core's :class:`~timbre_explorer.core.synthesis.instrument.WrittenInstrument`. The job's ``stop`` (set by the
    progress dialog's Cancel) stops it before the next note; nothing is written then."""
    from timbre_explorer.core.synthesis.instrument import write_instrument

    def job(j):
        return write_instrument(space, z, path, cancel=j.stop,
                                progress=lambda done, total: j.progress(done / total, f"Rendering the samples: "
                                                                                      f"{done} of {total}"))

    return job


def instruments_job(space: TimbreSpace, points: Mapping[str, ArrayLike], folder: str | os.PathLike):
    """A worker job that writes each named point as an SFZ instrument in ``folder``, all together
    (:func:`~timbre_explorer.core.synthesis.instrument.write_instruments`); Cancel as :func:`instrument_job`."""
    from timbre_explorer.core.synthesis.instrument import write_instruments

    def job(j):
        return write_instruments(space, points, folder, cancel=j.stop,
                                 progress=lambda done, total: j.progress(done / total, f"Rendering the samples: "
                                                                                       f"{done} of {total}"))

    return job


class MapExportError(TimbreExplorerError):
    """The map image could not be written; the file that was there is left as it was."""


def write_map_image(view: MapView, title: str, path: str | os.PathLike) -> Path:
    """The 2-D map as PNG or SVG (by suffix), written atomically.

    Every save reports success only if the writer did: a full disk or an
    unknown format raises :class:`MapExportError` before the temporary replaces
    the old file.
    """
    from timbre_explorer.core.files import atomic_path

    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            if path.suffix.lower() == ".svg":
                _write_svg(view, title, tmp)
            else:
                _write_raster(view, tmp)
    except OSError as exc:
        raise MapExportError(f"Could not write the map to {path}: {exc.strerror or exc}.") from None
    except _WriteFailed as exc:
        raise MapExportError(f"Could not write the map to {path}: {exc}.") from None
    return path


class _WriteFailed(Exception):
    """A Qt writer said no (it returns False instead of raising)."""


def _write_raster(view: MapView, tmp: Path) -> None:
    import pyqtgraph.exporters as ex

    fmt = tmp.suffix.lstrip(".").lower().encode()
    if fmt not in {bytes(f.data()) for f in QtGui.QImageWriter.supportedImageFormats()}:
        raise _WriteFailed(f"{tmp.suffix or 'no suffix'} is not an image format (use .png or .svg)")
    exporter = ex.ImageExporter(view.plotItem)
    exporter.parameters()["width"] = max(1600, int(view.width()))
    image = exporter.export(toBytes=True)
    writer = QtGui.QImageWriter(str(tmp), fmt)
    if not writer.write(image):
        raise _WriteFailed(writer.errorString().lower())


SVG_MARGINS = (70, 20, 30, 50)  # left, right, top, bottom, in pixels: room for the ticks and the axis names


def _write_svg(view: MapView, title: str, tmp: Path) -> None:
    """The map as plain SVG: a ``<circle>`` per note shown, grouped by colour, then labels, path and axes.

    Written by hand rather than by rendering the widget: Qt's generator embeds pyqtgraph's whole symbol
    atlas in every dot (megabytes, blurred) and pyqtgraph's own exporter fails on current Qt (issue #3485).
    """
    from xml.sax.saxutils import escape

    vb = view.plotItem.vb
    (x0, x1), (y0, y1) = vb.viewRange()
    w, h = max(int(vb.width()), 100), max(int(vb.height()), 100)
    left, right, top, bottom = SVG_MARGINS

    def px(x, y):
        return left + (np.asarray(x) - x0) / (x1 - x0) * w, top + (y1 - np.asarray(y)) / (y1 - y0) * h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + w + right}" height="{top + h + bottom}" '
           f'font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           f'<rect width="100%" height="100%" fill="{PLOT_BACKGROUND}"/>',
           f'<svg x="{left}" y="{top}" width="{w}" height="{h}" overflow="hidden">',  # the dots clipped to the plot
           f'<g transform="translate(-{left} -{top})">']
    r = POINT_SIZE / 2
    for colour_name, xy in view.painted_points():
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        if not inside.any():
            continue
        cx, cy = px(xy[inside, 0], xy[inside, 1])
        out.append(f'<g fill="{colour_name}">')
        out.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{r:g}"/>' for a, b in zip(cx, cy))
        out.append("</g>")
    path_x, path_y = view.path_curve.getData()
    if path_x is not None and len(path_x) > 1:
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(*px(path_x, path_y)))
        out.append(f'<polyline points="{points}" fill="none" stroke="#ffe066" stroke-width="3"/>')
    stars = view.user_scatter.getData()
    for (sx, sy), label in zip(zip(*stars), view.user_labels):  # the dropped sounds: a star and the file's name
        if not (x0 <= sx <= x1 and y0 <= sy <= y1):
            continue
        (cx,), (cy,) = px([sx], [sy])
        corners = " ".join(f"{cx + rad * np.sin(a):.1f},{cy - rad * np.cos(a):.1f}"
                           for k, a in enumerate(np.arange(10) * np.pi / 5) for rad in ((7.0, 3.0)[k % 2],))
        out.append(f'<polygon class="user-sound" points="{corners}" fill="#ffffff"/>')
        out.append(f'<text x="{cx + 10:.1f}" y="{cy + 4:.1f}" fill="#ffffff">{escape(label.toPlainText())}</text>')
    for label in view.labels:
        if label.isVisible():
            (lx,), (ly,) = px([label.pos().x()], [label.pos().y()])
            out.append(f'<text x="{lx:.1f}" y="{ly - 6:.1f}" text-anchor="middle" '
                       f'fill="{label.color.name()}">{escape(label.toPlainText())}</text>')
    out.append("</g></svg>")
    out.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#888888"/>')
    out.extend(_svg_axes(view, px, w, h))
    out.append(f"<text x=\"{left}\" y=\"{top - 10}\" fill=\"#eeeeee\">{escape(title)}</text>")
    out.append("</svg>\n")
    tmp.write_text("\n".join(out), encoding="utf-8")


def _svg_axes(view: MapView, px, w: int, h: int) -> list[str]:
    """The SVG's tick labels and axis names (``px``: map coordinates to the SVG's pixels)."""
    from xml.sax.saxutils import escape

    (x0, x1), (y0, y1) = view.plotItem.vb.viewRange()
    left, _, top, _ = SVG_MARGINS
    out: list[str] = []
    for side, lo, hi, size in (("bottom", x0, x1, w), ("left", y0, y1, h)):
        axis = view.getAxis(side)
        levels = axis.tickValues(lo, hi, size)
        if levels:
            spacing, values = levels[0]
            for value, text in zip(values, axis.tickStrings(values, 1.0, spacing)):
                if side == "bottom":
                    (tx,), _ = px([value], [y0])
                    out.append(f'<text x="{tx:.1f}" y="{top + h + 16}" text-anchor="middle" fill="#cccccc">'
                               f"{escape(text)}</text>")
                else:
                    _, (ty,) = px([x0], [value])
                    out.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#cccccc">'
                               f"{escape(text)}</text>")
    out.append(f'<text class="axis-label" x="{left + w / 2:.1f}" y="{top + h + 40}" text-anchor="middle" '
               f'fill="#eeeeee">{escape(view.getAxis("bottom").labelText)}</text>')
    out.append(f'<text class="axis-label" transform="translate(16 {top + h / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle" fill="#eeeeee">{escape(view.getAxis("left").labelText)}</text>')
    return out
