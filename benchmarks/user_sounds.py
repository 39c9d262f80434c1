"""The figures behind the rules for a user's sounds: ``python benchmarks/user_sounds.py [--model FILE]``.

* pitch: :func:`~timbre_explorer.core.signal.pitch.estimate_pitch` on MuseScore_General notes of every
  instrument the app knows at its lowest, middle and highest pitch (mf), and on five drums;
* clipping: the rated instruments' notes (pitches 55, 62, 69, 76 in range; mf and ff) driven into clipping
  until a given share of samples is at full scale, each placed clipped and unclipped at the same gain: how far
  the position moves (over the median distance between instrument centroids) and how often the nearest
  instrument stays. :data:`~timbre_explorer.core.synthesis.morph.MAX_CLIPPED_SHARE` is chosen from it.

Needs the MuseScore_General SoundFont (``apt-get install musescore-general-soundfont``); a few minutes on CPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402

SHARES = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
DRUMS = {"kick": 36, "snare": 38, "hi-hat": 42, "crash": 49, "tom": 45}


def rendered_drums(path: str, sample_rate: int, seconds: float) -> dict[str, np.ndarray]:
    """General MIDI drums (bank 128) from the SoundFont, each ``seconds`` long."""
    from timbre_explorer.core.data.sources import _synth

    synth, sfid = _synth(path, sample_rate, 0.4)
    synth.program_select(9, sfid, 128, 0)
    out = {}
    for name, key in DRUMS.items():
        synth.noteon(9, key, 100)
        a = synth.get_samples(round(seconds * sample_rate))
        synth.noteoff(9, key)
        synth.all_sounds_off(9)
        synth.get_samples(256)
        out[name] = np.asarray(a, np.float32).reshape(-1, 2).mean(1) / 32768
    return out


def main() -> None:
    import torch

    from timbre_explorer.core.data.dataset import analyse
    from timbre_explorer.core.data.instruments import BY_NAME, INSTRUMENTS
    from timbre_explorer.core.data.sources import KNOWN_SOUNDFONTS, SoundFontSource, from_onset
    from timbre_explorer.core.signal.pitch import estimate_pitch
    from timbre_explorer.core.synthesis.morph import parse_spec
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(default_model_path()))
    args = parser.parse_args()
    torch.set_num_threads(2)
    space = TimbreSpace.open(args.model, device=torch.device("cpu"))
    sr, n = space.sample_rate, round(space.note_seconds * space.sample_rate)
    sf = SoundFontSource(KNOWN_SOUNDFONTS["MuseScore_General"])

    specs = [parse_spec(f"{i.name}:{p}:mf") for i in INSTRUMENTS for p in (i.low, (i.low + i.high) // 2, i.high)]
    notes = [from_onset(np.asarray(a, np.float32), n, sr) for a in sf.render(specs, sr)]
    started = time.perf_counter()
    pitches = [estimate_pitch(a, sr) for a in notes]
    seconds = (time.perf_counter() - started) / len(notes)
    right = [p is not None and abs(p - s.pitch) <= 0.1 + 1e-6 for s, p in zip(specs, pitches)]
    print(f"pitch: {sum(right)} of {len(specs)} notes within 0.1 semitone ({seconds:.2f} s a note); the others:")
    for s, p, ok in zip(specs, pitches, right):
        if not ok:
            print(f"  {s.instrument} {s.pitch}: {p}")
    drums = {k: estimate_pitch(from_onset(a, n, sr), sr) for k, a in rendered_drums(sf.path, sr, 1.5).items()}
    print("drums: " + ", ".join(f"{k} {'unpitched' if p is None else f'{p:.1f}'}" for k, p in drums.items()))

    rated = [s for s in (parse_spec(f"{i}:{p}:{d}") for i in space.perceptual_instruments for p in (55, 62, 69, 76)
                         for d in ("mf", "ff")) if BY_NAME[s.instrument].low <= s.pitch <= BY_NAME[s.instrument].high]
    audio = [from_onset(np.asarray(a, np.float32), n, sr) for a in sf.render(rated, sr)]
    centroids = np.stack(list(space.centroids.values()))
    d = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)
    scale = float(np.median(d[np.triu_indices(len(d), 1)]))

    def place(a: np.ndarray) -> np.ndarray:
        f = analyse(a.astype(np.float32), preset=space.preset.name, sustain_s=space.note_seconds)
        return space.encode_note(f.log_magnitude, loudness=f.loudness)

    print(f"clipping ({len(audio)} notes; moves over the median centroid distance {scale:.2f}):")
    print("| at full scale | median move | 90th percentile | nearest instrument kept |")
    print("|---|---|---|---|")
    for share in SHARES:
        moves, kept = [], []
        for a in audio:
            gain = 1 / np.quantile(np.abs(a), 1 - share)
            clean, clipped = place(a * gain), place(np.clip(a * gain, -1, 1))
            moves.append(np.linalg.norm(clean - clipped) / scale)
            kept.append(space.nearest_instruments(clean, 1)[0][0] == space.nearest_instruments(clipped, 1)[0][0])
        print(f"| {100 * share:.1f} % | {100 * np.median(moves):.1f} % | {100 * np.quantile(moves, 0.9):.1f} % | "
              f"{100 * np.mean(kept):.0f} % |", flush=True)


if __name__ == "__main__":
    main()
