"""Where the app finds its bundled files (models, resources) and keeps the user's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The checkout (or, frozen, the bundle) that holds ``models/`` and ``resources/``.
ROOT = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))

DEFAULT_MODEL_NAME = "default/model.timbre.safetensors"  # the folder is a training run's output


def _setting(name: str) -> str | None:
    """An environment variable that names a place; set but empty counts as unset (an empty path would be the
    current folder)."""
    return os.environ.get(name) or None


def models_dir() -> Path:
    return ROOT / "models"


def resources_dir() -> Path:
    return ROOT / "resources"


def readme_path() -> Path:
    """The README, whose tour (with its screenshots in ``docs/`` beside it) is Help → User guide."""
    return ROOT / "README.md"


def default_model_path() -> Path:
    """The model the app opens at start; ``TIMBRE_EXPLORER_MODEL`` overrides it."""
    return Path(_setting("TIMBRE_EXPLORER_MODEL") or models_dir() / DEFAULT_MODEL_NAME)


def cache_dir() -> Path:
    """Where built datasets live: ``TIMBRE_EXPLORER_CACHE``, else the XDG cache folder."""
    if _setting("TIMBRE_EXPLORER_CACHE"):
        return Path(os.environ["TIMBRE_EXPLORER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "timbre-explorer"


def log_dir() -> Path:
    """Where the log file lives: ``TIMBRE_EXPLORER_LOG_DIR``, else the platform's user log folder.

    That is platformdirs' ``user_log_dir``: on Linux ``$XDG_STATE_HOME/timbre-explorer/log``, by
    default ``~/.local/state/timbre-explorer/log`` (XDG puts logs under state, not cache: they
    should outlive a cache clean); ``~/Library/Logs/timbre-explorer`` on macOS.
    """
    if _setting("TIMBRE_EXPLORER_LOG_DIR"):
        return Path(os.environ["TIMBRE_EXPLORER_LOG_DIR"])
    from platformdirs import user_log_dir

    return Path(user_log_dir("timbre-explorer", appauthor=False))


def runs_dir() -> Path:
    """Where the Trainer puts new run folders: platformdirs' user data folder, ``runs`` in it.

    On Linux ``~/.local/share/timbre-explorer/runs``. (Qt's own app data folder is
    ``<organisation>/<application>``, which for us repeated the app's name.)
    """
    from platformdirs import user_data_dir

    return Path(user_data_dir("timbre-explorer", appauthor=False)) / "runs"
