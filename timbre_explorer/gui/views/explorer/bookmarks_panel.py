"""The Map tab's bookmarks: named points to come back to (widgets only)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from timbre_explorer.gui.views.widgets import group_box


class BookmarksPanel(QtWidgets.QWidget):
    """A list of named points: add the selected point under a name, recall (play) one, rename (F2) or remove one."""

    add_requested = QtCore.Signal(str)  # the name typed ("" for one made up)
    recall_requested = QtCore.Signal(int)
    remove_requested = QtCore.Signal(int)
    rename_requested = QtCore.Signal(int, str)  # row, the name typed over it

    def __init__(self, parent=None):
        super().__init__(parent)
        box = QtWidgets.QVBoxLayout()
        self.name = QtWidgets.QLineEdit()
        self.name.setPlaceholderText("Name (optional)")
        self.name.returnPressed.connect(self._add)
        self.name.setToolTip("The name of the next bookmark (Enter adds it; empty: a name is made up)")
        self.add_button = QtWidgets.QPushButton("Add bookmark")
        self.add_button.setToolTip("Keep the selected point (the last one clicked) under this name (Ctrl+B)")
        self.add_button.clicked.connect(self._add)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.name, 1)
        top.addWidget(self.add_button)
        box.addLayout(top)
        self.list = QtWidgets.QListWidget()
        self.list.setMaximumHeight(140)
        self.list.setToolTip("A click plays the bookmark and selects it")
        self.list.itemClicked.connect(lambda item: self.recall_requested.emit(self.list.row(item)))
        self.list.itemActivated.connect(lambda item: self.recall_requested.emit(self.list.row(item)))
        self.list.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.itemChanged.connect(lambda item: self.rename_requested.emit(self.list.row(item), item.text()))
        box.addWidget(self.list)
        rename = QtWidgets.QPushButton("Rename")
        rename.setToolTip("Type a new name over the selected bookmark (F2)")
        rename.clicked.connect(self._rename)
        remove = QtWidgets.QPushButton("Remove")
        remove.setToolTip("Remove the bookmark chosen in the list")
        remove.clicked.connect(self._remove)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(rename)
        buttons.addWidget(remove)
        box.addLayout(buttons)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(group_box("Bookmarks", box))

    def _add(self) -> None:
        self.add_requested.emit(self.name.text().strip())
        self.name.clear()

    def _rename(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _remove(self) -> None:
        if self.list.currentRow() >= 0:
            self.remove_requested.emit(self.list.currentRow())

    def show_bookmarks(self, names: list[str]) -> None:
        with QtCore.QSignalBlocker(self.list):
            self.list.clear()
            for name in names:
                item = QtWidgets.QListWidgetItem(name)
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)

    def show_name(self, row: int, name: str) -> None:
        """Bookmark ``row``'s name as kept (a name typed over it and refused goes back)."""
        item = self.list.item(row)
        if item is not None and item.text() != name:
            with QtCore.QSignalBlocker(self.list):
                item.setText(name)
