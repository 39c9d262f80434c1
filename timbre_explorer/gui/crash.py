"""Unexpected errors in the app: each logged with its traceback, all shown in one dialog that names the log.

They come from slots and event handlers on the GUI thread (PySide hands those to ``sys.excepthook``),
from plain threads (``threading.excepthook``), and from worker jobs that fail with anything but the
core's own errors (:func:`report`, called by ``gui/workers.py``). The first opens a non-modal dialog
naming the log file; those that follow while it is open are logged and counted in its text, so a
bug in a timer or a drag never floods the screen with dialogs. Qt's own messages go to the log too
(logger ``qt``), so a missing plugin or a Qt warning in a user's session is there to read.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from pathlib import Path

from PySide6 import QtCore, QtWidgets

log = logging.getLogger("timbre_explorer")
qt_log = logging.getLogger("qt")
_reporter: CrashReporter | None = None
_starting: list[tuple[int, str]] | None = None  # Qt's messages while the QApplication starts (held)

_QT_LEVELS = {
    QtCore.QtMsgType.QtDebugMsg: logging.DEBUG,
    QtCore.QtMsgType.QtInfoMsg: logging.INFO,
    QtCore.QtMsgType.QtWarningMsg: logging.WARNING,
    QtCore.QtMsgType.QtCriticalMsg: logging.ERROR,
    QtCore.QtMsgType.QtFatalMsg: logging.CRITICAL,
}


class CrashReporter(QtCore.QObject):
    """Logs an exception from any thread and shows it in the one dialog, on the GUI thread."""

    _reported = QtCore.Signal(str)  # "Type: message"

    def __init__(self, log_file: Path | None):
        super().__init__()
        self.log_file = log_file
        self.dialog: QtWidgets.QMessageBox | None = None
        self.count = 0  # errors since the dialog opened
        self._first = ""
        # queued even from the GUI thread: the dialog opens after the failing slot has unwound
        self._reported.connect(self._show, QtCore.Qt.ConnectionType.QueuedConnection)

    def report(self, exc_info, where: str = "") -> None:
        log.critical("unexpected error%s", f" in {where}" if where else "", exc_info=exc_info)
        text = str(exc_info[1])
        self._reported.emit(f"{exc_info[0].__name__}: {text}" if text else exc_info[0].__name__)

    @property
    def showing(self) -> bool:
        return self.dialog is not None and self.dialog.isVisible()

    def _show(self, summary: str) -> None:
        if self.dialog is None:
            box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Critical, "Timbre Explorer: unexpected error", "",
                                        QtWidgets.QMessageBox.StandardButton.Ok)
            box.setWindowModality(QtCore.Qt.WindowModality.NonModal)
            box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setAttribute(QtCore.Qt.WidgetAttribute.WA_QuitOnClose, False)  # closing the window still quits
            self.dialog = box
        if self.showing:
            self.count += 1
        else:
            self.count, self._first = 1, summary
        where = str(self.log_file) if self.log_file else "stderr (the log folder could not be written)"
        more = self.count - 1
        self.dialog.setText(
            f"Something went wrong inside Timbre Explorer: {self._first}\n\n"
            f"The details are in the log file:\n{where}\n\n"
            "The app keeps running; if it misbehaves, save your work and restart it."
            + (f"\n\n{more} more error{'s' if more > 1 else ''} since, also in the log." if more else ""))
        self.dialog.show()


def install(log_file: Path | None) -> CrashReporter:
    """Route uncaught exceptions (GUI thread, other threads) and Qt's messages to the log and the dialog.

    Called by the app before its QApplication exists, so that Qt's start-up messages (platform plugins)
    are logged too.
    """
    global _reporter
    reporter = CrashReporter(log_file)

    def excepthook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
        else:
            reporter.report((exc_type, exc, tb))

    def thread_excepthook(args):
        if not issubclass(args.exc_type, SystemExit):
            reporter.report((args.exc_type, args.exc_value, args.exc_traceback),
                            f"thread {args.thread.name if args.thread is not None else '?'}")

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    global _starting
    _starting = [] if QtCore.QCoreApplication.instance() is None else None
    QtCore.qInstallMessageHandler(_qt_message)
    _reporter = reporter
    return reporter


def started() -> None:
    """The QApplication exists: Qt's start-up messages, held until now, go to the log."""
    global _starting
    held, _starting = _starting or [], None
    for level, text in held:
        qt_log.log(level, "%s", text)


def cannot_start(messages: list[str]) -> str:
    """The one sentence for Qt's fatal start-up failure (``messages``: what Qt said), as for no display."""
    from timbre_explorer.gui import no_display

    said = "\n".join(messages)
    plugin = re.search(r'Could not find the Qt platform plugin "([^"]*)"', said)
    if plugin:
        listed = re.search(r"Available platform plugins are: ([^\n]*?)\.?\s*$", said, re.M)
        return no_display(f"QT_QPA_PLATFORM names the Qt platform {plugin.group(1)!r}, which is not there"
                          + (f"; there are {listed.group(1)}" if listed else ""))
    display = re.search(r"could not connect to display ?(\S*)", said)
    if display:
        return no_display(f"DISPLAY names {display.group(1) or os.environ.get('DISPLAY', '')!r}, where no X server "
                          "answers")
    first = next((m.strip().splitlines()[0] for m in messages if m.strip()), "no platform plugin would start")
    return no_display(f"Qt could not open it: {first}")


def _qt_message(mode, context, message: str) -> None:
    category = context.category if context.category not in (None, "", "default") else ""
    level, text = _QT_LEVELS.get(mode, logging.WARNING), f"{category}: {message}" if category else message
    if _starting is None:
        qt_log.log(level, "%s", text)
        return
    _starting.append((level, text))
    if mode == QtCore.QtMsgType.QtFatalMsg:  # Qt aborts when this returns (SIGABRT): say why and end first
        for _, said in _starting:
            qt_log.info("%s", said)  # to the log file only
        print(f"timbre-explorer: {cannot_start([said for _, said in _starting])}", file=sys.stderr, flush=True)
        logging.shutdown()
        os._exit(1)


def report(exc_info, where: str) -> None:
    """An exception a worker caught but did not expect: shown as uncaught once the app installed the
    reporter; before that (tests, scripts) only logged."""
    if _reporter is not None:
        _reporter.report(exc_info, where)
    else:
        log.error("unexpected error in %s", where, exc_info=exc_info)


def showing() -> bool:
    """Whether the dialog is open (the main window then puts its own messages in the status bar)."""
    return _reporter is not None and _reporter.showing

