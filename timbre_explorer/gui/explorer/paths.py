"""The path the user builds on the map: vertices edited with undo, or the frames of a morph or descriptor curve.

Set from two ends, drawn point by point or cleared, every vertex edit is one undoable command; a morph or a
curve replaces the vertices by its own latent frames. The path becomes a
:class:`~timbre_explorer.core.synthesis.pathfile.PathSpec` to render or export.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6 import QtGui


class PathEdit(QtGui.QUndoCommand):
    """One edit of the path's vertices (undoable)."""

    def __init__(self, path: MapPath, before: list, after: list, text: str):
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
        self.vertices: list[np.ndarray] = []  # latent points
        self.kind = "points"
        self.frames: np.ndarray | None = None  # latent frames of a morph / descriptor curve

    def reset(self) -> None:
        """A new space: no path, no history."""
        self.vertices, self.frames, self.kind = [], None, "points"
        self.undo_stack.clear()

    def edit(self, vertices: list, text: str) -> None:
        """Replace the vertices, undoably (``text`` names the edit in the Edit menu)."""
        before = [v.copy() for v in self.vertices]
        self.undo_stack.push(PathEdit(self, before, [np.asarray(v) for v in vertices], text))

    def add(self, z: np.ndarray, text: str = "Add path point") -> None:
        self.edit(self.vertices + [z], text)

    def clear(self) -> None:
        if self.vertices or self.frames is not None:
            self.edit([], "Clear path")

    def apply(self, vertices: list) -> None:
        self.vertices = [np.asarray(v) for v in vertices]
        self.kind = "points" if len(self.vertices) <= 2 else "polyline"
        self.frames = None
        self.changed()

    def set_frames(self, frames: np.ndarray, kind: str) -> None:
        """A morph's or curve's latent frames replace the vertices (``kind`` as in a PathSpec)."""
        self.frames, self.kind = np.asarray(frames), kind
        self.changed()

    def points(self) -> np.ndarray | None:
        """The path as latent points to draw: the frames of a morph or curve, else the vertices."""
        if self.frames is not None:
            return self.frames
        return np.stack(self.vertices) if self.vertices else None

    def spec(self, *, mode: str, seconds: float, model: str):
        """The path as a :class:`~timbre_explorer.core.synthesis.pathfile.PathSpec`, or None under two points."""
        from timbre_explorer.core.synthesis.pathfile import PathSpec

        pts = self.points()
        if pts is None or len(pts) < 2:
            return None
        return PathSpec(points=np.asarray(pts).tolist(), mode=mode, seconds=float(seconds), kind=self.kind,
                        model=model)
