"""A tiny timbre space trained by our own pipeline on synthetic notes, for tests that need a real model file.

Five "instruments" differ by brightness (how fast the partials roll off); four
of them have perceptual ratings, Piccolo is held out as the novel instrument.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from timbre_explorer.core.data.instruments import family_of, pitch_name
from timbre_explorer.core.signal.audio_io import save_wav

SR = 22050
# A map of tight clusters (latent centres, one per instrument): apart on the first two latent axes, different on
# the other two (what a map of the first two hides); see clustered_model.
CLUSTERS = {"Clarinet": (2.0, 0.0, 0.8, -0.5), "Oboe": (0.0, 2.0, -0.8, 0.5), "Flute": (-2.0, 0.0, 0.8, 0.6),
            "Piccolo": (0.0, -2.0, -0.6, -0.8), "Trumpet": (-1.4, -1.4, 0.0, 0.9)}
CLUSTER_SPREAD = 0.05
# brightness (partial roll-off) per instrument: a timbre the model can tell apart
BRIGHTNESS = {"Flute": 0.2, "Oboe": 0.6, "Clarinet": 0.45, "Trumpet": 0.85, "Piccolo": 0.25}


def synthetic_note(pitch: int, bright: float, level: float, seconds: float = 0.6) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440 * 2 ** ((pitch - 69) / 12)
    x = sum(bright ** (k - 1) * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 12) if k * f0 < 8000)
    return (level * np.minimum(t / 0.02, 1) * x / np.abs(x).max()).astype(np.float32)


def write_sample_folder(root: Path, *, brighter: float = 0.0) -> Path:
    """Subfolder-labelled WAVs: 5 instruments x 12 pitches x 2 dynamics (``brighter``: another sample set of the
    same instruments, each partial roll-off raised by this much)."""
    for name, bright in BRIGHTNESS.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for pitch in range(60, 72):
            for dyn, level in (("pp", 0.1), ("ff", 0.5)):
                save_wav(root / name / f"{pitch_name(pitch)}_{dyn}.wav",
                         synthetic_note(pitch, bright + brighter, level), SR)
    return root


def tiny_config(folder: Path, **kw):
    from timbre_explorer.core.training.config import TrainConfig

    # the paper's 22.05 kHz transform: the tests' model is also the older model file that must still open and play
    # at its own rate (tests/test_full_band.py trains one at the full-band default)
    settings = dict(source="folder", folder=str(folder), preset="nsgt-erb", hold_out=["Piccolo"], hidden=32, layers=2,
                    latent=4, epochs_stage1=2, epochs_stage2=2, frames_per_note=4, batch_size=32, warmup_epochs=2,
                    alpha=20.0, mds_dims=3, compare_unconditioned=False)
    settings.update(kw)
    return TrainConfig(**settings)


def train_tiny_model(root: Path, **kw) -> Path:
    """Build the dataset, train (a few epochs, no baseline) and export: the model file's path."""
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.training.loop import Trainer, export_models, train

    settings = dict(baseline=False, epochs_stage1=8, epochs_stage2=4, hidden=64, lr=3e-3, beta=0.2, frames_per_note=16)
    cfg = tiny_config(write_sample_folder(root / "samples"), **{**settings, **kw})
    ds = dataset_for(cfg.dataset_recipe(), cache_root=root / "cache", workers=1)
    t = Trainer(cfg, ds, root / "run")
    for _ in train(t):
        pass
    return export_models(t)["regularized"]


def clustered_model(model: Path, out: Path) -> Path:
    """A copy of the tiny ``model`` whose map notes lie in tight clusters (:data:`CLUSTERS`, each note its
    instrument's centre plus noise of :data:`CLUSTER_SPREAD`): where the notes are is known, so what a map
    position maps to can be checked against it. The decoder and everything else are the tiny model's."""
    import shutil

    import torch

    shutil.copy(model, out)
    names: list[str] = []

    def clusters(tensors):
        centres = torch.tensor([CLUSTERS[n] for n in names])
        noise = torch.from_numpy(np.random.default_rng(0).normal(0, CLUSTER_SPREAD, tuple(tensors["map.z"].shape)))
        tensors["map.z"] = (centres[tensors["map.instrument"].long()] + noise).float().contiguous()

    rewrite_model(out, doc=lambda d: names.extend(d["instruments"]), tensors=clusters)
    return out


def many_instruments_model(model: Path, out: Path, count: int = 24) -> Path:
    """A copy of the tiny ``model`` whose map holds ``count`` instruments: its own five (four rated), then General
    MIDI programs beyond them, with their families; the notes are dealt to them in turn (each keeps its latent
    point). What a map of every General MIDI program shows, without training one."""
    import shutil

    import torch

    from timbre_explorer.core.data.instruments import GENERAL_MIDI

    shutil.copy(model, out)
    names: list[str] = []
    novel: list[int] = []

    def widen(d):
        novel.append(d["splits"].index("novel"))
        names.extend(d["instruments"])
        names.extend([i.name for i in GENERAL_MIDI if i.name not in names][:count - len(names)])
        d["instruments"], d["families"] = list(names), [family_of(n) for n in names]

    def deal(tensors):
        n = tensors["map.instrument"].shape[0]
        tensors["map.instrument"] = (torch.arange(n) % count).to(torch.int64)
        piccolo = tensors["map.instrument"] == names.index("Piccolo")  # stays the novel one; the rest trained
        tensors["map.split"] = torch.where(piccolo, novel[0], 0).to(torch.int64)

    rewrite_model(out, doc=widen, tensors=deal)
    return out


def train_two_source_model(root: Path) -> Path:
    """A tiny model trained on two sample sets (folders ``setA`` and ``setB``, the second a little brighter):
    every note of its map records which one it came from."""
    from timbre_explorer.core.data.dataset import build_dataset
    from timbre_explorer.core.data.sources import FolderSource
    from timbre_explorer.core.training.loop import Trainer, export_models, train

    folders = (write_sample_folder(root / "setA"), write_sample_folder(root / "setB", brighter=0.1))
    ds = build_dataset(tuple(FolderSource(str(f)) for f in folders), preset="nsgt-erb", hold_out=("Piccolo",),
                       cache_root=root / "cache", workers=1)
    cfg = tiny_config(folders[0], baseline=False, epochs_stage1=4, epochs_stage2=2, hidden=64, lr=3e-3, beta=0.2)
    t = Trainer(cfg, ds, root / "run")
    for _ in train(t):
        pass
    return export_models(t)["regularized"]


@contextlib.contextmanager
def folder_locked_by_another_process(run: Path) -> Iterator[int]:
    """A second process holds the run folder's lock (through the core's own function) while the block runs;
    its process id. It ends, and must end cleanly, when the block is left."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\n"
         "from timbre_explorer.core.training.runfolder import locked_run_folder\n"
         f"with locked_run_folder({str(run)!r}):\n"
         "    print('locked', flush=True)\n"
         "    sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0


def rewrite_model(path, *, doc=None, tensors=None, metadata=None) -> None:
    """Rewrite a saved model file through safetensors itself, with its document (the card) or tensors edited."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    d = json.loads(meta["timbre_explorer"])
    loaded = load_file(str(path))
    if doc:
        doc(d)
    if tensors:
        tensors(loaded)
    save_file(loaded, str(path), metadata=metadata if metadata is not None else {"timbre_explorer": json.dumps(d)})
