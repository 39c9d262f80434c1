"""The Map tab's controller: the projection, the colours, the filters, the instruments' names, the overlays and
the 3D view, read from the Map panel into the map's state (``map_state.py``) and drawn on the map views."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui

from timbre_explorer.gui.explorer.map_state import (
    MANY_INSTRUMENTS,
    MODES,
    PLANE,
    Filters,
    default_colouring,
    family_groups,
)
from timbre_explorer.gui.views.palette import colour

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.session import MapView
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.explorer.sounds import UserSound
    from timbre_explorer.gui.explorer.tab import ExplorerTab
    from timbre_explorer.gui.views.map3d_view import Map3DView

log = logging.getLogger(__name__)


class MapControl(QtCore.QObject):
    """The map and its projection (see the module docstring). ``shown_changed``: the map shows other latent
    points (axes, hidden components, filters off the plane): the descriptor field is decoded again."""

    shown_changed = QtCore.Signal()

    def __init__(self, tab: ExplorerTab):
        super().__init__(tab)
        self.tab, self.panel, self.map = tab, tab.map_panel, tab.map
        self.view3d: Map3DView | None = None
        #: the "Instruments apart" axes are asked for and not computed yet (``preparing.prepare``): drawn when they come,
        #: at the visible range a session gave, if any
        self.waiting = False
        self._waiting_range: tuple[tuple[float, float], tuple[float, float]] | None = None
        self.panel.projection_changed.connect(self.projection_changed)
        self.panel.colouring_changed.connect(self.recolour)
        self.panel.filter_changed.connect(self._filters_edited)
        self.panel.overlays_changed.connect(self.draw_overlays)
        self.panel.set_modes(MODES)
        self.panel.hidden_mode_changed.connect(self._mode_changed)
        self.map.hovered.connect(self._hover)
        # after the slots above, so the map is drawn when an edit is recorded
        for edited in (self.panel.projection_changed, self.panel.colouring_changed, self.panel.filter_changed,
                       self.panel.overlays_changed, self.panel.hidden_mode_changed, self.map.panned):
            edited.connect(lambda *_: tab.edits.changed("view"))
        self.map.reshaped.connect(lambda: tab.edits.follow("view"))

    def set_space(self, space: TimbreSpace) -> None:
        groups = [(g.family, list(g.members)) for g in family_groups(space.families)]
        self.panel.set_space(space, groups, default_colouring(len(space.instruments)),
                             expanded=len(space.instruments) <= MANY_INSTRUMENTS)
        self.panel.show_model(model_title(space), space.path)
        self.map._fitted = False
        self.projection_changed()

    def discriminant_ready(self) -> None:
        """The "Instruments apart" axes are computed (``preparing.prepare``): drawn now if they were asked for."""
        if self.waiting:
            shown = self._waiting_range
            self.projection_changed()
            if shown is not None:
                self.map.show_range(*shown)

    def discriminant_failed(self) -> None:
        """The "Instruments apart" axes could not be computed: the map stays on PCA, and its choice says so."""
        if self.waiting:
            self.waiting, self._waiting_range = False, None
            self.panel.show_pca_basis()
            self.tab.edits.follow("view")

    # ------------------------------------------------------------------ a session's part
    def state(self) -> MapView:
        """The map as the user set it: axes, colours, filters (by name), overlays and the visible range."""
        from timbre_explorer.core.synthesis.session import MapView

        p, space = self.panel, self.tab.space
        assert space is not None
        instruments, pitch, dynamics = p.chosen_filters(list(space.dynamics))
        names, mds, pairs = p.overlays()
        x, y = self.map.visible_range()
        return MapView(axes="discriminant" if p.discriminant() else "pca", dims=[int(d) for d in p.dims()[:3]],
                       colouring=p.colouring(), three_d=p.three_d_on(), hidden=p.hidden_mode(), depth=p.depth_step(),
                       instruments=None if len(instruments) == len(space.instruments)
                       else [space.instruments[i] for i in sorted(instruments)],
                       pitch=list(pitch), dynamics=None if len(dynamics) == len(space.dynamics) else sorted(dynamics),
                       names=names, mds=mds, pairs=pairs, x_range=list(x), y_range=list(y))

    def restore(self, view: MapView) -> None:
        """Show the map as ``view`` says (instruments and dynamics this model lacks are left out); drawn once, and
        drawn again only as far as it changed (filters, overlays or the range alone: an undo is quick)."""
        space = self.tab.space
        assert space is not None
        known = {name: i for i, name in enumerate(space.instruments)}
        now = self.state()
        self.panel.set_choices(axes=view.axes, dims=view.dims, colouring=view.colouring, three_d=view.three_d,
                               hidden=view.hidden, depth=view.depth, names=view.names, mds=view.mds, pairs=view.pairs)
        self.panel.set_filters(None if view.instruments is None else {known[n] for n in view.instruments if n in known},
                               (view.pitch[0], view.pitch[1]), None if view.dynamics is None else set(view.dynamics))
        drawn = ("axes", "dims", "colouring", "three_d", "hidden", "depth")
        if any(getattr(now, k) != getattr(view, k) for k in drawn):
            self.projection_changed()
        else:
            if (now.instruments, now.pitch, now.dynamics) != (view.instruments, view.pitch, view.dynamics):
                self._filters_edited()
            if (now.names, now.mds, now.pairs) != (view.names, view.mds, view.pairs):
                self.draw_overlays()
        if view.x_range is not None and view.y_range is not None:
            shown = (view.x_range[0], view.x_range[1]), (view.y_range[0], view.y_range[1])
            if self.waiting:
                self._waiting_range = shown
            else:
                self.map.show_range(*shown)

    # ------------------------------------------------------------------ projection and filters
    def _read_panel(self) -> None:
        """The Map tab's choices into the map's state."""
        p, state, space = self.panel, self.tab.map_state, self.tab.space
        if state is None or space is None:
            return
        state.dims = p.dims()[:3]
        state.depth = p.depth_step()
        state.mode = p.hidden_mode()
        instruments, pitch, dynamics = p.chosen_filters(list(space.dynamics))
        state.filters = Filters(instruments=instruments, pitch=pitch, dynamics=dynamics)

    def _mode_changed(self) -> None:
        """Clicks and the field take their hidden components elsewhere: the field is decoded again."""
        self._read_panel()
        self.shown_changed.emit()

    def projection_changed(self) -> None:
        state, p = self.tab.map_state, self.panel
        if self.tab.space is None or state is None:
            return
        shown_before = (state.projection, state.view_dims)
        discriminant = p.discriminant()
        space, prepared = self.tab.space, self.tab.prepared
        projection = space.projection
        if discriminant:
            if prepared is None:  # the map stays as it is until they come (discriminant_ready)
                self.waiting = True
                self.tab.message.emit("Computing the “Instruments apart” axes…")
                return
            projection = prepared.discriminant
        self.waiting, self._waiting_range = False, None
        if state.set_projection(projection):
            p.set_axes(state.projection.explained, "LD" if discriminant else "PC")
        self._read_panel()
        p.show_depth(state.depth_value())
        p.show_variance(state.projection.explained, tuple(state.dims))
        names = p.axis_names()
        self.map.setLabel("bottom", names[0])
        self.map.setLabel("left", names[1])
        classes, brushes = self._colours()
        self.map.set_points(state.coords[:, list(state.view_dims)], classes, brushes)
        if state.projection is not shown_before[0] or state.view_dims != shown_before[1]:
            self.map.fit()  # other axes: the old range would show another part of the plane
        self._filter_changed()
        self.draw_overlays()
        self.tab.redraw_state()
        self._show_3d(p.three_d_on(), names)
        self.shown_changed.emit()

    def recolour(self) -> None:
        """Another "colour by": the same notes in other colours, and the names in their colours (the map's mapping
        and its field stay as they are)."""
        state = self.tab.map_state
        if self.tab.space is None or state is None or self.waiting:
            return
        classes, brushes = self._colours()
        self.map.set_points(state.coords[:, list(state.view_dims)], classes, brushes)
        self._draw_labels(state.mask())
        self._show_3d(self.panel.three_d_on(), self.panel.axis_names())

    def _colours(self) -> tuple[np.ndarray, list]:
        """A colour class per note and the brush of each class, for the "colour by" choice (its key shown)."""
        import pyqtgraph as pg

        from timbre_explorer.core.data.instruments import pitch_name

        s, by = self.tab.space, self.panel.colouring()
        assert s is not None
        n = s.notes
        if by == "pitch" or by == "dynamic":
            values = n.pitch if by == "pitch" else n.dynamic
            lo, hi = (21, 108) if by == "pitch" else (0, max(len(s.dynamics) - 1, 1))
            cmap = pg.colormap.get("plasma")
            colours = [cmap.map(min(max((v - lo) / (hi - lo), 0), 1), mode="qcolor") for v in range(lo, hi + 1)]
            unknown = QtGui.QColor("#7f7f7f")
            classes = np.where(values >= 0, np.clip(values, lo, hi) - lo, len(colours))
            if by == "pitch":
                key = [(pitch_name(v), colours[v - lo]) for v in range(lo, hi + 1, 12)]
            else:
                key = [(d, colours[k]) for k, d in enumerate(s.dynamics)]
            self.panel.set_colour_key(key + [("unknown", unknown)])
            self.panel.colour_legend(None)
            return classes, [pg.mkBrush(c) for c in colours + [unknown]]
        if by == "family":
            families = [g.family for g in family_groups(s.families)]
            classes = np.array([families.index(f) for f in s.families])[n.instrument]
            self.panel.set_colour_key([(f, colour(k)) for k, f in enumerate(families)])
            self.panel.colour_legend({f: colour(k) for k, f in enumerate(families)})
            return classes, [pg.mkBrush(colour(i)) for i in range(len(families))]
        self.panel.colour_legend(None)
        if by == "source":
            self.panel.set_colour_key([(name, colour(k)) for k, name in enumerate(s.sources)])
            return n.source, [pg.mkBrush(colour(i)) for i in range(len(s.sources))]
        self.panel.set_colour_key([])
        return n.instrument, [pg.mkBrush(colour(i)) for i in range(len(s.instruments))]

    def _name_colours(self, names: list[str]) -> list[QtGui.QColor]:
        """The colour of each instrument's name on the map: its family's when the map is coloured by family, else
        its own (the legend's)."""
        s = self.tab.space
        assert s is not None
        if self.panel.colouring() == "family":
            families = [g.family for g in family_groups(s.families)]
            return [colour(families.index(s.families[s.instruments.index(n)])) for n in names]
        return [colour(s.instruments.index(n)) for n in names]

    def _filter_changed(self) -> None:
        state = self.tab.map_state
        if self.tab.space is None or state is None:
            return
        self._read_panel()
        mask = state.mask()
        self.map.set_visible(mask)
        self._draw_labels(mask)
        if self.view3d is not None:
            self.view3d.set_visible(mask)
        if not mask.all():
            self.tab.message.emit(f"{int(mask.sum())} of {len(mask)} notes shown")

    def _filters_edited(self) -> None:
        """Off the plane, the hidden components come from the notes shown: the field follows the filters."""
        self._filter_changed()
        if self.tab.map_state is not None and self.tab.map_state.mode != PLANE:
            self.shown_changed.emit()

    def _draw_labels(self, mask: np.ndarray) -> None:
        """The instruments' names at their centroids, for the instruments with notes shown (``mask``); with many
        shown, the rated ones' alone (``MapState.labelled``)."""
        s, state = self.tab.space, self.tab.map_state
        assert s is not None and state is not None
        names = state.labelled(mask)
        index = [s.instruments.index(n) for n in names]
        notes = np.bincount(s.notes.instrument[mask], minlength=len(s.instruments))[index]
        xy = state.to_view(np.stack([s.centroids[n] for n in names])) if names else np.zeros((0, 2))
        self.map.set_labels(names, xy, self._name_colours(names), notes)

    def draw_overlays(self) -> None:
        s, state = self.tab.space, self.tab.map_state
        if s is None or state is None:
            return
        labels, mds, pairs = self.panel.overlays()
        self.map.show_labels(labels)
        if mds:
            self.map.set_mds(*s.perceptual_overlay(state.view_dims, state.projection))
        else:
            self.map.set_mds(None)
        if pairs:
            segments = []
            for a, b, r in s.pair_agreement():
                t = float(np.clip(r, -1, 1))
                c = (QtGui.QColor.fromRgbF(1.0, 1 - t, 1 - t, 0.8) if t > 0
                     else QtGui.QColor.fromRgbF(1 + t, 1 + t, 1.0, 0.8))
                segments.append((state.to_view(s.centroids[a]), state.to_view(s.centroids[b]), c))
            self.map.set_pair_lines(segments)
        else:
            self.map.set_pair_lines(None)

    # ------------------------------------------------------------------ the 3D view
    def _show_3d(self, on: bool, names: list[str]) -> None:
        if on and self.view3d is None and not self._open_3d():
            return
        if not on or self.view3d is None:
            self.tab.map_stack.setCurrentWidget(self.map)
            return
        s, state = self.tab.space, self.tab.map_state
        assert s is not None and state is not None
        classes, brushes = self._colours()
        rgba = np.array([b.color().getRgbF() for b in brushes])[classes]
        self.view3d.set_points(state.coords[:, list(state.dims)], rgba)
        self.view3d.set_visible(state.mask())
        cn = state.labelled(state.mask())
        self.view3d.set_labels(cn, state.to_xyz(np.stack([s.centroids[n] for n in cn])) if cn else np.zeros((0, 3)))
        self.view3d.set_axis_labels(tuple(names))
        pts = self.tab.path.points()
        self.view3d.set_path(None if pts is None else state.to_xyz(pts))
        self.tab.map_stack.setCurrentWidget(self.view3d)

    def _open_3d(self) -> bool:
        """The 3D view, made on first use; False (and said) where the display has no OpenGL."""
        try:
            from timbre_explorer.gui.views.map3d_view import Map3DView

            self.view3d = Map3DView()
        except Exception as exc:  # no OpenGL on this display
            log.warning("3D view unavailable: %s", exc)
            self.tab.error.emit("3D view", f"The 3D view needs OpenGL, which this display does not offer ({exc}).")
            self.panel.refuse_3d()
            return False
        self.view3d.point_clicked.connect(self.tab.click_control.play_note)
        self.tab.map_stack.addWidget(self.view3d)
        return True

    # ------------------------------------------------------------------ what the user builds, drawn
    def draw_state(self, selected: np.ndarray | None, path: np.ndarray | None, vertices: bool,
                   sounds: list[UserSound]) -> None:
        """The selected point, the path (its ``vertices`` marked, or a morph's frames) and the user's sounds."""
        state = self.tab.map_state
        assert state is not None
        self.map.set_marker(None if selected is None else state.to_view(selected))
        self.map.set_path(None if path is None else state.to_view(path), vertices=vertices)
        if self.view3d is not None:
            self.view3d.set_path(None if path is None else state.to_xyz(path))
            self.view3d.set_marker(None if selected is None else state.to_xyz(selected))
        if sounds:
            self.map.set_user_sounds(state.to_view(np.stack([u.z for u in sounds])),
                                     [state.to_view(u.trajectory) for u in sounds if len(u.trajectory)],
                                     [u.name for u in sounds])
        else:
            self.map.set_user_sounds(np.zeros((0, 2)), [])

    def _hover(self, index: int) -> None:
        space = self.tab.space
        self.map.setToolTip("" if index < 0 or space is None else note_title(space, index, detail=True))


def note_title(space: TimbreSpace, index: int, *, detail: bool = False) -> str:
    """What map note ``index`` is: instrument, pitch, dynamic (``detail``: its split and sample set too)."""
    from timbre_explorer.core.data.instruments import pitch_name

    n = space.notes
    dyn = space.dynamics[n.dynamic[index]] if n.dynamic[index] >= 0 else "?"
    pitch = int(n.pitch[index])
    text = f"{space.instruments[n.instrument[index]]} {pitch_name(pitch) if pitch >= 0 else '(pitch ?)'} {dyn}"
    if detail:
        text += (f"\nsplit: {space.splits[n.split[index]]}\nfrom: {space.sources[n.source[index]]} "
                 f"(MIDI {int(n.pitch[index])})")
    return text


def model_title(space: TimbreSpace) -> str:
    """The model's name and when it was trained: the card's ``trained`` date, else the file's (older cards)."""
    import datetime

    trained = space.file.meta.get("trained")
    if trained:
        return f"{space.name}, trained {str(trained)[:10]}"
    saved = datetime.date.fromtimestamp(space.path.stat().st_mtime) if space.path else None
    return f"{space.name}, saved {saved.isoformat()}" if saved else space.name
