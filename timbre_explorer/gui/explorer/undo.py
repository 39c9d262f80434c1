"""Undo and redo of the Explorer's edits: one ``QUndoStack``, one command per edit, each holding the state of one
part of the tab before and after it.

A part is what one controller gives and restores of a session (``state()`` / ``restore()``: the map's view, the
field, the bookmarks, the user's sounds), or the selected point a descriptor slider moved. After a user's edit its
controller calls :meth:`Edits.changed`: the part as last seen and as it is now become one command, named for the
Edit menu ("Undo Colour by family"). Undo and redo restore a state through the controller, as opening a session
does: nothing plays, and what must be decoded again (the field, the keys' notes) goes to its worker; while they
restore, no edit is recorded. The path keeps its own commands on the same stack (``paths.py``).

A run of changes of one control (a zoom with the wheel, a pan, a drag of the depth slider, a number box's arrows)
is one step: its commands merge until that control has been still for :data:`GESTURE_MS`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui

from timbre_explorer.gui.views.explorer.map_panel import HIDDEN_LABELS

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.session import FieldView, MapView

GESTURE_MS = 600  # a control still this long ends its gesture: its next change is a step of its own

#: what a change is called, and the gesture a run of it makes (None: each change a step): the part's text
Describe = Callable[[Any, Any], tuple[str, str | None]]


@dataclass
class Part:
    """One undoable part: how to read it, how to put it back, and how to name a change of it."""

    state: Callable[[], Any]
    restore: Callable[[Any], object]
    describe: Describe | None = None
    seen: Any = None  # the state when last recorded (None: no space yet)


class Edit(QtGui.QUndoCommand):
    """One edit of a part: ``before`` and ``after``. Made once the edit is done, so its first redo does nothing."""

    def __init__(self, edits: Edits, name: str, before: Any, after: Any, text: str, gesture: str | None):
        super().__init__(text)
        self.edits, self.name, self.before, self.after, self.gesture = edits, name, before, after, gesture
        self._done = True

    def id(self) -> int:
        return -1 if self.gesture is None else zlib.crc32(f"{self.name}/{self.gesture}".encode()) & 0x7FFFFFFF

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:
        """The same control moved again while its gesture goes on: one step, from the first state to the last."""
        if self.edits.gesture is not self or not isinstance(other, Edit):
            return False
        self.after = other.after
        self.setText(other.text())  # named for where it got to ("Pitch range 63 to 71")
        self.edits.merged = True
        if self.before == self.after:  # back where it started: no step at all
            self.setObsolete(True)
            self.edits.gesture = None
        return True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.edits.apply(self.name, self.after)

    def undo(self) -> None:
        self.edits.apply(self.name, self.before)


class Edits(QtCore.QObject):
    """The tab's undoable parts on its ``stack`` (see the module docstring); ``redraw`` after each restore."""

    def __init__(self, stack: QtGui.QUndoStack, redraw: Callable[[], None]):
        super().__init__(stack)
        self.stack, self.redraw = stack, redraw
        self.parts: dict[str, Part] = {}
        self.gesture: Edit | None = None  # the command whose control is still moving
        self.merged = False
        self._paused = False
        self._still = QtCore.QTimer(self, singleShot=True, interval=GESTURE_MS)
        self._still.timeout.connect(self.end_gesture)

    def add(self, name: str, state: Callable[[], Any], restore: Callable[[Any], object],
            describe: Describe | None = None) -> None:
        self.parts[name] = Part(state, restore, describe)

    def changed(self, name: str, text: str | None = None, *, gesture: str | None = None) -> None:
        """Part ``name`` was edited by the user: one step from its state when last seen to now, called ``text``
        (by default as the part describes the change). Nothing when it did not change, or while restoring."""
        part = self.parts[name]
        if self._paused or part.seen is None:
            return
        before, after = part.seen, part.state()
        if after == before:
            return
        if text is None:
            assert part.describe is not None
            text, gesture = part.describe(before, after)
        self.push(name, before, after, text, gesture)

    def push(self, name: str, before: Any, after: Any, text: str, gesture: str | None = None) -> None:
        """One step of part ``name`` from ``before`` to ``after`` (already shown)."""
        if self._paused:
            return
        self.parts[name].seen = after
        self.merged = False
        command = Edit(self, name, before, after, text, gesture)
        self.stack.push(command)
        if gesture is None:
            self.gesture = None
        else:
            if not self.merged:
                self.gesture = command
            self._still.start()

    def end_gesture(self) -> None:
        """The moving control is still: its next change is a step of its own."""
        self._still.stop()
        self.gesture = None

    def apply(self, name: str, state: Any) -> None:
        """Undo or redo: show ``state`` of part ``name``, recording nothing meanwhile."""
        self.end_gesture()
        part = self.parts[name]
        with self.paused():
            part.restore(state)
            self.redraw()
        part.seen = part.state()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No edit is recorded inside (a restore's own changes are none of the user's)."""
        was, self._paused = self._paused, True
        try:
            yield
        finally:
            self._paused = was

    def follow(self, name: str) -> None:
        """Part ``name`` changed on its own, not by the user (a resized window widens the map's range): seen as it is
        now, so the next edit's undo comes back here rather than to the state before."""
        part = self.parts.get(name)
        if part is not None and part.seen is not None and not self._paused:
            part.seen = part.state()

    def reset(self) -> None:
        """A new space or session: no history, and each part as it is now."""
        self.end_gesture()
        self.stack.clear()
        for part in self.parts.values():
            part.seen = part.state()


# ---------------------------------------------------------------------------------------------- names of changes
def _shown(what: str, key: str) -> Callable[[Any], str]:
    return lambda v: ("Show " if getattr(v, key) else "Hide ") + what


#: each field of the view in the order its change is named: its name after the change, and its gesture
_VIEW_CHANGES: tuple[tuple[str, Callable[[MapView], str], str | None], ...] = (
    ("axes", lambda v: "Axes: instruments apart (LDA)" if v.axes == "discriminant" else "Axes: PCA", None),
    ("colouring", lambda v: f"Colour by {v.colouring}", None),
    ("three_d", _shown("the 3D view", "three_d"), None),
    ("hidden", lambda v: f"Hidden components {HIDDEN_LABELS.get(v.hidden, v.hidden)}", None),
    ("depth", lambda v: "Move the plane's depth", "depth"),
    ("instruments", lambda v: "Filter the instruments", None),
    ("pitch", lambda v: f"Pitch range {v.pitch[0]} to {v.pitch[1]}", "pitch"),
    ("dynamics", lambda v: "Filter the dynamics", None),
    ("names", _shown("instrument names", "names"), None),
    ("mds", _shown("perceptual positions", "mds"), None),
    ("pairs", _shown("pair lines", "pairs"), None),
)


def view_change(before: MapView, after: MapView) -> tuple[str, str | None]:
    """What a change of the map's view is called, and its gesture (the depth, the pitch range, a zoom or pan)."""
    if before.dims != after.dims and before.axes == after.axes:
        axis = next(i for i, (a, b) in enumerate(zip(before.dims, after.dims)) if a != b)
        return f"{'XYZ'[axis]} axis {'LD' if after.axes == 'discriminant' else 'PC'}{after.dims[axis] + 1}", None
    for key, name, gesture in _VIEW_CHANGES:
        if getattr(before, key) != getattr(after, key):
            return name(after), gesture
    return "Zoom or pan the map", "range"


def field_change(before: FieldView, after: FieldView) -> tuple[str, str | None]:
    """What a change of the descriptor field is called, and its gesture (the grid's or contours' number box)."""
    if before.shown != after.shown:
        return ("Show" if after.shown else "Hide") + " the descriptor field", None
    if before.descriptor != after.descriptor:
        return f"Field of {after.descriptor}", None
    if before.grid != after.grid:
        return f"Field grid {after.grid}", "grid"
    return f"Field contours {after.contours}", "contours"
