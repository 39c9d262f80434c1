"""The ``xvfb-run`` that tests needing a real X display run under: required in CI, skipped (saying so) elsewhere."""

from __future__ import annotations

import os
import shutil

import pytest


def xvfb_run(what: str) -> str:
    """Path of ``xvfb-run``; without it, CI fails and a developer's run skips, naming ``what`` goes untested."""
    path = shutil.which("xvfb-run")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"xvfb-run is missing: CI must install xvfb to test {what}")
        pytest.skip(f"xvfb-run is not installed (apt-get install xvfb): {what} untested")
    return path
