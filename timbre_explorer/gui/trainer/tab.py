"""The Trainer tab: build a dataset, train a timbre space, evaluate it and open it, without a terminal.

A thin view over the same core the command line drives (``timbre-explorer dataset build`` / ``train`` /
``evaluate``): the settings are a :class:`~timbre_explorer.core.training.config.TrainConfig` (saved and loaded as
the same JSON file ``train --config`` takes, checked by its ``problems``), shown by the form
(:mod:`~timbre_explorer.gui.trainer.form`); a run is the command line's own
:func:`~timbre_explorer.core.training.run.run_training`, started and shown by the run controller
(:mod:`~timbre_explorer.gui.trainer.run_controller`). There is no second training run.

Work runs in the worker process, spawned when the tab is first shown and warmed up. Pause takes effect between
epochs (the worker waits on an event after the epoch's checkpoint is written); Cancel is checked between batches
(training) or note chunks (dataset build). Every epoch's checkpoint is written atomically by the core, so a cancel,
a crash of the worker or a closed window leaves the last finished epoch resumable. The live latent map is computed
by the worker every few epochs from the checkpoint just written (a few hundred notes' representative frames,
projected on their principal components).
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.training.tasks import Probe, probe
from timbre_explorer.gui import settings
from timbre_explorer.gui.trainer.form import TrainerForm
from timbre_explorer.gui.trainer.run_controller import RunController, default_run_folder
from timbre_explorer.gui.trainer.status import RunState
from timbre_explorer.gui.views.trainer.data_panel import DataPanel
from timbre_explorer.gui.views.trainer.run_panel import RunPanel
from timbre_explorer.gui.views.trainer.run_views import RunViews
from timbre_explorer.gui.views.trainer.settings_panel import SettingsPanel
from timbre_explorer.gui.workers import Failed


class TrainerTab(QtWidgets.QWidget):
    """The Trainer tab (see the module docstring): the panels on the left, the run's views on the right.

    ``cache_root``: the dataset cache (default: the CLI's). ``in_process``: run the work in a thread of the app
    instead of the worker process (tests that patch the core).
    """

    model_ready = QtCore.Signal(str)  # "Open in Explorer": the model file

    def __init__(self, parent=None, *, cache_root: str | Path | None = None, in_process: bool = False):
        super().__init__(parent)
        self.data_panel = DataPanel()
        self.settings_panel = SettingsPanel()
        self.run_panel = RunPanel()
        self.views = RunViews()
        self.form = TrainerForm(self.data_panel, self.settings_panel, self.views.files, self)
        self.run = RunController(self.form, self.run_panel, self.views, self, cache_root=cache_root,
                                 in_process=in_process)
        self.form.said.connect(lambda text, error: self.run.say(text, error=error))
        self.form.files_wanted.connect(self.views.show_files)
        self.data_panel.build_requested.connect(self.run.build_dataset)
        self.data_panel.fetch_requested.connect(self.run.fetch_recordings)
        self.run.model_ready.connect(self.model_ready)
        self._lay_out()
        self.setEnabled(False)

    def _lay_out(self) -> None:
        controls = QtWidgets.QWidget()
        cl = QtWidgets.QVBoxLayout(controls)
        for title, panel in (("1 · Data", self.data_panel), ("2 · Settings", self.settings_panel)):
            box = QtWidgets.QGroupBox(title)
            QtWidgets.QVBoxLayout(box).addWidget(panel)
            cl.addWidget(box)
        cl.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        run_box = QtWidgets.QGroupBox("3 · Train, evaluate, use")
        QtWidgets.QVBoxLayout(run_box).addWidget(self.run_panel)
        left = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(scroll, 1)
        ll.addWidget(run_box)
        # as wide as the widest row of the panels (they do not scroll sideways): a fixed 440 clipped their right edge
        left.setMinimumWidth(max(440, controls.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()))
        split = QtWidgets.QSplitter()
        split.addWidget(left)
        split.addWidget(self.views)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([left.minimumWidth(), 900])
        self.splitter = split
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

    @property
    def state(self) -> RunState:
        return self.run.status.state

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """The core loads when the tab is first shown: an app that never trains never pays for it."""
        if self.state is RunState.STARTING:
            self.run.status.state = RunState.PROBING
            self.form.scanner.submit(probe, "probe", on_done=self._ready, on_failed=self._probe_failed)
            self.run.runner.ensure_started()  # it imports the core and warms up meanwhile
        super().showEvent(event)

    def _ready(self, p: Probe) -> None:
        self.form.show_machine(p)
        self.run.ready(settings.read("trainer/out") or default_run_folder())
        self.setEnabled(True)

    def _probe_failed(self, failed: Failed) -> None:
        self.run.not_ready(failed.message)

    def shutdown(self) -> None:
        """Cancel any work, end the worker and wait for it (the last checkpoint stays resumable); remember the
        settings for the next session."""
        self.run.runner.shutdown()
        self.form.scanner.shutdown()
        self.form.set_scanner.shutdown()
        if self.state not in (RunState.STARTING, RunState.PROBING):  # the settings were shown
            self.form.remember()
            settings.write("trainer/out", str(self.run.out_dir()))
