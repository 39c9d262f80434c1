"""The Sounds tab: sounds the user brought, where each landed and what it is near."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class SoundsPanel(QtWidgets.QWidget):
    """Sounds the user brought: where each landed and what it is near."""

    add_requested = QtCore.Signal()
    sound_activated = QtCore.Signal(int)
    clear_requested = QtCore.Signal()
    original_requested = QtCore.Signal(int)  # the row whose file to play as it is

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        info = QtWidgets.QLabel("Drop WAV, AIFF, FLAC or MP3 files (or a folder) on the map, or add them here. "
                                "Each lands as a star, its frames as a dotted trajectory.")
        info.setWordWrap(True)
        layout.addWidget(info)
        self.list = QtWidgets.QListWidget()
        self.list.setWordWrap(True)  # a sound's line (its file, pitch, level, nearest instruments) wraps, never cut off
        self.list.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setAlternatingRowColors(True)  # where one wrapped line ends and the next begins
        self.list.itemActivated.connect(lambda item: self.sound_activated.emit(self.list.row(item)))
        self.list.itemClicked.connect(lambda item: self.sound_activated.emit(self.list.row(item)))
        layout.addWidget(self.list, 1)
        row = QtWidgets.QHBoxLayout()
        add = QtWidgets.QPushButton("Add files…")
        add.clicked.connect(self.add_requested)
        add.setToolTip("Place audio files on the map (as dropping them on it does)")
        clear = QtWidgets.QPushButton("Clear")
        clear.clicked.connect(self.clear_requested)
        clear.setToolTip("Take every sound off the map and out of this list")
        self.original = QtWidgets.QPushButton("Play the original")
        self.original.setToolTip("The chosen file as it is, to compare with how the model hears it (a click on "
                                 "the sound in the list)")
        self.original.setEnabled(False)
        self.original.clicked.connect(lambda: self.original_requested.emit(self.list.currentRow()))
        self.list.currentRowChanged.connect(lambda r: self.original.setEnabled(r >= 0))
        row.addWidget(add)
        row.addWidget(self.original)
        row.addWidget(clear)
        layout.addLayout(row)
        self.progress = QtWidgets.QProgressBar()
        self.progress.hide()
        layout.addWidget(self.progress)

    def show_busy(self, busy: bool) -> None:
        """A running bar while files are being placed."""
        self.progress.setRange(0, 0)
        self.progress.setVisible(busy)

    def add_sound(self, text: str, tooltip: str) -> None:
        item = QtWidgets.QListWidgetItem(text)
        item.setToolTip(tooltip)
        self.list.addItem(item)

    def clear_sounds(self) -> None:
        self.list.clear()
