"""The JSON files a user gives (path files, sessions), read as files from anyone must be read.

Apart from :mod:`~timbre_explorer.core.synthesis.pathfile`, which renders paths with torch: a session is read
at the app's start, before its model's map is drawn, and torch's import is not to be waited for there.
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import NoReturn

import numpy as np

from timbre_explorer.core.errors import ParameterError

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def read_user_json(path: str | os.PathLike, kind: str, *, max_bytes: int, max_depth: int) -> object:
    """The JSON a user's file holds (a path file, a session), read as one from anyone must be: a regular file only
    (a FIFO or a device would hang or fill memory), at most ``max_bytes``, nested at most ``max_depth`` deep
    (Python's parser recurses), finite numbers only; anything else is one sentence naming the file and ``kind``."""
    text = _read_text(path, kind, max_bytes)
    if _depth(text) > max_depth:
        raise ParameterError(f"{path}: not a {kind} (nested more than {max_depth} deep)")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{path}: not a JSON file ({exc.msg}, line {exc.lineno})") from None
    except ValueError:
        raise ParameterError(f"{path}: holds a value that is not a finite number (NaN or Infinity)") from None


def _read_text(path: str | os.PathLike, kind: str, max_bytes: int) -> str:
    """The text of a regular file of at most ``max_bytes``; anything else is one sentence naming it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))  # a FIFO opens, unread
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such {kind}") from None
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder, a FIFO, a device (a folder's fd will not fdopen)
        os.close(fd)
        raise ParameterError(f"{path}: not a {kind} (not a regular file)")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise ParameterError(f"{path}: cannot read it ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise ParameterError(f"{path}: too large for a {kind} (over {max_bytes >> 20} MB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: not a JSON file (not UTF-8 text)") from None


def _depth(text: str) -> int:
    """How deep the JSON text's arrays and objects nest (brackets inside strings do not count)."""
    bare = _STRING.sub("", text).encode("ascii", errors="ignore")
    b = np.frombuffer(bare, np.uint8)
    if b.size == 0:
        return 0
    step = np.isin(b, (ord("["), ord("{"))).astype(np.int32) - np.isin(b, (ord("]"), ord("}"))).astype(np.int32)
    return int(np.cumsum(step).max())


def _no_constant(name: str) -> NoReturn:
    raise ValueError(name)
