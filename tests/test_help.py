"""Help that teaches: every control says what it does, the first-run tour, and the user guide inside the app."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from timbre_explorer.audio.engine import AudioEngine
from timbre_explorer.paths import default_model_path

INTERACTIVE = (QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox, QtWidgets.QAbstractSlider,
               QtWidgets.QLineEdit)
QT_INTERNAL = ("ScrollLeftButton", "ScrollRightButton")  # a tab bar's scroll arrows


def part_of_another(widget: QtWidgets.QWidget) -> bool:
    """Qt's own parts of a widget (a spin box's text field, a table's corner button, a scroll bar): they show their
    widget's tooltip, or none is wanted."""
    return (widget.objectName().startswith("qt_") or widget.objectName() in QT_INTERNAL
            or isinstance(widget, QtWidgets.QScrollBar)
            or isinstance(widget.parent(), (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox)))


def name(widget: QtWidgets.QWidget) -> str:
    text = widget.currentText() if isinstance(widget, QtWidgets.QComboBox) else getattr(widget, "text", str)()
    return f"{type(widget).__name__} {widget.objectName() or text or '(no text)'!r} in {type(widget.parent()).__name__}"


def untipped(root: QtWidgets.QWidget) -> list[str]:
    return [name(w) for w in root.findChildren(QtWidgets.QWidget)
            if isinstance(w, INTERACTIVE) and not part_of_another(w) and not w.toolTip().strip()]


def test_every_control_of_the_explorer_and_the_trainer_says_what_it_does(open_window):
    """A real window on the bundled model (the controls made when a model opens included, the tour's and the
    audio settings' too): every button, box, slider and field has a tooltip, and every menu entry a status tip."""
    from timbre_explorer.gui.audio_settings import AudioSettingsDialog

    w = open_window(default_model_path(), AudioEngine(open_stream=False))
    assert w.explorer.map_panel.dynamics  # the controls a model brings are there
    w.start_tour()
    dialog = AudioSettingsDialog(w, w.audio, w.explorer.settings)
    assert dialog.parent() is w  # walked as part of the window
    missing = untipped(w)
    assert not missing, "no tooltip:\n" + "\n".join(missing)
    menus = [(m.title(), a.text()) for m in w.menuBar().findChildren(QtWidgets.QMenu)
             for a in m.actions() if not a.isSeparator() and a.menu() is None and not a.statusTip().strip()]
    assert not menus, f"menu entries without a status tip: {menus}"


def test_the_axes_tooltip_says_what_the_readme_says_of_the_shipped_model(qtbot):
    """Not "PCA is mostly pitch and loudness": on the shipped model pitch and dynamic explain a few per cent."""
    from timbre_explorer.gui.views.explorer.map_panel import MapPanel

    panel = MapPanel()
    qtbot.addWidget(panel)
    tip = panel.basis.toolTip()
    assert "rotations of the latent space" in tip and "mostly pitch" not in tip


def test_the_tour_steps_through_the_map_play_path_and_sliders(open_window, tiny_model):
    from timbre_explorer.gui.tour import STEPS

    w = open_window(tiny_model, AudioEngine(open_stream=False))
    assert w.tour is None  # a window alone shows no tour: app.run starts it at the first start
    w.start_tour()
    tour = w.tour
    seen = []
    for i in range(len(STEPS)):
        assert tour.isVisible() and tour.outline.isVisible()
        assert tour.count.text() == f"{i + 1} of {len(STEPS)}"
        target = tour.target
        assert target.isVisible(), STEPS[i].title  # the step opened the tab its panel is on
        outlined = tour.outline.geometry()
        assert outlined.contains(QtCore.QRect(target.mapTo(w, QtCore.QPoint(0, 0)), target.size()))
        assert w.rect().contains(tour.geometry())  # the callout inside the window
        seen.append((STEPS[i].title, w.explorer.tabs.tabText(w.explorer.tabs.currentIndex())))
        if i + 1 < len(STEPS):
            tour.next.click()
    assert [t for t, _ in seen[:4]] == ["The map", "Play", "Path", "Sliders"]
    assert dict(seen)["Play"] == "Play" and dict(seen)["Path"] == "Path" and dict(seen)["Sliders"] == "Sliders"
    tour.back.click()
    assert tour.count.text() == f"{len(STEPS) - 1} of {len(STEPS)}"


def test_the_tour_can_be_skipped_and_started_again_from_the_help_menu(open_window, tiny_model):
    from timbre_explorer.gui.tour import STEPS

    w = open_window(tiny_model, AudioEngine(open_stream=False))
    w.start_tour()
    tour = w.tour
    tour.next.click()
    tour.skip.click()
    assert not tour.isVisible() and not tour.outline.isVisible()
    help_menu = next(m for m in w.menuBar().findChildren(QtWidgets.QMenu) if m.title() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "&Tour").trigger()  # Help → Tour: from the first step
    assert tour.isVisible() and tour.count.text() == f"1 of {len(STEPS)}"
    for _ in STEPS:
        tour.next.click()  # the last is Done
    assert not tour.isVisible()


def test_the_tour_is_shown_once_at_the_first_start(qtbot, tiny_model):
    from timbre_explorer.gui import settings
    from timbre_explorer.gui.app import first_start_tour
    from timbre_explorer.gui.main_window import MainWindow

    for first in (True, False):
        w = MainWindow(model_path=tiny_model, audio=AudioEngine(open_stream=False))
        qtbot.addWidget(w)
        w.show()
        first_start_tour(w)
        if first:
            qtbot.waitUntil(lambda w=w: w.tour is not None and w.tour.isVisible())
            assert settings.read("help/tour_done") is True
        else:
            qtbot.wait(50)  # the tour would start on the next turn of the event loop
            assert w.tour is None
        w.close()


def test_the_user_guide_shows_the_readmes_tour_with_its_screenshots(qtbot, open_window, tiny_model, tmp_path):
    from timbre_explorer.gui.guide import UserGuide, guide_images, guide_text
    from timbre_explorer.paths import readme_path

    w = open_window(tiny_model, AudioEngine(open_stream=False))
    help_menu = next(m for m in w.menuBar().findChildren(QtWidgets.QMenu) if m.title() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "&User guide").trigger()
    guide = w.guide
    assert guide.isVisible()
    text = guide.browser.toPlainText()
    assert text.startswith("A tour of the Explorer") and "The Trainer tab" in text
    assert "How it works" in text and "Command line" in text
    assert "benchmarks/run.py --json" not in text  # measuring and building it stay in the README
    images = guide_images(guide_text(readme_path().read_text()))
    assert "docs/map.png" in images and "docs/play.png" in images
    assert not guide.missing
    for image in images:
        shown = guide.image(image)
        assert not shown.isNull() and 0 < shown.width() <= 900, image
    # an image that is not there is listed, the rest still shows
    (tmp_path / "README.md").write_text("## A tour of the Explorer\n\nSee ![gone](docs/gone.png).\n")
    other = UserGuide(readme=tmp_path / "README.md")
    qtbot.addWidget(other)
    assert other.missing == ["docs/gone.png"] and "See" in other.browser.toPlainText()
