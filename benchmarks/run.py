"""Every figure the issues ask for, measured in one run: ``python benchmarks/run.py [--json FILE]``.

Prints a table; ``--json`` also writes one JSON object of name -> number, each
name ending in its unit (``_ms``, ``_db``, ``_x``, ``_per_s``). Times are
medians of several runs after a warm-up; ratios compare against a baseline
measured in the same run. Run it on an otherwise idle machine.

``--smoke`` runs every group at its smallest sizes (one repeat, small grids, the tests' tiny synthetic data where a
group would build a big dataset or train long) and checks only that every figure in :data:`FIGURES` is produced
and finite, or skipped with its reason: its numbers are not measurements. ``./run.sh test`` runs it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from timbre_explorer.core.runtime import tune_allocator  # noqa: E402
from timbre_explorer.core.signal.nsgt import NSGT, transform_for  # noqa: E402
from timbre_explorer.core.signal.phase import DEFAULT_ITERATIONS, griffin_lim, sustain  # noqa: E402
from timbre_explorer.core.signal.scales import PRESETS  # noqa: E402

SR = 22050
SMOKE = False  # set by --smoke
SKIPPED: dict[str, str] = {}  # figure -> why this run cannot produce it


def size(full, smoke):
    """``full`` in a measuring run, ``smoke`` in a --smoke run: one place for every group's sizes."""
    return smoke if SMOKE else full


def skip(rows: list, figures: tuple[str, ...], what: str, reason: str) -> None:
    """Say once that ``figures`` are not produced here, and why (a --smoke run lists them, not as missing)."""
    SKIPPED.update(dict.fromkeys(figures, reason))
    rows.append((what, f"skipped: {reason}"))


def median_ms(fn, *, repeats: int = 15, warmup: int = 2) -> float:
    repeats, warmup = size(repeats, 1), size(warmup, 0)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def best_of_alternating(ours, reference, *, runs: int = 9, clock=time.process_time) -> tuple[float, float]:
    """The shortest seconds of ``runs`` runs of each, alternating (ours, reference, ours, ...): a ratio measured in
    the same run, each side at its least disturbed, and any drift of the machine shared by both sides.

    On the CPU the clock is the process's CPU time: both sides run on one thread, where it is their wall time on
    an idle machine, and a busy machine (other jobs on the 2 cores) delays a run without adding to it; the GPU
    passes ``time.perf_counter``."""
    best = [math.inf, math.inf]
    for _ in range(size(max(runs, 5), 1)):
        for i, fn in enumerate((ours, reference)):
            t0 = clock()
            fn()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            best[i] = min(best[i], clock() - t0)
    return best[0], best[1]


class torch_threads:
    """``with torch_threads(1):`` torch on that many threads inside the block (a ratio against a single-threaded
    baseline is taken on one thread), as before outside it."""

    def __init__(self, n: int):
        self.n, self.before = n, torch.get_num_threads()

    def __enter__(self):
        torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.before)


def bench_nsgt(results: dict, rows: list) -> None:
    """Our NSGT against the reference ``nsgt`` on the paper's CQT (the only paper scale both have).

    The reference is numpy's, on one thread: ours runs on one torch thread too, and each speedup is the best of
    9 alternating runs of both (:func:`best_of_alternating`), a batch of ours against 8 signals of the reference.
    """
    from nsgt_reference import patched_nsgt

    ref_lib = patched_nsgt()
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal(SR)
    # the reference in its fastest exact form: per-band lengths, all bands (our core + edges)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Q-factor too high" for the low bands of a 1 s signal
        ref = ref_lib.NSGT(ref_lib.OctScale(64, 8000, 24, beyond=1), SR, SR, real=True, matrixform=False)
    ref_c = ref.forward(x64)
    signals = size(8, 2)

    def reference() -> None:
        for _ in range(signals):
            ref.backward(ref.forward(x64))

    with torch_threads(1):
        ref_fwd = median_ms(lambda: ref.forward(x64), repeats=30)
        ref_bwd = median_ms(lambda: ref.backward(ref_c), repeats=30)
        results["nsgt_reference_forward_ms"] = ref_fwd
        results["nsgt_reference_backward_ms"] = ref_bwd
        rows.append(("reference nsgt 0.19 (CQT 24/oct)", "1", f"{ref_fwd:.2f}", f"{ref_bwd:.2f}", "1.0x"))
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for preset in ("nsgt-cqt", "nsgt-erb"):
            nsgt = transform_for(PRESETS[preset], SR)
            for device in devices:
                for batch in (1, 64):
                    x = torch.from_numpy(rng.standard_normal((batch, SR)).astype(np.float32)).to(device)
                    c = nsgt.forward(x)
                    fwd = median_ms(lambda: nsgt.forward(x), repeats=30) / batch
                    bwd = median_ms(lambda: nsgt.backward(c), repeats=30) / batch
                    ours_s, ref_s = best_of_alternating(lambda: nsgt.backward(nsgt.forward(x)), reference,
                                                        clock=time.process_time if device == "cpu" else time.perf_counter)
                    speedup = (ref_s / signals) / (ours_s / batch)
                    key = f"nsgt_{preset.split('-')[1]}_{device}_b{batch}"
                    results[f"{key}_forward_ms"] = fwd
                    results[f"{key}_backward_ms"] = bwd
                    results[f"{key}_speedup_x"] = speedup
                    rows.append((f"ours {preset} {device}", str(batch), f"{fwd:.3f}", f"{bwd:.3f}", f"{speedup:.1f}x"))
    # the headline: reference time / ours, per signal, batched, CPU, same scale, one thread each
    results["nsgt_speedup_x"] = results["nsgt_cqt_cpu_b64_speedup_x"]


def bench_phase(results: dict, rows: list) -> None:
    """Phase reconstruction of a 1 s sustained frame (a harmonic note, off the band centres)."""
    preset = PRESETS["nsgt-erb"]
    nsgt = transform_for(preset, SR)
    t = torch.arange(SR, dtype=torch.float32) / SR
    note = sum((0.5 / k) * torch.sin(2 * torch.pi * 220.7 * k * t + k) for k in range(1, 16))
    frame = nsgt.magnitude(note).mean(-1)
    held = frame.unsqueeze(-1).expand(-1, nsgt.n_frames)
    for n_iter in size((8, 16, 32, 100), (8,)):
        ms = median_ms(lambda: griffin_lim(held, nsgt, n_iter=n_iter), repeats=7 if n_iter < 100 else 3)
        sc = float(griffin_lim(held, nsgt, n_iter=n_iter).spectral_convergence_db)
        results[f"phase_1s_{n_iter}it_ms"] = ms
        results[f"phase_1s_{n_iter}it_sc_db"] = sc
        rows.append((f"griffin-lim {n_iter} it", "1", f"{ms:.1f}", f"{sc:.1f} dB", ""))
    # the figures: held 1 s notes decoded from the bundled model (middle C, mf), sustain() as the app calls
    # it (a drag's loop: at the pitch decoded), from each start at equal iterations; medians over instruments.
    # sustain() cuts a note from a period of HELD_PERIOD seconds; the same start on a 1 s period (the previous
    # default) is the baseline
    from timbre_explorer.core.signal.phase import HELD_PERIOD
    from timbre_explorer.core.signal.pitch import midi_to_hz
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    space = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
    preset = space.preset  # the model's transform (the bundled model's: 44.1 kHz)
    nsgt = transform_for(preset, round(preset.sample_rate))
    centroids = [z for _, z in sorted(space.centroids.items())[:size(8, 1)]]
    decoded = [space.decode(z) for z in centroids]
    default, default_iter = sustain.__kwdefaults__["init"], sustain.__kwdefaults__["n_iter"]
    for init in size(("partials", "pghi"), (default,)):
        for n_iter in size((0, 4, DEFAULT_ITERATIONS), (default_iter,)):
            key = f"phase_1s_{init}_{n_iter}it"
            results[f"{key}_ms"] = statistics.median(
                median_ms(lambda: sustain(f, preset, seconds=1.0, n_iter=n_iter, init=init, pitch_hz=midi_to_hz(60)),
                          repeats=5, warmup=1)
                for f in decoded)
            results[f"{key}_sc_db"] = statistics.median(
                float(sustain(f, preset, seconds=1.0, n_iter=n_iter, init=init,
                              pitch_hz=midi_to_hz(60)).spectral_convergence_db)
                for f in decoded)
            rows.append((f"sustain() from {init}, {n_iter} it ({HELD_PERIOD:g} s period, decoded notes)",
                         str(len(decoded)), f"{results[f'{key}_ms']:.1f}", f"{results[f'{key}_sc_db']:.1f} dB", ""))
    results["phase_1s_period_1s_sc_db"] = statistics.median(
        float(griffin_lim(f.unsqueeze(-1).expand(-1, nsgt.n_frames), nsgt, n_iter=0).spectral_convergence_db)
        for f in decoded)
    rows.append(("the same from a 1 s period (before)", str(len(decoded)), "",
                 f"{results['phase_1s_period_1s_sc_db']:.1f} dB", ""))
    for pitch in size((48, 67, 72), (48,)):  # the figure is at middle C; other keys, for the record
        results[f"phase_1s_sc_db_midi{pitch}"] = statistics.median(
            float(sustain(space.decode(z, pitch=pitch), preset, seconds=1.0,
                          pitch_hz=midi_to_hz(pitch)).spectral_convergence_db)
            for z in centroids)
        rows.append((f"sustain() at MIDI {pitch}", str(len(centroids)), "",
                     f"{results[f'phase_1s_sc_db_midi{pitch}']:.1f} dB", ""))
    results["phase_1s_ms"] = results[f"phase_1s_{default}_{default_iter}it_ms"]
    results["phase_1s_sc_db"] = results[f"phase_1s_{default}_{default_iter}it_sc_db"]
    t0 = time.perf_counter()
    NSGT(PRESETS["nsgt-erb"].scale, sample_rate=SR, length=SR)
    results["nsgt_build_1s_ms"] = 1e3 * (time.perf_counter() - t0)
    # long paths: a 30 s and a 600 s path through five instruments, rendered to a WAV file as `render` writes one
    # (pieces streamed to the file); each in a fresh process, so its peak memory (ru_maxrss: Python, torch and the
    # model included) is its own. Times: median of 3 (the 600 s path: one run)
    for key, seconds, runs in (("path_30s", size(30.0, 2.0), size(3, 1)), ("path_600s", size(600.0, 3.0), 1)):
        measured = [json.loads(subprocess.run([sys.executable, "-c", _PATH_CHILD, str(seconds)], check=True, cwd=ROOT,
                                              capture_output=True, text=True).stdout) for _ in range(runs)]
        results[f"{key}_s"] = statistics.median(r["seconds"] for r in measured)
        results[f"{key}_peak_gb"] = max(r["peak_gb"] for r in measured)
        rows.append((f"{seconds:g} s path to a WAV file", "1", f"{1e3 * results[f'{key}_s']:.0f}",
                     f"{results[f'{key}_peak_gb']:.2f} GB peak", ""))


_PATH_CHILD = """
import json, resource, sys, tempfile, time
from pathlib import Path
import torch
from timbre_explorer.core.runtime import tune_allocator
from timbre_explorer.core.synthesis.pathfile import PathSpec, render_to_file
from timbre_explorer.core.synthesis.space import TimbreSpace
from timbre_explorer.paths import default_model_path
tune_allocator()
torch.set_num_threads(min(2, torch.get_num_threads()))
space = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
seconds = float(sys.argv[1])
spec = PathSpec([space.centroids[n].tolist() for n in ("Flute", "Trumpet", "Cello", "Clarinet", "Piano")],
                seconds=seconds, kind="polyline", model=space.name)
with tempfile.TemporaryDirectory() as folder:
    t0 = time.perf_counter()
    render_to_file(space, spec, Path(folder) / "path.wav")
    seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_gb": peak / 2**20}))
"""


def bench_dataset(results: dict, rows: list) -> None:
    """The default dataset (FluidR3_GM, NSGT-ERB) built from scratch on 2 workers, 3 times (--smoke: the tests'
    synthetic sample folder, once)."""

    from tiny import write_sample_folder

    from timbre_explorer.core.data.dataset import build_dataset
    from timbre_explorer.core.data.sources import FolderSource, SoundFontSource, find_soundfont

    times = []
    with tempfile.TemporaryDirectory() as cache:
        source = FolderSource(str(write_sample_folder(Path(cache)))) if SMOKE else SoundFontSource(str(find_soundfont()))
        for _ in range(size(3, 1)):
            t0 = time.perf_counter()
            ds = build_dataset(source, cache_root=cache, workers=size(2, 1), rebuild=True)
            times.append(time.perf_counter() - t0)
        n_notes = len(source.notes())
    results["dataset_build_s"] = statistics.median(times)
    results["dataset_notes"] = len(ds)
    results["dataset_frames"] = int(ds.log_magnitude.shape[0])
    results["dataset_notes_per_s"] = n_notes / results["dataset_build_s"]
    rows.append(("default SoundFont dataset, 2 workers", f"{len(ds)} notes",
                 f"{results['dataset_build_s']:.1f} s", f"{results['dataset_notes_per_s']:.0f} notes/s"))


def bench_model(results: dict, rows: list) -> None:
    """Decode and encode throughput of the bundled model's architecture (frames per second)."""
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.model.vae import N_CONDITIONS
    from timbre_explorer.paths import default_model_path

    model = load_model(default_model_path()).build_model()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        m = model.to(device)
        for batch in (1, 4096):
            z = torch.randn(batch, m.config.latent, device=device)
            x = torch.randn(batch, m.config.encoded_bins, device=device)  # a band extension is decoded only
            # a conditioned model decodes at a pitch and level: the conditions' centre (zeros), as any would cost
            c = torch.zeros(batch, N_CONDITIONS, device=device) if m.config.conditioned else None
            with torch.no_grad():
                dec = median_ms(lambda: m.decode(z, c), repeats=30 if batch == 1 else 9)
                enc = median_ms(lambda: m.encode(x, c), repeats=30 if batch == 1 else 9)
            suffix = "" if device == "cpu" else "_cuda"
            results[f"decode_frames_per_s_b{batch}{suffix}"] = batch / dec * 1e3
            results[f"encode_frames_per_s_b{batch}{suffix}"] = batch / enc * 1e3
            rows.append((f"decode / encode, {device}", str(batch), f"{batch / dec * 1e3:,.0f}",
                         f"{batch / enc * 1e3:,.0f}"))
    t0 = time.perf_counter()
    load_model(default_model_path())
    results["model_load_ms"] = 1e3 * (time.perf_counter() - t0)


def bench_train(results: dict, rows: list) -> None:
    """Seconds per epoch of the default training config (stage 1 and regularized), medians of 3 (--smoke: the
    tests' tiny config on their synthetic sample folder)."""
    from tiny import tiny_config, write_sample_folder

    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.training.config import TrainConfig
    from timbre_explorer.core.training.loop import Trainer, train

    n = size(3, 1)
    with tempfile.TemporaryDirectory() as tmp:
        samples = write_sample_folder(Path(tmp, "samples")) if SMOKE else None
        for stage, epochs in (("stage1", dict(epochs_stage1=n, epochs_stage2=0)),
                              ("regularized", dict(epochs_stage1=0, epochs_stage2=n))):
            cfg = tiny_config(samples, baseline=False, **epochs) if SMOKE else TrainConfig(baseline=False, **epochs)
            recipe = cfg.dataset_recipe()
            ds = dataset_for(recipe, cache_root=Path(tmp, "cache"), workers=1) if SMOKE else dataset_for(recipe)
            t = Trainer(cfg, ds, Path(tmp, stage))
            secs = [p.metrics["seconds"] for p in train(t) if p.stage == stage]
            results[f"train_epoch_{stage}_s"] = statistics.median(secs)
            rows.append((f"training epoch, {stage}", f"{statistics.median(secs):.2f} s"))


def bench_train_default(results: dict, rows: list) -> None:
    """The whole default training run (stage 1, regularized, the unconditioned twin; the dataset from the user's
    cache), once: minutes, so not in the default set."""

    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "timbre_explorer", "train", "--out", out], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results["train_default_s"] = time.perf_counter() - t0
        report = json.loads(Path(out, "report.json").read_text())
    by_phase = report["train_seconds_by_phase"]
    results["train_default_shipped_s"] = by_phase["stage1"] + by_phase["regularized"]  # the model we ship
    rows.append(("default training run, all phases", f"{results['train_default_s']:.0f} s",
                 f"stage 1 + regularized {results['train_default_shipped_s']:.0f} s"))


def _train_beside(stop) -> None:
    """A training loop in its own process, as the Trainer tab's worker runs one."""
    from timbre_explorer.core.model.vae import TimbreVAE, VAEConfig, gaussian_nll, kl_standard_normal

    torch.set_num_threads(2)
    model = TimbreVAE(VAEConfig(n_bins=168, hidden=512, layers=3, latent=16))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(256, 168)
    while not stop.is_set():
        out = model(x)
        loss = gaussian_nll(x, out.x_mu, out.x_logvar).mean() + kl_standard_normal(out.mu, out.logvar).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def bench_explorer(results: dict, rows: list) -> None:
    """What using the Explorer feels like, bundled model on the CPU: a click to its first block of sound,
    a descriptor map, reaching a descriptor target."""
    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.core.signal.phase import sustain
    from timbre_explorer.core.synthesis.fields import field
    from timbre_explorer.core.synthesis.gestures import point_note
    from timbre_explorer.core.synthesis.reach import reach
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    space = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
    proj, rest = space.projection, np.zeros(space.latent_size)  # the plane through the map's mean
    coords = proj.forward(space.notes.z)[:, :2]
    lo, hi = coords.min(0), coords.max(0)
    rng = np.random.default_rng(0)
    clicks = iter(rng.uniform(lo, hi, (1000, 2)))  # a fresh random click every call
    engine = AudioEngine(space.sample_rate, open_stream=False)  # the app's engine; the test drives its callback
    engine.available = True
    block = np.zeros((engine.blocksize, 2), np.float32)

    def click():  # what a click plays (core/synthesis/gestures.py), at the Play tab's default pitch and mf
        z = proj.place(next(clicks), (0, 1), rest=rest)
        engine.play(point_note(space, z, pitch=60, dynamic="mf", seconds=1.0).samples)
        engine.callback(block, engine.blocksize, None, None)
        assert np.abs(block).max() > 0  # the first block already sounds

    results["click_to_sound_ms"] = median_ms(click, repeats=50, warmup=3)
    results["click_decode_ms"] = median_ms(lambda: space.decode(proj.place(next(clicks), (0, 1), rest=rest)),
                                           repeats=50)
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    trainer = ctx.Process(target=_train_beside, args=(stop,))  # as the Trainer tab's worker process trains
    trainer.start()
    time.sleep(size(3.0, 0.5))
    results["click_to_sound_while_training_ms"] = median_ms(click, repeats=50, warmup=3)
    stop.set()
    trainer.join()
    frames = iter([space.decode(proj.place(c, (0, 1), rest=rest)) for c in rng.uniform(lo, hi, (60, 2))])
    results["click_phase_ms"] = median_ms(lambda: sustain(next(frames), space.preset, seconds=1.0, loop=True),
                                          repeats=50)
    rows.append(("click to first block of sound (1 s note)", f"{results['click_to_sound_ms']:.1f} ms",
                 f"decode {results['click_decode_ms']:.1f} ms", f"phase {results['click_phase_ms']:.1f} ms"))
    rows.append(("the same click while a model trains in another process",
                 f"{results['click_to_sound_while_training_ms']:.1f} ms"))

    plane = dict(x_range=(lo[0], hi[0]), y_range=(lo[1], hi[1]), rest=rest)
    results["descriptor_field_100_ms"] = median_ms(lambda: field(space, resolution=100, **plane), repeats=9)
    results["descriptor_field_100_centroid_ms"] = median_ms(
        lambda: field(space, resolution=100, names=("centroid",), **plane), repeats=9)
    rows.append(("descriptor map 100 x 100", f"all five {results['descriptor_field_100_ms']:.0f} ms",
                 f"centroid only {results['descriptor_field_100_centroid_ms']:.0f} ms"))

    starts = space.notes.z[rng.choice(len(space.notes), size(40, 2), replace=False)]
    base = space.describe(space.decode(starts))["centroid"]
    for method in ("gradient", "greedy"):
        todo = iter(range(len(starts)))
        errors = []

        def one():
            i = next(todo)
            r = reach(space, starts[i], {"centroid": float(base[i]) + 300.0}, method=method)
            errors.append(abs(r.values["centroid"] - base[i] - 300.0) / 300.0)

        results[f"reach_{method}_ms"] = median_ms(one, repeats=30, warmup=2)
        results[f"reach_{method}_max_error_pct"] = 100 * max(errors)
        rows.append((f"reach centroid +300 Hz, {method}", f"{results[f'reach_{method}_ms']:.1f} ms",
                     f"worst miss {results[f'reach_{method}_max_error_pct']:.1f} % of the change"))


def bench_labels(results: dict, rows: list) -> None:
    """A click on each rated instrument's name, decoded and encoded back: does it come back nearest that
    instrument? The name plays its point (``landmarks.name_point``, in every mode); a plain click at the
    centroid's projection (what a name played before issue 26) in the default mode (on the data) and the paper's
    plane; and how long the on-data mapping takes for a 100 x 100 grid (a descriptor field's)."""
    from timbre_explorer.core.synthesis.landmarks import name_point
    from timbre_explorer.core.synthesis.playable import playable_note
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.explorer.map_state import ON_DATA, PLANE, MapState
    from timbre_explorer.paths import default_model_path

    space = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
    state = MapState(space)
    names = [n for n in space.perceptual_instruments if n in space.centroids][:size(None, 3)]
    clicks = {"label_click_right_of_12": lambda: [name_point(space, n, pitch=60, dynamic="mf") for n in names]}
    for mode, key in ((ON_DATA, "centroid_click_right_of_12"), (PLANE, "centroid_click_right_of_12_plane")):
        clicks[key] = lambda mode=mode: _centroid_clicks(state, mode, names)
    for key, points in clicks.items():
        z = np.stack(points())
        back = space.encode_log(np.log(np.maximum(space.decode(z).numpy(), 1e-12)))
        results[key] = sum(space.nearest_instruments(b, 1)[0][0] == n for n, b in zip(names, back))
        # what plays: the click's note at MIDI 60 mf, held 1 s, placed as a user's sound is (whole, pitch estimated)
        heard = [_placed(space, playable_note(space, point, pitch=60, dynamic="mf").held(1.0)) for point in z]
        results[key.replace("click", "click_audio")] = sum(
            space.nearest_instruments(h, 1)[0][0] == n for n, h in zip(names, heard))
    state.mode = ON_DATA
    coords = state.to_view(space.notes.z)
    lo, hi = coords.min(0), coords.max(0)
    grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 100), np.linspace(lo[1], hi[1], 100)), -1).reshape(-1, 2)
    surface = state.surface()
    results["on_data_grid_100_ms"] = median_ms(lambda: surface.latent(grid), repeats=15)
    rows.append((f"a click on each of the {len(names)} rated instruments' names re-encodes as it (what plays, "
                 "placed as a user's sound)",
                 f"the name {results['label_click_right_of_12']} ({results['label_click_audio_right_of_12']})",
                 f"a map click at its centroid: on the data {results['centroid_click_right_of_12']} "
                 f"({results['centroid_click_audio_right_of_12']}), plane {results['centroid_click_right_of_12_plane']} "
                 f"({results['centroid_click_audio_right_of_12_plane']})",
                 f"on-data mapping of a 100 x 100 grid {results['on_data_grid_100_ms']:.1f} ms"))


def _centroid_clicks(state, mode: str, names: list[str]) -> list[np.ndarray]:
    """What a plain map click at each instrument's centroid plays in ``mode``."""
    state.mode = mode
    return [state.latent_at(*state.to_view(state.space.centroids[n])) for n in names]


def bench_keys(results: dict, rows: list) -> None:
    """The keys after a click (issue 26, item 4), core-level on the bundled model. ``key_ready_ms``: from a click's
    request until the note nearest the Play pitch is ready (the click's own note, ``point_note``: the keys reuse
    its playable note), median over instruments' points. ``key_centroid_jump``: the notes made every 2 semitones
    over the model's pitch range (``key_pitches``), every key played through the engine as the Player picks its
    note, the largest spectral-centroid ratio - 1 between neighbouring keys; beside it the same keys from the five
    notes made before (C3 F#3 C4 F#4 C5, transposed up to 36 semitones) and the 2-semitone notes as the model
    decodes them, untilted (``key_notes`` tilts them). The centroid: of the magnitude spectrum, 0.3 s to 1 s of the held key."""
    from signals import pull, spectral_centroid_hz

    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.audio.player import NoteOff, NoteOn, Player
    from timbre_explorer.core.synthesis.gestures import point_note
    from timbre_explorer.core.synthesis.playable import key_notes, key_pitches, playable_note, playable_range
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    space = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
    names = ["Flute", "Trumpet", "Violin", "Clarinet", "Piano", "Oboe", "Cello"][:size(7, 2)]
    point_note(space, space.centroids["Flute"], pitch=60, dynamic="f", seconds=1.5)  # warm-up
    times = []
    for name in names:
        t0 = time.perf_counter()
        point_note(space, space.centroids[name], pitch=60, dynamic="f", seconds=1.5).playable  # noqa: B018
        times.append(time.perf_counter() - t0)
    results["key_ready_ms"] = 1e3 * statistics.median(times)

    low, high = size(playable_range(space), (56, 64))
    engine = AudioEngine(SR, open_stream=False)
    engine.available = True

    def largest_jump(notes) -> float:
        player = Player(engine)
        player.set_notes(notes, velocity=100)
        centroids = []
        for key in range(low, high + 1):
            player.handle(NoteOn(key, 100))
            centroids.append(spectral_centroid_hz(pull(engine, 1.0)[int(0.3 * SR):], SR))  # held, past its attack
            player.handle(NoteOff(key))
            pull(engine, 0.3)
        ratios = np.array(centroids[1:]) / np.array(centroids[:-1])
        return float(np.max(np.maximum(ratios, 1 / ratios)) - 1)

    jumps, before, untilted, made_s = [], [], [], []
    for name in names[:size(2, 1)]:
        z, pitches = space.centroids[name], key_pitches(60, low, high)
        t0 = time.perf_counter()
        notes = dict(zip(pitches, key_notes(space, z, pitches, play_pitch=60, dynamic="f")))
        made_s.append(time.perf_counter() - t0)
        jumps.append(largest_jump(list(notes.values())))
        plain = {p: playable_note(space, z, pitch=p, dynamic="f") if p != 60 else notes[p] for p in pitches}
        untilted.append(largest_jump(list(plain.values())))
        before.append(largest_jump([plain[p] if p in plain else playable_note(space, z, pitch=p, dynamic="f")
                                    for p in (48, 54, 60, 66, 72)]))
    results["key_centroid_jump"] = max(jumps)
    results["key_centroid_jump_five_notes"] = max(before)
    results["key_centroid_jump_untilted"] = max(untilted)
    results["key_notes_all_s"] = statistics.median(made_s)
    rows.append((f"keys after a click ({len(names)} instruments' points, at C4 f)",
                 f"the Play pitch's note ready {results['key_ready_ms']:.0f} ms",
                 f"all {len(key_pitches(60, low, high))} notes ({low}-{high}) in {results['key_notes_all_s']:.1f} s",
                 f"largest neighbouring-key centroid jump {100 * results['key_centroid_jump']:.1f} % "
                 f"(five notes: {100 * results['key_centroid_jump_five_notes']:.1f} %, the model's own every 2 "
                 f"semitones: {100 * results['key_centroid_jump_untilted']:.1f} %)"))


def _placed(space, audio: np.ndarray) -> np.ndarray:
    """Where ``audio`` lands on the map, placed as ``encode`` places a user's sound."""
    from timbre_explorer.core.signal.pitch import estimate_pitch
    from timbre_explorer.core.synthesis.morph import analyse_note

    note = analyse_note(space, audio)
    pitch = estimate_pitch(note.audio, space.sample_rate)
    return space.encode_note(note.features.log_magnitude, pitch=pitch, loudness=note.features.loudness)


def _spectral_centroid_hz(audio: np.ndarray, sr: int) -> float:
    """The power-weighted mean frequency of a held note from 0.1 s to 1 s (past the attack)."""
    a = audio[int(0.1 * sr):sr]
    power = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
    return float((power * np.fft.rfftfreq(len(a), 1 / sr)).sum() / power.sum())


def _band_db(audio: np.ndarray, sr: int, low: float, high: float) -> float:
    """The energy between ``low`` and ``high`` Hz from 0.1 s to 1 s, in dB of the whole."""
    a = audio[int(0.1 * sr):sr]
    power = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
    f = np.fft.rfftfreq(len(a), 1 / sr)
    return float(10 * np.log10(power[(f >= low) & (f < high)].sum() / power.sum() + 1e-30))


def bench_brightness(results: dict, rows: list) -> None:
    """Does a click at a rated instrument's centroid (MIDI 60 mf, the note a click plays) sound as bright as the
    instrument? Its spectral centroid against the median over the sample sets the model trained on of that
    instrument's real C4 mf notes (each set's median over its notes; rendered at the model's rate; the Philharmonia
    samples and WebAudioFont's banks when
    :func:`_trusted_sources` finds them, else the General MIDI SoundFonts alone, as the row says), the worst rated
    instrument's relative error (``centroid_brightness_error``, target <= 0.10), beside how far the sets' own notes
    disagree (``centroid_reference_spread``: the brightest set's centroid over the dullest's, minus one, for the
    instrument where it is widest); and the energy of the octave above
    8 kHz, in dB of the whole, against the real notes' (``high_band_error_db``, the worst instrument; target <= 3)."""
    from timbre_explorer.core.data.instruments import BY_NAME
    from timbre_explorer.core.data.sources import KNOWN_SOUNDFONTS, NoteSpec, entry_name, folder_entry_source
    from timbre_explorer.core.data.webaudiofont import rendered_source
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.synthesis.playable import playable_note
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    path = default_model_path()
    space = TimbreSpace.open(path, device=torch.device("cpu"))
    training = load_model(path).meta.get("training") or {}
    kept_out = {training.get("cross_test"), training.get("cross_valid")}
    trusted = _trusted_sources()  # None: the folders it trained on are not named here, so the SoundFonts alone
    sets = [n for n in (trusted or training.get("sources", ["FluidR3_GM"])) if entry_name(n) not in kept_out
            and (n in KNOWN_SOUNDFONTS or (trusted and n != entry_name(n)))]
    sr, top = space.sample_rate, min(16000.0, space.sample_rate / 2)
    names = [n for n in space.perceptual_instruments if n in space.centroids and n in BY_NAME][:size(None, 2)]
    errors, band_errors, spreads = {}, {}, {}
    for name in names:
        centroids, bands = [], []  # each sample set's median over its notes: one vote a set
        for entry in sets:
            folder = folder_entry_source(entry, (name,))
            if folder is not None:  # the recordings' C4 mf notes of the instrument (takes, lengths), if it has any
                notes = [n for n in folder.notes() if n.pitch == 60 and n.dynamic == "mf"]
                reals = [a for a in folder.render(notes, sr) if not isinstance(a, str)]
            else:
                spec = NoteSpec(name, "bench", 60, "mf", 80, BY_NAME[name].program)
                reals = [a for a in rendered_source(entry, (BY_NAME[name],)).render([spec], sr)
                         if not isinstance(a, str)]  # a bank's program tuned off is no real note
            if reals:
                centroids.append(float(np.median([_spectral_centroid_hz(a, sr) for a in reals])))
                bands.append(float(np.median([_band_db(a, sr, 8000, top) for a in reals])))
        spreads[name] = max(centroids) / min(centroids) - 1 if centroids else math.nan  # how far the sets disagree
        played = playable_note(space, space.centroids[name], pitch=60, dynamic="mf").held(1.2)
        errors[name] = _spectral_centroid_hz(played, sr) / float(np.median(centroids)) - 1
        band_errors[name] = _band_db(played, sr, 8000, top) - float(np.median(bands))
    worst = max(errors, key=lambda n: abs(errors[n]))
    results["centroid_brightness_error"] = abs(errors[worst])
    results["centroid_brightness_error_median"] = float(np.median(np.abs(list(errors.values()))))
    widest = max(spreads, key=spreads.get)
    results["centroid_reference_spread"] = spreads[widest]
    worst_band = max(band_errors, key=lambda n: abs(band_errors[n]))
    results["high_band_error_db"] = abs(band_errors[worst_band])
    rows.append((f"centroid clicks at MIDI 60 mf against the real notes of {', '.join(map(entry_name, sets))} at {sr} Hz",
                 f"spectral centroid worst {100 * errors[worst]:+.0f} % ({worst}), median |error| "
                 f"{100 * results['centroid_brightness_error_median']:.0f} %",
                 f"8-{top / 1000:.0f} kHz energy worst {band_errors[worst_band]:+.1f} dB ({worst_band})",
                 "per instrument: " + " ".join(f"{n} {100 * e:+.0f} %" for n, e in errors.items()),
                 f"the sets' own C4 mf notes differ by up to {100 * spreads[widest]:.0f} % ({widest}; brightest "
                 "over dullest set)"))


def bench_grid(results: dict, rows: list) -> None:
    """A 20 x 20 grid over the map's extent (the data's, in the default mode), each point played as a key at
    MIDI 60 mf (the note the Play tab renders): the share of points whose sustain has at least 90 % of its energy
    on the harmonics of 261.6 Hz, and the spread of their RMS levels (5th to 95th percentile)."""
    from timbre_explorer.core.signal.pitch import harmonic_share
    from timbre_explorer.core.synthesis.playable import midi_to_hz, playable_note
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.explorer.map_state import MapState
    from timbre_explorer.paths import default_model_path

    space = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
    state = MapState(space)
    coords = state.to_view(space.notes.z)
    lo, hi = np.percentile(coords, 1, axis=0), np.percentile(coords, 99, axis=0)
    side = size(20, 3)
    grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], side), np.linspace(lo[1], hi[1], side)), -1).reshape(-1, 2)
    z = state.surface().latent(grid)
    shares, levels = [], []
    for point in z:
        note = playable_note(space, point, pitch=60, dynamic="mf")
        body = note.samples[note.loop_start:note.loop_end]
        shares.append(harmonic_share(body, note.sample_rate, midi_to_hz(60)))
        levels.append(20 * np.log10(np.sqrt(np.mean(np.square(body, dtype=np.float64))) + 1e-12))
    results["grid_pitched_share"] = float(np.mean(np.array(shares) >= 0.9))
    results["grid_harmonic_share_median"] = float(np.median(shares))
    results["level_spread_db"] = float(np.percentile(levels, 95) - np.percentile(levels, 5))
    rows.append(("a 20 x 20 grid of the map played at MIDI 60 mf",
                 f"pitched (>= 90 % on the harmonics) {100 * results['grid_pitched_share']:.0f} %",
                 f"median share {results['grid_harmonic_share_median']:.2f}",
                 f"level spread {results['level_spread_db']:.1f} dB"))


def bench_map(results: dict, rows: list) -> None:
    """The Explorer's map with 10k, 100k and 300k notes (the bundled map's points repeated with a little jitter,
    its 18 instrument colours): one frame while panning (the view moved, then the whole widget painted, as the
    screen would get it, offscreen at 1200 x 800; the map draws its level-of-detail subset then), the same frame
    with every note drawn (as once the view settles, and as every pan frame was before the subset), showing all
    notes, colouring them otherwise (another "colour by") and hiding one instrument (the legend)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg

    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.views.map_view import MapView
    from timbre_explorer.paths import default_model_path

    app = make_app()
    space = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
    base = space.projection.forward(space.notes.z)[:, :2]
    brushes = [pg.mkBrush(pg.intColor(i, len(space.instruments))) for i in range(len(space.instruments))]
    rng = np.random.default_rng(0)
    for n in size((10_000, 100_000, 300_000), (300_000,)):
        pick = rng.integers(0, len(base), n)
        xy = base[pick] + rng.normal(scale=0.02 * base.std(0), size=(n, 2))
        view = MapView()
        view.resize(1200, 800)
        view.show()
        app.processEvents()
        t0 = time.perf_counter()
        view.set_points(xy, space.notes.instrument[pick], brushes)
        set_points_ms = 1e3 * (time.perf_counter() - t0)
        colourings = itertools.cycle([space.notes.instrument[pick] // 3, space.notes.instrument[pick]])  # and back
        recolour_ms = median_ms(lambda: view.set_points(xy, next(colourings), brushes), repeats=4)
        mask = space.notes.instrument[pick] != 0
        hide_ms = median_ms(lambda: view.set_visible(mask), repeats=5, warmup=1)
        view.set_visible(np.ones(n, bool))
        vb = view.plotItem.vb
        step = [0.01 * (view.viewRange()[0][1] - view.viewRange()[0][0]), 0.0]

        def frame(settle: bool):
            step[0] = -step[0]  # back and forth, so the view stays over the notes
            vb.translateBy(x=step[0], y=0.0)
            if settle:
                view.settle()
            view.grab()

        key, full_key = f"map_frame_{n // 1000}k_ms", f"map_frame_all_notes_{n // 1000}k_ms"
        results[full_key] = median_ms(lambda: frame(True), repeats=15, warmup=3)
        results[key] = median_ms(lambda: frame(False), repeats=15, warmup=3)
        results[f"map_set_points_{n // 1000}k_ms"] = set_points_ms
        results[f"map_hide_instrument_{n // 1000}k_ms"] = hide_ms
        results[f"map_recolour_{n // 1000}k_ms"] = recolour_ms
        rows.append((f"map with {n:,} notes", f"frame while panning {results[key]:.1f} ms",
                     f"with every note drawn {results[full_key]:.1f} ms",
                     f"hide an instrument {hide_ms:.1f} ms", f"first draw (set_points) {set_points_ms:.0f} ms",
                     f"recolour {recolour_ms:.0f} ms"))
        view.close()
        view.deleteLater()
        app.processEvents()


class _VirtualDisplay:
    """One Xvfb server for the launches of a run (None where Xvfb is not installed: Qt's offscreen platform then)."""

    server: subprocess.Popen | None = None

    def __call__(self) -> str | None:
        import os
        import shutil

        if shutil.which("Xvfb") is None:
            return None
        read, write = os.pipe()
        self.server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24",
                                        "-nolisten", "tcp"], pass_fds=(write,), stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()  # written once the server accepts clients
        return f":{number}" if number else None

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=10)
            self.server = None


_virtual_display = _VirtualDisplay()


def bench_launch(results: dict, rows: list) -> None:
    """From starting ``python -m timbre_explorer`` to the bundled model's map drawn (the app prints
    ``SMOKE READY`` then, with ``TIMBRE_EXPLORER_SMOKE=1``), on a virtual X display (Xvfb; Qt's offscreen platform
    where there is none), with a fresh settings folder; and to the sound of the click the app then makes on its
    map, 0.2 s later (``SMOKE OK``: the decoder loads after the map is drawn, so a first click may wait for it);
    medians of 5 launches after one (the first pays the disk cache)."""
    import os

    display = _virtual_display()

    def launch() -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, TIMBRE_EXPLORER_SMOKE="1", XDG_CONFIG_HOME=tmp, TIMBRE_EXPLORER_LOG_DIR=tmp)
            if display is None:
                env["QT_QPA_PLATFORM"] = "offscreen"
            else:  # a real X display, as users have (Qt's offscreen platform crashes at exit about once in five)
                env.pop("QT_QPA_PLATFORM", None)
                env["DISPLAY"] = display
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "timbre_explorer"], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            ready = heard = None
            for line in proc.stdout:
                if line.startswith("SMOKE READY") and ready is None:
                    ready = time.perf_counter() - t0
                if line.startswith("SMOKE OK") and heard is None:
                    heard = time.perf_counter() - t0
            proc.wait(timeout=60)
            if ready is None or heard is None or proc.returncode:
                raise RuntimeError(f"the app did not get ready (exit code {proc.returncode})")
            return ready, heard

    try:
        if not SMOKE:
            launch()
        times = [launch() for _ in range(size(5, 1))]
        results["launch_to_map_s"] = statistics.median(ready for ready, _ in times)
        results["launch_to_first_sound_s"] = statistics.median(heard for _, heard in times)
    finally:
        _virtual_display.stop()
    rows.append(("launch to the bundled model's map drawn", f"{results['launch_to_map_s']:.2f} s",
                 f"to the sound of a click 0.2 s after it {results['launch_to_first_sound_s']:.2f} s"))


def bench_pauses(results: dict, rows: list) -> None:
    """How long the app's other threads wait while it starts on the bundled model (``benchmarks/app_pauses.py``, in
    a fresh process, offscreen): the longest wait of a thread that wakes every 5 ms as the audio callback does, the
    longest cycle collection, then one full collection, and the GUI thread's longest wait on a click on the map;
    medians of 3 starts after one (the disk cache)."""
    import os

    def start() -> dict:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "app_pauses.py")], env=env,
                             capture_output=True, text=True, timeout=180)
        if run.returncode:
            raise RuntimeError(f"benchmarks/app_pauses.py failed: {run.stderr.strip().splitlines()[-1:]}")
        return json.loads(run.stdout.strip().splitlines()[-1])

    if not SMOKE:
        start()
    runs = [start() for _ in range(size(3, 1))]
    for name in runs[0]:
        results[name] = statistics.median(r[name] for r in runs)
    rows.append(("start-up: a thread waking every 5 ms (as the audio callback) waits at most",
                 f"{results['launch_thread_gap_ms']:.0f} ms",
                 f"longest cycle collection {results['gc_pause_ms']:.0f} ms, a full one after {results['gc_full_ms']:.1f} ms",
                 f"a click on the map: the GUI thread waits at most {results['click_gui_gap_ms']:.0f} ms (median of 12)"))


def bench_trainer(results: dict, rows: list) -> None:
    """One small training run (the tests' synthetic sample folder, hidden 256, 10 + 10 epochs and the baseline,
    evaluation included) through the CLI's path (the ``train`` generator in-process, as ``timbre-explorer train``
    runs it) and through the Trainer tab (offscreen: its Train button, its worker, until its finished signal).
    The dataset is built once first; both paths then reuse it. Medians of 3, alternating, after one warm-up each.
    Meanwhile a 10 ms timer on the GUI thread measures how long the window waits at most (train_gui_gap_ms; it was
    a test's assertion, but another job on the machine delays any thread: measured here, on an idle machine)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore
    from tiny import tiny_config, write_sample_folder

    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.training.loop import Trainer, export_models, train
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.trainer.status import RunState
    from timbre_explorer.gui.trainer.tab import TrainerTab

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = tiny_config(write_sample_folder(tmp / "samples"), hidden=256, epochs_stage1=size(10, 1),
                          epochs_stage2=size(10, 1), frames_per_note=size(32, 4))
        cache = tmp / "cache"
        dataset_for(cfg.dataset_recipe(), cache_root=cache, workers=size(2, 1))  # --smoke: one process starts sooner

        def cli(out: Path) -> float:
            t0 = time.perf_counter()
            ds = dataset_for(cfg.dataset_recipe(), cache_root=cache)
            started = time.perf_counter()
            t = Trainer(cfg, ds, out)
            for _ in train(t):
                pass
            export_models(t, seconds=time.perf_counter() - started)
            return time.perf_counter() - t0

        app = make_app()
        QtCore.QSettings.setDefaultFormat(QtCore.QSettings.Format.IniFormat)  # leave the user's settings alone
        QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, str(tmp))
        view = TrainerTab(cache_root=cache)
        view.resize(1400, 900)
        view.show()
        while view.state is not RunState.IDLE:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.01)
        view.form.set_config(cfg)
        loop = QtCore.QEventLoop()
        outcome: list = []
        view.run.run_finished.connect(lambda r: (outcome.append(r), loop.quit()))
        view.run.run_stopped.connect(lambda kind, text: (outcome.append(RuntimeError(text)), loop.quit()))

        ticks: list[float] = []
        timer = QtCore.QTimer(interval=10)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        gaps: list[float] = []

        def tab(out: Path) -> float:
            view.run.set_out(out)
            outcome.clear()
            ticks.clear()
            t0 = time.perf_counter()
            timer.start()
            view.run_panel.train_button.click()
            loop.exec()
            seconds = time.perf_counter() - t0
            timer.stop()
            gaps.extend(np.diff(ticks) * 1e3)
            if isinstance(outcome[0], Exception):
                raise outcome[0]
            return seconds

        if not SMOKE:
            cli(tmp / "warm-cli")
            tab(tmp / "warm-tab")
            gaps.clear()
        times = {"cli": [], "tab": []}
        for k in range(size(3, 1)):
            times["cli"].append(cli(tmp / f"cli{k}"))
            times["tab"].append(tab(tmp / f"tab{k}"))
        view.shutdown()
    results["train_cli_s"] = statistics.median(times["cli"])
    results["train_tab_s"] = statistics.median(times["tab"])
    results["train_tab_over_cli_x"] = results["train_tab_s"] / results["train_cli_s"]
    results["train_gui_gap_ms"] = float(np.max(gaps))
    results["train_gui_gap_p99_ms"] = float(np.percentile(gaps, 99))
    rows.append(("small training run (30 epochs, evaluation included)", f"CLI path {results['train_cli_s']:.2f} s",
                 f"Trainer tab {results['train_tab_s']:.2f} s", f"tab / CLI {results['train_tab_over_cli_x']:.2f}x"))
    rows.append(("the GUI thread while the tab trains (10 ms timer)",
                 f"longest wait {results['train_gui_gap_ms']:.0f} ms",
                 f"99th percentile {results['train_gui_gap_p99_ms']:.0f} ms"))


def bench_cross_source(results: dict, rows: list) -> None:
    """The bundled model on the sample set its training kept out (sf_GMbank; its rated instruments, every
    dynamic: the figures of its report), beside the log-spectrum and MFCC baselines on the same notes. The
    datasets come from the user's cache (built on first use)."""
    from timbre_explorer.core.training.crosssource import evaluate_cross_source, kept_out_source
    from timbre_explorer.paths import default_model_path

    if SMOKE:
        skip(rows, FIGURES["cross_source"], "the bundled model on the sample sets it never heard",
             "--smoke: it renders the bundled model's training sets and every known sample set (minutes)")
        return
    sources = _trusted_sources()
    if sources is None:
        skip(rows, FIGURES["cross_source"], "the bundled model on the sample sets it never heard",
             f"it trained on the Philharmonia samples and WebAudioFont's banks, which are not shipped: name their "
             f"folders in {PHILHARMONIA_ENV} and {WEBAUDIOFONT_ENV}")
        return
    source = kept_out_source(default_model_path()) or "MuseScore_General"
    started = time.perf_counter()
    r = evaluate_cross_source(default_model_path(), source, workers=2, sources=sources)
    seconds = time.perf_counter() - started
    results["cross_source_rho"] = r["latent"]["spearman_rho"]
    results["cross_source_nearest_share"] = r["latent"]["nearest_share"]
    results["cross_source_logspec_rho"] = r["logspec"]["spearman_rho"]
    results["cross_source_mfcc_rho"] = r["mfcc"]["spearman_rho"]
    rows.append((f"bundled model on {source}, never trained on ({r['latent']['notes']} notes; {seconds:.0f} s)",
                 f"rho {results['cross_source_rho']:.3f}", f"nearest {100 * results['cross_source_nearest_share']:.0f} %",
                 f"log-spectrum rho {results['cross_source_logspec_rho']:.3f}",
                 f"MFCC rho {results['cross_source_mfcc_rho']:.3f}"))
    # FreePats: the one known sample set that shares no recording with any other (shared_sample_instruments_*),
    # never rendered for the bundled model's training; when it is the kept-out set, the figures above are its own
    if source != "freepats":
        r = evaluate_cross_source(default_model_path(), "freepats", workers=2, sources=sources)
    for key, placement in (("rho", "latent"), ("logspec_rho", "logspec"), ("mfcc_rho", "mfcc")):
        results[f"cross_source_freepats_{key}"] = r[placement]["spearman_rho"]
    results["cross_source_freepats_nearest_share"] = r["latent"]["nearest_share"]
    if source != "freepats":
        rows.append((f"bundled model on freepats, never rendered for its training ({r['latent']['notes']} notes)",
                     f"rho {results['cross_source_freepats_rho']:.3f}",
                     f"nearest {100 * results['cross_source_freepats_nearest_share']:.0f} %",
                     f"log-spectrum rho {results['cross_source_freepats_logspec_rho']:.3f}",
                     f"MFCC rho {results['cross_source_freepats_mfcc_rho']:.3f}"))
    _philharmonia(results, rows)
    _tonejs(results, rows, sources)
    results.update(_shared_samples())
    results.update(_cross_source_bounds(default_model_path(), sources))
    rows.append(("a classifier fitted to tell the rated instruments apart (log-spectrum, MFCC, pitch; trained on "
                 "their training notes)", f"right on {100 * results['cross_source_classifier_share']:.0f} % of the "
                 f"kept-out notes, {100 * results['cross_source_freepats_classifier_share']:.0f} % of FreePats'",
                 "spectral shape against each training source, same note",
                 ", ".join(f"{k.removeprefix('source_shape_difference_db_')} {v:.1f} dB" for k, v in results.items()
                           if k.startswith("source_shape_difference_db_")), ""))
    rows.append(("rated instruments whose samples two sample sets share (shape within 2 dB)", "; ".join(
        f"{k.removeprefix('shared_sample_instruments_')}: {v}" for k, v in results.items()
        if k.startswith("shared_sample_instruments_") and v) or "none"))


PHILHARMONIA_ENV = "TIMBRE_EXPLORER_PHILHARMONIA"
WEBAUDIOFONT_ENV = "TIMBRE_EXPLORER_WEBAUDIOFONT"  # WebAudioFont's sound/ folder (its repository webaudiofontdata)


def _trusted_sources() -> tuple[str, ...] | None:
    """The bundled model's sample sets as its card names them, its Philharmonia entry pointed at
    :data:`PHILHARMONIA_ENV`'s folder and its WebAudioFont banks at :data:`WEBAUDIOFONT_ENV`'s (a card's paths
    outside its folder are not used unless given); None when it trained on either and no folder is named; an empty
    tuple for the card's own."""
    from timbre_explorer.core.data.sources import philharmonia_folder, webaudiofont_entry
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.paths import default_model_path

    named = tuple((load_model(default_model_path()).meta.get("training") or {}).get("sources") or ())
    if not any(philharmonia_folder(s) is not None or webaudiofont_entry(s) is not None for s in named):
        return ()
    out = []
    for s in named:
        bank = webaudiofont_entry(s)
        env = PHILHARMONIA_ENV if philharmonia_folder(s) is not None else WEBAUDIOFONT_ENV if bank else None
        if env is not None and not (folder := os.environ.get(env)):
            return None
        out.append(f"philharmonia={folder}" if env == PHILHARMONIA_ENV else
                   f"webaudiofont:{bank[0]}={folder}" if bank else s)
    return tuple(out)


#: The report of the bundled model's recipe run with the Philharmonia samples kept out (as validation notes), beside
#: the model that then trained on them.
PHILHARMONIA_FOLD = "philharmonia_fold.json"


def _philharmonia(results: dict, rows: list) -> None:
    """``philharmonia_nearest_share`` and ``philharmonia_rho`` (with ``philharmonia_logspec_rho``,
    ``philharmonia_mfcc_rho``): the bundled model on all notes of the Philharmonia samples' rated instruments, where
    :data:`PHILHARMONIA_ENV` names their folder; they may not be redistributed, so without it the group says so
    and goes on."""
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.training.crosssource import evaluate_cross_source
    from timbre_explorer.paths import default_model_path, models_dir

    fold = models_dir() / "default" / PHILHARMONIA_FOLD
    if "Philharmonia" in (load_model(default_model_path()).meta.get("sources") or []) and fold.is_file():
        # the bundled model trained on them: its recipe's run with them kept out (cross_valid) gives the figures
        r = json.loads(fold.read_text(encoding="utf-8"))["cross_valid"]
        what = f"the Philharmonia samples, kept out of a run of the bundled model's recipe ({fold.name}"
    else:
        folder = os.environ.get(PHILHARMONIA_ENV)
        if not folder:
            skip(rows, ("philharmonia_nearest_share", "philharmonia_rho"), "bundled model on the Philharmonia samples",
                 f"{PHILHARMONIA_ENV} does not name their folder (they are not shipped; see docs/research.md's "
                 "Philharmonia section)")
            return
        started = time.perf_counter()
        r = evaluate_cross_source(default_model_path(), f"philharmonia={folder}", workers=2)
        what = (f"bundled model on the Philharmonia samples, real recordings it never heard "
                f"({time.perf_counter() - started:.0f} s")
    results["philharmonia_nearest_share"] = r["latent"]["nearest_share"]
    results["philharmonia_rho"] = r["latent"]["spearman_rho"]
    results["philharmonia_logspec_rho"] = r["logspec"]["spearman_rho"]
    results["philharmonia_mfcc_rho"] = r["mfcc"]["spearman_rho"]
    rows.append((f"{what}; {r['latent']['notes']} notes)", f"rho {results['philharmonia_rho']:.3f}",
                 f"nearest {100 * results['philharmonia_nearest_share']:.0f} %",
                 f"log-spectrum rho {results['philharmonia_logspec_rho']:.3f}",
                 f"MFCC rho {results['philharmonia_mfcc_rho']:.3f}"))


TONEJS_ENV = "TIMBRE_EXPLORER_TONEJS"  # a folder `timbre-explorer dataset fetch tonejs-instruments` wrote


def _tonejs(results: dict, rows: list, sources: tuple[str, ...]) -> None:
    """``tonejs_nearest_share`` and ``tonejs_rho`` (with ``tonejs_logspec_rho``, ``tonejs_mfcc_rho``): the bundled
    model on tonejs-instruments' notes of the rated instruments (real recordings, mostly the Versilian Studios
    Chamber Orchestra 2, trumpet, violin and piano among them), where :data:`TONEJS_ENV` names the folder
    ``dataset fetch`` wrote; not shipped, so without it the group says so and goes on."""
    from timbre_explorer.core.training.crosssource import evaluate_cross_source
    from timbre_explorer.paths import default_model_path

    folder = os.environ.get(TONEJS_ENV)
    if not folder:
        skip(rows, ("tonejs_nearest_share", "tonejs_rho"), "bundled model on tonejs-instruments' real recordings",
             f"{TONEJS_ENV} does not name their folder (timbre-explorer dataset fetch tonejs-instruments DIR)")
        return
    r = evaluate_cross_source(default_model_path(), f"folder={folder}", workers=2, sources=sources)
    for key, placement in (("rho", "latent"), ("logspec_rho", "logspec"), ("mfcc_rho", "mfcc")):
        results[f"tonejs_{key}"] = r[placement]["spearman_rho"]
    results["tonejs_nearest_share"] = r["latent"]["nearest_share"]
    rows.append((f"bundled model on tonejs-instruments, real recordings it never heard ({r['latent']['notes']} notes "
                 f"of {len(r['latent']['instruments'])} rated instruments)", f"rho {results['tonejs_rho']:.3f}",
                 f"nearest {100 * results['tonejs_nearest_share']:.0f} %",
                 f"log-spectrum rho {results['tonejs_logspec_rho']:.3f}", f"MFCC rho {results['tonejs_mfcc_rho']:.3f}"))


def _cross_source_bounds(model_path, sources: tuple[str, ...] = ()) -> dict:
    """What the training sources can say about a sample set they do not hold.

    ``cross_source_classifier_share`` (the kept-out source) and ``cross_source_freepats_classifier_share``:
    :func:`_rated_classifier` on their rated notes, fitted on the model's training notes of those instruments (not a
    placement: what a model fitted for the nearest-instrument task reaches). ``sources``: the card's sample sets
    pointed at this machine's copies (:func:`_trusted_sources`), or () for the card's own.
    ``source_shape_difference_db_<source>``: the RMS over bands and notes of the difference in spectral shape
    (pooled log-spectrum less its mean, in dB) between the kept-out source's note and a training source's note
    of the same instrument, pitch and dynamic."""
    from timbre_explorer.core.data.dataset import CROSS_TEST, leave_source_out
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.training.config import RATED
    from timbre_explorer.core.training.crosssource import NoteSet, held_notes
    from timbre_explorer.core.training.modelcard import training_config

    cfg = training_config(model_path, load_model(model_path), sources=sources or None, own_run=True)
    ds = dataset_for(cfg.dataset_recipe(), workers=2)
    leave_source_out(ds, cfg.cross_test, cfg.cross_valid)
    held = ds.where(CROSS_TEST)
    held = NoteSet(ds, held[np.isin(ds.notes.instrument_name[held], list(RATED))])
    train = ds.where("train")
    fitted = _rated_classifier(NoteSet(ds, train[np.isin(ds.notes.instrument_name[train], list(RATED))]))
    out = {"cross_source_classifier_share": _classified_share(fitted, held)}
    out["cross_source_freepats_classifier_share"] = (
        out["cross_source_classifier_share"] if cfg.cross_test == "freepats"
        else _classified_share(fitted, held_notes(cfg, ds, "freepats", workers=2)))
    notes = ds.notes
    shape = {}
    for i in range(len(ds)):
        if notes.source_name[i] in (cfg.cross_test, *cfg.sources):
            f = np.asarray(ds.log_magnitude[ds.sounding_rows(i)], np.float64).mean(0)
            shape[(notes.source_name[i], notes.instrument_name[i], notes.pitch[i], notes.dynamic_name[i])] = f - f.mean()
    for source in (s for s in notes.sources if s != cfg.cross_test):
        diffs = [shape[k] - shape[(source, *k[1:])] for k in shape if k[0] == cfg.cross_test and (source, *k[1:]) in shape]
        if diffs:
            out[f"source_shape_difference_db_{source}"] = float(20 / np.log(10) * np.sqrt(np.mean(np.square(diffs))))
    return out


def _rated_classifier(train):
    """A logistic regression on each note's pooled log-spectrum, MFCCs and pitch, fitted on the ``train`` notes (a
    NoteSet of the rated instruments: the held notes are theirs, and 12 classes fit in seconds where the 113 of
    every program took over 20 minutes). Returns what names the instrument of notes given as their sounding
    log-magnitude frames and pitches."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from timbre_explorer.core.training.crosssource import mfcc_features, pooled

    mfcc = mfcc_features(train.ds)

    def features(frames: list[np.ndarray], pitches: list[float]) -> np.ndarray:
        return np.hstack([pooled(frames, lambda f: f), pooled(frames, mfcc), np.array(pitches)[:, None]])

    fit = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    fit.fit(features(train.sounding_frames(), train.pitches), train.instruments)
    return lambda frames, pitches: fit.predict(features(frames, pitches))


def _classified_share(predict, held) -> float:
    """The share of a NoteSet's notes :func:`_rated_classifier`'s ``predict`` puts in their own instrument."""
    return float(np.mean(predict(held.sounding_frames(), held.pitches) == held.instruments))


def bench_classified(results: dict, rows: list) -> None:
    """Are the name clicks heard as their instruments by a judge that is not our encoder?
    ``label_click_classified_right_of_12``: the 12 rated names' clicks (each name's point, MIDI 60 mf, held 1 s,
    analysed as a dataset note at the model's rate) that :func:`_rated_classifier`, fitted on the real training
    notes of the 12 rated instruments the model trained on (its own recipe rendered at its rate, the test set
    kept out), puts in their own instrument. The labels group's audio figure asks the model's own encoder."""
    import dataclasses

    from timbre_explorer.core.data.dataset import CROSS_TEST, analyse, leave_source_out, sounding
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.synthesis.landmarks import name_point
    from timbre_explorer.core.synthesis.playable import playable_note
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.core.training.config import RATED
    from timbre_explorer.core.training.crosssource import NoteSet
    from timbre_explorer.core.training.modelcard import training_config
    from timbre_explorer.paths import default_model_path

    what = "the 12 names' clicks put in their instrument by a classifier of the real notes"
    if SMOKE:
        skip(rows, FIGURES["classified"], what, "it fits a classifier on the bundled model's whole dataset (minutes)")
        return
    trusted = _trusted_sources()
    if trusted is None:
        skip(rows, FIGURES["classified"], what, f"{PHILHARMONIA_ENV} does not name the folder the model trained on")
        return
    path = default_model_path()
    mf = load_model(path, card=True)
    cfg = dataclasses.replace(training_config(path, mf, sources=trusted or None, own_run=True), preset=mf.meta["preset"])
    started = time.perf_counter()
    ds = dataset_for(cfg.dataset_recipe(), workers=2)
    leave_source_out(ds, cfg.cross_test, cfg.cross_valid)
    train = ds.where("train")
    train = NoteSet(ds, train[np.isin(ds.notes.instrument_name[train], list(RATED))])
    predict = _rated_classifier(train)
    space = TimbreSpace.open(path, device=torch.device("cpu"))
    names = [n for n in space.perceptual_instruments if n in space.centroids]
    frames = []
    for name in names:
        audio = playable_note(space, name_point(space, name, pitch=60, dynamic="mf"), pitch=60, dynamic="mf").held(1.0)
        note = analyse(audio.astype(np.float32), preset=ds.preset, sustain_s=ds.manifest["seconds"])
        frames.append(np.asarray(note.log_magnitude[sounding(note.loudness)], np.float32))
    heard = predict(frames, [60.0] * len(names))
    results["label_click_classified_right_of_12"] = int(sum(h == n for h, n in zip(heard, names)))
    held = ds.where(CROSS_TEST)
    held = NoteSet(ds, held[np.isin(ds.notes.instrument_name[held], list(RATED))])
    results["classifier_held_out_share"] = _classified_share(predict, held) if len(held.notes) else math.nan
    rows.append((f"{what} ({len(train.notes)} training notes of {', '.join(ds.sources)} at {space.sample_rate} Hz; "
                 f"{time.perf_counter() - started:.0f} s)",
                 f"{results['label_click_classified_right_of_12']} of {len(names)}",
                 "heard otherwise: " + (", ".join(f"{n} as {h}" for n, h in zip(names, heard) if h != n) or "none"),
                 f"the same classifier on {cfg.cross_test}'s notes: {100 * results['classifier_held_out_share']:.0f} %"))


SHARED_SAMPLES_DB = 2.0


def _shared_samples() -> dict:
    """``shared_sample_instruments_<a>_<b>``: for every two known sample sets, how many rated instruments play the
    same recordings in both: their notes' spectral shapes (as in ``source_shape_difference_db_*``) differ by under
    SHARED_SAMPLES_DB, median over the instrument's notes (different recordings differ by 6 dB or more)."""
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.data.sources import KNOWN_SOUNDFONTS
    from timbre_explorer.core.training.config import RATED, TrainConfig

    cfg = TrainConfig(sources=tuple(KNOWN_SOUNDFONTS), cross_test=None, instruments=tuple(RATED))
    ds = dataset_for(cfg.dataset_recipe(), workers=2)
    notes, shape = ds.notes, {}
    for i in range(len(ds)):
        f = np.asarray(ds.log_magnitude[ds.sounding_rows(i)], np.float64).mean(0)
        shape[(notes.source_name[i], notes.instrument_name[i], notes.pitch[i], notes.dynamic_name[i])] = f - f.mean()
    names, out = list(notes.sources), {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = 0
            for name in RATED:
                d = [np.sqrt(np.mean(np.square(shape[k] - shape[(b, *k[1:])]))) for k in shape
                     if k[0] == a and k[1] == name and (b, *k[1:]) in shape]
                shared += bool(d) and 20 / np.log(10) * float(np.median(d)) < SHARED_SAMPLES_DB
            out[f"shared_sample_instruments_{a}_{b}"] = int(shared)
    return out


def bench_play(results: dict, rows: list) -> None:
    """Playing from keys: with 8 voices already sounding (the app's engine, no stream), the time from
    ``Player.handle(NoteOn)`` to the end of the first callback whose output holds the new voice, the callback
    called at once (CPU time; a stream adds up to one block period, reported beside, plus the device's latency)."""
    from signals import playable_tone

    from timbre_explorer.audio.engine import HELD, AudioEngine
    from timbre_explorer.audio.player import NoteOff, NoteOn, Player

    engine = AudioEngine(SR, open_stream=False)
    engine.available = True
    player = Player(engine)
    player.set_notes([playable_tone(f) for f in (130.81, 261.63, 523.25)])
    block = np.zeros((engine.blocksize, 2), np.float32)
    for k in range(8):
        player.handle(NoteOn(48 + 2 * k, 100))
    for _ in range(20):
        engine.callback(block, engine.blocksize, None, None)
    times = []
    for i in range(53):  # 3 warm-up presses, then 50
        pitch = 72 + i % 12
        t0 = time.perf_counter()
        player.handle(NoteOn(pitch, 100))
        engine.callback(block, engine.blocksize, None, None)
        times.append(time.perf_counter() - t0)
        new = [v for v in engine._slots if v.state == HELD and v.pitch == pitch]
        assert len(new) == 1 and new[0].pos > 0 and engine.voices_sounding == 9  # the first block sounded it
        player.handle(NoteOff(pitch))
        while engine.voices_sounding > 8:  # its release, so every press finds 8 voices sounding
            engine.callback(block, engine.blocksize, None, None)
    results["key_to_sound_ms"] = 1e3 * statistics.median(times[3:])
    results["block_period_ms"] = 1e3 * engine.blocksize / engine.stream_rate
    for k in range(8):  # all 16 voices: the callback's share of the block period at full polyphony
        player.handle(NoteOn(72 + 2 * k, 100))
    results["callback_16_voices_ms"] = median_ms(lambda: engine.callback(block, engine.blocksize, None, None),
                                                 repeats=200, warmup=5)
    rows.append(("key to its first block with 8 voices sounding", f"{results['key_to_sound_ms']:.2f} ms CPU",
                 f"block period {results['block_period_ms']:.1f} ms ({engine.blocksize} frames)",
                 f"one block of 16 voices {results['callback_16_voices_ms']:.2f} ms"))


def bench_peer(results: dict, rows: list) -> None:
    """The bundled model on the peer suite: 21 published timbre-dissimilarity studies (Tian et al., ISMIR 2025,
    arXiv 2507.07764), read from the folder ``TIMBRE_EXPLORER_PEER_SUITE`` names (their repository's
    ``timbremetrics/`` folder; its audio is never shipped). Row-wise Spearman of the model's ``z`` as ``encode``
    places a sound (``peer_suite_score``), of the log-spectrum and of the paper's MFCC (0.442 in the paper;
    time-averaged 0.383), overall and per study. A test: never select a setting on it."""
    import os

    from timbre_explorer.core.synthesis.peersuite import SUITE_ENV, score_space
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    folder = os.environ.get(SUITE_ENV)
    if not folder:
        skip(rows, FIGURES["peer"], "peer suite", f"{SUITE_ENV} does not name a folder (the timbremetrics "
                                                   "repository's timbremetrics/ folder, with sounds/ and true_dissim/)")
        return
    started = time.perf_counter()
    r = score_space(TimbreSpace.open(default_model_path(), device=torch.device("cpu")), folder)
    seconds = time.perf_counter() - started
    keys = {"z": "", "logspec": "_logspec", "mfcc": "_mfcc", "mfcc_mean": "_mfcc_mean"}
    for placement, key in keys.items():
        results[f"peer_suite{key}_score"] = r.overall[placement]
        for s in r.studies:
            results[f"peer_suite{key}_score_{s.study}"] = s.scores[placement]
    won = r.beaten("z", "logspec")
    results["peer_suite_studies_z_above_logspec"] = len(won)
    rows.append((f"bundled model on the peer suite ({len(r.studies)} studies, "
                 f"{sum(s.stimuli for s in r.studies)} stimuli; {seconds:.0f} s), row-wise Spearman",
                 f"peer_suite_score {r.overall['z']:.3f}", f"log-spectrum {r.overall['logspec']:.3f}",
                 f"MFCC {r.overall['mfcc']:.3f} (time-averaged {r.overall['mfcc_mean']:.3f})",
                 f"z above the log-spectrum on {len(won)} of {len(r.studies)} studies"))
    for s in r.studies:
        rows.append((f"  {s.study} ({s.stimuli})", *(f"{p} {s.scores[p]:.3f}" for p in keys)))


GROUPS = {"nsgt": bench_nsgt, "phase": bench_phase, "dataset": bench_dataset, "model": bench_model,
          "train": bench_train, "train_default": bench_train_default, "explorer": bench_explorer,
          "labels": bench_labels, "keys": bench_keys, "brightness": bench_brightness,
          "classified": bench_classified, "grid": bench_grid, "map": bench_map,
          "launch": bench_launch, "pauses": bench_pauses, "trainer": bench_trainer, "cross_source": bench_cross_source, "play": bench_play,
          "peer": bench_peer}
DEFAULT_GROUPS = ("nsgt", "phase", "dataset", "model", "train", "explorer", "labels", "keys", "brightness",
                  "classified", "grid",
                  "map", "launch", "pauses", "trainer", "cross_source", "play", "peer")
#: The figures the issues and the README name, by group: a --smoke run fails if one is missing (and not skipped
#: with its reason) or not finite. Every other figure a group writes must be finite too.
FIGURES = {
    "nsgt": ("nsgt_speedup_x",),
    "phase": ("phase_1s_ms", "phase_1s_sc_db", "phase_1s_period_1s_sc_db", "path_30s_s", "path_30s_peak_gb",
              "path_600s_peak_gb"),
    "dataset": ("dataset_build_s", "dataset_notes_per_s"),
    "model": ("decode_frames_per_s_b4096", "encode_frames_per_s_b4096", "model_load_ms"),
    "train": ("train_epoch_stage1_s", "train_epoch_regularized_s"),
    "train_default": ("train_default_s", "train_default_shipped_s"),
    "explorer": ("click_to_sound_ms", "click_to_sound_while_training_ms", "descriptor_field_100_ms",
                 "reach_gradient_max_error_pct"),
    "labels": ("label_click_right_of_12", "label_click_audio_right_of_12", "on_data_grid_100_ms"),
    "keys": ("key_ready_ms", "key_centroid_jump"),
    "brightness": ("centroid_brightness_error", "high_band_error_db"),
    "classified": ("label_click_classified_right_of_12",),
    "grid": ("grid_pitched_share", "level_spread_db"),
    "map": ("map_frame_300k_ms", "map_frame_all_notes_300k_ms", "map_recolour_300k_ms"),
    "launch": ("launch_to_map_s", "launch_to_first_sound_s"),
    "pauses": ("launch_thread_gap_ms", "gc_pause_ms", "gc_full_ms", "click_gui_gap_ms"),
    "trainer": ("train_tab_over_cli_x", "train_gui_gap_ms"),
    "cross_source": ("cross_source_rho", "cross_source_nearest_share", "cross_source_logspec_rho",
                     "cross_source_mfcc_rho", "cross_source_freepats_rho", "cross_source_classifier_share",
                     "cross_source_freepats_classifier_share"),
    "play": ("key_to_sound_ms", "block_period_ms"),
    "peer": ("peer_suite_score", "peer_suite_logspec_score", "peer_suite_mfcc_score"),
}


def smoke_faults(groups, results: dict) -> list[str]:
    """What a --smoke run of ``groups`` lacks: named figures neither produced nor skipped, and figures not finite."""
    unnamed = [f"group {g}: names no figure in FIGURES" for g in groups if not FIGURES.get(g)]
    missing = [f"{f}: missing" for g in groups for f in FIGURES.get(g, ()) if f not in results and f not in SKIPPED]
    return unnamed + missing + [f"{k} = {v}: not finite" for k, v in results.items() if not math.isfinite(v)]


def main() -> int:  # noqa: C901
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="measure only these groups")
    parser.add_argument("--smoke", action="store_true", help="every group at its smallest sizes: check only that "
                        "each named figure is produced and finite (its numbers are not measurements)")
    args = parser.parse_args()
    if args.smoke and args.json:
        parser.error("--smoke figures are not measurements: do not write them with --json")
    global SMOKE
    SMOKE = args.smoke
    tune_allocator()
    torch.set_num_threads(min(2, torch.get_num_threads()))  # the machines the targets are set for have 2 cores
    results: dict[str, float] = {}
    rows = {name: [] for name in GROUPS}
    started = time.perf_counter()
    groups = args.only or DEFAULT_GROUPS
    for name in groups:
        t0 = time.perf_counter()
        GROUPS[name](results, rows[name])
        if SMOKE:
            print(f"{name}: {time.perf_counter() - t0:.1f} s", flush=True)
    if SMOKE:
        results = {k: float(v) for k, v in results.items()}
        faults = smoke_faults(groups, results)
        named = [f for g in groups for f in FIGURES.get(g, ())]
        print(f"smoke run: {len(groups)} groups in {time.perf_counter() - started:.0f} s, {len(results)} figures, "
              f"{sum(f in results for f in named)} of {len(named)} named figures produced")
        for reason in dict.fromkeys(SKIPPED.values()):
            print(f"  skipped ({reason}): {', '.join(f for f, r in SKIPPED.items() if r == reason)}")
        for fault in faults:
            print(f"  FAULT {fault}")
        return 1 if faults else 0

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CUDA: {torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}")
    if rows["nsgt"]:
        print("\nNSGT, 1 s at 22,050 Hz, float32, ms per signal (medians)")
        print(f"{'transform':36} {'batch':>5} {'forward':>9} {'backward':>9} {'speedup':>8}")
        for r in rows["nsgt"]:
            print(f"{r[0]:36} {r[1]:>5} {r[2]:>9} {r[3]:>9} {r[4]:>8}")
        print(f"nsgt_speedup_x = {results['nsgt_speedup_x']:.1f} (target >= 10)")
    if rows["phase"]:
        print("\nPhase reconstruction of a 1 s sustained frame (NSGT-ERB)")
        print(f"{'method':36} {'':>5} {'ms':>9} {'SC':>9}")
        for r in rows["phase"]:
            print(f"{r[0]:36} {r[1]:>5} {r[2]:>9} {r[3]:>9}")
        print(f"phase_1s_ms = {results['phase_1s_ms']:.1f} (target <= 15) at "
              f"{results['phase_1s_sc_db']:.1f} dB (target <= -35)")
    for name in ("dataset", "model", "train", "train_default", "explorer", "labels", "brightness", "classified", "grid", "map",
                 "launch", "trainer", "cross_source", "play", "peer"):
        for r in rows[name]:
            print(f"{r[0]}: {', '.join(r[1:])}")
    if "dataset_build_s" in results:
        print(f"dataset_build_s = {results['dataset_build_s']:.1f} (target <= 120)")
    if "click_to_sound_ms" in results:
        print(f"click_to_sound_ms = {results['click_to_sound_ms']:.1f} (target <= 30), "
              f"descriptor_field_100_ms = {results['descriptor_field_100_ms']:.0f} (target <= 150)")
    if "key_to_sound_ms" in results:
        print(f"key_to_sound_ms = {results['key_to_sound_ms']:.2f} (target <= 15; CPU time, a stream adds up to "
              f"block_period_ms = {results['block_period_ms']:.1f})")
    if "label_click_right_of_12" in results:
        print(f"label_click_right_of_12 = {results['label_click_right_of_12']} (target >= 11; a map click at the "
              f"centroid {results['centroid_click_right_of_12']}), on_data_grid_100_ms = "
              f"{results['on_data_grid_100_ms']:.1f} (target well under 100)")
    if "map_frame_300k_ms" in results:
        print(f"map_frame_300k_ms = {results['map_frame_300k_ms']:.1f} (target <= 33; every note drawn: "
              f"{results['map_frame_all_notes_300k_ms']:.1f})")
    if "train_tab_over_cli_x" in results:
        print(f"train_tab_over_cli_x = {results['train_tab_over_cli_x']:.2f} (target <= 1.10), "
              f"train_gui_gap_ms = {results['train_gui_gap_ms']:.0f} (target < 100; measured 30-45 on 2 idle cores)")
    if args.json:
        args.json.write_text(json.dumps({k: round(v, 4) for k, v in results.items()}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
