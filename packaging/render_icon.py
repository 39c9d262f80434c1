"""Render the icon (packaging/icon.svg) to the PNGs the app and the desktop entry use.

    python packaging/render_icon.py

writes ``resources/icons/timbre-explorer-<size>.png`` for every size in ``SIZES``. The app sets them as
its window icon (``gui/app.py``); the build copies them into the bundle's ``share/icons`` for the
``.desktop`` entry. The PNGs are committed, so running the app needs no SVG support; run this again
after editing the SVG.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "packaging" / "icon.svg"
OUT = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore, QtGui, QtSvg

    app = QtGui.QGuiApplication(sys.argv[:1])  # noqa: F841 (QPainter on images needs one)
    renderer = QtSvg.QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"{SOURCE}: not a valid SVG", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = OUT / f"timbre-explorer-{size}.png"
        if not image.save(str(path)):
            print(f"{path}: could not write", file=sys.stderr)
            return 1
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
