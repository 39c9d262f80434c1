"""Form helpers the side panels share: a form whose fields take the panel's width, a titled group."""

from __future__ import annotations

from PySide6 import QtWidgets


def form_layout(widget: QtWidgets.QWidget | None = None) -> QtWidgets.QFormLayout:
    """A form whose fields take the panel's width (the side panels and the Trainer's settings)."""
    form = QtWidgets.QFormLayout(widget) if widget is not None else QtWidgets.QFormLayout()
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def group_box(title: str, layout: QtWidgets.QLayout) -> QtWidgets.QGroupBox:
    box = QtWidgets.QGroupBox(title)
    box.setLayout(layout)
    return box
