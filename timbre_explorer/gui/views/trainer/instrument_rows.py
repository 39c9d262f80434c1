"""The rows of the Trainer's instrument checklist: a SoundFont's instruments, or a scanned folder's."""

from __future__ import annotations

from timbre_explorer.core.data.instruments import DYNAMICS, INSTRUMENTS, pitch_name

Row = tuple[str, int, str, str]  # name, notes, range, dynamics


def pitch_range(pitches) -> str:
    known = [p for p in pitches if p >= 0]
    if not known:
        return "?"
    lo, hi = min(known), max(known)
    return pitch_name(lo) if lo == hi else f"{pitch_name(lo)}–{pitch_name(hi)}"


def soundfont_rows(instruments=INSTRUMENTS) -> list[Row]:
    """SoundFont instruments as the checklist shows them: the notes, range and dynamics the builder renders (a
    program on the wide grid: every few semitones, fewer dynamics)."""
    rows = []
    for i in instruments:
        dynamics = i.dynamics or tuple(DYNAMICS)
        grid = f", every {i.step}" if i.step > 1 else ""
        rows.append((i.name, len(i.pitches) * len(dynamics), pitch_range([i.low, i.high]) + grid, " ".join(dynamics)))
    return rows


def folder_rows(notes) -> list[Row]:
    """A scanned folder's instruments (NoteSpecs), in order of first appearance."""
    by: dict[str, list] = {}
    for n in notes:
        by.setdefault(n.instrument, []).append(n)
    order = list(DYNAMICS)
    rows = []
    for name, ns in by.items():
        dyns = sorted({n.dynamic for n in ns if n.dynamic}, key=lambda d: order.index(d) if d in order else 99)
        rows.append((name, len(ns), pitch_range([n.pitch for n in ns]), " ".join(dyns) or "?"))
    return rows
