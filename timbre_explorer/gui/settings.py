"""The app's settings (QSettings): one schema that every read goes through, and a file cleaned before Qt reads it.

A settings file is data someone may hand over or edit, so nothing in it may run code or stop the app:

* PySide6 unpickles ``@Variant(...)`` values (a Python object stored for PySide) as soon as QSettings reads
  their section, so a hostile value would run its payload at launch. The app never writes ``@Variant``
  values (only numbers, text, lists of text and byte arrays), so :func:`prepare` drops every such entry
  from the file before any value is read, and says so in one sentence. Where the file cannot be
  rewritten, this session does not read it at all.
* Every key has a type and a range in :data:`SCHEMA`; :func:`read` returns the saved value or the key's
  default, never something a widget or the sound engine would choke on (a text where a number goes, an
  out-of-range velocity, an infinite volume). :func:`prepare` resets the bad ones once, in the same sentence.

Use :func:`store` for every QSettings (fallbacks off: only the app's own file is read).
"""

from __future__ import annotations

import json
import logging
import math
import re
import string
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore

from timbre_explorer.core.files import atomic_path

log = logging.getLogger(__name__)


def _trainer_config(value: object) -> str:
    """The Trainer's last settings: JSON of a valid training config (as far as this version knows its keys)."""
    from timbre_explorer.core.errors import TimbreExplorerError
    from timbre_explorer.core.training.config import TrainConfig

    if not isinstance(value, str):
        raise ValueError("not text")
    try:
        saved = json.loads(value)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(saved, dict):
        raise ValueError("not a JSON object")
    defaults = TrainConfig().to_dict()
    known = {k: v for k, v in saved.items() if k in defaults}
    for k, v in known.items():  # each value of the JSON type of its default: the Trainer's widgets take it as is
        d = defaults[k]
        if isinstance(d, bool) or isinstance(v, bool):
            ok = type(v) is type(d) or d is None or v is None
        elif isinstance(d, (int, float)):
            ok = isinstance(v, (int, float)) and math.isfinite(v) and abs(v) < 2 ** 31 \
                and (isinstance(d, float) or float(v).is_integer())
        else:
            ok = d is None or v is None or isinstance(v, type(d))
        if not ok:
            raise ValueError(f"{k}: {v!r}")
    try:
        TrainConfig.from_dict({**defaults, **known})
    except (TimbreExplorerError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    return value


@dataclass(frozen=True)
class Setting:
    """One key: its type (float, int, bool, str, bytes or list, a list of texts), default and range."""

    kind: type
    default: object
    low: float | None = None
    high: float | None = None
    check: Callable[[object], object] | None = None  # a further check of a text value (raises ValueError)

    def parse(self, raw: object) -> object:  # noqa: C901
        """``raw`` as QSettings read it, as this setting's type; ValueError when it is not one."""
        if self.kind is bytes:
            if not isinstance(raw, QtCore.QByteArray):
                raise ValueError("not a byte array")
            return raw
        if self.kind is list:
            items = [] if raw is None else [raw] if isinstance(raw, str) else raw
            if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
                raise ValueError("not a list of texts")
            return list(items)
        if self.kind is str:
            if not isinstance(raw, str):
                raise ValueError("not a text")
            return self.check(raw) if self.check else raw
        if self.kind is bool:
            if isinstance(raw, bool):  # (in memory, before the file is written)
                return raw
            text = raw.strip().lower() if isinstance(raw, str) else ""
            if text not in ("true", "false"):
                raise ValueError("not true or false")
            return text == "true"
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise ValueError("not a number")
        value = int(str(raw).strip()) if self.kind is int else float(raw)
        if not math.isfinite(value) or (self.low is not None and value < self.low) \
                or (self.high is not None and value > self.high):
            raise ValueError(f"{raw!r} is outside {self.low}..{self.high}")
        return value

    @property
    def range(self) -> tuple[float, float]:
        return float(self.low or 0.0), float(self.high or 0.0)

    @property
    def number(self) -> float:
        """A number setting's default, as its widget starts."""
        if not isinstance(self.default, int | float):
            raise TypeError(f"{self.default!r} is not a number")
        return self.default


#: Every key the app keeps. A widget's range and its saved value's range are the same (the Play and
#: Audio panels take theirs from here).
SCHEMA: dict[str, Setting] = {
    "settings_version": Setting(int, 1, 1, 1),
    "window/geometry": Setting(bytes, None),
    "window/splitter": Setting(bytes, None),
    "recent_models": Setting(list, []),
    "recent_sessions": Setting(list, []),
    "audio/device": Setting(str, ""),
    "audio/seconds": Setting(float, 1.5, 0.2, 10.0),  # a clicked point's note
    "audio/attack": Setting(float, 0.02, 0.0, 2.0),
    "audio/release": Setting(float, 0.25, 0.0, 5.0),
    "audio/volume": Setting(float, 1.0, 0.0, 1.0),
    "play/low": Setting(int, 60, 12, 96),  # the lower row's C: C0 to C7
    "play/velocity": Setting(int, 100, 1, 127),
    "play/pitch": Setting(int, 60, 24, 96),
    "play/keyboard": Setting(bool, True),
    "play/cc_x": Setting(int, -1, -1, 127),  # -1: off
    "play/cc_y": Setting(int, -1, -1, 127),
    "play/midi_input": Setting(str, ""),
    "osc/enabled": Setting(bool, False),  # other software drives the app over OSC (gui/explorer/osc_control.py)
    "osc/port": Setting(int, 9000, 1024, 65535),  # on 127.0.0.1
    "trainer/config": Setting(str, "", check=_trainer_config),
    "trainer/out": Setting(str, ""),
    "export/folder": Setting(str, ""),
    "help/tour_done": Setting(bool, False),  # the first-run tour was shown (app.run); Help → Tour shows it again
}


def store() -> QtCore.QSettings:
    """The app's settings file (fallbacks off: another file of the organisation is never read)."""
    s = QtCore.QSettings()
    s.setFallbacksEnabled(False)
    return s


def read(key: str):
    """The saved value of ``key`` as its type, or its default when absent or invalid (:func:`prepare` has
    said so once)."""
    spec = SCHEMA[key]
    raw = store().value(key)
    if raw is None:
        return spec.default
    try:
        return spec.parse(raw)
    except ValueError:
        return spec.default


def write(key: str, value) -> None:
    SCHEMA[key]  # noqa: B018 (only the schema's keys are written)
    store().setValue(key, value)


# ---------------------------------------------------------------------------------------------- the file itself
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", '"': '"', "?": "?",
            "'": "'", "\\": "\\"}
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\n\r|\r|\n)|[^\r\n]+$")


def _unescaped(raw: str, *, keep_unknown: bool, hex_marks: str) -> str:
    """``raw`` with QSettings' INI escapes decoded as Qt decodes them: ``\\x`` and octal of any length, in 16
    bits; a backslash before a line end continues the line; Qt skips an unknown escape. The other readings
    (``keep_unknown``: keep its character; ``hex_marks`` "xX": ``\\X`` as hex too) are the over-cautious ones."""
    out, i, n = [], 0, len(raw)
    while i < n:
        c = raw[i]
        i += 1
        if c != "\\":
            out.append(c)
            continue
        if i >= n:
            break
        e = raw[i]
        i += 1
        if e in hex_marks:
            v = 0
            while i < n and raw[i] in string.hexdigits:
                v, i = ((v << 4) | int(raw[i], 16)) & 0xFFFF, i + 1
            out.append(chr(v))
        elif e in "01234567":
            v = int(e)
            while i < n and raw[i] in "01234567":
                v, i = ((v << 3) | int(raw[i])) & 0xFFFF, i + 1
            out.append(chr(v))
        elif e in _ESCAPES:
            out.append(_ESCAPES[e])
        elif e not in "\r\n" and keep_unknown:
            out.append(e)
    return "".join(out)


def could_run_code(text: str) -> bool:
    """Whether Qt could read a ``@Variant(`` value from ``text``, the kind PySide6 unpickles (over-cautious:
    anywhere in it, quotes, spaces and case ignored, unknown escapes read both ways)."""
    return any("variant(" in re.sub(r'[\s"]', "", _unescaped(text, keep_unknown=keep, hex_marks=marks)).lower()
               for keep in (False, True) for marks in ("x", "xX"))


@dataclass(frozen=True)
class Cleaned:
    """What :func:`clean_file` did: the keys it dropped, or why the whole file is set aside."""

    dropped: list[str]
    set_aside: str = ""  # a sentence, when the file as a whole is not read


def clean_file(path: Path) -> Cleaned:
    """Drop every entry of the INI file ``path`` that could hold a Python object, keeping the rest as it is."""
    try:
        if not path.is_file():
            return Cleaned([])
        text = path.read_bytes().decode("latin-1")  # byte for byte: ASCII is all the check needs
    except OSError as exc:
        return Cleaned([], f"it cannot be read ({exc.strerror or exc})")
    if not could_run_code(text):
        return Cleaned([])
    kept, dropped, section = [], [], ""
    for line in _LINES.findall(text):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
        elif "=" in line and not stripped.startswith(";") and could_run_code(line.split("=", 1)[1]):
            key = line.split("=", 1)[0].strip()
            dropped.append(key if section in ("", "General") else f"{section}/{key}")
            continue
        kept.append(line)
    cleaned = "".join(kept)
    if could_run_code(cleaned):  # an entry over several lines (quotes, continued lines): read none of it
        return Cleaned(dropped, "it holds values that could run code, over several lines")
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(cleaned.encode("latin-1"))
    except OSError as exc:
        return Cleaned(dropped, f"it holds values that could run code and cannot be rewritten "
                                f"({exc.strerror or exc})")
    return Cleaned(dropped)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def prepare() -> str:
    """Make the settings file safe to read, before any value is read: drop what could run code, reset what
    the schema refuses. Returns one sentence saying what was done ("" when the file was sound)."""
    path = Path(store().fileName())  # QSettings reads values only when asked: opening it runs nothing
    cleaned = clean_file(path)
    if cleaned.set_aside:  # this session reads and writes a temporary file: the defaults
        folder = tempfile.mkdtemp(prefix="timbre-explorer-settings-")
        QtCore.QSettings.setPath(QtCore.QSettings.defaultFormat(), QtCore.QSettings.Scope.UserScope, folder)
        note = f"Settings {path}: not read, as {cleaned.set_aside}; this session uses the defaults."
        log.warning("%s", note)
        return note
    s = store()
    reset = []
    for key, spec in SCHEMA.items():
        raw = s.value(key)
        if raw is None:
            continue
        try:
            spec.parse(raw)
        except (ValueError, OverflowError):
            reset.append(key)
            s.remove(key)
    parts = []
    if cleaned.dropped:
        parts.append(f"dropped {_plural(len(cleaned.dropped), 'value')} that could run code "
                     f"({', '.join(cleaned.dropped)})")
    if reset:
        parts.append(f"reset {_plural(len(reset), 'value')} of the wrong type or out of range to "
                     f"{'its default' if len(reset) == 1 else 'their defaults'} ({', '.join(reset)})")
    if not parts:
        return ""
    s.sync()
    note = f"Settings {path}: {'; '.join(parts)}."
    log.warning("%s", note)
    return note


__all__ = ["SCHEMA", "Setting", "store", "read", "write", "prepare", "clean_file", "could_run_code", "Cleaned"]
