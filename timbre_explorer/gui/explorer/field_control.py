"""The Field tab's controller: the descriptor field over the visible map, decoded coarse first in a worker
(:func:`~timbre_explorer.core.synthesis.fields.field_levels`) at the latent points a click there plays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore

from timbre_explorer.gui.explorer.results import FieldShown
from timbre_explorer.gui.workers import Progress

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.session import FieldView
    from timbre_explorer.gui.explorer.tab import ExplorerTab

FOLLOW_VIEW_MS = 250  # after a pan or zoom settles, the field of the new range


class FieldControl(QtCore.QObject):
    """The descriptor field (see the module docstring). ``ready``: the final field of a request."""

    #: a :class:`~timbre_explorer.core.synthesis.fields.Field` (the core's dataclass: its module loads torch,
    #: which the window must not wait for, so the signal cannot name it)
    ready = QtCore.Signal(object)

    def __init__(self, tab: ExplorerTab):
        super().__init__(tab)
        self.tab, self.panel = tab, tab.field_panel
        self._timer = QtCore.QTimer(self, singleShot=True, interval=FOLLOW_VIEW_MS)
        self._timer.timeout.connect(self.update)
        self.panel.changed.connect(self.update)
        self.panel.changed.connect(lambda: tab.edits.changed("field"))
        tab.map.panned.connect(self.follow_view)

    def state(self) -> FieldView:
        from timbre_explorer.core.synthesis.session import FieldView

        p = self.panel
        return FieldView(shown=p.is_shown(), descriptor=p.name(), grid=p.grid_size(), contours=p.contour_count())

    def restore(self, view: FieldView) -> None:
        """The field a session showed, decoded over the map's range now."""
        self.panel.set_choices(shown=view.shown, descriptor=view.descriptor, grid=view.grid, contours=view.contours)
        self.update()

    def follow_view(self) -> None:
        """The map's range changed: the field of the new range, once the view settles."""
        self._timer.start()

    def update(self) -> None:
        """Decode the field of the visible map again (or clear it, when it is not asked for)."""
        tab = self.tab
        space, state = tab.space, tab.map_state
        if space is None or state is None:
            return
        make_surface = state.surface_maker()  # the next click's mapping, built off the GUI thread
        if not self.panel.is_shown():
            tab.fields.cancel()
            tab.map.clear_field()
            self.panel.show_progress(0.0)
            tab.tasks.submit(lambda j: make_surface(), "mapping", on_failed=tab.failed)
            return
        from timbre_explorer.core.synthesis.fields import contour_lines, field_levels

        (x0, x1), (y0, y1) = tab.map.visible_range()
        name, res, count = self.panel.name(), self.panel.grid_size(), self.panel.contour_count()

        def job(j) -> FieldShown | None:
            last, surface = None, make_surface()
            for f in field_levels(space, surface=surface, x_range=(x0, x1), y_range=(y0, y1), resolution=res,
                                  names=(name,), cancel=j.cancelled):
                last = FieldShown(f, name, contour_lines(f.values[name], f.x, f.y, count))
                j.emit(last)
                j.progress(f.resolution / res)
            return last

        self.panel.show_progress(0.0)
        tab.fields.submit(job, "field", on_done=self._done, on_partial=self._show,
                          on_progress=self._progress, on_failed=tab.failed)

    def _progress(self, p: Progress) -> None:
        self.panel.show_progress(p.fraction)

    def _show(self, shown: FieldShown) -> None:
        from timbre_explorer.core.signal.units import DESCRIPTORS

        f, name = shown.field, shown.name
        unit = DESCRIPTORS[name]
        self.tab.map.set_field(f.values[name], f.x, f.y, label=f"{name} ({unit})" if unit else name,
                               contours=shown.contours)

    def _done(self, shown: FieldShown | None) -> None:
        if shown is None:
            return
        self._show(shown)
        self.panel.show_progress(1.0)
        self.ready.emit(shown.field)
