"""The Play tab: the computer keyboard and MIDI playing the last clicked timbre (widgets only)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.data.instruments import pitch_name
from timbre_explorer.gui import settings
from timbre_explorer.gui.views.widgets import form_layout, group_box, row, wrapped_label

NO_MIDI = "None"
CC_OFF = -1


class PlayPanel(QtWidgets.QWidget):
    """The keys' pitch, velocity and octave, the MIDI input and the controllers that move the map cursor."""

    octave_step = QtCore.Signal(int)  # -1 or +1
    midi_chosen = QtCore.Signal(str)  # an input's name, or "" for none
    midi_refresh = QtCore.Signal()
    controls_changed = QtCore.Signal()
    pitch_changed = QtCore.Signal(int)
    velocity_changed = QtCore.Signal(int)
    keyboard_toggled = QtCore.Signal(bool)  # the computer keyboard plays, or not

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self._keys_group())
        layout.addWidget(self._midi_group())
        layout.addWidget(self._osc_group())
        layout.addStretch(1)

    def _keys_group(self) -> QtWidgets.QGroupBox:
        w = QtWidgets.QWidget()
        form = form_layout(w)
        self.now = wrapped_label("Click the map: the keys then play that sound.")
        form.addRow(self.now)
        self.keyboard = QtWidgets.QCheckBox("The computer keyboard plays while this tab is open")
        self.keyboard.setChecked(True)
        self.keyboard.setToolTip("Unless a text or number field has the focus. Here the piano keys take the place "
                                 "of the single-key shortcuts D (draw a path) and 3 (3D view); on the other tabs "
                                 "those work as before.")
        self.keyboard.toggled.connect(self.keyboard_toggled)
        form.addRow(self.keyboard)
        self.octave_down, self.octave_up = QtWidgets.QPushButton("Octave −"), QtWidgets.QPushButton("Octave +")
        self.octave_down.clicked.connect(lambda: self.octave_step.emit(-1))
        self.octave_up.clicked.connect(lambda: self.octave_step.emit(+1))
        self.octave_down.setToolTip("The computer keys play an octave lower (the - key)")
        self.octave_up.setToolTip("The computer keys play an octave higher (the = key)")
        self.octave = QtWidgets.QLabel()
        form.addRow("Octave", row(self.octave_down, self.octave_up, self.octave, stretch=2))
        self.velocity = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.velocity.setRange(1, 127)
        self.velocity.setValue(100)
        velocity_label = QtWidgets.QLabel("100")
        velocity_label.setMinimumWidth(30)
        self.velocity.valueChanged.connect(lambda v: velocity_label.setText(str(v)))
        self.velocity.valueChanged.connect(self.velocity_changed)
        self.velocity.setToolTip("The dynamic a clicked point's notes are made at and the level the computer keys "
                                 "play; MIDI keys struck softer play softer")
        form.addRow("Velocity", row(self.velocity, velocity_label))
        self.pitch = QtWidgets.QSpinBox()
        self.pitch.setRange(24, 96)
        self.pitch.setValue(60)
        self.pitch.setToolTip("A click, a slider move, a path and a drag play at this pitch. The keyboard's lower "
                              "row starts at the C of its octave (- and = move both by an octave); the keys play a "
                              "clicked point's notes, made every 2 semitones, this pitch's first.")
        pitch_label = QtWidgets.QLabel(pitch_name(60))
        pitch_label.setMinimumWidth(30)
        self.pitch.valueChanged.connect(lambda p: pitch_label.setText(pitch_name(p)))
        self.pitch.valueChanged.connect(self.pitch_changed)  # after the label
        form.addRow("Pitch", row(self.pitch, pitch_label))
        self.keys_help = wrapped_label()
        form.addRow(self.keys_help)
        return group_box("Keys", form)

    def _midi_group(self) -> QtWidgets.QGroupBox:
        m = QtWidgets.QWidget()
        mform = form_layout(m)
        self.midi = QtWidgets.QComboBox()
        self.midi.addItem(NO_MIDI, "")
        self.midi.activated.connect(lambda _: self.midi_chosen.emit(self.midi.currentData()))
        self.midi.setToolTip("The MIDI keyboard or controller that plays the clicked point (remembered)")
        refresh = QtWidgets.QPushButton("Refresh")
        refresh.setToolTip("List the MIDI inputs again (after plugging a controller in)")
        refresh.clicked.connect(self.midi_refresh)
        mform.addRow("MIDI input", row(self.midi, refresh))
        self.midi_status = wrapped_label()
        mform.addRow(self.midi_status)
        self.cc_x, self.cc_y = self._controller(), self._controller()
        self.cc_x.setToolTip("The MIDI controller number that moves the map cursor left and right (off: none)")
        self.cc_y.setToolTip("The MIDI controller number that moves the map cursor down and up (off: none)")
        mform.addRow("Cursor x from CC", self.cc_x)
        mform.addRow("Cursor y from CC", self.cc_y)
        mform.addRow(wrapped_label("A controller assigned here moves the map cursor across the visible map, "
                                   "and the keys play the sound under it. The sustain pedal (CC 64) holds "
                                   "notes; the pitch wheel bends them by up to 2 semitones."))
        return group_box("MIDI", mform)

    def _controller(self) -> QtWidgets.QSpinBox:
        spin = QtWidgets.QSpinBox()
        spin.setRange(CC_OFF, 127)
        spin.setSpecialValueText("off")
        spin.valueChanged.connect(self.controls_changed)
        return spin

    def show_octave(self, low: int, down_key: str, up_key: str) -> None:
        """The lower row starts at ``low`` (MIDI); say which keys play what and which change the octave."""
        self.octave.setText(f"{pitch_name(low)}–{pitch_name(low + 23)}  (keys {down_key} and {up_key})")
        self.keys_help.setText(f"Lower row Z S X D C V G B H N J M: {pitch_name(low)} to {pitch_name(low + 11)}; "
                               f"upper row Q 2 W 3 E R 5 T 6 Y 7 U: an octave up. {down_key} and {up_key}: octave "
                               "down and up.")

    def set_midi_inputs(self, names: list[str], current: str) -> None:
        self.midi.clear()
        self.midi.addItem(NO_MIDI, "")
        for name in names:
            self.midi.addItem(name, name)
        self.midi.setCurrentIndex(max(0, self.midi.findData(current)))
        self.midi.setEnabled(bool(names))

    def velocity_chosen(self) -> int:
        """The key velocity (1-127): its share of the space's dynamics is the dynamic a click plays."""
        return self.velocity.value()

    def show_pitch(self, pitch: int) -> None:
        """Set the Pitch (kept in the box's range): as if the user had typed it."""
        self.pitch.setValue(pitch)

    def pitch_chosen(self) -> int:
        """The MIDI pitch a clicked point plays at."""
        return self.pitch.value()

    def controllers(self) -> tuple[int, int]:
        """The MIDI controller numbers that move the map cursor across and up (``CC_OFF``: none)."""
        return self.cc_x.value(), self.cc_y.value()

    def midi_input(self) -> str:
        """The MIDI input chosen ("" for none)."""
        return self.midi.currentData() or ""

    def restore(self, *, velocity: int, pitch: int, keyboard: bool, cc_x: int, cc_y: int) -> None:
        """The last session's choices."""
        self.velocity.setValue(velocity)
        self.pitch.setValue(pitch)
        self.keyboard.setChecked(keyboard)
        self.cc_x.setValue(cc_x)
        self.cc_y.setValue(cc_y)

    def show_now(self, text: str) -> None:
        """What the keys play now (or why they cannot)."""
        self.now.setText(text)

    def show_midi_status(self, text: str) -> None:
        self.midi_status.setText(text)

    # ------------------------------------------------------------------ OSC (gui/explorer/osc_control.py)
    osc_changed = QtCore.Signal()  # on/off or the port

    def _osc_group(self) -> QtWidgets.QGroupBox:
        w = QtWidgets.QWidget()
        form = form_layout(w)
        self.osc_on = QtWidgets.QCheckBox("Listen for OSC messages from other software")
        self.osc_on.setToolTip("Other programs on this computer set the point, play notes, choose the pitch and "
                               "dynamic and recall bookmarks: the README's OSC section lists the addresses")
        self.osc_on.toggled.connect(self.osc_changed)
        self.osc_port = QtWidgets.QSpinBox()
        self.osc_port.setRange(*(int(v) for v in settings.SCHEMA["osc/port"].range))
        self.osc_port.setValue(int(settings.SCHEMA["osc/port"].number))
        self.osc_port.setToolTip("The UDP port on 127.0.0.1 (this computer only)")
        self.osc_port.editingFinished.connect(self.osc_changed)
        form.addRow(self.osc_on)
        form.addRow("UDP port", self.osc_port)
        self.osc_status = wrapped_label("OSC is off.")
        form.addRow(self.osc_status)
        return group_box("OSC", form)

    def osc_chosen(self) -> tuple[bool, int]:
        """Whether OSC is on, and its port."""
        return self.osc_on.isChecked(), self.osc_port.value()

    def restore_osc(self, on: bool, port: int) -> None:
        for widget in (self.osc_on, self.osc_port):
            widget.blockSignals(True)
        self.osc_on.setChecked(on)
        self.osc_port.setValue(port)
        for widget in (self.osc_on, self.osc_port):
            widget.blockSignals(False)

    def show_osc_status(self, text: str) -> None:
        """Where OSC listens, or why it does not."""
        self.osc_status.setText(text)
