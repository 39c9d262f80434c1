"""The main window without a usable model or sound card, offscreen."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def test_window_without_model_or_portaudio(qtbot, tmp_path, monkeypatch):
    import sys

    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    make_app()
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # no PortAudio at all
    model = tmp_path / "my.timbre.safetensors"
    window = MainWindow(model_path=model)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.model_failed, timeout=20_000):
        window.show()
    title, text = window.last_error
    assert title == "Could not open the model" and str(model) in text
    assert window.model_label.text() == "No model loaded" and not window.explorer.isEnabled()
    assert "PortAudio" in window.audio.status and "WAV" in window.audio_label.text()
    assert window.audio.play(np.zeros(10)) is False
    window.close()


def _window(qtbot, tmp_path):
    """The app and a main window with no model and no audio stream."""
    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    app = make_app()
    window = MainWindow(model_path=tmp_path / "none.timbre.safetensors", audio=AudioEngine(open_stream=False))
    qtbot.addWidget(window)
    return app, window


def test_the_window_names_the_version(qtbot, tmp_path):
    from timbre_explorer import __version__

    _, window = _window(qtbot, tmp_path)
    assert window.windowTitle() == f"Timbre Explorer {__version__}" and __version__ == "0.1.0"


def test_the_window_carries_the_apps_icon(qtbot, tmp_path):
    from PySide6 import QtCore

    app, window = _window(qtbot, tmp_path)
    assert QtCore.QSize(256, 256) in app.windowIcon().availableSizes()  # resources/icons, from packaging/icon.svg
    assert window.windowIcon().cacheKey() == app.windowIcon().cacheKey()


def test_cycles_holding_widgets_are_collected_on_the_gui_thread_only(qtbot):
    """A worker that allocates must not run the cycle collector: it would destroy widgets off the GUI thread
    (the suite once deadlocked there). ``make_app`` moves collection to a GUI-thread timer."""
    import gc
    import threading
    import weakref

    from PySide6 import QtWidgets

    from timbre_explorer.gui.app import make_app

    make_app()
    assert not gc.isenabled()

    class Holder:
        pass

    where = []
    cycle = Holder()
    cycle.me, cycle.widget = cycle, QtWidgets.QWidget()
    weakref.finalize(cycle, lambda: where.append(threading.current_thread()))
    del cycle
    kept = []  # containers that stay alive keep the collector's count past its first threshold
    worker = threading.Thread(target=lambda: kept.extend([] for _ in range(5000)))
    worker.start()
    worker.join()
    assert where == []
    qtbot.waitUntil(lambda: bool(where), timeout=5_000)
    assert where == [threading.main_thread()]


def test_a_latest_worker_drops_the_answer_of_a_superseded_job_even_on_its_way(qtbot):
    import threading
    import time

    from PySide6 import QtCore

    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.workers import LatestWorker

    make_app()
    worker = LatestWorker("test")
    got, release = [], threading.Event()
    first = worker.submit(lambda job: "first", on_done=got.append)
    for _ in range(500):  # no event processing here: the answer waits in the GUI thread's queue
        with worker._cond:
            if worker._pending is None and worker._running is None:
                break
        time.sleep(0.01)
    assert not first.cancelled()  # answered, not yet handed over
    worker.submit(lambda job: release.wait(5) and "second", on_done=got.append)  # before the GUI took "first"
    release.set()
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    QtCore.QCoreApplication.processEvents()  # anything else still queued for the GUI thread is delivered
    worker.shutdown()
    assert got == ["second"]


def test_a_queue_worker_answers_every_job_in_turn_failures_included(qtbot):
    from timbre_explorer.core.errors import ParameterError
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.workers import Failed, QueueWorker

    make_app()
    worker = QueueWorker("test")
    got = []

    def bad(job):
        raise ParameterError("no such file")

    for i in range(3):
        worker.submit(lambda job, i=i: i, on_done=got.append)
    worker.submit(bad, "bad", on_failed=got.append)
    worker.submit(lambda job: 3, on_done=got.append)
    qtbot.waitUntil(lambda: len(got) == 5, timeout=5000)
    worker.shutdown()
    assert got == [0, 1, 2, Failed("bad", "no such file"), 3]
def test_a_damaged_model_leaves_the_open_one_open(qtbot, tiny_model, tmp_path):
    """Validation completes in the worker before anything is replaced: one message, the open space stays."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    make_app()
    window = MainWindow(model_path=tiny_model, audio=AudioEngine(open_stream=False))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.model_loaded, timeout=60_000):
        window.show()
    space = window.space
    damaged = tmp_path / "damaged.timbre.safetensors"
    tensors = load_file(str(tiny_model))
    tensors["map.instrument"][0] = 99  # a held-out instrument would have been listed as nearest
    with safe_open(str(tiny_model), "pt") as f:
        save_file(tensors, str(damaged), metadata=f.metadata())
    errors = []
    window.show_error = lambda title, text: errors.append((title, text))
    with qtbot.waitSignal(window.model_failed, timeout=60_000):
        window.open_model(damaged)
    assert window.space is space and window.explorer.space is space and window.model_path == space.path
    assert len(errors) == 1 and str(damaged) in errors[0][1] and "map.instrument" in errors[0][1]
    assert "The current model stays open" in errors[0][1] and window.model_label.text() == space.summary()
    window.close()


def test_settings_are_a_temporary_file_of_this_test(tmp_path):
    """The autouse fixture of conftest.py: no test reads or writes the user's settings."""
    from PySide6 import QtCore

    from timbre_explorer.gui.app import make_app

    make_app()
    assert QtCore.QSettings().fileName().startswith(str(tmp_path))


def test_the_saved_audio_device_is_restored_by_name(qtbot, tmp_path, monkeypatch):
    from PySide6 import QtCore

    from timbre_explorer.audio.engine import OutputDevice
    from timbre_explorer.gui import main_window
    from timbre_explorer.gui.app import make_app

    make_app()
    devices = [OutputDevice(0, "Built-in", "ALSA", 2, 48000.0, True),
               OutputDevice(7, "USB DAC", "ALSA", 2, 44100.0, False)]
    monkeypatch.setattr(main_window, "output_devices", lambda: devices)
    QtCore.QSettings().setValue("audio/device", "USB DAC")
    window = main_window.MainWindow(model_path=tmp_path / "none.timbre.safetensors")
    qtbot.addWidget(window)
    assert window.audio.device == 7  # its index in this session's list, found by its name
    window.close()


def test_a_saved_audio_device_that_is_gone_falls_back_to_the_default_and_says_so(qtbot, tmp_path, monkeypatch):
    import sys

    from PySide6 import QtCore

    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    make_app()
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # no devices at all
    QtCore.QSettings().setValue("audio/device", "USB DAC")
    window = MainWindow(model_path=tmp_path / "none.timbre.safetensors")
    qtbot.addWidget(window)
    assert window.audio.device is None
    assert window.audio_label.text().startswith("The audio device 'USB DAC' chosen last time is not there; using "
                                                "the default output.")
    window.close()


def test_a_descriptor_slider_at_a_point_beyond_its_span_moves_both_ways(qtbot):
    """The sliders span the map's decoded notes; a brighter point than those no longer pins its slider at the end."""
    from timbre_explorer.gui.views.explorer.move_panel import MovePanel

    panel = MovePanel()
    qtbot.addWidget(panel)
    panel.set_ranges({"centroid": (100.0, 1000.0)})
    panel.show_values({"centroid": 1500.0})
    slider = panel.sliders["centroid"]
    assert 0 < slider.value() < panel.STEPS
    assert panel.value_of("centroid", slider.value()) == pytest.approx(1500.0, abs=2.0)
    with qtbot.waitSignal(panel.target_changed) as up:
        slider.setValue(panel.STEPS)
    assert up.args[0] == "centroid" and up.args[1] > 1500.0
    with qtbot.waitSignal(panel.target_changed) as down:
        slider.setValue(0)
    assert down.args[1] <= 100.0
    panel.show_values({"centroid": 500.0})  # a point well inside: the map's span again
    assert panel.ranges["centroid"] == (100.0, 1000.0)
    panel.curve_descriptor.setCurrentIndex(panel.curve_descriptor.findData("centroid"))
    assert panel.curve_start.value() == pytest.approx(500.0)  # the curve starts at the point shown, rising
    assert panel.curve_end.value() > panel.curve_start.value()


# ------------------------------------------------------------------------------------------------ settings files
class _Payload:
    """Unpickled, it makes the folder ``marker``: the code a hostile settings file would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return os.mkdir, (self.marker,)


def _settings_file(tmp_path, values: dict | None = None, text: str = ""):
    """The app's settings file as someone else wrote it: ``values`` set through QSettings in a separate file
    (as PySide6 writes a Python object: an ``@Variant(... PySide::PyObjectWrapper ...)`` value), then ``text``
    appended, copied where the app reads its settings."""
    import shutil
    from pathlib import Path

    from PySide6 import QtCore

    from timbre_explorer.gui.app import make_app

    make_app()
    draft = tmp_path / "draft.conf"
    other = QtCore.QSettings(str(draft), QtCore.QSettings.Format.IniFormat)
    for key, value in (values or {}).items():
        other.setValue(key, value)
    other.sync()
    del other
    target = Path(QtCore.QSettings().fileName())
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(draft, target) if draft.exists() else target.write_text("")
    with open(target, "a") as f:
        f.write(text)
    return target


def test_a_settings_value_that_would_be_unpickled_is_dropped_before_qt_reads_it(qtbot, tmp_path, monkeypatch):
    """Fault 15 of issue 27: PySide6 unpickles ``@Variant`` values when QSettings reads their section, so such a
    value in the app's settings file ran its payload at launch. It is dropped, said once, the rest kept."""
    import sys

    from timbre_explorer.gui.main_window import MainWindow

    monkeypatch.setitem(sys.modules, "sounddevice", None)
    markers = [tmp_path / f"ran-{k}" for k in range(3)]
    path = _settings_file(tmp_path, {"audio/seconds": 2.5, "audio/evil": _Payload(markers[0]),
                                     "play/pitch": 48, "play/velocity": _Payload(markers[1]),
                                     "recent_models": [str(tmp_path / "a.timbre.safetensors")]},
                          # the same written in escapes and quotes, where a plain text search would miss it
                          text='[window]\nsplitter="\\x40Var\\151ant(' + "\\0" * 3 + ')"\n')
    assert "Variant(" in path.read_text() and not any(m.exists() for m in markers)
    window = MainWindow(model_path=tmp_path / "none.timbre.safetensors")
    qtbot.addWidget(window)
    assert not any(m.exists() for m in markers)
    note = window.settings_note
    assert note == (f"Settings {path}: dropped 3 values that could run code (audio/evil, play/velocity, "
                     "window/splitter).")
    assert window.statusBar().currentMessage() == note
    assert window.explorer.settings.seconds == 2.5 and window.explorer.play.keyboard.low == 48  # the rest kept (the
    # keyboard starts at the C of the Pitch's octave)
    assert window.explorer.play_panel.velocity.value() == 100  # the dropped one: its default
    assert window.recent_menu.actions()[0].text() == str(tmp_path / "a.timbre.safetensors")
    assert "Variant" not in path.read_text()
    window.close()
    again = MainWindow(model_path=tmp_path / "none.timbre.safetensors")  # said once: the file is clean now
    qtbot.addWidget(again)
    assert again.settings_note == "" and not any(m.exists() for m in markers)
    again.close()


def test_every_way_of_writing_a_variant_value_is_caught_and_plain_values_are_not():
    """Qt decodes escapes, quotes and continued lines before it looks for ``@Variant(``, and skips an unknown
    escape (``@V\\qariant(`` ran the payload when tried): the check reads the text the same ways, and more."""
    from timbre_explorer.gui.settings import could_run_code

    payload = "\\0\\0\\0\\x7f\\0\\0\\0\\x18PySide::PyObjectWrapper)"
    for written in ("@Variant(", "@V\\qariant(", "@\\x56\\x61riant(", "@\\126ariant(", '"@Variant("',
                    "@Var\\\niant(", "a, @variant(", "@Variant\\x0028", "@\\x0040Variant("):
        assert could_run_code(f"x={written}{payload}\n"), written
    for plain in ("seconds=2.5", "device=\"USB DAC, front\"", "folder=/home/me/variants", "geometry=@ByteArray(AdnQ)",
                  "name=@@Variant", "folder=/home/me/variants (old)"):
        assert not could_run_code(plain), plain


def test_a_settings_file_that_cannot_be_cleaned_line_by_line_is_not_read_at_all(qtbot, tmp_path, monkeypatch):
    import sys

    from PySide6 import QtCore

    from timbre_explorer.gui.main_window import MainWindow

    monkeypatch.setitem(sys.modules, "sounddevice", None)
    text = "[audio]\nseconds=2.5\nevil=@Var\\\niant(\\0\\0\\0\\x7f)\n"  # one value over two lines
    path = _settings_file(tmp_path, text=text)
    window = MainWindow(model_path=tmp_path / "none.timbre.safetensors")
    qtbot.addWidget(window)
    assert window.settings_note == (f"Settings {path}: not read, as it holds values that could run code, over "
                                    "several lines; this session uses the defaults.")
    assert window.explorer.settings.seconds == 1.5 and path.read_text() == text
    window.close()
    assert QtCore.QSettings().fileName() != str(path) and path.read_text() == text  # saved elsewhere


@pytest.mark.parametrize("seconds, volume", [("abc", "inf"), ("nan", "nan"), ("1e12", "-1")])
def test_hostile_settings_values_fall_back_to_their_defaults_and_are_said_once(qtbot, tmp_path, monkeypatch,
                                                                             seconds, volume):
    """Fault 16 of issue 27: text where a number goes, out-of-range or non-finite numbers gave tracebacks at
    launch, a crash dialog on every click, or NaN samples. Each falls back to its default, in one sentence."""
    import sys

    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.gui.main_window import MainWindow

    monkeypatch.setitem(sys.modules, "sounddevice", None)
    path = _settings_file(tmp_path, text=f"[audio]\nseconds={seconds}\nattack=0.05\nvolume={volume}\n"
                                         "[play]\nlow=abc\ncc_x=foo\nvelocity=99999999999\npitch=72\nkeyboard=maybe\n"
                                         "[window]\ngeometry=hello\n[trainer]\nconfig=[1, 2]\n")
    engine = AudioEngine(22050, open_stream=False)
    window = MainWindow(model_path=tmp_path / "none.timbre.safetensors", audio=engine)
    qtbot.addWidget(window)
    keys = ["window/geometry", "audio/seconds", "audio/volume", "play/low", "play/velocity", "play/keyboard",
            "play/cc_x", "trainer/config"]
    assert window.settings_note == (f"Settings {path}: reset {len(keys)} values of the wrong type or out of range "
                                    f"to their defaults ({', '.join(keys)}).")
    st, play, panel = window.explorer.settings, window.explorer.play, window.explorer.play_panel
    assert (st.seconds, st.attack, engine.volume) == (1.5, 0.05, 1.0)
    assert (play.keyboard.low, panel.velocity.value(), panel.pitch.value(), panel.cc_x.text()) == (72, 100, 72, "off")
    assert panel.keyboard.isChecked()
    window.close()
    again = MainWindow(model_path=tmp_path / "none.timbre.safetensors", audio=AudioEngine(22050, open_stream=False))
    qtbot.addWidget(again)
    assert again.settings_note == "" and again.explorer.play_panel.pitch.value() == 72
    again.close()


def test_the_settings_schema_takes_what_the_app_writes_and_refuses_the_rest():
    """Each value the app saves reads back as itself; wrong types, non-finite or out-of-range numbers do not."""
    import json

    from PySide6 import QtCore

    from timbre_explorer.core.training.config import TrainConfig
    from timbre_explorer.gui.settings import SCHEMA

    config = {**TrainConfig().to_dict(), "epochs_stage1": 7, "lr": 0.002, "instruments": ["Flute", "Oboe"]}
    good = {"trainer/config": json.dumps(config), "audio/seconds": "2.5", "play/low": "48", "play/keyboard": "false",
            "play/cc_x": "-1", "recent_models": "one.timbre.safetensors",
            "window/geometry": QtCore.QByteArray(b"\x01\xd9\xd0\xcb")}
    for key, raw in good.items():
        SCHEMA[key].parse(raw)
    bad = {"trainer/config": [json.dumps({**config, "epochs_stage1": "many"}), json.dumps({**config, "lr": 1e400}),
                              json.dumps({**config, "source": "nowhere"}), "[" * 100_000, "{"],
           "audio/seconds": ["abc", "nan", "inf", "1e12", "0"], "audio/volume": ["inf", "nan", "1.5"],
           "play/low": ["abc", "60.5", "200", "true"], "play/velocity": ["99999999999", "0"],
           "play/keyboard": ["maybe", "1"], "window/geometry": ["hello"], "recent_models": [["a", 3]],
           "audio/device": [["a", "b"]]}
    for key, raws in bad.items():
        for raw in raws:
            with pytest.raises(ValueError):
                SCHEMA[key].parse(raw)
