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
    """The app's event loop; the log is already set up (``cli.main``)."""
    from timbre_explorer.gui import crash
    from timbre_explorer.gui.main_window import MainWindow
    from timbre_explorer.logs import log_file

    crash.install(log_file())  # before the QApplication: Qt's start-up messages are logged too
    app = make_app()
    window = MainWindow(model_path=model)
    window.show()
    return app.exec()
