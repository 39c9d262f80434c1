"""How long the app's other threads wait while it starts: run by ``benchmarks/run.py`` (group ``pauses``) in a
fresh process, as the app starts, and prints one JSON object.

From the bundled model's map drawn until what the map computes after it is ready (``ExplorerTab.prepared``: the
decoder with torch's import, every note decoded, scikit-learn's axes) and 2 s more:

* ``launch_thread_gap_ms``: the longest a thread that wakes every 5 ms waited to run, as the audio callback (Python,
  under the interpreter lock) would; a worker holding the lock (loading a native library) or the GUI thread
  collecting cycles holds it up;
* ``gc_pause_ms``: the longest cycle collection (on the GUI thread's timer, ``gui/memory.py``);

then ``gc_full_ms``: one full collection on the GUI thread, as its timer makes every minute or two of use; and
``click_gui_gap_ms``: 12 clicks on the map, 0.5 s apart, each played as a user's click is (decoded in a worker,
drawn, shown in the spectrum view); for each, the longest wait of a 2 ms timer on the GUI thread: their median.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import tempfile
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()
os.environ["TIMBRE_EXPLORER_LOG_DIR"] = tempfile.mkdtemp()

CLICKS = 12
collections: list[float] = []
_started: list[float] = []


def _timed(phase: str, info: dict) -> None:
    if phase == "start":
        _started[:] = [time.perf_counter()]
    elif _started:
        collections.append(time.perf_counter() - _started[0])


class ClickGaps:
    """:data:`CLICKS` clicks on the map, 0.5 s apart, at points drawn from the middle of the view; for each, the
    longest wait of a 2 ms timer on the GUI thread. ``done`` gets their median (ms)."""

    def __init__(self, window, done) -> None:
        from PySide6 import QtCore

        self.window, self.done, self.gaps = window, done, []
        self.ticks: list[float] = []
        self.last = time.perf_counter()
        self.points = random.Random(0)
        self.timer = QtCore.QTimer(interval=2)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.ticks.append(now - self.last)
        self.last = now

    def click(self, i: int) -> None:
        from PySide6 import QtCore

        if i:
            self.gaps.append(1e3 * max(self.ticks))
        else:
            self.timer.start()
        if i == CLICKS:
            self.done(statistics.median(self.gaps))
            return
        (x0, x1), (y0, y1) = self.window.explorer.map.visible_range()
        self.ticks.clear()
        self.last = time.perf_counter()
        self.window.explorer.map.clicked.emit(x0 + (x1 - x0) * self.points.uniform(0.3, 0.7),
                                              y0 + (y1 - y0) * self.points.uniform(0.3, 0.7))
        QtCore.QTimer.singleShot(500, lambda: self.click(i + 1))


def main() -> None:
    from PySide6 import QtCore

    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    app = make_app()
    window = MainWindow()
    gaps: list[float] = []
    stop = threading.Event()
    result: dict[str, float] = {}

    def wake_every_5_ms() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    def drawn(_space) -> None:
        collections.clear()
        gc.callbacks.append(_timed)
        threading.Thread(target=wake_every_5_ms, daemon=True).start()
        poll.start()

    def check() -> None:
        if window.explorer.prepared is not None:
            poll.stop()
            QtCore.QTimer.singleShot(2000, finish)

    def finish() -> None:
        stop.set()
        result["launch_thread_gap_ms"] = 1e3 * max(gaps)
        result["gc_pause_ms"] = 1e3 * max(collections, default=0.0)
        t0 = time.perf_counter()
        gc.collect()
        result["gc_full_ms"] = 1e3 * (time.perf_counter() - t0)
        clicks.click(0)

    clicks = ClickGaps(window, done=lambda gap: (result.update(click_gui_gap_ms=gap), app.quit()))

    poll = QtCore.QTimer(interval=50)
    poll.timeout.connect(check)
    window.model_loaded.connect(drawn)
    window.show()
    app.exec()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
