"""Driving the Trainer tab as a user does (typing, clicking), shared by its test modules.

Qt is imported inside the functions: pytest reads this module for doctests in the no-Qt job too (``run.sh``).
"""

from __future__ import annotations

import pytest

#: A tiny run: seconds on 2 cores, beside the paper's unconditioned model (the default) and the unregularized twin.
TINY = dict(hidden=32, layers=2, latent=4, epochs_stage1=3, epochs_stage2=3, frames_per_note=4, batch_size=32,
            warmup_epochs=2, alpha=5.0, baseline=True)


def type_value(qtbot, spin, value) -> None:
    """Type into a spin box as a user does (select all, type, Tab away)."""
    from PySide6 import QtCore

    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_Tab)
    assert spin.value() == pytest.approx(value)


def click_radio(qtbot, radio) -> None:
    """A click on the radio button's circle (its centre may lie past its label, where clicks do nothing)."""
    from PySide6 import QtCore

    qtbot.mouseClick(radio, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(6, radio.height() // 2))


def choose_folder(qtbot, v, folder, hold_out=("Piccolo",)) -> None:
    """The folder source, typed in, previewed; ``hold_out`` unchecked; the dataset built by one process."""
    from PySide6 import QtCore

    d = v.data_panel
    click_radio(qtbot, d.folder_radio)
    assert d.source == "folder"
    d.folder.clear()
    qtbot.keyClicks(d.folder, str(folder))
    qtbot.mouseClick(d.preview_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: v.form.scan is not None and v.form.scan[0] == str(folder), timeout=20_000)
    for name in hold_out:
        d.check_item(name).setCheckState(QtCore.Qt.CheckState.Unchecked)  # what a click on its box does
    d.processes.setValue(1)


def configure(qtbot, v, **settings) -> None:
    """The tiny run's settings (and ``settings``), typed or chosen in the settings panel."""
    from PySide6 import QtWidgets

    for key, value in {**TINY, **settings}.items():
        w = v.settings_panel.fields[key]
        if isinstance(w, QtWidgets.QComboBox):
            w.setCurrentIndex(w.findData(value))
        elif isinstance(w, QtWidgets.QCheckBox):
            w.setChecked(value)
        else:
            type_value(qtbot, w, value)


def click(qtbot, button) -> None:
    from PySide6 import QtCore

    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)
