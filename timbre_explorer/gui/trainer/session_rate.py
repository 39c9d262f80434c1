"""The ETA of a run from this session's pace: a resumed run's earlier epochs ran in another session, at
another pace (another machine load, a cold start), and say nothing about the time left."""

from __future__ import annotations

import time
from collections.abc import Callable


class SessionRate:
    """The run's done fraction against this session's clock, paused time excluded."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._first: tuple[float, float] | None = None  # (time, done fraction) of the session's first progress
        self._last: tuple[float, float] | None = None
        self._paused_since: float | None = None
        self._paused = 0.0

    def reset(self) -> None:
        """A new session: a run starts or resumes."""
        self._first = self._last = self._paused_since = None
        self._paused = 0.0

    def seen(self, done_fraction: float) -> None:
        now = self._clock()
        if self._first is None:
            self._first = (now, done_fraction)
        self._last = (now, done_fraction)

    def pause(self, on: bool) -> None:
        now = self._clock()
        if on and self._paused_since is None:
            self._paused_since = now
        elif not on and self._paused_since is not None:
            self._paused += now - self._paused_since
            self._paused_since = None

    def eta_seconds(self) -> float | None:
        """Seconds left at this session's pace; None until the session has made progress."""
        if self._first is None or self._last is None or self._last[1] <= self._first[1]:
            return None
        (t0, f0), (t1, f1) = self._first, self._last
        return max(0.0, t1 - t0 - self._paused) * (1.0 - f1) / (f1 - f0)
