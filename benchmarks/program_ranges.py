"""Are the General MIDI programs pitched where the table says? ``python benchmarks/program_ranges.py [--step 4]``.

Renders every program of :data:`~timbre_explorer.core.data.instruments.GENERAL_MIDI` outside the 18 orchestral
instruments at every ``--step``-th semitone of its range (and its top), mf, as the dataset renders notes (1 s held,
0.5 s release), from each installed General MIDI SoundFont (``--sets`` names others, e.g. freepats), and estimates
the pitch of its held part, 0.2 to 0.7 s (:func:`~timbre_explorer.core.signal.pitch.estimate_pitch`; on that
part alone it takes a fifth of the time of the whole note). A checked pitch passes when most sample sets play it
within half a semitone of the pitch asked. The suggested range is the longest run of passing checked pitches (one
failing pitch between two passing ones does not break it); a program with none is not pitched. Prints a line per
program (``.`` passes, ``x`` fails; the sets' estimates of the failing pitches) and, with ``--json``, writes them.

Needs the SoundFonts of ``core/data/sources.py: KNOWN_SOUNDFONTS`` (those missing are skipped); about 30 minutes
on 2 CPU cores.
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
    args = parser.parse_args()
    programs = [i for i in GENERAL_MIDI if i not in INSTRUMENTS]
    if args.programs:
        lo, _, hi = args.programs.partition("-")
        programs = [i for i in programs if int(lo) <= i.program <= int(hi or lo)]
    sets = {name: KNOWN_SOUNDFONTS[name] for name in args.sets.split(",") if os.path.isfile(KNOWN_SOUNDFONTS[name])}
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
    report = []
    for inst in programs:
        pitches = checked_pitches(inst.low, inst.high, args.step)
        rows = [k for k, (program, _) in enumerate(notes) if program == inst.program]
        per_set = {name: [found[name][k] for k in rows] for name in sets}
        right = [sum(v[j] is not None and abs(v[j] - p) <= 0.5 for v in per_set.values())
                 for j, p in enumerate(pitches)]
        passes = [r * 2 > len(sets) for r in right]
        run = longest_run(passes)
        new = (pitches[run[0]], pitches[run[1]]) if run else None
        marks = "".join("." if ok else "x" for ok in passes)
        change = "unpitched" if new is None else "kept" if new == (inst.low, inst.high) else f"-> {new[0]}-{new[1]}"
        print(f"{inst.program:3d} {inst.name:18s} {inst.low:3d}-{inst.high:3d} {marks:24s} {change}")
        for j, ok in enumerate(passes):
            if not ok:
                said = " ".join(f"{name}:{'-' if v[j] is None else format(v[j], '.1f')}" for name, v in per_set.items())
                print(f"      {pitches[j]:3d}: {said}")
        report.append({"program": inst.program, "name": inst.name, "range": [inst.low, inst.high],
                       "pitches": pitches, "right": right, "suggested": new, "estimates": per_set})
    if args.json:
        Path(args.json).write_text(json.dumps({"sets": list(sets), "step": args.step, "programs": report}, indent=1))


if __name__ == "__main__":
    main()
