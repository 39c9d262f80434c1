"""Session files (``core/synthesis/session.py``): what is written reads back the same, and a file that is not a
session, or is one built to hurt, is refused in one sentence naming it. No Qt: the core's tests run without it."""

from __future__ import annotations

import json

import pytest

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.synthesis.session import (
    Bookmark,
    ModelRef,
    Session,
    SessionPath,
    SessionSound,
    read_session,
    write_session,
)


def _sentence(text: str, name: str) -> None:
    """A user's error: one sentence (one line) naming the file, no traceback."""
    assert name in text and "\n" not in text.strip() and "Traceback" not in text


def test_a_session_file_reads_back_as_written_and_hostile_ones_are_refused(tmp_path):
    s = Session(ModelRef("/m/model.timbre.safetensors", "0" * 64, "m"), bookmarks=[Bookmark("bright", [0.5, -1.0])],
                path=SessionPath("polyline", [[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]], "linear", 4.0, 67, "ff"))
    write_session(tmp_path / "a.session.json", s)
    assert read_session(tmp_path / "a.session.json") == s
    good = json.loads((tmp_path / "a.session.json").read_text())
    hostile = {
        "deep.json": "[" * 5000 + "]" * 5000,
        "nan.json": json.dumps(good).replace('"seconds": 4.0', '"seconds": NaN'),
        "other.json": json.dumps({"format": "something else"}),
        "huge.json": json.dumps({**good, "bookmarks": [{"name": "x" * 10_000, "z": [0.0]}]}),
        "far.json": json.dumps({**good, "selected": [1e300, 0.0]}),
        "newer.json": json.dumps({**good, "version": 2}),
        "extra.json": json.dumps({**good, "run": "import os"}),
        "text.json": "not json at all",
    }
    for name, text in hostile.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ParameterError) as e:
            read_session(tmp_path / name)
        _sentence(str(e.value), name)
    with pytest.raises(ParameterError, match="no such session file"):
        read_session(tmp_path / "none.json")
    with pytest.raises(ParameterError, match="not a regular file"):
        read_session(tmp_path)


def test_parts_that_do_not_fit_the_model_are_named():
    s = Session(ModelRef("m", "0" * 64), selected=[0.0, 1.0], bookmarks=[Bookmark("a", [0.0, 1.0, 2.0])],
                sounds=[SessionSound("x.wav", [0.0, 1.0], trajectory=[[0.0, 1.0, 2.0]])])
    assert s.problems(2) == ["bookmarks", "sounds"]
    assert s.problems(3) == ["the selected point", "sounds"]
