"""Atomic file writes: a crash or a full disk never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The temporaries of :func:`atomic_path` (``.NAME.pid<PID>-XXXXXXXX.part.EXT``) and of dataset builds
#: (``.NAME.partial-<PID>``): the PID says whose they are, so those of dead processes can be removed.
_TEMPORARY = re.compile(r"^\..*(?:\.pid(\d+)-[a-z0-9_]{8}\.part(?:\.[^.]*)?|\.partial-(\d+))$")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (another user's counts: it is not ours to clean up)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporaries that killed processes left in ``folder``; the removed paths.

    A checkpoint write killed hard leaves a file as large as the model; a
    dataset build killed hard leaves its partial folder. Called before each
    write into a folder, so they never pile up.
    """
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(Path(folder)):
            m = _TEMPORARY.match(entry.name)
            if m is None or pid_alive(int(m.group(1) or m.group(2))):
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    The temporary file keeps the target's suffix (libraries pick formats from
    it), carries our PID (:func:`remove_stale_temporaries`) and is removed if
    the block raises.
    """
    path = Path(path)
    tmp = _temporary(path)
    try:
        yield tmp
        _replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (os.fspath(tmp), None):  # a write to the temporary (a
            raise _about(path, exc) from None  # full disk): the user knows the target, not our temporary
        raise


def _temporary(path: Path) -> Path:
    """A new empty temporary file beside ``path`` (its folder made if need be)."""
    _make_folder(path.parent, path)
    remove_stale_temporaries(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.pid{os.getpid()}-", suffix=f".part{path.suffix}",
                                   dir=path.parent)
    except OSError as exc:
        raise _about(path, exc) from None
    os.close(fd)
    return Path(tmp)


def _make_folder(folder: Path, target: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where a folder of the path should be: mkdir says only "File exists"
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), os.fspath(target)) from None


@contextlib.contextmanager
def staged_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty temporary folder inside ``folder``; when the block ends, everything it put there
    replaces the files and folders of the same names in ``folder``, together.

    For what is several files at once (an SFZ instrument and its samples' folder): a block that raises, or a
    move that fails, leaves every old file and folder as it was, and the temporary is removed either way.
    """
    folder = Path(folder)
    _make_folder(folder, folder)
    remove_stale_temporaries(folder)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".staged.pid{os.getpid()}-", suffix=".part", dir=folder))
    except OSError as exc:
        raise _about(folder, exc) from None
    try:
        yield stage
        _move_in(stage, folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_in(stage: Path, folder: Path) -> None:
    """Move every entry of ``stage`` into ``folder`` (the old ones set aside in ``stage``), all or none."""
    names = sorted(p.name for p in stage.iterdir())
    aside = Path(tempfile.mkdtemp(dir=stage))
    moved: list[str] = []
    with locked_folder(folder):
        try:
            for name in names:
                target = folder / name
                if target.exists() or target.is_symlink():
                    os.rename(target, aside / name)
                os.rename(stage / name, target)
                moved.append(name)
        except OSError:
            for name in reversed(moved):
                os.rename(folder / name, stage / name)
            for old in aside.iterdir():
                os.rename(old, folder / old.name)
            raise


def _replace(tmp: Path, path: Path) -> None:
    # mkstemp makes it private: keep the replaced file's mode, or give a new one a normal file's
    os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
    os.replace(tmp, path)


@contextlib.contextmanager
def locked_folder(folder: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (``flock`` on the folder itself: nothing is left in it) while the
    block runs; other holders wait. Released when the block ends, or the process does."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_together(contents: dict[Path, bytes]) -> None:
    """Write several files as one unit (a sound and its path file): both or neither, and from the same writer
    (:func:`writing_together`)."""
    with writing_together(contents) as temps:
        for path, data in contents.items():
            try:
                temps[Path(path)].write_bytes(data)
            except OSError as exc:
                raise _about(Path(path), exc) from None


@contextlib.contextmanager
def writing_together(paths: Iterable[str | os.PathLike]) -> Iterator[dict[Path, Path]]:
    """Yield a temporary beside each of ``paths`` (``{path: temporary}``) to write as the caller likes (a long
    render streams its WAV); when the block ends, they replace their targets as one unit.

    Holding their folders' locks (:func:`locked_folder`), every target is checked and all are renamed. Two
    writers of the same files therefore never leave one's file beside the other's, and a failed or cancelled
    write (the block raises) leaves every old file as it was and no temporary behind.
    """
    temps: dict[Path, Path] = {}
    try:
        for path in map(Path, paths):
            temps[path] = _temporary(path)
        yield dict(temps)
        with contextlib.ExitStack() as locks:
            for folder in sorted({p.parent.resolve() for p in temps}):  # one order: no deadlock between writers
                locks.enter_context(locked_folder(folder))
            for path in temps:
                if path.is_dir():
                    raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
            for path, tmp in temps.items():
                _replace(tmp, path)
    finally:
        for tmp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _about(path: Path, exc: OSError) -> OSError:
    """``exc`` as the same error about ``path``: what the user asked to write."""
    return type(exc)(exc.errno, exc.strerror, os.fspath(path))


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` atomically. Libraries that write files themselves (safetensors, in Rust) report a full
    disk in their own words; encoding in memory and writing here gives an :class:`OSError` naming ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` as UTF-8, atomically."""
    write_bytes(path, text.encode("utf-8", errors="backslashreplace"))


def write_figure(path: str | os.PathLike, figure: Figure, **savefig: Any) -> None:
    """Save a matplotlib ``figure`` atomically, then close it (written or not): ``savefig`` writes in place,
    so a full disk would leave a truncated plot where the old one was. The format is the suffix's."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format=Path(path).suffix.lstrip(".") or None, **savefig)
    finally:
        plt.close(figure)


def write_json(path: str | os.PathLike, data: object) -> None:
    """Write ``data`` as indented UTF-8 JSON (:func:`json_bytes`), atomically."""
    write_bytes(path, json_bytes(data))


def json_bytes(data: object) -> bytes:
    """``data`` as indented UTF-8 JSON; NaN and infinities are refused (ValueError).

    A file name that is not UTF-8 (decoded by Python with lone surrogates) is
    written as a JSON ``\\udcXX`` escape, which reads back as the same string.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return text.encode("utf-8", errors="backslashreplace")
