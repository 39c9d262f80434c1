"""Bookmarks: named latent points the user keeps (in the session), recalled with a click that plays them; adding,
renaming and removing one is an undo step each."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

from timbre_explorer.core.synthesis.session import Bookmark

if TYPE_CHECKING:
    from timbre_explorer.gui.explorer.tab import ExplorerTab


class BookmarkControl(QtCore.QObject):
    """The bookmarks (see the module docstring), shown on the Map tab's bookmarks panel."""

    def __init__(self, tab: ExplorerTab):
        super().__init__(tab)
        self.tab, self.panel = tab, tab.bookmarks_panel
        self.bookmarks: list[Bookmark] = []
        self.panel.add_requested.connect(self.add)
        self.panel.recall_requested.connect(self.recall)
        self.panel.remove_requested.connect(self.remove)
        self.panel.rename_requested.connect(self.rename)

    def add(self, name: str = "") -> None:
        """Keep the selected point under ``name`` (by default the instrument it is near, numbered)."""
        space, z = self.tab.space, self.tab.selected
        if space is None or z is None:
            self.tab.message.emit("Click the map first: a bookmark keeps the selected point.")
            return
        if not name:
            near = space.nearest_instruments(z, 1, trained_only=False)[0][0]
            taken = {b.name for b in self.bookmarks}
            name = next(f"{near} {k}" for k in range(1, len(taken) + 2) if f"{near} {k}" not in taken)
        self.bookmarks.append(Bookmark(name, np.asarray(z, np.float64).tolist()))
        self.panel.show_bookmarks([b.name for b in self.bookmarks])
        self.tab.edits.changed("bookmarks", f"Add bookmark '{name}'")
        self.tab.message.emit(f"Bookmarked {name}.")

    def recall(self, row: int) -> None:
        """Select bookmark ``row`` and play it, as a click there would."""
        if 0 <= row < len(self.bookmarks) and self.tab.space is not None:
            b = self.bookmarks[row]
            self.tab.click_control.play_z(np.asarray(b.z), b.name)

    def remove(self, row: int) -> None:
        if 0 <= row < len(self.bookmarks):
            name = self.bookmarks.pop(row).name
            self.panel.show_bookmarks([b.name for b in self.bookmarks])
            self.tab.edits.changed("bookmarks", f"Remove bookmark '{name}'")

    def rename(self, row: int, name: str) -> None:
        """Call bookmark ``row`` ``name`` (an empty name keeps the old one)."""
        if not 0 <= row < len(self.bookmarks):
            return
        old, name = self.bookmarks[row].name, name.strip()
        if name and name != old:
            self.bookmarks[row] = Bookmark(name, self.bookmarks[row].z)
            self.tab.edits.changed("bookmarks", f"Rename bookmark '{old}' to '{name}'")
        self.panel.show_name(row, self.bookmarks[row].name)

    def state(self) -> list[Bookmark]:
        return [Bookmark(b.name, list(b.z)) for b in self.bookmarks]

    def restore(self, saved: list[Bookmark]) -> None:
        self.bookmarks = [Bookmark(b.name, list(b.z)) for b in saved]
        self.panel.show_bookmarks([b.name for b in self.bookmarks])
