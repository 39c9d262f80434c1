"""Start the Qt application."""

from __future__ import annotations

import os
import sys

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer import __version__
from timbre_explorer.paths import resources_dir


def app_icon() -> QtGui.QIcon:
    """The app's icon at every size rendered from ``packaging/icon.svg`` (``packaging/render_icon.py``)."""
    icon = QtGui.QIcon()
    for path in sorted((resources_dir() / "icons").glob("timbre-explorer-*.png")):
        icon.addFile(str(path))
    return icon


def make_app() -> QtWidgets.QApplication:
    """The QApplication, created once, with the settings every view relies on."""
    import pyqtgraph as pg

    from timbre_explorer.gui import memory

    existing = QtWidgets.QApplication.instance()
    app = existing if isinstance(existing, QtWidgets.QApplication) else QtWidgets.QApplication(sys.argv[:1])
    memory.install()  # cycles collected on the GUI thread only, never on a worker that would destroy widgets there
    app.setApplicationName("Timbre Explorer")
    app.setOrganizationName("Timbre Explorer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("timbre-explorer")  # packaging/timbre-explorer.desktop
    app.setWindowIcon(app_icon())
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    return app


def run(model: str | None = None) -> int:
    """The app's event loop; the log is already set up (``cli.main``)."""
    from timbre_explorer.gui import crash
    from timbre_explorer.gui.main_window import MainWindow
    from timbre_explorer.logs import log_file

    crash.install(log_file())  # before the QApplication: Qt's start-up messages are logged too
    app = make_app()  # no display or no platform plugin: one sentence and exit status 1 (crash.cannot_start)
    crash.started()
    window = MainWindow(model_path=model)
    if os.environ.get("TIMBRE_EXPLORER_SMOKE") == "1":
        smoke_check(window)
    window.show()
    first_start_tour(window)
    return app.exec()


def first_start_tour(window) -> None:
    """The tour, once: at the app's first start (here, not in the window: tests and screenshots make windows)."""
    from timbre_explorer.gui import settings

    if not settings.read("help/tour_done"):
        settings.write("help/tour_done", True)
        QtCore.QTimer.singleShot(0, window.start_tour)  # once the window is laid out


def smoke_check(window) -> None:
    """The readiness signal ``packaging/smoke.py`` waits for (``TIMBRE_EXPLORER_SMOKE=1``).

    Once the model is loaded and the map drawn, click the middle of the map as a mouse does (the events
    go through pyqtgraph's scene to the Explorer's click-to-hear path), wait for the decoded note, print
    ``SMOKE OK <ms from click to sound> ms`` and close the window the normal way (the exit code is then
    the app's own). A model that cannot be opened, or a note that fails, prints ``SMOKE FAILED: ...``
    and ends with code 1.
    """
    clock = QtCore.QElapsedTimer()

    def click(_space) -> None:
        viewport = window.explorer.map.viewport()
        centre = QtCore.QPointF(viewport.width() / 2, viewport.height() / 2)
        screen = QtCore.QPointF(viewport.mapToGlobal(centre.toPoint()))
        left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
        clock.start()
        for kind, buttons in ((QtCore.QEvent.Type.MouseButtonPress, left),
                              (QtCore.QEvent.Type.MouseButtonRelease, none)):
            event = QtGui.QMouseEvent(kind, centre, screen, left, buttons, QtCore.Qt.KeyboardModifier.NoModifier)
            QtWidgets.QApplication.sendEvent(viewport, event)

    def heard(sound) -> None:
        window.explorer.sound_ready.disconnect(heard)
        print(f"SMOKE OK {clock.elapsed()} ms ({sound.title})", flush=True)
        window.close()

    def failed(*args) -> None:
        print(f"SMOKE FAILED: {': '.join(args)}", flush=True)
        QtWidgets.QApplication.exit(1)

    def ready(space) -> None:  # the map is drawn with the next frame: benchmarks/run.py times this line
        window.explorer.map.repaint()
        print(f"SMOKE READY {len(space.notes)} notes", flush=True)
        QtCore.QTimer.singleShot(200, lambda: click(space))

    window.model_loaded.connect(ready)
    window.model_failed.connect(failed)
    window.explorer.sound_ready.connect(heard)
    window.explorer.error.connect(failed)
