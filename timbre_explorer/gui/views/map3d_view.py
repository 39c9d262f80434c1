"""The 3-D latent map: three PCA components of every note, rotatable, with labels, a path and a marker.

Mouse: left drag orbits, Ctrl + left drag or the middle button pans, the
wheel zooms (pyqtgraph's ``GLViewWidget``). A left click that does not
drag picks the visible note drawn under the cursor and emits its index.

This module imports ``pyqtgraph.opengl`` (and PyOpenGL) at import time:
import it only when the 3-D view is opened. It needs a real OpenGL
context: an X display with GLX (Xvfb + Mesa in tests), not Qt's
``offscreen`` platform.

Picking is done here, not by OpenGL selection: every visible point is
projected to widget pixels with the view's own projection and view
matrices (the ones it draws with), so what is picked is what is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import radians, tan

import numpy as np
import pyqtgraph.opengl as gl
from OpenGL import GL
from PySide6 import QtCore, QtGui, QtWidgets

BACKGROUND = "#15171c"  # the 2-D map's background
POINT_SIZE = 6  # pixels
PICK_PIXELS = 10
CLICK_SLOP = 3  # pixels a press may move and still be a click, not a rotation
PATH_COLOUR = (1.0, 0.85, 0.25, 1.0)
# A white ring with a dark core: no instrument colour looks like it.
MARKER_SIZE, MARKER_COLOUR = 16, (1.0, 1.0, 1.0, 1.0)
MARKER_CORE_SIZE, MARKER_CORE_COLOUR = 8, (0.08, 0.09, 0.11, 1.0)
AXIS_COLOURS = ((1.0, 0.45, 0.45, 0.9), (0.45, 0.9, 0.45, 0.9), (0.5, 0.65, 1.0, 0.9))
ELEVATION, AZIMUTH, FOV = 25.0, 45.0, 60.0

# Drawn over the cloud whatever its depth: a path or the playing note must never hide behind notes.
_ON_TOP = {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}


class _Text(gl.GLTextItem):
    """A ``GLTextItem`` with a dark halo, so names stay readable over bright points."""

    def paint(self):
        if not self.text:
            return
        self.setupGLState()
        pos = self.align_text(self.compute_projection().map(QtGui.QVector3D(*self.pos)).toPointF())
        painter = QtGui.QPainter(self.view())
        painter.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing | QtGui.QPainter.RenderHint.TextAntialiasing)
        painter.setFont(self.font)
        painter.setPen(QtGui.QColor(0, 0, 0, 200))
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            painter.drawText(pos + QtCore.QPointF(dx, dy), self.text)
        painter.setPen(self.color)
        painter.drawText(pos, self.text)
        painter.end()


class _GLView(gl.GLViewWidget):
    """pyqtgraph's view, plus a ``clicked`` signal for a left press and release that did not drag."""

    clicked = QtCore.Signal(float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._press: QtCore.QPointF | None = None
        self._dragged = False

    def initializeGL(self):
        # pyqtgraph caches each item class's shader program in a class attribute, compiled in the first
        # context that drew one. A later view (the 3-D window opened again) or this one after a reparent
        # has a new context where that id is invalid or another program: compile again, re-upload data.
        for cls in (gl.GLScatterPlotItem, gl.GLLinePlotItem):
            cls._shaderProgram = None
        super().initializeGL()
        stack = list(self.items)
        while stack:
            item = stack.pop()
            stack.extend(item.childItems())
            if isinstance(item, (gl.GLScatterPlotItem, gl.GLLinePlotItem)) and item.pos is not None:
                data = {"pos": item.pos}
                if isinstance(item.color, np.ndarray):
                    data["color"] = item.color
                item.setData(**data)

    def mousePressEvent(self, ev):
        super().mousePressEvent(ev)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self._press, self._dragged = ev.position(), False

    def mouseMoveEvent(self, ev):
        if self._press is not None and (ev.position() - self._press).manhattanLength() > CLICK_SLOP:
            self._dragged = True
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev):
        super().mouseReleaseEvent(ev)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and self._press is not None:
            if not self._dragged and (ev.position() - self._press).manhattanLength() <= CLICK_SLOP:
                self.clicked.emit(ev.position().x(), ev.position().y())
            self._press = None


def _nice_step(extent: float, lines: int = 8) -> float:
    """A 1, 2 or 5 × 10^k grid spacing giving about ``lines`` divisions of ``extent``."""
    raw = max(extent, 1e-12) / lines
    k = 10.0 ** np.floor(np.log10(raw))
    return float(k * min((m for m in (1, 2, 5, 10) if m * k >= raw), default=10))


class Map3DView(QtWidgets.QWidget):
    """Rotatable 3-D view of three PCA components of the map; a thin view, the Explorer decides what clicks mean."""

    point_clicked = QtCore.Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._fit_params: dict = {}  # the camera as the last fit left it
        self._auto_fit = False
        self.axis_label = QtWidgets.QLabel()
        self.axis_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.axis_label.setStyleSheet(f"background: {BACKGROUND}; color: #b8bcc6; padding: 3px 6px;")
        self.view = _GLView()
        self.view.setMinimumSize(240, 180)  # a GLViewWidget in a layout gets no room otherwise
        self.view.setBackgroundColor(BACKGROUND)
        self.view.opts["fov"] = FOV
        self.view.clicked.connect(self._on_click)
        self.view.installEventFilter(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.axis_label)
        layout.addWidget(self.view, 1)

        self._xyz = np.zeros((0, 3))
        self._colors = np.zeros((0, 4), np.float32)
        self._visible = np.zeros(0, bool)
        self._shown_index = np.zeros(0, int)  # indices of the visible points, and their positions
        self._shown_xyz = np.zeros((0, 3), np.float32)
        self._axis_names: tuple[str, ...] = ("PC1", "PC2", "PC3")
        self._frame = np.zeros((0, 3))  # the axes' ends, where their names are: the grid may run off the edge

        # Axes before the grid: they lie on its edges, and the first drawn wins the depth test.
        self.axes = gl.GLLinePlotItem(mode="lines", width=1.5, antialias=True, glOptions="translucent")
        self.axes.setDepthValue(-10)
        self.grid = gl.GLGridItem(color=(255, 255, 255, 22))
        self.grid.setDepthValue(-9)
        self.axis_texts = [_Text(color=tuple(int(255 * c) for c in rgba[:3]), font=QtGui.QFont("Sans", 9))
                           for rgba in AXIS_COLOURS]
        for item in self.axis_texts:
            item.setDepthValue(20)  # painted with QPainter: after every GL item
        self.scatter = gl.GLScatterPlotItem(size=POINT_SIZE, pxMode=True, glOptions="opaque")
        # The path is a bright line on a dark, wider one: it stays visible over points of any colour.
        self.path_items = [gl.GLLinePlotItem(mode="line_strip", width=4, color=(0, 0, 0, 0.7), glOptions=_ON_TOP),
                           gl.GLLinePlotItem(mode="line_strip", width=2, color=PATH_COLOUR, antialias=True,
                                             glOptions=_ON_TOP)]
        for depth, item in enumerate(self.path_items, start=5):
            item.setDepthValue(depth)
        self.marker_items = [gl.GLScatterPlotItem(size=MARKER_SIZE, color=MARKER_COLOUR, glOptions=_ON_TOP),
                             gl.GLScatterPlotItem(size=MARKER_CORE_SIZE, color=MARKER_CORE_COLOUR, glOptions=_ON_TOP)]
        for depth, item in enumerate(self.marker_items, start=10):
            item.setDepthValue(depth)
        self.label_items: list[_Text] = []
        self.set_axis_labels(self._axis_names)

    # ------------------------------------------------------------------ data
    def set_points(self, xyz: np.ndarray, colors: np.ndarray) -> None:
        """Show ``xyz [N, 3]`` coloured ``colors [N, 4]`` (0..1); all visible. The camera fits the first data only."""
        xyz = np.asarray(xyz, np.float64)
        colors = np.ascontiguousarray(colors, np.float32)
        if xyz.ndim != 2 or xyz.shape[1] != 3 or colors.shape != (len(xyz), 4):
            raise ValueError(f"need xyz [N, 3] and colors [N, 4], got {xyz.shape} and {colors.shape}")
        self._xyz, self._colors = xyz, colors
        self._visible = np.ones(len(xyz), bool)
        self._upload()
        self._update_frame()
        if not self._fit_params and len(xyz):
            self.reset_camera()
        else:
            self._auto_fit = False

    def set_visible(self, mask: np.ndarray) -> None:
        """Show only the points where ``mask [N]`` is true; indices stay those of :meth:`set_points`."""
        mask = np.asarray(mask, bool)
        if mask.shape != self._visible.shape:
            raise ValueError(f"mask has shape {mask.shape}, the view has {len(self._visible)} points")
        self._visible = mask.copy()
        self._upload()

    def set_labels(self, names: list[str], xyz: np.ndarray) -> None:
        """Instrument names at ``xyz [M, 3]`` (their centroids), replacing the previous ones."""
        xyz = np.asarray(xyz, np.float64).reshape(-1, 3)
        if len(names) != len(xyz):
            raise ValueError(f"{len(names)} names for {len(xyz)} positions")
        for item in self.label_items:
            self.view.removeItem(item)
        font = QtGui.QFont("Sans", 10)
        font.setBold(True)
        center = QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignVCenter
        self.label_items = [_Text(pos=p, text=str(name), color=(235, 237, 242), font=font, alignment=center)
                            for name, p in zip(names, xyz)]
        for item in self.label_items:
            item.setDepthValue(20)
            self.view.addItem(item)

    def set_path(self, xyz: np.ndarray | None) -> None:
        """An interpolation path through ``xyz [K, 3]`` as a polyline; ``None`` removes it."""
        on = xyz is not None and len(xyz) >= 2
        for item in self.path_items:
            if on:
                item.setData(pos=np.asarray(xyz, np.float32).reshape(-1, 3))
            self._show(item, on)

    def set_marker(self, xyz: np.ndarray | None) -> None:
        """The playing or selected point ``xyz [3]`` as a larger dot over everything; ``None`` removes it."""
        for item in self.marker_items:
            if xyz is not None:
                item.setData(pos=np.asarray(xyz, np.float32).reshape(1, 3))
            self._show(item, xyz is not None)

    def set_axis_labels(self, names: Sequence[str]) -> None:
        """Names of the three shown components, e.g. ``("PC1 (15%)", "PC2 (13%)", "PC3 (12%)")``."""
        self._axis_names = tuple(names)
        for item, name in zip(self.axis_texts, names):
            item.setData(text=name)
        parts = [f"<span style='color:{QtGui.QColor.fromRgbF(*c).name()}'>{axis} {name}</span>"
                 for axis, name, c in zip("xyz", names, AXIS_COLOURS)]
        self.axis_label.setText("&nbsp;&nbsp;".join(parts)
                                + "&nbsp;&nbsp;&nbsp;<span style='color:#70757f'>drag: rotate · Ctrl+drag: pan · "
                                "wheel: zoom</span>")

    def reset_camera(self) -> None:
        """Look at the whole cloud from the default angle (what :meth:`set_points` does the first time)."""
        self.view.setCameraParams(elevation=ELEVATION, azimuth=AZIMUTH, fov=FOV)
        if len(self._xyz):
            self._fit()
        self.view.update()

    # ------------------------------------------------------------------ picking and output
    def pick(self, x_px: float, y_px: float) -> int | None:
        """Index of the visible point drawn at widget pixel ``(x_px, y_px)``, or within :data:`PICK_PIXELS`; else None.

        When several points lie under the cursor (within a drawn dot), the
        one nearest the camera wins, as that is the one the user sees;
        otherwise the nearest on screen.
        """
        if not len(self._shown_index):
            return None
        px, py, depth, ok = self.project(self._shown_xyz)
        d2 = (px - x_px) ** 2 + (py - y_px) ** 2
        near = np.flatnonzero(ok & (d2 <= PICK_PIXELS ** 2))
        if not len(near):
            return None
        under = near[d2[near] <= (POINT_SIZE / 2 + 0.5) ** 2]
        best = under[np.argmin(depth[under])] if len(under) else near[np.argmin(d2[near])]
        return int(self._shown_index[best])

    def project(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Widget pixels ``(x, y)``, depth (-1 near .. 1 far) and in-view flags of ``xyz [N, 3]``, as drawn."""
        w, h = self.view.width(), self.view.height()
        viewport = (0, 0, w, h)
        mvp = self.view.projectionMatrix(viewport, viewport) * self.view.viewMatrix()
        m = np.array(mvp.data(), np.float32).reshape(4, 4).T  # QMatrix4x4.data() is column-major
        # matrix @ points.T, not points @ matrix.T: numpy hands the former to BLAS (300k points: ~10x faster)
        x, y, z, cw = m[:, :3] @ np.asarray(xyz, np.float32).reshape(-1, 3).T + m[:, 3:4]
        ok = cw > 0
        cw = np.where(ok, cw, 1)
        x, y, z = x / cw, y / cw, z / cw
        ok &= np.abs(z) <= 1
        return (x + 1) * (w / 2), (1 - y) * (h / 2), z, ok

    def grab_image(self) -> QtGui.QImage:
        """What the view draws now, as an image (renders a frame; the widget must be shown)."""
        return self.view.grabFramebuffer()

    # ------------------------------------------------------------------ internals
    def _fit(self) -> None:
        """Centre the cloud and move the camera just far enough that every point and the axes are in the middle 90 %.

        Only the distance changes, so each point's eye coordinates shift
        along the view axis: a point at ``(a, b, g)`` relative to the centre
        is inside when ``d >= g + cot * |a| / 0.9`` (and likewise for ``b``).
        """
        lo, hi = self._xyz.min(0), self._xyz.max(0)
        center = (lo + hi) / 2
        self.view.setCameraPosition(pos=QtGui.QVector3D(*center), distance=0.0)
        m = np.array(self.view.viewMatrix().data(), np.float64).reshape(4, 4).T
        a, b, g = m[:3, :3] @ np.vstack([self._xyz, self._frame]).T + m[:3, 3:]  # camera axes, g towards it
        w, h = self.view.width(), self.view.height()
        aspect = w / h if w > 50 and h > 50 else 4 / 3  # before the first layout, assume 4:3
        cot_x = 1 / tan(radians(FOV / 2))
        reach = np.maximum(cot_x * np.abs(a), cot_x * aspect * np.abs(b)) / 0.9
        size = float(np.linalg.norm(hi - lo)) or 1.0
        distance = max(float((g + reach).max()), float(g.max()) + 0.05 * size, 1e-6)
        self.view.setCameraPosition(distance=distance)
        self._fit_params = self.view.cameraParams()
        self._auto_fit = True

    def eventFilter(self, obj, event) -> bool:
        # Until the user moves the camera or the data changes, keep the first fit right for the widget's real size.
        if (obj is self.view and event.type() == QtCore.QEvent.Type.Resize and self._auto_fit
                and self.view.cameraParams() == self._fit_params):
            self._fit()
        return super().eventFilter(obj, event)

    def _on_click(self, x: float, y: float) -> None:
        index = self.pick(x, y)
        if index is not None:
            self.point_clicked.emit(index)

    def _show(self, item, on: bool) -> None:
        if on and item not in self.view.items:
            self.view.addItem(item)
        elif not on and item in self.view.items:
            self.view.removeItem(item)

    def _upload(self) -> None:
        """Hand the visible points to the GPU (hidden ones are left out, not made transparent)."""
        self._shown_index = np.flatnonzero(self._visible)
        self._shown_xyz = np.ascontiguousarray(self._xyz[self._shown_index], np.float32)
        if len(self._shown_index):
            self.scatter.setData(pos=self._shown_xyz, color=self._colors[self._shown_index])
        self._show(self.scatter, bool(len(self._shown_index)))

    def _update_frame(self) -> None:
        """A faint grid under the cloud and three coloured axes from its corner, named at their ends."""
        if not len(self._xyz):
            for item in (self.grid, self.axes, *self.axis_texts):
                self._show(item, False)
            return
        lo, hi = self._xyz.min(0), self._xyz.max(0)
        step = _nice_step(float(max(hi[0] - lo[0], hi[1] - lo[1])))
        n = np.maximum(np.ceil((hi[:2] - lo[:2]) / step), 1)
        size = n * step
        self.grid.setSize(x=size[0], y=size[1], z=1)
        self.grid.setSpacing(x=step, y=step, z=1)
        self.grid.resetTransform()
        middle = (lo[:2] + hi[:2]) / 2
        self.grid.translate(middle[0], middle[1], lo[2])
        corner = np.array([middle[0] - size[0] / 2, middle[1] - size[1] / 2, lo[2]])
        ends = corner + np.diag([size[0], size[1], max(hi[2] - lo[2], step)])
        pos = np.stack([np.repeat(corner[None], 3, 0), ends], 1).reshape(-1, 3)
        self.axes.setData(pos=pos.astype(np.float32), color=np.repeat(np.array(AXIS_COLOURS, np.float32), 2, 0))
        self._frame = np.vstack([corner, ends])
        for item, end in zip(self.axis_texts, ends):
            item.setData(pos=end)
        for item in (self.grid, self.axes, *self.axis_texts):
            self._show(item, True)


__all__ = ["Map3DView"]
