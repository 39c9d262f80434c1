"""The path the user builds on the map: vertices edited with undo, or the frames of a morph or descriptor curve.

Set from two ends, drawn point by point or cleared, every change is one undoable command, a morph or a curve
(which replaces the vertices by its own latent frames) included. Drawing starts a new path: its first point
replaces the old path in one undoable step. The path becomes a
:class:`~timbre_explorer.core.synthesis.pathfile.PathSpec` to render or export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6 import QtGui


@dataclass(frozen=True)
class PathState:
    """What one undo step restores: the vertices, or the frames of a morph or curve and their kind."""

    vertices: list[np.ndarray] = field(default_factory=list)  # latent points
    frames: np.ndarray | None = None
    kind: str = "points"


class PathEdit(QtGui.QUndoCommand):
    """One change of the path (undoable); ``text`` names it in the Edit menu ("Undo Add path point")."""

    def __init__(self, path: MapPath, before: PathState, after: PathState, text: str):
        super().__init__(text)
        self.path, self.before, self.after = path, before, after

    def redo(self):
        self.path.apply(self.after)

    def undo(self):
        self.path.apply(self.before)


class MapPath:
    """The path (see the module docstring); ``changed()`` is called after every change, to redraw it."""

    def __init__(self, undo_stack: QtGui.QUndoStack, changed: Callable[[], None]):
        self.undo_stack, self.changed = undo_stack, changed
        self.state = PathState()
        self._drawing_new = False  # the next drawn point starts a new path

    @property
    def vertices(self) -> list[np.ndarray]:
        return self.state.vertices

    @property
    def frames(self) -> np.ndarray | None:
        """Latent frames of a morph / descriptor curve, None for a path of vertices."""
        return self.state.frames

    @property
    def kind(self) -> str:
        return self.state.kind

    def reset(self) -> None:
        """A new space or session: no path (the tab clears the history: ``Edits.reset``)."""
        self.state = PathState()
        self._drawing_new = False

    def edit(self, vertices: list, text: str) -> None:
        """Replace the path by ``vertices``, undoably."""
        vertices = [np.asarray(v) for v in vertices]
        self._push(PathState(vertices, None, "points" if len(vertices) <= 2 else "polyline"), text)

    def start_drawing(self) -> None:
        """The next :meth:`add` starts a new path (the old one comes back with Undo)."""
        self._drawing_new = True

    def add(self, z: np.ndarray) -> None:
        if self._drawing_new or self.frames is not None:
            self._drawing_new = False
            self.edit([z], "Start a new path")
        else:
            self.edit(self.vertices + [z], "Add path point")

    def clear(self) -> None:
        if self.vertices or self.frames is not None:
            self.edit([], "Clear path")

    def set_frames(self, frames: np.ndarray, kind: str, text: str) -> None:
        """A morph's or curve's latent frames replace the path, undoably (``kind`` as in a PathSpec)."""
        self._push(PathState([], np.asarray(frames), kind), text)

    def _push(self, after: PathState, text: str) -> None:
        self.undo_stack.push(PathEdit(self, self.state, after, text))

    def apply(self, state: PathState) -> None:
        self.state = state
        self.changed()

    def points(self) -> np.ndarray | None:
        """The path as latent points to draw: the frames of a morph or curve, else the vertices."""
        if self.frames is not None:
            return self.frames
        return np.stack(self.vertices) if self.vertices else None

    def spec(self, *, mode: str, seconds: float, model: str, pitch: float, dynamic: str):
        """The path as a :class:`~timbre_explorer.core.synthesis.pathfile.PathSpec` played at ``pitch`` and
        ``dynamic``, or None under two points."""
        from timbre_explorer.core.synthesis.pathfile import PathSpec

        pts = self.points()
        if pts is None or len(pts) < 2:
            return None
        return PathSpec(points=np.asarray(pts).tolist(), mode=mode, seconds=float(seconds), kind=self.kind,
                        model=model, pitch=float(pitch), dynamic=dynamic)
