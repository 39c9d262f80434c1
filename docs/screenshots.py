"""Take the README's screenshots of the app on the bundled model: ``xvfb-run -a .venv/bin/python docs/screenshots.py``
(``--explorer``: the Explorer's only, without the Trainer's training run, which takes minutes).

Drives the real window as a user would (clicks, paths, the field, a slider
move, dropped sounds, the 3D view, a training run in the Trainer tab) and saves
one PNG per state into docs/.
It needs a display with OpenGL for the 3D view (Xvfb gives one); sound goes
nowhere (an engine without a stream).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs"


def main() -> int:
    from PySide6 import QtCore

    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    app = make_app()
    QtCore.QSettings.setDefaultFormat(QtCore.QSettings.Format.IniFormat)  # leave the user's settings alone
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope,
                             tempfile.mkdtemp())
    w = MainWindow(audio=AudioEngine(open_stream=False))
    w.resize(1500, 920)
    w.show()
    e = w.explorer

    def wait(condition, timeout=60.0):
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError("the app did not get there in time")
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def settle(seconds=0.4):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)

    def shot(name):
        settle()
        path = OUT / f"{name}.png"
        w.grab().save(str(path))
        print("wrote", path.relative_to(ROOT))

    def shot_screen(name):
        """The whole display: a dialog over the window is in it (``w.grab`` draws the window alone)."""
        settle()
        path = OUT / f"{name}.png"
        app.primaryScreen().grabWindow(0, 0, 0, 1500, 920).save(str(path))
        print("wrote", path.relative_to(ROOT))

    def sound():
        n = id(e.last_sound)
        return lambda: id(e.last_sound) != n

    wait(lambda: w.space is not None and w.explorer.prepared is not None)  # the map, then what it computes after
    s = w.space
    # 1. the map (the paper's PCA axes), a click on an oboe note
    e.tabs.setCurrentIndex(0)
    i = int(np.flatnonzero(s.notes.instrument == s.instruments.index("Oboe"))[40])
    done = sound()
    e.click_control.play_at(*e.map_state.to_view(s.notes.z[i]))
    wait(done)
    shot("map")
    # 2. the same with the axes that set instruments apart, coloured by family
    e.map_panel.basis.setCurrentIndex(1)
    e.map.fit()
    shot("map_instruments")
    # 3. a path from the flute to the trumpet, played
    e.tabs.setCurrentIndex(1)
    e.path_panel.start.setCurrentText("Flute")
    e.path_panel.end.setCurrentText("Trumpet")
    e.path_panel.set_button.click()
    done = sound()
    e.path_control.play_path()
    wait(done)
    shot("path")
    # 4. the spectral-centroid field over the plane (PCA axes)
    e.map_panel.basis.setCurrentIndex(0)
    e.map.fit()
    e.tabs.setCurrentIndex(2)
    e.field_panel.field_shown.setChecked(True)
    wait(lambda: e.field_panel.progress.value() == 100)
    shot("field")
    e.field_panel.field_shown.setChecked(False)
    e.map_panel.basis.setCurrentIndex(1)  # the rest on the axes that set instruments apart
    e.map.fit()
    e.path.clear()
    # 5. a descriptor slider: the centroid of a clarinet note moved by 300 Hz
    i = int(np.flatnonzero(s.notes.instrument == s.instruments.index("Clarinet"))[60])
    done = sound()
    e.click_control.play_z(s.notes.z[i], "Clarinet note")
    wait(done)
    e.tabs.setCurrentIndex(3)
    slider = e.move_panel.sliders["centroid"]
    start = float(e.space.describe(e.space.decode(s.notes.z[i]))["centroid"])
    lo, hi = e.move_panel.ranges["centroid"]
    target = start + 300 if start + 300 < hi else start - 300  # within the slider's range
    done = sound()
    slider.setValue(int(round(e.move_panel.STEPS * (target - lo) / (hi - lo))))
    wait(done)
    shot("sliders")
    # 6. your own sounds: three notes dropped on the map
    e.tabs.setCurrentIndex(4)
    folder = Path(tempfile.mkdtemp())
    _write_example_sounds(folder, s.sample_rate)
    done = lambda: e.sounds_panel.list.count() > 0  # noqa: E731
    e.sound_control.add_sounds([str(folder)])
    wait(done)
    shot("sounds")
    # 6b. the Play tab: the keys play the last clicked point (the clarinet note moved brighter); OSC listening
    e.tabs.setCurrentIndex(5)
    wait(lambda: e.play_panel.now.text().startswith("The keys play"), timeout=120)
    e.play_panel.osc_on.setChecked(True)
    wait(lambda: "127.0.0.1" in e.play_panel.osc_status.text())
    shot("play")
    e.play_panel.osc_on.setChecked(False)
    # 6c. a session: two bookmarks on the Map tab, saved
    e.tabs.setCurrentIndex(0)
    e.bookmarks.add("brighter clarinet")
    i = int(np.flatnonzero(s.notes.instrument == s.instruments.index("Flute"))[50])
    done = sound()
    e.click_control.play_z(s.notes.z[i], "Flute note")
    wait(done)
    e.bookmarks.add("breathy flute")
    w.sessions.write(Path(tempfile.mkdtemp()) / "afternoon.session.json")
    e.tabs.widget(0).verticalScrollBar().setValue(e.bookmarks_panel.y())  # the Map tab scrolled down to its bookmarks
    shot("session")
    e.tabs.widget(0).verticalScrollBar().setValue(0)
    # 6d. the clicked point exported as an SFZ instrument, mid-way
    dialog = e.export_instrument(Path(tempfile.mkdtemp()) / "breathy-flute.sfz")
    wait(lambda: dialog.value() >= 20, timeout=300)
    shot_screen("instrument")
    dialog.cancel()
    # 7. the 3D view
    e.tabs.setCurrentIndex(0)
    e.map_panel.three_d.setChecked(True)
    settle(1.5)
    shot("map3d")
    e.map_panel.three_d.setChecked(False)
    if "--explorer" in sys.argv:
        w.close()
        return 0
    # 8. the Trainer tab: a short run on the General MIDI SoundFont (the default source), mid-run, then evaluated
    from timbre_explorer.core.training.config import TrainConfig
    from timbre_explorer.gui.trainer.status import RunState

    t = w.trainer
    w.tabs.setCurrentWidget(t)
    wait(lambda: t.state is RunState.IDLE)
    work = Path(tempfile.mkdtemp())
    t.form.set_config(TrainConfig(hidden=256, epochs_stage1=20, epochs_stage2=40, alpha=100,  # a short run: see README
                                  programs="orchestral"))
    t.run.set_out(work / "runs" / "my-first-space")
    t.run.start_training()
    t.views.setCurrentIndex(1)
    epoch = lambda: t.run.status.last_epoch  # noqa: E731
    wait(lambda: epoch() is not None and epoch().stage == "regularized" and epoch().epoch >= 30,
         timeout=900)
    settle(1.5)  # the curves redraw at most once a second
    shot("trainer")
    wait(lambda: t.state is RunState.IDLE and t.run.result is not None, timeout=900)
    t.views.setCurrentIndex(2)
    shot("trainer_report")
    w.close()
    return 0


def _write_example_sounds(folder: Path, sr: int) -> None:
    """Three notes that are not in the dataset: SoundFont instruments if one is installed, else synthetic tones."""
    from timbre_explorer.core.signal.audio_io import save_wav

    try:
        from timbre_explorer.core.data.sources import NoteSpec, SoundFontSource, find_soundfont

        src = SoundFontSource(find_soundfont())
        specs = [NoteSpec("Piccolo", "", 84, "mf", 80, program=72), NoteSpec("Tuba", "", 41, "f", 104, program=58),
                 NoteSpec("Viola", "", 62, "mf", 80, program=41)]
        for spec, audio in zip(specs, src.render(specs, sr)):
            save_wav(folder / f"{spec.instrument.lower()}.wav", audio, sr)
    except Exception:  # no SoundFont here: plain harmonic tones
        t = np.arange(int(1.5 * sr)) / sr
        for name, f0, roll in (("dark.wav", 220.0, 0.3), ("bright.wav", 330.0, 0.9), ("mid.wav", 440.0, 0.6)):
            x = sum(roll ** k * np.sin(2 * np.pi * f0 * (k + 1) * t) for k in range(12) if f0 * (k + 1) < 8000)
            save_wav(folder / name, (0.3 * x / np.abs(x).max()).astype(np.float32), sr)


if __name__ == "__main__":
    sys.exit(main())
