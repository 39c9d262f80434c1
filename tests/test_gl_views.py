"""The OpenGL view tests (``tests/gl``), run in a subprocess under Xvfb.

They need a real X display with GLX (Mesa's software renderer is enough):
Qt's offscreen platform gives no usable OpenGL, so ``conftest.py`` skips
them in this process. Here they run for real, and a skip there is a failure.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from virtual_display import xvfb_run

ROOT = Path(__file__).resolve().parents[1]


def test_gl_views_pass_under_xvfb():
    xvfb = xvfb_run("the 3-D views")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", LIBGL_ALWAYS_SOFTWARE="1")
    env.pop("PYTEST_ADDOPTS", None)  # the outer run's options (-k, -x, ...) are not meant for this one
    # -p no:xvfb: pytest-xvfb would start a second, 16-bit display and point DISPLAY at it.
    command = [xvfb, "-a", "-s", "-screen 0 1280x1024x24", sys.executable, "-m", "pytest", "-q",
               "-m", "gl", "tests/gl", "-p", "no:cacheprovider", "-p", "no:xvfb"]
    # A session of its own, so that a timeout also ends the Xvfb that xvfb-run started.
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"the GL tests took more than 120 s:\n{output}")
    assert proc.returncode == 0, f"the GL tests failed (exit {proc.returncode}):\n{output}"
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    assert re.search(r"\b\d+ passed\b", summary), f"no passed tests reported:\n{output}"
    assert "skipped" not in summary, f"GL tests were skipped under Xvfb:\n{output}"
