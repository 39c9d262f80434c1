"""Shared fixtures. GUI tests run offscreen; nothing here needs a sound card, a display or a GPU.

One behaviour per test, named for what it checks: "_and_" in a test's name only where the two sides are one
contract (a failed export keeps the old file and says why; a parser reads what it wrote and refuses the rest).
Setup shared by several tests goes in a fixture or a helper, module-scoped where it is slow (training, building a
dataset), never copied.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
import torch

torch.set_num_threads(2)


def pytest_addoption(parser):
    """pytest-qt's settings in pyproject.toml are known even where it is not installed (the no-Qt job of
    ``./run.sh test``): ``--strict-config`` would stop at them."""
    if importlib.util.find_spec("pytestqt") is None:
        for name, kind in (("qt_api", "string"), ("qt_log_level_fail", "string"), ("qt_log_ignore", "linelist")):
            parser.addini(name, "pytest-qt's setting (pytest-qt is not installed here)", type=kind)


@pytest.fixture(scope="session", autouse=True)
def _log_dir(tmp_path_factory):
    """The app's and the command line's log goes to a temporary folder in tests (subprocesses too)."""
    os.environ["TIMBRE_EXPLORER_LOG_DIR"] = str(tmp_path_factory.mktemp("logs"))


@pytest.fixture(autouse=True)
def _app_logging_undone(monkeypatch):
    """``cli.main`` sets up the app's logging for the whole process (handlers, exception hooks): a test that
    calls it leaves nothing of it to the next."""
    from timbre_explorer import logs

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(logs, "_file", logs._file)
    root = logging.getLogger()
    level = root.level
    yield
    for h in logs._handlers:
        root.removeHandler(h)
        h.close()
    logs._handlers.clear()
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _fresh_settings(tmp_path, monkeypatch):
    """QSettings in a temporary folder, new for each test: no test reads or writes the user's settings, nor
    another test's. The app's organisation names a folder under it (``make_app`` is the only place that sets it).
    Without Qt (the no-Qt job) there are no settings to isolate.
    """
    if importlib.util.find_spec("PySide6") is None:
        yield None
        return
    from PySide6 import QtCore

    folder = tmp_path / "settings"
    QtCore.QSettings.setDefaultFormat(QtCore.QSettings.Format.IniFormat)
    for scope in (QtCore.QSettings.Scope.UserScope, QtCore.QSettings.Scope.SystemScope):
        QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, scope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def _unsaved_work_discarded(monkeypatch):
    """The question before unsaved work is thrown away waits for a click: in tests it answers Discard (a test of
    the question sets its window's ``sessions.ask``)."""
    if importlib.util.find_spec("PySide6") is None:
        return
    from timbre_explorer.gui import sessions

    monkeypatch.setattr(sessions, "ask_unsaved", lambda parent, what: sessions.DISCARD)


@pytest.fixture(scope="session")
def qapp():
    """pytest-qt's application is the app's own (``make_app``): the same settings, and cycles collected on the
    GUI thread only, never on a worker that would destroy widgets there."""
    from timbre_explorer.gui.app import make_app

    return make_app()


@pytest.fixture
def rng():
    return np.random.default_rng(440)


@pytest.fixture
def engine():
    """An audio engine without a stream (22.05 kHz, blocks of 256) whose callback the test drives, as PortAudio
    would (``signals.pull``, ``signals.pull_blocks``)."""
    from timbre_explorer.audio.engine import AudioEngine

    e = AudioEngine(22050, open_stream=False, blocksize=256)
    e.available = True
    return e


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A dataset cache folder shared by a module's tests (a dataset built once serves them all)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def open_window(qtbot):
    """Opens the app's main window: ``open_window(model, audio)`` shows it and waits until its space is drawn and
    what the map computes after it is there too (``ExplorerTab.prepared``: the sliders' spans, the "Instruments
    apart" axes; ``wait=False``: not for a model that cannot open); every window it opened is closed after the
    test."""
    from timbre_explorer.gui.main_window import MainWindow

    opened = []

    def open_(model, audio=None, *, wait: bool = True):
        w = MainWindow(model_path=model, audio=audio)
        qtbot.addWidget(w)
        w.show()
        if wait:
            qtbot.waitUntil(lambda: w.space is not None and w.explorer.prepared is not None, timeout=30_000)
        opened.append(w)
        return w

    yield open_
    for w in opened:
        w.close()


@pytest.fixture(scope="session")
def reference_nsgt():
    """The reference ``nsgt``, patched for modern numpy (see ``nsgt_reference.py``)."""
    from nsgt_reference import patched_nsgt

    if os.environ.get("CI"):
        return patched_nsgt()  # CI installs it: a missing oracle must fail, not skip
    try:
        return patched_nsgt()
    except ImportError:
        pytest.skip("nsgt is not installed (./run.sh test installs it)")


@pytest.fixture(scope="session")
def soundfont():
    """The system's FluidR3_GM; skipped where it is missing, except in CI, where ./run.sh installs it."""
    from timbre_explorer.core.data.sources import find_soundfont
    from timbre_explorer.core.errors import ParameterError

    try:
        return str(find_soundfont())
    except ParameterError:
        if os.environ.get("CI"):
            raise  # ./run.sh installs it: in CI a missing SoundFont must fail, not skip
        pytest.skip("no General MIDI SoundFont (apt-get install fluid-soundfont-gm)")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """Path of a tiny model file trained by our pipeline on synthetic notes (see ``tiny.py``)."""
    from tiny import train_tiny_model

    return train_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def two_source_model(tmp_path_factory):
    """Path of a tiny model trained on two sample sets, setA and setB (see ``tiny.py``)."""
    from tiny import train_two_source_model

    return train_two_source_model(tmp_path_factory.mktemp("two-sources"))


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """The tiny synthetic sample folder (``tiny.py``), plus a file that is not audio, one with no instrument, one
    unreadable: what a user's folder holds (the Trainer's tests)."""
    from tiny import SR, synthetic_note, write_sample_folder

    from timbre_explorer.core.signal.audio_io import save_wav

    root = write_sample_folder(tmp_path_factory.mktemp("samples"))
    (root / "notes.txt").write_text("not a sound")
    save_wav(root / "loose.wav", synthetic_note(60, 0.5, 0.3), SR)
    (root / "Flute" / "broken.wav").write_bytes(b"RIFF, but nothing else")
    return root


@pytest.fixture(scope="session")
def tiny_space(tiny_model):
    from timbre_explorer.core.synthesis.space import TimbreSpace

    return TimbreSpace.open(tiny_model, device=torch.device("cpu"))


def pytest_collection_modifyitems(config, items):
    """``gl`` tests need OpenGL, which Qt's offscreen platform does not give."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return
    skip = pytest.mark.skip(reason="needs a real X display; tests/test_gl_views.py runs these under Xvfb")
    for item in items:
        if item.get_closest_marker("gl"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def clustered_space(tiny_model, tmp_path_factory):
    """The tiny model with its map's notes in tight clusters, one per instrument (``tiny.clustered_model``)."""
    from tiny import clustered_model

    from timbre_explorer.core.synthesis.space import TimbreSpace

    path = clustered_model(tiny_model, tmp_path_factory.mktemp("clustered") / "model.timbre.safetensors")
    return TimbreSpace.open(path, device=torch.device("cpu"))
