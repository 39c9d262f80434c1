"""A whole training run through the main window's Trainer, to the end: then each test checks one thing of it
(the curves and live map, the files, the report shown, the config the CLI takes, Evaluate, Save as, Open in
Explorer). The run goes through the tab's own widgets, in its worker process, as in the app."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from PySide6 import QtCore, QtWidgets
from trainer_ui import TINY, click

from timbre_explorer.audio.engine import AudioEngine
from timbre_explorer.core.training.config import TrainConfig
from timbre_explorer.core.training.runfolder import BASELINE_NAME, MODEL_NAME
from timbre_explorer.gui.trainer.status import RunState

pytestmark = pytest.mark.gui


def wait_for(condition, timeout: float = 60.0) -> None:
    """Run Qt's event loop until ``condition()`` holds: ``qtbot.waitUntil`` for a fixture of the module."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {condition}")
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


@pytest.fixture(scope="module")
def finished(qapp, samples, cache, tmp_path_factory):
    """The main window after its Trainer trained the tiny settings on the sample folder (Piccolo held out) to the
    end: the folder previewed and the run started with the tab's buttons."""
    from timbre_explorer.gui.main_window import MainWindow

    w = MainWindow(audio=AudioEngine(open_stream=False))
    w.show()
    v = w.trainer
    v.run.cache_root = cache
    w.tabs.setCurrentWidget(v)
    wait_for(lambda: v.state is RunState.IDLE and w.space is not None)
    d = v.data_panel
    d.folder_radio.click()
    d.set_folder_path(str(samples))
    d.preview_button.click()
    wait_for(lambda: v.form.scan is not None and v.form.scan[0] == str(samples), timeout=20)
    d.check_item("Piccolo").setCheckState(QtCore.Qt.CheckState.Unchecked)
    d.processes.setValue(1)
    v.settings_panel.set_values(TINY)
    out = tmp_path_factory.mktemp("runs") / "run"
    v.run.set_out(out)
    results: list = []
    v.run.run_finished.connect(results.append)
    v.run.run_stopped.connect(lambda kind, text: results.append(RuntimeError(text)))
    v.run_panel.train_button.click()
    wait_for(lambda: results, timeout=180)
    if isinstance(results[0], Exception):
        raise results[0]
    yield SimpleNamespace(window=w, tab=v, out=out, result=results[0])
    w.close()


def test_the_curves_hold_every_epoch(finished):
    v = finished.tab
    assert [v.views.curves.points(p) for p in ("stage1", "regularized", "baseline", "unconditioned")] == [3, 3, 3, 6]
    assert v.views.curves.curves[("nll", "unconditioned")].xData[0] == 1  # its own stage 1, from the run's start


def test_the_live_map_holds_every_note(finished):
    shown = finished.tab.views.latent_map.shown
    assert shown is not None and shown.xy.shape == (120, 2)
    assert set(shown.labels) == {"Clarinet", "Flute", "Oboe", "Piccolo", "Trumpet"}


def test_the_run_folder_holds_the_models_their_report_and_config(finished):
    for name in (MODEL_NAME, BASELINE_NAME, "report.json", "report.md", "latent_map.png", "distances.png",
                 "config.json"):
        assert (finished.out / name).is_file(), name
    assert finished.result.report == json.loads((finished.out / "report.json").read_text())


def test_the_report_is_shown_when_the_run_ends(finished):
    v, report = finished.tab, finished.result.report
    assert v.views.currentWidget() is v.views.report_view
    figures = v.views.report_view.figures
    assert figures.item(0, 1).text() == f"{report['spearman_rho']:.3f}"
    assert figures.item(4, 2).text() == f"{report['baseline']['test_mse']:.4f}"
    assert figures.item(4, 3).text() == f"{report['unconditioned']['test_mse']:.4f}"
    assert v.views.report_view.novel.item(0, 0).text() == "Piccolo"
    assert len(v.views.report_view.scatter["regularized"].data) == 6  # 4 rated instruments: 6 pairs


def test_a_finished_run_has_nothing_to_resume(finished):
    r = finished.tab.run_panel
    assert r.train_button.isEnabled() and not r.resume_button.isEnabled()


def test_the_runs_config_json_trains_the_same_model_on_the_command_line(finished, cache, tmp_path):
    from timbre_explorer.cli import main

    config = finished.out / "config.json"
    assert TrainConfig.from_file(config) == finished.tab.form.config()
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "cli"), "--cache", str(cache),
                 "--workers", "1"]) == 0
    cli, report = json.loads((tmp_path / "cli" / "report.json").read_text()), finished.result.report
    assert cli["test_mse"] == pytest.approx(report["test_mse"], rel=1e-5)
    assert cli["spearman_rho"] == pytest.approx(report["spearman_rho"], abs=1e-5)


def test_evaluate_writes_the_same_figures_again(qtbot, finished):
    v, out, report = finished.tab, finished.out, finished.result.report
    (out / "report.md").unlink()
    with qtbot.waitSignal(v.run.run_finished, timeout=60_000):
        click(qtbot, v.run_panel.evaluate_button)
    assert (out / "report.md").is_file()
    again = json.loads((out / "report.json").read_text())
    assert again["test_mse"] == pytest.approx(report["test_mse"], rel=1e-6)
    assert again["train_seconds"] == report["train_seconds"]


def test_save_as_copies_the_model_with_its_card(qtbot, finished, tmp_path, monkeypatch):
    from timbre_explorer.core.model.modelfile import load_model

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "mine"), ""))
    click(qtbot, finished.tab.run_panel.save_button)
    saved = load_model(tmp_path / "mine.timbre.safetensors")
    assert saved.meta["training"]["hidden"] == 32 and saved.meta["phase"] == "regularized"


def test_open_in_explorer_opens_the_model_there(qtbot, finished):
    w, v = finished.window, finished.tab
    with qtbot.waitSignal(v.model_ready, timeout=5000) as ready:
        click(qtbot, v.run_panel.open_button)
    assert ready.args[0] == str(finished.out / MODEL_NAME)
    qtbot.waitUntil(lambda: w.space is not None and w.space.path == finished.out / MODEL_NAME, timeout=30_000)
    assert w.tabs.currentWidget() is w.explorer
    assert w.space.latent_size == 4 and len(w.space.notes) == 120
