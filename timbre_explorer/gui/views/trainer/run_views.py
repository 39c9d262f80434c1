"""The Trainer's right-hand side: the Files, Training (curves and live latent map) and Evaluation views."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from timbre_explorer.gui.views.trainer.curves_view import CurvesView
from timbre_explorer.gui.views.trainer.files_view import FilesView
from timbre_explorer.gui.views.trainer.latent_map_view import LatentMapView
from timbre_explorer.gui.views.trainer.report_view import ReportView


class RunViews(QtWidgets.QTabWidget):
    """What a run shows, a tab each: the sample folder's files, the training, the evaluation."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.files = FilesView()
        self.curves = CurvesView()
        self.latent_map = LatentMapView()
        self.report_view = ReportView()
        training = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        training.addWidget(self.curves)
        training.addWidget(self.latent_map)
        training.setStretchFactor(0, 3)
        training.setStretchFactor(1, 2)
        self.training = training
        self.addTab(self.files, "Files")
        self.addTab(training, "Training")
        self.addTab(self.report_view, "Evaluation")

    def show_files(self) -> None:
        self.setCurrentWidget(self.files)

    def show_training(self) -> None:
        self.setCurrentWidget(self.training)

    def show_report(self) -> None:
        self.setCurrentWidget(self.report_view)
