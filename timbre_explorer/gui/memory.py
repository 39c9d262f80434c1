"""Python's cycle collector in the app: on the GUI thread only, and quick there.

Python collects reference cycles in whichever thread allocates when a threshold is crossed. Run on a worker, it
destroys Qt widgets there: a closed window's menus deadlocked against the GUI thread's own deletions (seen in the
test suite). So :func:`install` switches automatic collection off and collects on a GUI-thread timer instead
(pyqtgraph's ``GarbageCollector``, once a second).

A collection on that timer scans what was made since the last one, and a full one everything Python tracks. While
a model is prepared its worker imports torch and scikit-learn, some 250,000 objects in a few seconds: a timer's
collection then stalled the GUI thread for 100-300 ms at a time, and with it the audio callback (Python, under the
same interpreter lock). And with them loaded every full collection took 250 ms: a dropout every minute or two of
playing. So while a model is prepared the timer collects nothing (:func:`hold`: imports make no garbage worth a
pause), and when it is prepared everything alive, the libraries and the model, is frozen out of later collections
(:func:`settle`, ``gc.freeze``: a full collection then takes milliseconds). Opening another model gives the frozen
objects back to the collector and collects them (:func:`release`), so the old model's cycles are freed.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector


class _TimerCollector(GarbageCollector):
    """pyqtgraph's GUI-thread collector, which skips its turn while a model is being prepared."""

    held = False  # set from any thread: a plain attribute, read by the timer on the GUI thread

    def check(self) -> None:
        if not self.held:
            super().check()


_collector: _TimerCollector | None = None  # made once, after the process's one QApplication


def install() -> None:
    """Collect cycles on a GUI-thread timer; called by ``make_app``."""
    global _collector
    if _collector is None:
        _collector = _TimerCollector(interval=1.0)


def release() -> None:
    """Another model opens (on the GUI thread): what :func:`settle` froze may be garbage now, the old model's
    cycles among it, so it is collected in full here, once, where a pause goes unnoticed."""
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()


def hold() -> None:
    """A model is being prepared: the timer collects nothing until :func:`settle`. Any thread may call it."""
    if _collector is not None:
        _collector.held = True


def settle() -> None:
    """The model is prepared (or its preparation ended): what is alive now is frozen out of later collections,
    which resume. Any thread may call it: freezing runs no finalizer."""
    gc.freeze()
    if _collector is not None:
        _collector.held = False
