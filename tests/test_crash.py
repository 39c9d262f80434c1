"""Unexpected errors in the app: logged with their traceback, shown in one dialog that names the log file.

pytest-qt's own exception capture is off here (``qt_no_exception_capture``): these tests install the
app's hooks and check what they do with real exceptions raised in slots, threads and worker jobs.
"""

from __future__ import annotations

import logging
import threading

import pytest
from PySide6 import QtCore, QtWidgets

from timbre_explorer import logs
from timbre_explorer.gui import crash

pytestmark = [pytest.mark.gui, pytest.mark.qt_no_exception_capture]


@pytest.fixture
def reporter(qtbot, tmp_path, monkeypatch):
    """The app's logging and crash reporting, as ``cli.main`` and ``gui.app.run`` set them up."""
    from timbre_explorer.gui.app import make_app

    make_app()
    monkeypatch.setenv("TIMBRE_EXPLORER_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(crash, "_reporter", None)
    r = crash.install(logs.setup_logging())
    yield r
    QtCore.qInstallMessageHandler(None)
    if r.dialog is not None:
        r.dialog.close()
        r.dialog.deleteLater()


def _log(tmp_path) -> str:
    for h in logging.getLogger().handlers:
        h.flush()
    return (tmp_path / "timbre-explorer.log").read_text(encoding="utf-8")


def _dialogs() -> list[QtWidgets.QMessageBox]:
    return [w for w in QtWidgets.QApplication.topLevelWidgets()
            if isinstance(w, QtWidgets.QMessageBox) and w.isVisible()]


def broken_slot():
    raise RuntimeError("a bug in a slot")


def test_errors_in_slots_workers_and_threads_share_one_dialog_that_counts_them(qtbot, reporter, tmp_path):
    QtCore.QTimer.singleShot(0, broken_slot)  # from the event loop, as a click or a timer calls it
    QtCore.QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: reporter.count == 2, timeout=5000)
    assert len(_dialogs()) == 1 and _dialogs()[0] is reporter.dialog
    text = reporter.dialog.text()
    assert "RuntimeError: a bug in a slot" in text and str(tmp_path / "timbre-explorer.log") in text
    assert "1 more error since" in text
    log = _log(tmp_path)
    assert log.count("Traceback (most recent call last)") == 2 and "in broken_slot" in log

    # a worker job that fails with something the core does not raise: the same dialog, counted
    from timbre_explorer.gui.workers import LatestWorker

    worker = LatestWorker("test")
    failed = []
    worker.submit(lambda job: 1 / 0, "divide", on_failed=failed.append)
    qtbot.waitUntil(lambda: bool(failed), timeout=5000)
    worker.shutdown()
    assert failed[0].message == "division by zero"  # the view still hears of it and can reset itself
    # a plain thread that dies
    t = threading.Thread(target=lambda: [][1], name="helper")
    t.start()
    t.join()
    qtbot.waitUntil(lambda: reporter.count == 4, timeout=5000)
    assert len(_dialogs()) == 1 and "3 more errors since" in reporter.dialog.text()
    log = _log(tmp_path)
    assert "unexpected error in the divide job" in log and "ZeroDivisionError" in log
    assert "unexpected error in thread helper" in log and "IndexError" in log


def test_a_closed_error_dialog_opens_again_at_the_next_error_counting_from_one(qtbot, reporter):
    QtCore.QTimer.singleShot(0, broken_slot)
    QtCore.QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: reporter.count == 2, timeout=5000)
    reporter.dialog.close()
    QtCore.QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: reporter.showing, timeout=5000)
    assert reporter.count == 1 and "more error" not in reporter.dialog.text()


def test_the_main_window_keeps_its_own_errors_out_of_the_way_of_the_dialog(qtbot, reporter, tmp_path):
    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.gui.main_window import MainWindow

    w = MainWindow(model_path=tmp_path / "none.timbre.safetensors", audio=AudioEngine(open_stream=False))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.model_failed, timeout=20_000):
        w.show()
    assert w._error_box.isVisible()  # no crash dialog open: the window's own box
    w._error_box.close()
    QtCore.QTimer.singleShot(0, lambda: 1 / 0)
    qtbot.waitUntil(lambda: reporter.showing, timeout=5000)
    w.show_error("Could not finish", "something expected")
    assert not w._error_box.isVisible() and "something expected" in w.statusBar().currentMessage()
    assert len(_dialogs()) == 1
    w.close()


@pytest.mark.no_qt_log  # pytest-qt's message handler makes way for the app's
def test_qt_messages_go_to_the_log(reporter, tmp_path):
    QtCore.qWarning("a warning from Qt")
    assert "WARNING qt: a warning from Qt" in _log(tmp_path)


def test_the_training_process_logs_into_the_apps_file(qtbot, tmp_path, monkeypatch):
    """A task that fails unexpectedly in the Trainer's worker process: its traceback lands in the app's log."""
    import os

    from timbre_explorer.core.training.messages import TaskFailed, TrainRequest
    from timbre_explorer.gui.workers import RunWorker

    monkeypatch.setenv("TIMBRE_EXPLORER_LOG_DIR", str(tmp_path))
    logs.setup_logging()
    runner = RunWorker()
    try:
        with qtbot.waitSignal(runner.message, timeout=60_000,
                              check_params_cb=lambda m: isinstance(m, TaskFailed)) as failed:
            runner.start(TrainRequest(config=None, out=tmp_path / "run"))  # an error the task does not expect
        assert isinstance(failed.args[0].request, TrainRequest) and failed.args[0].message.startswith("AttributeError")
    finally:
        runner.shutdown()
    log = _log(tmp_path)
    line = next(x for x in log.splitlines() if "ERROR timbre_explorer.core.training.tasks: TrainRequest failed" in x)
    assert int(line.split()[2]) != os.getpid()  # written by the app, from the worker's record
    assert "Traceback (most recent call last)" in log and "dataset_recipe" in log


# ------------------------------------------------------------------------------------------------ no display
@pytest.mark.parametrize("variable, value, named", [
    ("QT_QPA_PLATFORM", "bogus", "'bogus'"),  # a platform plugin that does not exist
    ("DISPLAY", ":987", "':987'"),  # a display that is named but absent (no X server there)
])
def test_a_display_qt_cannot_open_gives_one_sentence_and_status_1_never_an_abort(tmp_path, variable, value, named):
    """Only Qt can tell that a named display or platform does not work, and it aborts (SIGABRT, exit 134) with
    its plugin list and advice to reinstall: the app says the same one sentence as with no display instead."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    if variable == "DISPLAY" and Path("/tmp/.X11-unix/X987").exists():
        pytest.skip("this machine has a display :987")
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update({variable: value, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                "TIMBRE_EXPLORER_LOG_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")})
    run = subprocess.run([sys.executable, "-m", "timbre_explorer"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 1, (run.returncode, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].startswith("timbre-explorer: no display to open the window on (") and named in lines[0]
    assert "xvfb-run timbre-explorer" in lines[0] and "Reinstalling" not in lines[0]
    assert "failed to start because no Qt platform plugin" in (tmp_path / "timbre-explorer.log").read_text()
