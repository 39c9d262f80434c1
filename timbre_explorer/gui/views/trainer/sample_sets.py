"""The Trainer's sample-set table: which sample sets train, and which are kept out for the evaluation across
sources (at most one test and one validation set); a set that cannot be rendered here is greyed out."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.data.sources import (
    FOLDER_ENTRY,
    KNOWN_SOUNDFONTS,
    PHILHARMONIA,
    PHILHARMONIA_ENTRY,
    WEBAUDIOFONT_ENTRY,
    entry_name,
    named_soundfont,
    philharmonia_folder,
    recordings_folder,
    webaudiofont_entry,
)
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.gui.views.widgets import choice_box, wrapped_label

KNOWN_SETS = tuple(KNOWN_SOUNDFONTS)  # the General MIDI sample sets the table offers
#: What a sample set does in a run: trains, is the cross-source test or validation (kept out), or is not rendered.
ROLES = {"train": "train", "test": "cross-source test", "valid": "cross-source validation", "off": "not used"}
NAME = QtCore.Qt.ItemDataRole.UserRole  # a row's sample set, as the config names it


class SampleSetsTable(QtWidgets.QTableWidget):
    """A row per sample set with its role; ``note`` (a label for the form) says why sets are greyed out."""

    def __init__(self, parent=None):
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["sample set", "role"])
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.setToolTip("Sample sets that train the model, and the ones kept out of training: the evaluation asks "
                        "whether the space holds on their notes (at most one test and one validation set)")
        self.note = wrapped_label()
        self.note.setStyleSheet("color: #ff8a3d")
        self.note.hide()
        self.missing: dict[str, str] = {}  # a sample set's name: why it cannot be rendered
        self.soundfont = ""  # the SoundFont file chosen in place of FluidR3_GM
        self.added: list[str] = []  # the rows added by the user (folder=, webaudiofont:BANK=), shown used or not
        self._order: list[str] = []

    def show_sets(self, sources, cross_test: str | None, cross_valid: str | None, philharmonia: str = "") -> None:
        """Show a config's ``sources``, ``cross_test`` and ``cross_valid``: a row per known set (and per other
        SoundFont file the config names, the Philharmonia folder, chosen in its field but not used, and every folder of
        recordings added); a set that cannot be rendered is not used."""
        sources = list(sources)
        self.added += [n for n in sources if (recordings_folder(n) is not None or webaudiofont_entry(n) is not None)
                       and n not in self.added]
        entry = next((n for n in sources if philharmonia_folder(n) is not None), None)
        if entry is None and philharmonia:
            entry = f"{PHILHARMONIA_ENTRY}{philharmonia}"
        self._order = sources + [n for n in KNOWN_SETS if n not in sources]
        names = list(KNOWN_SETS) + [n for n in sources if n not in KNOWN_SETS]
        if entry is not None and entry not in names:
            names.append(entry)
        names += [n for n in self.added if n not in names]
        self.setRowCount(len(names))
        for r, name in enumerate(names):
            item = QtWidgets.QTableWidgetItem(name)
            item.setData(NAME, name)
            self.setItem(r, 0, item)
            box = self.cellWidget(r, 1)
            if not isinstance(box, QtWidgets.QComboBox):  # (a new row: no box yet)
                box = choice_box(ROLES)
                box.currentIndexChanged.connect(lambda _, b=box: self._role_changed(b))
                self.setCellWidget(r, 1, box)
            held = entry_name(name)  # cross_test names a folder so
            role = "test" if cross_test in (name, held) else "valid" if cross_valid in (name, held) else \
                "train" if name in sources else "off"
            with QtCore.QSignalBlocker(box):
                box.setCurrentIndex(box.findData("off" if name in self.missing else role))
        self._name_sets()

    def _row(self, r: int) -> tuple[QtWidgets.QTableWidgetItem, QtWidgets.QComboBox]:
        """Row ``r``'s name item and role box (:meth:`show_sets` puts both in every row)."""
        item, box = self.item(r, 0), self.cellWidget(r, 1)
        assert item is not None and isinstance(box, QtWidgets.QComboBox)
        return item, box

    def names(self) -> list[str]:
        return [self._row(r)[0].data(NAME) for r in range(self.rowCount())]

    def choice(self) -> tuple[tuple[str, ...], str | None, str | None]:
        """``TrainConfig.sources``, ``cross_test`` and ``cross_valid`` as the table says."""
        rows = [self._row(r) for r in range(self.rowCount())]
        roles = {item.data(NAME): box.currentData() for item, box in rows}
        order = self._order + [n for n in roles if n not in self._order]
        sources = tuple(n for n in order if roles.get(n, "off") != "off")
        test = next((n for n in sources if roles[n] == "test"), None)
        valid = next((n for n in sources if roles[n] == "valid"), None)
        return sources, test, valid

    def move_philharmonia(self, folder: str) -> None:
        """The Philharmonia row follows its folder field: a new folder keeps the row's role (a first one is not
        used until given a role), an empty field removes the row."""
        sources, test, valid = self.choice()
        old = next((n for n in self.names() if philharmonia_folder(n) is not None), None)
        new = f"{PHILHARMONIA_ENTRY}{folder}" if folder else None
        if old == new:
            return
        renamed = (new if n == old else n for n in sources)
        sources = tuple(n for n in renamed if n is not None)

        def moved(n: str | None) -> str | None:  # the row's role goes with it
            return new if old is not None and n == old else n

        self.show_sets(sources, moved(test), moved(valid), folder)

    def add_recordings(self, folder: str) -> None:
        """A row for a folder of the user's own recordings (``folder=FOLDER``), training."""
        entry = f"{FOLDER_ENTRY}{folder}"
        sources, test, valid = self.choice()
        self.show_sets(sources + (entry,) if entry not in sources else sources, test, valid)

    def add_banks(self, folder: str) -> None:
        """A row for each of WebAudioFont's banks in ``folder`` (``webaudiofont:BANK=FOLDER``), training."""
        from timbre_explorer.core.data.webaudiofont import BANKS

        sources, test, valid = self.choice()
        self.show_sets(sources + tuple(e for b in BANKS if (e := f"{WEBAUDIOFONT_ENTRY}{b}={folder}") not in sources),
                       test, valid)

    def set_soundfont(self, path: str) -> None:
        """The SoundFont file chosen in place of FluidR3_GM (empty: none) names its row."""
        self.soundfont = path
        self._name_sets()

    def _role_changed(self, box: QtWidgets.QComboBox) -> None:
        """At most one test and one validation set: choosing one takes the role from the set that had it."""
        role = box.currentData()
        for r in range(self.rowCount()):
            other = self._row(r)[1]
            if other is not box and role in ("test", "valid") and other.currentData() == role:
                with QtCore.QSignalBlocker(other):
                    other.setCurrentIndex(other.findData("off"))

    def _name_sets(self) -> None:
        """Each row's name (FluidR3_GM's is the chosen SoundFont file when there is one), greyed out with its
        reason when the set cannot be rendered."""
        chosen = self.soundfont
        for r in range(self.rowCount()):
            item, box = self._row(r)
            name = item.data(NAME)
            folder, recordings, bank = philharmonia_folder(name), recordings_folder(name), webaudiofont_entry(name)
            shown = f"{Path(chosen).name} (in place of FluidR3_GM)" if name == "FluidR3_GM" and chosen else \
                f"{PHILHARMONIA} ({folder})" if folder is not None else \
                f"{entry_name(name)} (recordings)" if recordings is not None else \
                f"{bank[0]} (WebAudioFont)" if bank is not None else Path(name).name
            missing = self.missing.get(name)
            item.setText(shown + (" · not installed" if missing else ""))
            item.setToolTip(missing or recordings or (bank[1] if bank else ""))  # a folder read: where it is
            item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled if not missing else QtCore.Qt.ItemFlag.NoItemFlags)
            box.setEnabled(not missing)
            box.setToolTip(missing or "What this sample set is for: training, the cross-source test or validation, "
                           "or not used")
        self.note.setText(" ".join(f"{m.rstrip('.')}." for m in self.missing.values()))
        self.note.setVisible(bool(self.missing))
        self.setFixedHeight(self.horizontalHeader().height() + sum(self.rowHeight(r) for r in range(self.rowCount()))
                            + 4)


def missing_sets(soundfont: str = "") -> dict[str, str]:
    """The known sample sets that cannot be rendered here, each with one sentence saying why (what installs it);
    ``soundfont``, the file chosen in place of FluidR3_GM."""
    out = {}
    for name in KNOWN_SETS:
        if name == "FluidR3_GM" and soundfont:
            if not Path(soundfont).expanduser().is_file():
                out[name] = f"{soundfont}: no such SoundFont file"
            continue
        try:
            named_soundfont(name)
        except ParameterError as exc:
            out[name] = str(exc) if name != "FluidR3_GM" else (
                "FluidR3_GM: not installed; on Debian/Ubuntu: sudo apt-get install fluid-soundfont-gm, or choose a "
                "SoundFont file above")
    return out
