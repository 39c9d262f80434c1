"""Are the General MIDI programs pitched where the table says? ``python benchmarks/program_ranges.py [--step 4]``.

Renders every program of :data:`~timbre_explorer.core.data.instruments.GENERAL_MIDI` outside the 18 orchestral
instruments at every ``--step``-th semitone of its range (and its top), mf, as the dataset renders notes (1 s held,
0.5 s release), from each installed General MIDI SoundFont (``--sets`` names others, e.g. freepats), and estimates
the pitch of its held part, 0.2 to 0.7 s (:func:`~timbre_explorer.core.signal.pitch.estimate_pitch`; on that
part alone it takes a fifth of the time of the whole note). A checked pitch passes when most sample sets play it
within half a semitone of the pitch asked, or of a whole number of octaves from it: YIN reads the period of the
waveform, and organ stops sounding together (16' under 8') repeat an octave or two below the pitch a listener
hears. The suggested range is the longest run of passing checked pitches (one failing pitch between two passing
ones does not break it); a program with no run of three is not pitched. Prints a line per program (``.`` passes at
the pitch, ``o`` passes octaves away, ``x`` fails; the sets' estimates of the pitches that do not pass at the
pitch) and, with ``--json``, writes them; ``--estimates`` reads such a file instead of rendering again.

Needs the SoundFonts of ``core/data/sources.py: KNOWN_SOUNDFONTS`` (those missing are skipped); 25 s for
4,712 notes on one busy CPU core (``--workers 1``; with the earlier pYIN, 35 minutes on 2 cores for 5,444). With
YIN, 91 of the 92 programs keep their range; Muted Guitar's C5 reads unpitched in two sets (it falls 26 dB
within 0.3 s of the held part, whose quiet tail is unvoiced), so a new run would trim it to 40-68.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

SAMPLE_RATE = 22050
HELD = (0.2, 0.7)  # seconds: the part of each note whose pitch is estimated
SOUNDFONTS = ("FluidR3_GM", "MuseScore_General", "TimGM6mb", "sf_GMbank")
CHUNK = 40  # notes per job


def checked_pitches(low: int, high: int, step: int) -> list[int]:
    """Every ``step``-th semitone from ``low``, and ``high``."""
    return sorted(set(range(low, high + 1, step)) | {high})


def estimates(job: tuple[str, list[tuple[int, int]]]) -> list[float | None]:
    """Render (program, pitch) pairs at mf from one sample set and estimate their pitches."""
    import numpy as np

    from timbre_explorer.core.data.instruments import DYNAMICS
    from timbre_explorer.core.data.sources import NoteSpec, SoundFontSource
    from timbre_explorer.core.signal.pitch import estimate_pitch

    path, notes = job
    source = SoundFontSource(path)
    specs = [NoteSpec("x", f"#{program}/{pitch}", pitch, "mf", DYNAMICS["mf"], program) for program, pitch in notes]
    out: list[float | None] = []
    held = slice(round(HELD[0] * SAMPLE_RATE), round(HELD[1] * SAMPLE_RATE))
    for audio in source.render(specs, SAMPLE_RATE):
        out.append(estimate_pitch(np.asarray(audio)[held], SAMPLE_RATE) if not isinstance(audio, str) else None)
    return out


def octaves_off(estimate: float | None, pitch: int) -> int | None:
    """How many whole octaves ``estimate`` lies from ``pitch`` (within half a semitone), or None.

    >>> octaves_off(60.2, 60), octaves_off(36.1, 60), octaves_off(61.0, 60), octaves_off(None, 60)
    (0, -2, None, None)
    """
    if estimate is None:
        return None
    octaves = round((estimate - pitch) / 12)
    return octaves if abs(estimate - pitch - 12 * octaves) <= 0.5 else None


def longest_run(passes: list[bool]) -> tuple[int, int] | None:
    """The first and last index of the longest run of passes, a lone failure between two passes allowed."""
    best, start = None, None
    for i, ok in enumerate(passes + [False]):
        bridged = not ok and 0 < i < len(passes) - 1 and passes[i - 1] and passes[i + 1]
        if ok or bridged:
            start = i if start is None else start
            continue
        if start is not None:
            end = i - 1
            if best is None or end - start > best[1] - best[0]:
                best = (start, end)
            start = None
    return best


def main() -> None:
    import os

    from timbre_explorer.core.data.instruments import GENERAL_MIDI, INSTRUMENTS
    from timbre_explorer.core.data.sources import KNOWN_SOUNDFONTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--step", type=int, default=4, help="semitones between checked pitches (default 4)")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--programs", help="only these programs, e.g. 104-119")
    parser.add_argument("--sets", default=",".join(SOUNDFONTS), help="the sample sets, by short name")
    parser.add_argument("--json", help="write the estimates here")
    parser.add_argument("--estimates", help="a --json file of an earlier run: judge its estimates, render nothing")
    args = parser.parse_args()
    programs = [i for i in GENERAL_MIDI if i not in INSTRUMENTS]
    if args.programs:
        lo, _, hi = args.programs.partition("-")
        programs = [i for i in programs if int(lo) <= i.program <= int(hi or lo)]
    sets = {name: KNOWN_SOUNDFONTS[name] for name in args.sets.split(",") if os.path.isfile(KNOWN_SOUNDFONTS[name])}
    if args.estimates:
        earlier = json.loads(Path(args.estimates).read_text())
        checked = {r["program"]: r for r in earlier["programs"]}
        judge([i for i in programs if i.program in checked], earlier["sets"], checked, args.json)
        return
    notes = [(i.program, p) for i in programs for p in checked_pitches(i.low, i.high, args.step)]
    jobs = [(path, notes[k:k + CHUNK]) for path in sets.values() for k in range(0, len(notes), CHUNK)]
    print(f"{len(programs)} programs, {len(notes)} pitches, {len(sets)} sample sets ({', '.join(sets)}): "
          f"{len(notes) * len(sets)} notes", flush=True)
    started = time.perf_counter()
    results = []
    with ProcessPoolExecutor(args.workers) as pool:
        for k, values in enumerate(pool.map(estimates, jobs)):
            results.append(values)
            print(f"{(k + 1) * 100 // len(jobs)} % ({time.perf_counter() - started:.0f} s)", end="\r", flush=True)
    found: dict[str, list[float | None]] = {name: [] for name in sets}
    for (path, _), values in zip(jobs, results):
        found[next(n for n, p in sets.items() if p == path)] += values
    print(f"{time.perf_counter() - started:.0f} s", flush=True)
    by_program = {}
    for inst in programs:
        rows = [k for k, (program, _) in enumerate(notes) if program == inst.program]
        by_program[inst.program] = {"pitches": [notes[k][1] for k in rows],
                                    "estimates": {name: [found[name][k] for k in rows] for name in sets}}
    judge(programs, list(sets), by_program, args.json)


def judge(programs, sets: list[str], by_program: dict, out: str | None) -> None:
    """Print each program's verdict (see the module docstring); write them to ``out`` as JSON when given."""
    report, counts = [], {"kept": 0, "trimmed": 0, "unpitched": 0}
    for inst in programs:
        pitches, per_set = by_program[inst.program]["pitches"], by_program[inst.program]["estimates"]
        low, high = by_program[inst.program].get("range", (inst.low, inst.high))  # the range that was checked
        off = [[octaves_off(v[j], p) for v in per_set.values()] for j, p in enumerate(pitches)]
        exact = [sum(o == 0 for o in row) * 2 > len(sets) for row in off]
        passes = [sum(o is not None for o in row) * 2 > len(sets) for row in off]
        run = longest_run(passes)
        new = (pitches[run[0]], pitches[run[1]]) if run and run[1] - run[0] >= 2 else None
        marks = "".join("." if e else "o" if ok else "x" for e, ok in zip(exact, passes))
        change = "unpitched" if new is None else "kept" if new == (low, high) else f"-> {new[0]}-{new[1]}"
        counts["unpitched" if new is None else "kept" if change == "kept" else "trimmed"] += 1
        print(f"{inst.program:3d} {inst.name:18s} {low:3d}-{high:3d} {marks:24s} {change}")
        for j, e in enumerate(exact):
            if not e:
                said = " ".join(f"{name}:{'-' if v[j] is None else format(v[j], '.1f')}" for name, v in per_set.items())
                print(f"      {pitches[j]:3d}: {said}")
        report.append({"program": inst.program, "name": inst.name, "range": [low, high],
                       "pitches": pitches, "suggested": new, "octaves_off": off, "estimates": per_set})
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    if out:
        Path(out).write_text(json.dumps({"sets": sets, "programs": report}, indent=1))


if __name__ == "__main__":
    main()
