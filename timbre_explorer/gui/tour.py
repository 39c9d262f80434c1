"""The first-run tour: a few steps, each a callout beside the panel it is about, with that panel outlined.

Non-modal: the window stays usable, so a step can be tried as it is read (click the map, press a key). The app
starts it once, at its first start (``app.run``: ``help/tour_done`` in the settings), never from the window's
construction, so tests and the screenshots script see no tour unless they ask; Help → Tour starts it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from timbre_explorer.gui.views.widgets import wrapped_label

if TYPE_CHECKING:
    from timbre_explorer.gui.main_window import MainWindow

HIGHLIGHT = "#f0a030"


@dataclass(frozen=True)
class Step:
    """One stop: its title and text, and the widget it points at (found when shown: the window builds it)."""

    title: str
    text: str
    target: Callable[[MainWindow], QtWidgets.QWidget]
    side_tab: str | None = None  # the Explorer's side tab to open first ("Play", "Path", ...)


STEPS = (
    Step("The map", "Every dot is a real note; the names sit at each instrument's centre. <b>Click anywhere</b> to "
         "hear the timbre at that point, even between the notes; <b>drag</b> to play continuously. The wheel zooms, "
         "the middle button pans, Home fits the map.",
         lambda w: w.explorer.map_stack),
    Step("Play", "The clicked point becomes an instrument: while this tab is open the computer keyboard plays it "
         "(Z S X D C… from C, Q 2 W 3 E… an octave up), and so does a MIDI keyboard. Pitch and velocity here set "
         "what every click plays.",
         lambda w: w.explorer.play_panel, "Play"),
    Step("Path", "A path morphs from one timbre to another: between two instruments, or draw your own on the map "
         "(D, then click; Enter ends it). <i>Play path</i> (P) plays it as one sound, and you can export it.",
         lambda w: w.explorer.path_panel, "Path"),
    Step("Sliders", "Move the clicked point by what you hear: brighter, noisier, louder. Each slider finds a nearby "
         "point whose sound reaches the value and plays it; the move is drawn on the map.",
         lambda w: w.explorer.move_panel, "Sliders"),
    Step("More", "The other tabs: Map (axes, colours, which instruments show), Field (a descriptor over the map), "
         "Sounds (drop your own files on the map). Every control says what it does when you hover over it. "
         "<b>Help → User guide</b> has the whole tour with pictures; <b>Help → Tour</b> shows these steps again.",
         lambda w: w.explorer.tabs),
)


class Tour(QtWidgets.QFrame):
    """The callout (text and Back / Next / Skip) and the outline around the current step's widget; both are
    children of the window, placed over it, and follow it when it is resized."""

    finished = QtCore.Signal()

    def __init__(self, window: MainWindow, steps: tuple[Step, ...] = STEPS):
        super().__init__(window)
        self.main_window = window
        self.steps = steps
        self.index = 0
        self.setObjectName("tour")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setStyleSheet(f"#tour {{ background: palette(window); border: 2px solid {HIGHLIGHT}; border-radius: 6px; }}")
        self.setFixedWidth(340)
        self.title = QtWidgets.QLabel()
        self.text = wrapped_label()
        self.count = QtWidgets.QLabel()
        self.back = QtWidgets.QPushButton("Back")
        self.back.setToolTip("The previous step of the tour")
        self.back.clicked.connect(lambda: self.show_step(self.index - 1))
        self.next = QtWidgets.QPushButton("Next")
        self.next.setToolTip("The next step of the tour")
        self.next.setDefault(True)
        self.next.clicked.connect(self._next)
        self.skip = QtWidgets.QPushButton("Skip")
        self.skip.setToolTip("End the tour (Help → Tour shows it again)")
        self.skip.clicked.connect(self.end)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.count)
        buttons.addStretch(1)
        for b in (self.skip, self.back, self.next):
            buttons.addWidget(b)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.outline = QtWidgets.QFrame(window)
        self.outline.setObjectName("tourOutline")
        self.outline.setStyleSheet(f"#tourOutline {{ border: 3px solid {HIGHLIGHT}; border-radius: 4px; }}")
        self.outline.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        window.installEventFilter(self)

    @property
    def target(self) -> QtWidgets.QWidget:
        return self.steps[self.index].target(self.main_window)

    def start(self) -> None:
        self.show_step(0)

    def show_step(self, index: int) -> None:
        self.index = max(0, min(index, len(self.steps) - 1))
        step = self.steps[self.index]
        w = self.main_window
        w.tabs.setCurrentWidget(w.explorer)
        if step.side_tab is not None:
            tabs = w.explorer.tabs
            tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == step.side_tab))
        self.title.setText(f"<b>{step.title}</b>")
        self.text.setText(step.text)
        self.count.setText(f"{self.index + 1} of {len(self.steps)}")
        self.back.setEnabled(self.index > 0)
        self.next.setText("Done" if self.index == len(self.steps) - 1 else "Next")
        self.outline.show()
        self.show()
        self.place()
        self.next.setFocus()

    def place(self) -> None:
        """The outline on the target; the callout beside it, inside the window (inside a large target, at its
        top right)."""
        w, target = self.main_window, self.target
        rect = QtCore.QRect(target.mapTo(w, QtCore.QPoint(0, 0)), target.size())
        self.outline.setGeometry(rect.adjusted(-3, -3, 3, 3))
        self.adjustSize()
        size = self.size()
        if rect.width() >= 2 * size.width():  # a large view: inside it, at its top right, clear of the middle
            x = rect.right() - size.width() - 24
        elif rect.left() >= size.width() + 12:  # room on its left
            x = rect.left() - size.width() - 12
        elif rect.right() + size.width() + 12 <= w.width():  # on its right
            x = rect.right() + 12
        else:  # over its top left corner
            x = rect.left() + 24
        y = rect.top() + 40
        self.move(max(0, min(x, w.width() - size.width())), max(0, min(y, w.height() - size.height())))
        self.outline.raise_()
        self.raise_()

    def _next(self) -> None:
        if self.index == len(self.steps) - 1:
            self.end()
        else:
            self.show_step(self.index + 1)

    def end(self) -> None:
        self.outline.hide()
        self.hide()
        self.finished.emit()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.main_window and event.type() == QtCore.QEvent.Type.Resize and self.isVisible():
            QtCore.QTimer.singleShot(0, self.place)  # once the window's layout has followed
        return False
