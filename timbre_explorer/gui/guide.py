"""Help → User guide: the README's tour of the Explorer and the Trainer, with its screenshots, inside the app.

The README is the one text: the guide shows its sections from *A tour of the Explorer* up to the first section
for developers (*Benchmarks*), so the two never disagree. The screenshots are read from ``docs/`` beside it (a checkout,
or the packaged app's folder: ``paths.readme_path``) and scaled to the guide's width once.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.paths import readme_path

FIRST = "## A tour of the Explorer"
LAST = "## Benchmarks"  # where the README turns from using the app to measuring and building it
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
IMAGE_WIDTH = 900  # pixels: the screenshots are 1400 wide; scaled once, not by the view at each paint


def guide_text(readme: str) -> str:
    """The README's sections a user reads (the tours of the Explorer and the Trainer); the whole text when the
    headings are not found (an edited README still shows)."""
    start = readme.find(FIRST)
    end = readme.find(LAST, start + 1)
    if start < 0:
        return readme
    return readme[start:end if end > 0 else None]


def guide_images(text: str) -> list[str]:
    """The images the text shows, as written (paths relative to the README)."""
    return IMAGE.findall(text)


class UserGuide(QtWidgets.QDialog):
    """A non-modal window with the guide; links to the web open in the browser, the rest stay where they are."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, readme: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle("Timbre Explorer: user guide")
        self.resize(1000, 800)
        self.browser = QtWidgets.QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.missing: list[str] = []  # images the guide names that could not be read
        self.load(readme or readme_path())

    def load(self, readme: Path) -> None:
        try:
            text = guide_text(readme.read_text(encoding="utf-8"))
        except OSError as exc:
            self.browser.setPlainText(f"The user guide {readme} cannot be read ({exc.strerror or exc}).")
            return
        self.browser.setMarkdown(text)
        document = self.browser.document()  # its images after the text: setting the text clears its resources
        for name in guide_images(text):
            image = QtGui.QImage(str(readme.parent / name))
            if image.isNull():
                self.missing.append(name)
                continue
            if image.width() > IMAGE_WIDTH:
                image = image.scaledToWidth(IMAGE_WIDTH, QtCore.Qt.TransformationMode.SmoothTransformation)
            document.addResource(QtGui.QTextDocument.ResourceType.ImageResource, QtCore.QUrl(name), image)
        document.markContentsDirty(0, document.characterCount())

    def image(self, name: str) -> QtGui.QImage:
        """The image the guide shows for ``name`` (a null image when it has none)."""
        resource = self.browser.document().resource(QtGui.QTextDocument.ResourceType.ImageResource, QtCore.QUrl(name))
        return resource if isinstance(resource, QtGui.QImage) else QtGui.QImage()

    @staticmethod
    def _link(url: QtCore.QUrl) -> None:
        if url.scheme() in ("http", "https"):
            QtGui.QDesktopServices.openUrl(url)
