"""The log: one rotating file in the user's log folder, and every uncaught exception in it with its traceback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

import pytest

from timbre_explorer import logs
from timbre_explorer.paths import log_dir


def _text(folder) -> str:
    for h in logging.getLogger().handlers:
        h.flush()
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("timbre-explorer.log*")))


def test_one_file_in_the_folder_the_variable_names(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMBRE_EXPLORER_LOG_DIR", str(tmp_path / "logs"))
    path = logs.setup_logging()
    assert path == tmp_path / "logs" / "timbre-explorer.log" == logs.log_file()
    logging.getLogger("timbre_explorer.test").info("a line for the log")
    assert "INFO timbre_explorer.test: a line for the log" in _text(tmp_path / "logs")
    logs.setup_logging()  # again: still one file handler, so each line is written once
    logging.getLogger("timbre_explorer.test").info("once")
    assert _text(tmp_path / "logs").count("once") == 1


def test_it_rotates_and_keeps_a_bounded_history(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMBRE_EXPLORER_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(logs, "MAX_BYTES", 4000)
    logs.setup_logging()
    for i in range(400):
        logging.getLogger("timbre_explorer.test").info("line %d %s", i, "x" * 40)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["timbre-explorer.log"] + [f"timbre-explorer.log.{i}" for i in range(1, logs.BACKUPS + 1)]
    assert all((tmp_path / f).stat().st_size <= 4000 for f in files)
    assert "line 399 " in (tmp_path / "timbre-explorer.log").read_text()


def test_uncaught_exceptions_on_any_thread_are_logged_with_their_traceback(tmp_path):
    """A real process: a thread dies, then the main thread; both tracebacks are in the file."""
    code = ("import threading\n"
            "from timbre_explorer.logs import setup_logging\n"
            "setup_logging()\n"
            "def work(): raise ValueError('broken in a worker')\n"
            "t = threading.Thread(target=work, name='worker-7'); t.start(); t.join()\n"
            "raise RuntimeError('broken on the main thread')\n")
    env = dict(os.environ, TIMBRE_EXPLORER_LOG_DIR=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    text = (tmp_path / "timbre-explorer.log").read_text()
    assert "CRITICAL timbre_explorer: uncaught exception in thread worker-7" in text
    assert "ValueError: broken in a worker" in text
    assert "CRITICAL timbre_explorer: uncaught exception\n" in text
    assert "RuntimeError: broken on the main thread" in text
    assert text.count("Traceback (most recent call last)") == 2
    assert "RuntimeError: broken on the main thread" in run.stderr  # the terminal sees it too


def test_an_unwritable_folder_leaves_stderr_only(tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TIMBRE_EXPLORER_LOG_DIR", str(tmp_path / "a-file" / "logs"))
    assert logs.setup_logging() is None and logs.log_file() is None
    logging.getLogger("timbre_explorer.test").warning("still said")
    err = capsys.readouterr().err
    assert "cannot write the log file" in err and "WARNING timbre_explorer.test: still said" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG layout is Linux's")
def test_the_default_folder_is_the_xdg_state_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("TIMBRE_EXPLORER_LOG_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert log_dir() == tmp_path / "timbre-explorer" / "log"


def test_the_command_line_logs_to_the_file(tmp_path, monkeypatch, capsys):
    from timbre_explorer.cli import main

    monkeypatch.setenv("TIMBRE_EXPLORER_LOG_DIR", str(tmp_path))
    assert main(["info"]) == 0
    assert "INFO timbre_explorer.cli: Timbre Explorer" in _text(tmp_path)
    assert sys.excepthook is logs._log_uncaught and threading.excepthook is logs._log_uncaught_in_thread


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG layout is Linux's")
def test_an_empty_setting_counts_as_unset(tmp_path, monkeypatch):
    """An empty TIMBRE_EXPLORER_LOG_DIR used to write the log into the current folder."""
    from timbre_explorer.paths import cache_dir, default_model_path, models_dir

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("TIMBRE_EXPLORER_LOG_DIR", "TIMBRE_EXPLORER_CACHE", "TIMBRE_EXPLORER_MODEL"):
        monkeypatch.setenv(name, "")
    assert log_dir() == tmp_path / "state" / "timbre-explorer" / "log"
    assert cache_dir() == tmp_path / "cache" / "timbre-explorer"
    assert default_model_path() == models_dir() / "default" / "model.timbre.safetensors"
    monkeypatch.chdir(tmp_path)
    assert logs.setup_logging() == tmp_path / "state" / "timbre-explorer" / "log" / logs.LOG_NAME
    assert not (tmp_path / logs.LOG_NAME).exists()
