"""The Sounds tab's controller: the user's own sound files, placed on the map in a worker
(:func:`~timbre_explorer.core.synthesis.analysis.encode_files`), played as the model hears them or as they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

from timbre_explorer.gui.explorer.results import EncodedSounds, Sound
from timbre_explorer.gui.workers import Failed

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.session import SessionSound
    from timbre_explorer.gui.explorer.tab import ExplorerTab

AUDIO_FILTER = "Audio (*.wav *.aif *.aiff *.flac *.mp3 *.ogg)"


@dataclass
class UserSound:
    """A file the user placed on the map: where it landed, its frames' trajectory and what it is near."""

    name: str
    z: np.ndarray
    trajectory: np.ndarray
    nearest: list = field(default_factory=list)
    pitch: float | None = None  # estimated (MIDI), None when unpitched
    loudness_db: float | None = None  # measured RMS level of its sounding part, dBFS
    path: str = ""  # the file, to audition it as it is


class SoundControl(QtCore.QObject):
    """The user's sounds (see the module docstring). ``added(n)``: ``n`` files were placed."""

    added = QtCore.Signal(int)

    def __init__(self, tab: ExplorerTab):
        super().__init__(tab)
        self.tab, self.panel = tab, tab.sounds_panel
        self.sounds: list[UserSound] = []
        self.panel.add_requested.connect(self._add_sounds_dialog)
        self.panel.sound_activated.connect(self.play_sound)
        self.panel.original_requested.connect(self.play_original)
        self.panel.clear_requested.connect(self.clear_sounds)
        tab.map.files_dropped.connect(self.add_sounds)

    def reset(self) -> None:
        """Another space: none of the sounds placed in the old one."""
        self.sounds = []
        self.panel.clear_sounds()

    def clear_sounds(self) -> None:
        if not self.sounds or not self.tab.may_discard("the sounds on the map"):
            return
        self.reset()
        self.tab.redraw_state()
        self.tab.edits.changed("sounds", "Clear the sounds")

    def state(self) -> list[SessionSound]:
        from timbre_explorer.core.synthesis.session import SessionSound

        return [SessionSound(path=str(Path(u.path).absolute()), z=np.asarray(u.z, np.float64).tolist(), name=u.name,
                             trajectory=np.asarray(u.trajectory, np.float64).tolist(),
                             pitch=u.pitch, loudness_db=u.loudness_db,
                             nearest=[{"instrument": str(n["instrument"]), "distance": float(n["distance"])}
                                      for n in u.nearest]) for u in self.sounds]

    def restore(self, saved: list[SessionSound]) -> list[str]:
        """A session's sounds where they landed (not encoded again); the files no longer there are left out and
        returned."""
        self.reset()
        missing = []
        for s in saved:
            if not Path(s.path).is_file():
                missing.append(s.path)
                continue
            sound = UserSound(s.name or Path(s.path).name, np.asarray(s.z), np.asarray(s.trajectory).reshape(
                -1, len(s.z)), list(s.nearest), s.pitch, s.loudness_db, s.path)
            self.sounds.append(sound)
            self._list(sound, "")
        return missing

    def _list(self, sound: UserSound, warning: str) -> None:
        """The sound's line on the Sounds tab: its pitch, level and what it is near."""
        from timbre_explorer.core.data.instruments import pitch_name

        near = ", ".join(f"{n['instrument']} ({n['distance']:.2f})" for n in sound.nearest)
        pitch = "unpitched" if sound.pitch is None else pitch_name(round(sound.pitch))
        level = "" if sound.loudness_db is None else f", {sound.loudness_db:.0f} dBFS"
        clipped = ", clipped" if warning else ""
        text = f"{sound.name} ({pitch}{level}{clipped}): near {near}"
        self.panel.add_sound(text, text + (f"\n{warning}" if warning else ""))

    def add_sounds(self, paths: list[str]) -> None:
        space = self.tab.space
        if space is None:
            return
        from timbre_explorer.core.synthesis.analysis import audio_files, encode_files

        self.panel.show_busy(True)

        def job(j) -> EncodedSounds:
            return EncodedSounds(*encode_files(space, audio_files(paths)))

        self.tab.tasks.submit(job, "encode", on_done=self._encoded, on_failed=self._encode_failed)

    def _encoded(self, result: EncodedSounds) -> None:
        self.panel.show_busy(False)
        for r in result.encoded:
            sound = UserSound(Path(r.path).name, np.asarray(r.z), np.asarray(r.trajectory), r.nearest, r.pitch,
                              r.loudness_db, str(r.path))
            self.sounds.append(sound)
            self._list(sound, r.warning or "")
        self.tab.redraw_state()
        loaded, problems = len(result.encoded), result.problems
        names = [Path(r.path).name for r in result.encoded]
        self.tab.edits.changed("sounds", f"Add sound '{names[0]}'" if loaded == 1 else f"Add {loaded} sounds")
        if problems:
            listing = "\n".join(f"{Path(p).name}: {why}" for p, why in problems)
            self.tab.error.emit("Some files were not loaded",
                                f"{loaded} file(s) loaded; {len(problems)} could not be:\n\n{listing}")
        warnings = " ".join(f"{Path(r.path).name}: {r.warning}." for r in result.encoded if r.warning)
        self.tab.message.emit(f"{loaded} sound(s) placed on the map." + (f" {warnings}" if warnings else ""))
        self.added.emit(loaded)

    def _encode_failed(self, failed: Failed) -> None:
        self.panel.show_busy(False)
        self.tab.error.emit("Could not load the sounds", failed.message)

    def _add_sounds_dialog(self) -> None:
        files, _ = QtWidgets.QFileDialog.getOpenFileNames(self.tab, "Add sounds", "", AUDIO_FILTER)
        if files:
            self.add_sounds(files)

    def play_sound(self, row: int) -> None:
        """Sound ``row`` as the model hears it: at its own pitch and measured level (a conditioned model; the Play
        tab's pitch when unpitched)."""
        if 0 <= row < len(self.sounds):
            s = self.sounds[row]
            self.tab.click_control.play_z(s.z, f"{s.name} (as the model hears it)", pitch=s.pitch,
                                          level_db=s.loudness_db)

    def play_original(self, row: int) -> None:
        """The user's file as it is (read in a worker: a long file takes a while), beside what the model hears."""
        if not 0 <= row < len(self.sounds):
            return
        from timbre_explorer.core.signal.audio_io import load_audio

        s, rate = self.sounds[row], self.tab.audio.sample_rate

        def job(j) -> Sound:
            return Sound(load_audio(s.path, rate), rate, f"{s.name} (the original file)")

        self.tab.tasks.submit(job, "original", on_done=self.tab.play_sound, on_failed=self.tab.failed)
