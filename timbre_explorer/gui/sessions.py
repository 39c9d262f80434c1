"""The main window's sessions: File → Save session / Open session / Recent sessions, the autosave restored at the
next start, and the question before something would throw unsaved work away.

The session itself is plain data (``core/synthesis/session.py``); each Explorer feature gives and takes its part
(``ExplorerTab.session`` / ``restore_session``). A session is read, its model found (at its path, else beside the
session file, each checked by its SHA-256) and the model opened in the window's loader, off the GUI thread; the
window then restores it (:meth:`SessionControl.restore`). "Unsaved work" is the bookmarks, the path and the
sounds as they differ from the session last saved or opened: the view and settings come back with the autosave.
That comparison of content is the one record of unsaved work, not the undo stack's clean state: undoing back to the
saved work leaves none, and a view change (an undo step too) is none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.errors import ParameterError, TimbreExplorerError
from timbre_explorer.gui import settings

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.session import Session
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.main_window import MainWindow

log = logging.getLogger(__name__)

MAX_RECENT = 8
SESSION_FILTER = "Timbre Explorer sessions (*.session.json);;All files (*)"
AUTOSAVE_EVERY_MS = 20_000  # the autosave is written when the session changed since the last one (and at quit)
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


@dataclass
class OpenedModel:
    """What the window's loader hands back: the space, its file's SHA-256, and the session to restore on it."""

    space: TimbreSpace
    sha256: str
    session: Session | None = None
    session_file: Path | None = None
    lost: list[str] = field(default_factory=list)  # what of the session could not come back, one phrase each
    notes: list[str] = field(default_factory=list)  # what was found elsewhere (a moved model), one phrase each


def open_space(path: str | Path) -> OpenedModel:
    """Open a model file as the window shows it (in a worker): validated and hashed. What the first map does not
    need (the notes decoded, the discriminant axes) the Explorer computes once it is drawn (``preparing.prepare``)."""
    from timbre_explorer.core.synthesis.session import file_sha256
    from timbre_explorer.core.synthesis.space import TimbreSpace

    space = TimbreSpace.open(path)
    try:
        sha = file_sha256(path)
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read it ({exc.strerror})") from None
    return OpenedModel(space, sha)


def find_model(session: Session, file: Path) -> tuple[Path | None, str]:
    """Where the session's model is now: its path, else the same name beside the session file, each with the
    session's SHA-256 (a phrase says where it was found); else its path with another content, or None (a phrase
    says why: these start with "!")."""
    from timbre_explorer.core.synthesis.session import file_sha256

    stored = Path(session.model.path)
    for candidate in dict.fromkeys((stored, file.parent / stored.name)):
        try:
            if candidate.is_file() and file_sha256(candidate) == session.model.sha256:
                return candidate, "" if candidate == stored else f"the model was found at {candidate}"
        except OSError:
            continue
    if stored.is_file():
        return stored, f"!the model {stored} has changed since the session was saved"
    return None, f"!the model {stored} is missing"


def autosave_path() -> Path:
    """The autosave, beside the app's settings file (tests give each its own settings folder)."""
    return Path(settings.store().fileName()).parent / "autosave.session.json"


def ask_unsaved(parent: QtWidgets.QWidget, what: str) -> str:
    """Save / Discard / Cancel before ``what`` throws unsaved work away (tests replace it: it waits for a click)."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "Unsaved work",
                                f"{what[:1].upper()}{what[1:]} would discard the bookmarks, path or sounds not "
                                "saved in a session.", parent=parent)
    B = QtWidgets.QMessageBox.StandardButton
    box.setStandardButtons(B.Save | B.Discard | B.Cancel)
    box.setDefaultButton(B.Save)
    answer = box.exec()
    return {B.Save: SAVE, B.Discard: DISCARD}.get(B(answer), CANCEL)


class SessionControl(QtCore.QObject):
    """Sessions for ``window`` (see the module docstring). ``ask`` is the question before discarding work."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window, self.explorer = window, window.explorer
        self.file: Path | None = None  # the session file last saved or opened
        self.model_sha256 = ""
        self.saved_work: dict | None = None  # what the file holds; None: nothing saved yet
        self.ask: Callable[[QtWidgets.QWidget, str], str] = ask_unsaved
        self._autosaved: dict | None = None
        self.timer = QtCore.QTimer(self, interval=AUTOSAVE_EVERY_MS)
        self.timer.timeout.connect(self.autosave)
        self.explorer.may_discard = lambda what: self.may_discard(f"clearing {what}")

    # ------------------------------------------------------------------ the menu
    def build_menu(self, file: QtWidgets.QMenu, action: Callable) -> None:
        """The File menu's session entries; ``action(menu, text, slot, shortcut, tip=...)`` makes each (the window's)."""
        action(file, "Open &session…", self.open_dialog, "Ctrl+Shift+O",
               tip="Open a saved session: its model, view, bookmarks, path, sounds and settings")
        self.recent_menu = file.addMenu("Recent sessions")
        action(file, "Save s&ession", self.save, "Ctrl+S", tip="Keep this work (view, bookmarks, path, sounds) in its "
                                                               "session file")
        action(file, "Save session &as…", self.save_as, "Ctrl+Shift+S", tip="Keep this work in a new session file")
        action(file, "&Load path…", self.explorer.path_control.load_path_dialog,
               tip="Read a path file (an exported sound's JSON) back onto the map")
        self._fill_recent(settings.read("recent_sessions"))

    def _fill_recent(self, recent: list[str]) -> None:
        self.recent_menu.clear()
        for p in recent:
            action = self.recent_menu.addAction(p)
            action.setStatusTip(f"Open the session {p}")
            action.triggered.connect(lambda *_, p=p: self.open(p))
        self.recent_menu.setEnabled(bool(recent))

    def _remember(self, path: Path) -> None:
        recent = [str(path)] + [p for p in settings.read("recent_sessions") if p != str(path)][:MAX_RECENT - 1]
        settings.write("recent_sessions", recent)
        self._fill_recent(recent)

    # ------------------------------------------------------------------ the state
    def current(self) -> Session | None:
        """The session on screen now (None before a model is open)."""
        from timbre_explorer.core.synthesis.session import ModelRef

        space = self.window.space
        if space is None or space.path is None or not self.model_sha256:
            return None
        return self.explorer.session(ModelRef(str(Path(space.path).absolute()), self.model_sha256, space.name))

    def unsaved(self) -> bool:
        """Whether bookmarks, the path or sounds differ from the session last saved or opened (none: any)."""
        now = self.current()
        if now is None:
            return False
        work = now.work()
        if self.saved_work is None:
            return bool(work["bookmarks"] or work["path"] or work["sounds"])
        return work != self.saved_work

    def may_discard(self, what: str) -> bool:
        """Whether to go on with ``what`` (opening another model, clearing, quitting): asked only when it would
        discard unsaved work; Save saves first (and stops, when that is cancelled or fails)."""
        if not self.unsaved():
            return True
        answer = self.ask(self.window, what)
        if answer == SAVE:
            return self.save()
        return answer == DISCARD

    # ------------------------------------------------------------------ saving
    def save(self) -> bool:
        """Into the session's file, or a new one chosen; True once written."""
        return self.write(self.file) if self.file is not None else self.save_as()

    def save_as(self) -> bool:
        from timbre_explorer.gui.views.widgets import export_file_name

        if self.current() is None:
            self.window.statusBar().showMessage("Open a model first.", 5000)
            return False
        path = export_file_name(self.window, "Save the session", "timbre.session.json", SESSION_FILTER)
        return bool(path) and self.write(Path(path))

    def write(self, path: Path) -> bool:
        """Write the session to ``path`` (checked, atomic); an error is said in one sentence."""
        from timbre_explorer.core.synthesis.session import write_session

        session = self.current()
        if session is None:
            return False
        try:
            write_session(path, session)
        except OSError as exc:
            self.window.show_error("Could not save the session", f"{path}: cannot write it ({exc.strerror or exc}).")
            return False
        except TimbreExplorerError as exc:
            self.window.show_error("Could not save the session", str(exc))
            return False
        self.file, self.saved_work = Path(path), session.work()
        self._remember(self.file)
        self.window.statusBar().showMessage(f"Saved the session {path}", 6000)
        return True

    def autosave(self, *, now: bool = False) -> None:
        """Write the autosave when the session changed since the last (``now``: here, at quit; else in a worker)."""
        from timbre_explorer.core.synthesis.session import write_session

        session = self.current()
        if session is None:
            return
        data = session.to_dict()
        if data == self._autosaved:
            return
        self._autosaved, path = data, autosave_path()

        def job(j=None) -> None:
            try:
                write_session(path, session)
            except (OSError, TimbreExplorerError) as exc:  # the next start opens as a first one: say it in the log
                log.warning("autosave %s not written: %s", path, exc)

        if now:
            job()
        else:
            self.explorer.tasks.submit(job, "autosave")

    def discard_autosave(self) -> None:
        autosave_path().unlink(missing_ok=True)

    # ------------------------------------------------------------------ opening
    def open_dialog(self) -> None:
        start = str(self.file.parent) if self.file else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Open a session", start, SESSION_FILTER)
        if path:
            self.open(path)

    def open(self, path: str | Path, *, start_model: Path | None = None) -> None:  # noqa: C901
        """Read session ``path`` and open its model (in the window's loader), then restore it there.

        ``start_model``: this is the autosave at the app's start: a session of another model than ``start_model``
        is left aside, and an unreadable one said in the status bar while ``start_model`` opens."""
        from timbre_explorer.core.synthesis.session import file_sha256, read_session

        path = Path(path)
        if start_model is None and not self.may_discard("opening a session"):
            return
        w = self.window
        current = (w.space, self.model_sha256) if w.space is not None else None

        def job(j) -> OpenedModel:
            try:
                session = read_session(path)
            except TimbreExplorerError as exc:
                if start_model is None:
                    raise
                opened = open_space(start_model)
                opened.lost.append(f"not restored ({str(exc).removeprefix(f'{path}: ')})")
                return opened
            model: Path | None
            if start_model is not None:
                try:
                    same = file_sha256(start_model) == session.model.sha256
                except OSError:
                    same = False
                if not same:
                    return open_space(start_model)  # the app was started on another model: it wins (or says why)
                model, lost = start_model, ""
            else:
                model, lost = find_model(session, path)
            if model is None and current is None:
                raise ParameterError(f"{path}: {lost.lstrip('!')}, and no model is open to show the rest on")
            if model is None or (current is not None and current[0].path == model and lost == ""):
                assert current is not None
                opened = OpenedModel(current[0], current[1])
            else:
                opened = open_space(model)
            opened.session, opened.session_file = session, None if start_model is not None else path
            if model is None:
                lost += f" (the rest is shown on {opened.space.path})"  # the open one's (current)
            if lost:
                (opened.lost if lost.startswith("!") else opened.notes).append(lost.lstrip("!"))
            return opened

        w.model_label.setText(f"Opening {path.name}…")
        w.loader.submit(job, "session", on_done=w._loaded,
                        on_failed=w._load_failed if start_model is not None else self._open_failed)

    def _open_failed(self, failed) -> None:
        w = self.window
        w.model_label.setText(w.space.summary() if w.space else "No model loaded")
        w.show_error("Could not open the session", failed.message)
        w.model_failed.emit(failed.message)

    def restore(self, opened: OpenedModel) -> None:
        """The model is shown: restore the session that came with it, and say in one sentence what did not."""
        self.model_sha256 = opened.sha256
        lost = list(opened.lost)
        said = lost + opened.notes
        if opened.session is not None:
            restored = self.explorer.restore_session(opened.session)
            lost += restored
            said += restored
            self.file = opened.session_file
            now = self.current()  # unsaved from here on: what came back (a sound file gone is said, not asked)
            self.saved_work = now.work() if now is not None and self.file is not None else None
            if self.file is not None:
                self._remember(self.file)
        else:
            self.file, self.saved_work = None, None
        self._autosaved = None
        self.timer.start()
        if said:
            where = str(opened.session_file or autosave_path())
            text = f"{where}: {'; '.join(said)}; the rest is open." if lost else f"{where}: {'; '.join(said)}."
            if opened.session_file is not None and lost:
                self.window.show_error("Part of the session could not open", text)
            else:
                self.window.statusBar().showMessage(text, 20000)
        elif opened.session_file is not None:
            self.window.statusBar().showMessage(f"Opened the session {opened.session_file}", 6000)
