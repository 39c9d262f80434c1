"""Start the Qt application."""

from __future__ import annotations

import sys

from PySide6 import QtWidgets

from timbre_explorer import __version__


def make_app() -> QtWidgets.QApplication:
    """The QApplication, created once, with the settings every view relies on."""
    import pyqtgraph as pg

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("Timbre Explorer")
    app.setOrganizationName("Timbre Explorer")
    app.setApplicationVersion(__version__)
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    return app


def run(model: str | None = None) -> int:
    from timbre_explorer.gui.main_window import MainWindow

    app = make_app()
    window = MainWindow(model_path=model)
    window.show()
    return app.exec()
