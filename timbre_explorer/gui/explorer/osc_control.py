"""OSC control of the Explorer: the Qt side of ``audio/osc.py``.

The server hands each typed message to :class:`OscControl` on its own thread; a queued signal carries it to the
GUI thread, where it goes through the same paths as the mouse and keys: a point plays as a click there
(``ClickControl.play_at``), an instrument as a click on its name, a note as a key (``PlayControl.handle``), a
bookmark as its row's click, the pitch and dynamic as the Play tab's boxes. Its own module, beside ``play.py``:
it drives several controllers, and the Play tab holds only its switch, port and status line.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

from timbre_explorer.audio import osc
from timbre_explorer.audio.player import NoteOff, NoteOn
from timbre_explorer.gui import settings

if TYPE_CHECKING:
    from timbre_explorer.gui.explorer.tab import ExplorerTab

log = logging.getLogger(__name__)


class OscControl(QtCore.QObject):
    """Starts and stops the OSC server as the Play tab asks, and applies its messages (see the module docstring)."""

    #: an ``audio.osc.OscMessage`` (a union of dataclasses, which one signal type cannot name); queued by Qt from
    #: the server's thread to this GUI-thread object
    received = QtCore.Signal(object)

    def __init__(self, tab: ExplorerTab):
        super().__init__(tab)
        self.tab, self.panel = tab, tab.play_panel
        self.server: osc.OscServer | None = None
        self.received.connect(self.apply)
        self.panel.restore_osc(settings.read("osc/enabled"), settings.read("osc/port"))
        self.panel.osc_changed.connect(self._changed)
        self._listen()

    def _changed(self) -> None:
        on, port = self.panel.osc_chosen()
        if self.server is not None and on and self.server.port == port:
            return  # the port box lost the focus without a change
        settings.write("osc/enabled", on)
        settings.write("osc/port", port)
        self._listen()

    def _listen(self) -> None:
        """(Re)start the server as the panel says, or stop it; the panel says where it listens, or why not."""
        self.stop()
        on, port = self.panel.osc_chosen()
        if not on:
            self.panel.show_osc_status("OSC is off.")
            return
        self.server, why = osc.start(port, self.received.emit)
        self.panel.show_osc_status(f"Listening for OSC on {self.server.address} (UDP)." if self.server is not None
                                   else why)

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()

    # ------------------------------------------------------------------ messages, on the GUI thread
    @QtCore.Slot(object)
    def apply(self, message) -> None:  # noqa: C901
        """One message, as the mouse or keys would do it."""
        tab = self.tab
        space, state = tab.space, tab.map_state
        if isinstance(message, (NoteOn, NoteOff)):
            tab.play.handle(message)
        elif isinstance(message, osc.AllNotesOff):
            tab.play.player.all_notes_off()
            tab.audio.stop()
        elif isinstance(message, osc.SetPitch):
            self.panel.pitch.setValue(message.pitch)  # the box keeps it in its range
        elif isinstance(message, osc.SetVelocity):
            self.panel.velocity.setValue(message.velocity)
        elif space is None or state is None:
            log.info("OSC: %s before a model is open: ignored", message)
        elif isinstance(message, osc.SetDynamic):
            self._set_dynamic(message.dynamic)
        elif isinstance(message, osc.SetPoint):
            if message.z is None:
                tab.click_control.play_at(message.x, message.y)
            else:  # the third shown component too: the point under (x, y), moved to z on it
                depth = message.z
                tab.click_control.with_point(message.x, message.y, lambda z: self._play_at_depth(z, depth))
        elif isinstance(message, osc.SetInstrument):
            if message.name in space.centroids:
                tab.click_control.play_name(message.name)
            else:
                tab.message.emit(f"OSC: the map has no instrument named {message.name!r}.")
        elif isinstance(message, osc.RecallBookmark):
            rows = [k for k, b in enumerate(tab.bookmarks.bookmarks) if b.name == message.name]
            if rows:
                tab.bookmarks.recall(rows[0])
            else:
                tab.message.emit(f"OSC: there is no bookmark named {message.name!r}.")

    def _play_at_depth(self, z: np.ndarray, depth: float) -> None:
        """Play latent point ``z`` moved to ``depth`` on the map's third shown component."""
        state, clicks = self.tab.map_state, self.tab.click_control
        assert state is not None
        coords = state.projection.forward(z)
        coords[state.dims[2]] = depth
        moved = state.projection.inverse(coords)
        clicks.play_z(moved, clicks.near(moved))

    def _set_dynamic(self, dynamic: str) -> None:
        """The Play tab's velocity moved to the middle of ``dynamic``'s share of the velocities."""
        from timbre_explorer.core.synthesis.gestures import dynamic_of_velocity

        assert self.tab.space is not None
        share = [v for v in range(1, 128) if dynamic_of_velocity(self.tab.space, v) == dynamic]
        if not share:
            known = ", ".join(self.tab.space.dynamics) or "none"
            self.tab.message.emit(f"OSC: this model has no dynamic {dynamic!r} (it has {known}).")
            return
        self.panel.velocity.setValue(int(np.median(share)))
