"""The README's benchmark table from one run's JSON: ``python benchmarks/table.py bench.json``.

``benchmarks/run.py --json bench.json`` measures; this prints the figures the issues name, each with its target and
whether that run met it, as a Markdown table, so the README's table is one run's and regenerated in one step.
"""

from __future__ import annotations

import json
import math
import operator
import sys
from collections.abc import Callable
from pathlib import Path

#: figure, what it is, its unit format, and the target: (comparison, bound) or None where the issues set none
HEADLINE: list[tuple[str, str, str, tuple[Callable[[float, float], bool], float] | None]] = [
    ("nsgt_speedup_x", "NSGT forward + backward, 1 s, batch 64, CQT: reference `nsgt` / ours, one thread each, "
     "best of 9 alternating runs", "{:.1f}×", (operator.ge, 10)),
    ("nsgt_erb_cpu_b64_speedup_x", "the same on our NSGT-ERB (against the reference's CQT)", "{:.1f}×", None),
    ("phase_1s_ms", "a 1 s held note decoded from the bundled model, phase included", "{:.0f} ms", (operator.le, 15)),
    ("phase_1s_sc_db", "its spectral convergence", "{:.1f} dB", (operator.le, -35)),
    ("path_30s_s", "a 30 s path through five instruments, rendered to a WAV file", "{:.1f} s", (operator.le, 3)),
    ("path_30s_peak_gb", "its peak memory (the whole process)", "{:.2f} GB", (operator.le, 0.6)),
    ("path_600s_peak_gb", "a 600 s path's peak memory", "{:.2f} GB", (operator.le, 0.6)),
    ("dataset_build_s", "the default SoundFont dataset built from scratch, 2 workers", "{:.0f} s", (operator.le, 120)),
    ("click_to_sound_ms", "click to the first block of sound, bundled model", "{:.1f} ms", (operator.le, 30)),
    ("click_to_sound_while_training_ms", "the same while a model trains in another process", "{:.0f} ms", None),
    ("descriptor_field_100_ms", "descriptor field 100 × 100, all five descriptors", "{:.0f} ms", (operator.le, 150)),
    ("key_to_sound_ms", "key press to the end of the callback that sounds it, 8 voices sounding (CPU)",
     "{:.2f} ms", (operator.le, 15)),
    ("key_ready_ms", "a click's request until the key nearest the Play pitch is ready", "{:.0f} ms",
     (operator.le, 1000)),
    ("key_centroid_jump", "largest spectral-centroid ratio − 1 between neighbouring keys", "{:.1%}",
     (operator.le, 0.15)),
    ("label_click_right_of_12", "clicks on the 12 rated names that re-encode as their instrument", "{:.0f} of 12",
     (operator.ge, 11)),
    ("label_click_audio_right_of_12", "the same, what plays placed as a user's sound", "{:.0f} of 12", None),
    ("label_click_classified_right_of_12", "the same, what plays put in its instrument by a classifier fitted on the "
     "real notes (not our encoder)", "{:.0f} of 12", None),
    ("grid_pitched_share", "a 20 × 20 grid of the map at MIDI 60 mf: share pitched", "{:.2f}", (operator.ge, 0.95)),
    ("level_spread_db", "its level spread, 5th–95th percentile", "{:.1f} dB", (operator.le, 6)),
    ("map_frame_300k_ms", "map frame while panning, 300,000 notes", "{:.0f} ms", (operator.le, 33)),
    ("map_recolour_300k_ms", "the same notes in other colours (another \"colour by\")", "{:.0f} ms", None),
    ("launch_to_map_s", "launch to the bundled model's map drawn", "{:.1f} s", (operator.le, 2)),
    ("launch_to_first_sound_s", "launch to the sound of a click 0.2 s after the map", "{:.1f} s", None),
    ("launch_thread_gap_ms", "while it starts, the longest wait of a thread waking every 5 ms (as the audio callback)",
     "{:.0f} ms", None),
    ("gc_pause_ms", "the same time, the longest cycle collection", "{:.0f} ms", None),
    ("gc_full_ms", "a full cycle collection once the model is ready (the GUI thread's, every minute or two of use)",
     "{:.1f} ms", None),
    ("click_gui_gap_ms", "a click on the map: the GUI thread's longest wait (median of 12 clicks)", "{:.0f} ms", None),
    ("train_tab_over_cli_x", "a small training run through the Trainer tab / through the CLI's code", "{:.2f}",
     (operator.le, 1.10)),
    ("train_gui_gap_ms", "the GUI thread's longest wait while the tab trains", "{:.0f} ms", (operator.lt, 100)),
    ("cross_source_rho", "bundled model on FreePats (never heard): ρ", "{:.3f}", (operator.ge, 0.70)),
    ("cross_source_nearest_share", "the same: notes nearest their own instrument", "{:.0%}", (operator.ge, 0.85)),
    ("philharmonia_rho", "the Philharmonia samples, kept out of a run of the recipe: ρ", "{:.3f}",
     (operator.ge, 0.70)),
    ("philharmonia_nearest_share", "the same: notes nearest their own instrument", "{:.0%}", (operator.ge, 0.85)),
    ("tonejs_rho", "tonejs-instruments' real recordings (never heard): ρ", "{:.3f}", None),
    ("tonejs_nearest_share", "the same: notes nearest their own instrument", "{:.0%}", None),
    ("peer_suite_score", "the peer suite, 21 published studies, row-wise Spearman", "{:.3f}", (operator.ge, 0.40)),
    ("centroid_brightness_error", "centroid clicks' spectral centroid against the real notes, worst", "{:.0%}",
     (operator.le, 0.10)),
    ("centroid_brightness_error_median", "the same, median", "{:.0%}", None),
    ("centroid_reference_spread", "the sets' own C4 mf notes, brightest over dullest, widest", "{:.0%}", None),
]


def table(results: dict) -> str:
    """The Markdown table of :data:`HEADLINE` for one run's ``results``; a figure the run skipped says so."""
    lines = ["| figure | value | target |", "|---|---|---|"]
    for key, what, fmt, target in HEADLINE:
        value = results.get(key)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            shown, verdict = "not measured in this run", ""
        else:
            shown = fmt.format(value)
            verdict = "" if target is None else (f"{_sign(target[0])} {fmt.format(target[1])}: "
                                                 f"{'met' if target[0](value, target[1]) else 'not met'}")
        lines.append(f"| {what} (`{key}`) | {shown} | {verdict} |")
    return "\n".join(lines)


def _sign(op: Callable[[float, float], bool]) -> str:
    return {operator.ge: "≥", operator.le: "≤", operator.lt: "<"}[op]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    print(table(json.loads(Path(argv[0]).read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
