"""Smoke test of the real app: start it on the current display, let it click the map once, read what it said.

    xvfb-run -a python packaging/smoke.py                                    # python -m timbre_explorer
    xvfb-run -a python packaging/smoke.py dist/timbre-explorer/timbre-explorer   # the frozen build

The app runs with a fresh settings folder (``XDG_CONFIG_HOME``), a fresh log folder
(``TIMBRE_EXPLORER_LOG_DIR``) and ``TIMBRE_EXPLORER_SMOKE=1``: once the model is loaded and the map
drawn, it clicks the middle of the map through the real mouse path, waits for the decoded note, prints
``SMOKE OK <ms> ms`` and closes its window the normal way (``gui/app.py``, ``smoke_check``). This fails
on a non-zero exit, a timeout, a missing ``SMOKE OK`` line, a log file that was not written, or
anything in the output that says something went wrong (``PROBLEMS``). ``tests/test_smoke.py`` runs it
against the installed package; ``packaging/build.sh`` against the frozen build.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: What must never appear in the app's stdout, stderr or log, and what it means.
PROBLEMS = [
    (r"Traceback \(most recent call last\)", "a Python traceback"),
    (r"^(WARNING|ERROR|CRITICAL) qt: ", "a Qt warning (logged by the app)"),
    (r"^(WARNING|ERROR|CRITICAL) py\.warnings: ", "a Python warning (logged by the app)"),
    (r"\bQWarning\b|\bQt warning\b", "a Qt warning"),
    (r"^QObject::|^QThread: Destroyed", "a Qt warning (printed before the app's handler)"),
    (r"Could not load the Qt platform plugin|no Qt platform plugin could be initialized", "a missing platform plugin"),
    (r"Cannot load library", "a Qt plugin that cannot load"),
    (r"qt\.qpa\.plugin", "a platform plugin problem"),
    (r"SMOKE FAILED", "the app's own check failed"),
    (r"decoder ready in .* \(on MainThread\)", "the model's decoder built on the GUI thread (torch's import: a second)"),
]


def problems(text: str) -> list[str]:
    """Each line of ``text`` that matches a pattern of PROBLEMS, with what it means."""
    found = []
    for line in text.splitlines():
        for pattern, meaning in PROBLEMS:
            if re.search(pattern, line):
                found.append(f"{meaning}: {line.strip()}")
                break
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds before it counts as hung (default 90)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="the app to start (default: this Python's -m timbre_explorer)")
    args = parser.parse_args(argv)
    command = args.command or [sys.executable, "-m", "timbre_explorer"]
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        print("smoke: no display; run it under xvfb-run -a", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="timbre-explorer-smoke-") as tmp:
        logs = Path(tmp) / "log"
        env = dict(os.environ, XDG_CONFIG_HOME=str(Path(tmp) / "config"), TIMBRE_EXPLORER_LOG_DIR=str(logs),
                   TIMBRE_EXPLORER_SMOKE="1")
        started = time.monotonic()
        # a session of its own: a timeout ends the app and anything it started
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=args.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            timed_out = True
        seconds = time.monotonic() - started
        log_files = sorted(logs.glob("*.log"))
        log_text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in log_files)

    failures = []
    if timed_out:
        failures.append(f"no answer in {args.timeout:g} s")
    elif proc.returncode != 0:
        failures.append(f"exit code {proc.returncode}")
    ok = [line for line in out.splitlines() if line.startswith("SMOKE OK")]
    if not ok:
        failures.append("no 'SMOKE OK' line: the click on the map did not give a sound")
    if not log_files:
        failures.append(f"no log file written in {logs}")
    elif "ready:" not in log_text:
        failures.append("the log file lacks the 'ready:' line of the loaded model")
    failures += problems(out + "\n" + err) + [f"in the log: {p}" for p in problems(log_text)]
    name = " ".join(command)
    if failures:
        print(f"smoke: FAILED ({name}, {seconds:.1f} s)", file=sys.stderr)
        for f in dict.fromkeys(failures):
            print(f"  - {f}", file=sys.stderr)
        print(f"--- stdout\n{out}--- stderr\n{err}--- log\n{log_text}", file=sys.stderr)
        return 1
    print(ok[0])
    print(f"smoke: passed ({name}): started, clicked, heard and quit in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
