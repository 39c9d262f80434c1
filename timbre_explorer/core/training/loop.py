"""Training: the perceptually regularized VAE in the paper's two stages, with its unregularized twin.

:func:`train` is a generator: it yields a :class:`TrainProgress` after every
epoch (the CLI prints it, the GUI's worker forwards it) and checks ``cancel``
between batches. The schedule is three stages over one dataset:

``stage1``
    α = 0 for ``epochs_stage1`` epochs (β warms up linearly from 0).
``regularized``
    From the end of stage 1, α > 0 for ``epochs_stage2`` epochs: the model we ship.
``baseline``
    From the same end of stage 1, α = 0 for the same ``epochs_stage2`` epochs:
    the unregularized twin (``baseline``; off by default), with exactly as
    many epochs (the paper's regularized models saw twice as many as its
    unregularized one).
``unconditioned``
    Beside a conditioned model (``conditioning``), the paper's unconditioned
    one, from scratch: ``epochs_stage1`` epochs with α = 0, then
    ``epochs_stage2`` with α, on the same batches: the comparison of the report.

Each stage writes ``checkpoints/<stage>.safetensors`` (weights, Adam state,
history) atomically after every epoch, so ``resume=True`` carries on from the
last finished epoch. Every random draw of an epoch is seeded from
``(seed, stage, epoch)``, so a resumed run equals an uninterrupted one.

Partner frames (``partner_share``): a conditioned model rebuilds that share of its frames from the code of a
frame of *another* note of the same instrument, up to ``partner_semitones`` away and from any training source,
decoded at the frame's own pitch and level; the input, never the target, is augmented (``augment``). What the code
must then carry is what the instrument's notes share across pitch, level, source and recording: its timbre; pitch
and level come from the conditions.

An epoch draws ``frames_per_note`` frames from the sustain of every training
note (see :mod:`timbre_explorer.core.data.dataset`), so notes count equally
whatever their length. Under ``torchrun`` the same code runs data-parallel
(DistributedDataParallel; NCCL on GPUs, gloo on CPUs): every rank draws the
same epoch and takes every ``world``-th batch.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np
import torch

from timbre_explorer.core.data.dataset import NoteDataset
from timbre_explorer.core.errors import Cancelled, ParameterError, TimbreExplorerError
from timbre_explorer.core.model.vae import (
    Normalization,
    TimbreVAE,
    VAEConfig,
    band_energy_error,
    band_matrix,
    beta_at,
    frame_inputs,
    gaussian_nll,
    kl_standard_normal,
    perceptual_kl,
    perceptual_l2,
    shared_logvar,
    split_level,
)
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.signal.scales import get_preset
from timbre_explorer.core.training.augment import augment
from timbre_explorer.core.training.checkpoint import read_checkpoint, save_checkpoint
from timbre_explorer.core.training.config import STAGE_NAMES, TrainConfig
from timbre_explorer.core.training.messages import BatchMetrics, BatchProgress, EpochMetrics, TrainProgress
from timbre_explorer.core.training.runfolder import BASELINE_NAME, MODEL_NAME, UNCONDITIONED_NAME, checkpoint_path
from timbre_explorer.core.training.target import perceptual_target

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as ProcessEvent

    from timbre_explorer.core.training.evaluate import CrossSourceEntries, EvaluationReport


class ValidationMetrics(TypedDict, total=False):
    """The validation notes' figures per bin (none where the dataset has no validation notes)."""

    valid_nll: float
    valid_mse: float


@dataclass
class Batch:
    """One training batch: what the encoder sees, what the decoder must rebuild (and at which conditions)."""

    x_in: torch.Tensor
    c_in: torch.Tensor | None
    x: torch.Tensor
    c: torch.Tensor | None
    labels: torch.Tensor


@dataclass
class _Stage:
    name: str
    epochs: int
    alpha: float
    start: int  # global epoch of the stage's first epoch (for the beta warm-up)
    variant: str = "model"  # "model" or "unconditioned": which shape and normalization
    alpha_from: int = 0  # the stage's first epoch with alpha (the unconditioned twin runs its own stage 1 first)
    history: list[EpochMetrics] = field(default_factory=list)


class Trainer:
    """State shared by the stages: data, target, normalization, distributed set-up."""

    def __init__(self, cfg: TrainConfig, ds: NoteDataset, out_dir: Path):
        self.cfg, self.ds, self.out = cfg, ds, Path(out_dir)
        self.rank, self.world = distributed_setup()
        self.device = training_device(cfg.device)
        self.train_notes = ds.where("train")
        if len(self.train_notes) == 0:
            raise ParameterError(f"{ds.path}: the dataset has no training notes")
        if cfg.source == "soundfont" and cfg.cross_test:
            from timbre_explorer.core.data.dataset import leave_source_out

            leave_source_out(ds, cfg.cross_test, cfg.cross_valid)
            self.train_notes = ds.where("train")
        self.rows, owners = ds.sustain_frames(self.train_notes)
        if len(self.rows) == 0:
            raise ParameterError(f"{ds.path}: the training notes have no sustained frames")
        note_pos = {n: i for i, n in enumerate(self.train_notes)}
        owner_idx = np.array([note_pos[o] for o in owners])
        self.starts = np.searchsorted(owner_idx, np.arange(len(self.train_notes)))
        self.counts = np.bincount(owner_idx, minlength=len(self.train_notes))
        self.partner_offsets, self.partner_notes = self._partners()
        self.target = perceptual_target(cfg, ds.instruments) if cfg.regularizer != "none" else None
        index = {name: i for i, name in enumerate(self.target.instruments)} if self.target else {}
        self.note_label = np.array([index.get(name, -1) for name in ds.notes.instrument_name], np.int64)
        sample = torch.from_numpy(np.asarray(ds.log_magnitude[np.sort(self.rows[:: max(1, len(self.rows) // 20000)])],
                                             np.float32))
        shape = dict(n_bins=ds.log_magnitude.shape[1], hidden=cfg.hidden, layers=cfg.layers, latent=cfg.latent)
        self.vae_config = VAEConfig(**shape, conditioning=cfg.conditioning, decoder_axis=cfg.decoder_axis)
        self.norm = self._normalization(self.vae_config, sample)
        #: The shape and normalization of each model the run trains ("unconditioned": the paper's twin).
        self.variants = {"model": (self.vae_config, self.norm)}
        if "unconditioned" in cfg.stages():
            plain = VAEConfig(**shape)
            self.variants["unconditioned"] = (plain, self._normalization(plain, sample))
        self.valid = ds.where("valid")
        preset = get_preset(ds.preset)
        self.frequencies = transform_for(preset, round(ds.manifest["seconds"] * preset.sample_rate)).frequencies
        self.bands = band_matrix(self.frequencies).to(self.device)
        self.generator = torch.Generator().manual_seed(cfg.seed)  # reseeded every epoch (see train)
        if self.target is not None:
            self.positions = torch.tensor(self.target.positions * cfg.timbre_scale, dtype=torch.float32,
                                          device=self.device)
            self.dissimilarity = torch.tensor(self.target.matrix, dtype=torch.float32, device=self.device)
        self.models: dict[str, tuple[TimbreVAE, list]] = {}  # stage name: (model, history), filled by train()

    def _partners(self) -> tuple[np.ndarray, np.ndarray]:
        """Per training note (by position), the training notes of its instrument within ``partner_semitones`` that
        have frames, itself included: CSR offsets and positions."""
        inst = self.ds.notes.instrument[self.train_notes]
        pitch = self.ds.notes.pitch[self.train_notes]
        lists: list[np.ndarray] = [np.zeros(0, np.int64)] * len(self.train_notes)
        for name in set(inst):
            group = np.flatnonzero((inst == name) & (self.counts > 0))
            near = np.abs(pitch[group][:, None] - pitch[group][None, :]) <= self.cfg.partner_semitones
            for i, row in zip(group, near):
                lists[i] = group[row]
        lists = [p if len(p) else np.array([i]) for i, p in enumerate(lists)]
        return np.cumsum([0] + [len(p) for p in lists]), np.concatenate(lists)

    def partner_rows(self, rows: np.ndarray) -> np.ndarray:
        """For each frame row, a frame of a partner note (``partner_share`` of them; the others keep their own)."""
        n = len(rows)
        owner = np.searchsorted(self.ds.notes.first_frame, rows, side="right") - 1
        pos = np.searchsorted(self.train_notes, owner)
        u = torch.rand(3, n, generator=self.generator).numpy()
        first, count = self.partner_offsets[pos], np.diff(self.partner_offsets)[pos]
        partner = self.partner_notes[first + (u[0] * count).astype(np.int64)]
        picked = self.rows[self.starts[partner] + (u[1] * self.counts[partner]).astype(np.int64)]
        return np.where(u[2] < self.cfg.partner_share, picked, rows)

    @staticmethod
    def _normalization(config: VAEConfig, sample: torch.Tensor) -> Normalization:
        """Fitted to what the model sees: whole frames, or a conditioned model's level-free ones."""
        return Normalization.fit_log(split_level(sample)[0] if config.conditioned else sample)

    def inputs(self, rows: np.ndarray, variant: str = "model", *, augmented: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A model's inputs ``(x, c)`` for frame rows of the dataset (in the order given); ``augmented``: with the
        config's augmentations (training batches), drawn from :attr:`generator`."""
        config, norm = self.variants[variant]
        owner = np.searchsorted(self.ds.notes.first_frame, rows, side="right") - 1
        log_mag = torch.from_numpy(np.asarray(self.ds.log_magnitude[rows], np.float32))
        pitch = torch.from_numpy(self.ds.notes.pitch[owner].astype(np.float32))
        if augmented and self.cfg.augment:
            log_mag, pitch = augment(log_mag, pitch, self.frequencies, self.cfg.augment, self.generator)
        x, c = frame_inputs(config, norm, log_mag, pitch)
        return x.to(self.device), None if c is None else c.to(self.device)

    # ------------------------------------------------------------------ one epoch
    def epoch_batches(self, stage_id: int, epoch: int) -> list[np.ndarray]:
        """The batches (rows into the dataset's frames) of one epoch, this rank's share."""
        rng = np.random.default_rng([self.cfg.seed, stage_id, epoch])
        k = self.cfg.frames_per_note
        pick = (rng.random((len(self.train_notes), k)) * self.counts[:, None]).astype(np.int64)
        rows = self.rows[(self.starts[:, None] + pick).ravel()]
        rows = rows[rng.permutation(len(rows))]
        bs = self.cfg.batch_size
        n = max(self.world, len(rows) // bs // self.world * self.world)  # as many batches on every rank
        return np.array_split(rows[:min(len(rows), n * bs)], n)[self.rank::self.world]

    def frames(self, rows: np.ndarray, variant: str = "model") -> Batch:
        """A batch: the encoder's inputs (a partner's frame, augmented), the target frames and their conditions,
        and each frame's perceptual label. The paper's unconditioned twin rebuilds every frame from itself."""
        order = np.sort(rows)  # memory-map reads in file order
        owner = np.searchsorted(self.ds.notes.first_frame, order, side="right") - 1
        labels = torch.from_numpy(self.note_label[owner]).to(self.device)
        conditioned = self.variants[variant][0].conditioned
        source = self.partner_rows(order) if conditioned and self.cfg.partner_share > 0 else order
        x_in, c_in = self.inputs(source, variant, augmented=True)
        if not conditioned or (not self.cfg.augment and self.cfg.partner_share == 0):
            return Batch(x_in, c_in, x_in, c_in, labels)
        x, c = self.inputs(order, variant)
        return Batch(x_in, c_in, x, c, labels)

    def regularizer(self, mu: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.target is None:
            return mu.sum() * 0
        if self.cfg.regularizer == "kl":
            return perceptual_kl(mu, labels, self.positions)
        return perceptual_l2(mu, labels, self.dissimilarity)

    @torch.no_grad()
    def validate(self, model: TimbreVAE, variant: str = "model") -> ValidationMetrics:
        if not len(self.valid):
            return ValidationMetrics()
        model.eval()
        x, c = self.inputs(self.ds.notes.first_frame[self.valid] + self.ds.notes.rep_frame[self.valid], variant)
        mu, _ = model.encode(x, c)
        x_mu, x_logvar = model.decode(mu, c)
        model.train()
        return ValidationMetrics(valid_nll=float(gaussian_nll(x, x_mu, x_logvar).mean() / x.shape[1]),
                                 valid_mse=float((x - x_mu).square().mean()))


def training_device(choice: str = "auto") -> torch.device:
    """The device a config's ``device`` names: ``auto`` takes this rank's GPU when torch sees one."""
    if choice == "cpu" or (choice == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ParameterError("device 'cuda' was asked for, but torch sees no CUDA GPU here; choose 'auto' or 'cpu'")
    return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")


def distributed_setup() -> tuple[int, int]:
    """(rank, world size); starts the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), world


def stages(cfg: TrainConfig) -> list[_Stage]:
    """The stages of a config's schedule, in order, each with its epochs, α and where its β warm-up starts."""
    start = {"stage1": 0, "regularized": cfg.epochs_stage1, "baseline": cfg.epochs_stage1, "unconditioned": 0}
    regularized = cfg.alpha if cfg.regularized else 0.0
    alpha = {"stage1": 0.0, "regularized": regularized, "baseline": 0.0, "unconditioned": regularized}
    return [_Stage(name, epochs, alpha[name], start[name], variant="unconditioned" if name == "unconditioned"
                   else "model", alpha_from=cfg.epochs_stage1 if name == "unconditioned" else 0)
            for name, epochs in cfg.stages().items()]


def step(t: Trainer, net: torch.nn.Module, opt: torch.optim.Optimizer, b: Batch, *, beta: float, alpha: float,
         where: str, variant: str = "model") -> BatchMetrics:
    """One batch: the loss, one optimizer step, and the batch's metrics (loss, nll, kl, reg).

    ``net`` is the model of ``variant``, or its DDP wrapper (its forward all-reduces the gradients); ``where``
    names the stage and epoch for the message when the loss is not finite.
    """
    out = net(b.x_in, b.c_in, c_out=b.c)
    x_mu, x_logvar, mu, logvar = out.x_mu, out.x_logvar, out.mu, out.logvar
    if t.cfg.likelihood == "shared":
        x_logvar = shared_logvar(x_logvar)
    nll = gaussian_nll(b.x, x_mu, x_logvar).mean()
    if t.cfg.band_weight > 0:
        nll = nll + t.cfg.band_weight * band_energy_error(b.x, x_mu, t.variants[variant][1], t.bands).mean()
    kl = kl_standard_normal(mu, logvar).mean()
    reg = t.regularizer(mu, b.labels) if alpha > 0 else mu.sum() * 0
    loss = nll + beta * kl + alpha * reg
    if not torch.isfinite(loss):
        raise TimbreExplorerError(f"the loss became {loss.item()} in {where}: "
                                  "lower the learning rate (lr); nothing was saved from this epoch")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return BatchMetrics(loss=loss.item(), nll=nll.item(), kl=kl.item(), reg=reg.item())


def _start_stage(t: Trainer, stage: _Stage, stage1_state: tuple[dict[str, torch.Tensor], dict[str, Any]] | None, *,
                 resume: bool) -> tuple[TimbreVAE, torch.nn.Module, torch.optim.Optimizer, int]:
    """A stage's model and optimizer: from stage 1's end (stage 2's), then from the stage's checkpoint (resume);
    wrapped for DDP under torchrun. Returns (model, net, optimizer, first epoch)."""
    model = TimbreVAE(t.variants[stage.variant][0], t.frequencies).to(t.device)
    opt = torch.optim.Adam(model.parameters(), lr=t.cfg.lr)
    first = 0
    ckpt = checkpoint_path(t.out, stage.name)
    if stage.name in ("regularized", "baseline") and stage1_state is not None:
        model.load_state_dict(stage1_state[0])
        opt.load_state_dict(stage1_state[1])
    if resume and ckpt.is_file():
        saved = read_checkpoint(ckpt)
        saved.restore(model, opt)
        first, stage.history = saved.epoch, saved.history
    net: torch.nn.Module = model
    if t.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model)
    return model, net, opt, first


def train(t: Trainer, *, resume: bool = False, cancel: threading.Event | ProcessEvent | None = None,
          on_batch: Callable[[BatchProgress], None] | None = None) -> Generator[TrainProgress, None, None]:
    """Run the schedule; each stage's model and history end up in ``t.models[stage]``.

    ``on_batch`` is called after every batch with the progress within the epoch (the yields come per epoch).
    """
    cfg = t.cfg
    total = cfg.total_epochs() or 1
    done = 0
    torch.manual_seed(cfg.seed)
    stage1_state = None
    t.models = {}
    for stage_id, stage in enumerate(stages(cfg)):
        model, net, opt, first = _start_stage(t, stage, stage1_state, resume=resume)
        done += first
        for epoch in range(first, stage.epochs):
            started = time.perf_counter()
            torch.manual_seed(cfg.seed * 1_000_003 + stage_id * 10_007 + epoch)  # resumable noise
            t.generator.manual_seed(cfg.seed * 1_000_003 + stage_id * 10_007 + epoch + 1)
            beta = beta_at(stage.start + epoch, beta=cfg.beta, warmup_epochs=cfg.warmup_epochs)
            sums = np.zeros(4)
            stage_alpha = stage.alpha if epoch >= stage.alpha_from else 0.0
            if stage.name == "unconditioned":  # the batches of stage 1, then those of the regularized stage
                batches = t.epoch_batches(*((0, epoch) if epoch < stage.alpha_from else (1, epoch - stage.alpha_from)))
            else:
                batches = t.epoch_batches(stage_id, epoch)
            for batch, rows in enumerate(batches, start=1):
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"training cancelled in {stage.name}, epoch {epoch + 1}; "
                                    "resume continues from the last finished epoch")
                m = step(t, net, opt, t.frames(rows, stage.variant), beta=beta, alpha=stage_alpha,
                         where=f"{stage.name}, epoch {epoch + 1}", variant=stage.variant)
                sums += [m["loss"], m["nll"], m["kl"], m["reg"]]
                if on_batch is not None:
                    on_batch(BatchProgress(stage.name, epoch + 1, stage.epochs, batch, len(batches),
                                           (done + batch / len(batches)) / total))
            loss, nll, kl, reg = (sums / max(1, len(batches))).tolist()
            metrics: EpochMetrics = {"loss": loss, "nll": nll, "kl": kl, "reg": reg, **t.validate(model, stage.variant),
                                     "beta": beta, "alpha": stage_alpha, "seconds": time.perf_counter() - started}
            stage.history.append(metrics)
            if t.rank == 0:
                save_checkpoint(checkpoint_path(t.out, stage.name), model, opt, stage=stage.name, epoch=epoch + 1,
                                history=stage.history, config=cfg.to_dict())
            done += 1
            yield TrainProgress(stage.name, epoch + 1, stage.epochs, metrics, done / total)
        if stage.name == "stage1":
            stage1_state = ({k: v.clone() for k, v in model.state_dict().items()}, opt.state_dict())
        t.models[stage.name] = (model.eval(), stage.history)


# ---------------------------------------------------------------------------------------------- around training
def export_models(t: Trainer, *, seconds: float | None = None) -> dict[str, Path]:
    """Write the regularized model and its baseline, each with the map of every note, its evaluation and (a
    conditioned model) its decoder's calibration on the training notes (:mod:`~timbre_explorer.core.training.calibrate`).

    Returns the paths by stage. The card's ``trained`` is when the run finished (ISO 8601, UTC): the Explorer
    names the model by it. The report and the model card keep their older key "phase". Only rank 0 writes.
    """
    from timbre_explorer.core.model.modelfile import save_model
    from timbre_explorer.core.training.calibrate import calibration
    from timbre_explorer.core.training.evaluate import dynamic_levels, evaluate, note_map, write_reports

    reports: dict[str, EvaluationReport] = {}
    maps, files = {}, {}
    for stage, name in (("regularized", MODEL_NAME), ("baseline", BASELINE_NAME),
                        ("unconditioned", UNCONDITIONED_NAME)):
        if stage not in t.models:
            continue
        model, history = t.models[stage]
        model = model.cpu()
        norm = t.variants["unconditioned" if stage == "unconditioned" else "model"][1]
        reports[stage] = evaluate(model, norm, t.ds, t.target, timbre_scale=t.cfg.timbre_scale)
        tensors, map_meta = note_map(model, norm, t.ds)
        tensors |= calibration(model, norm, t.ds, t.train_notes, tensors["map.z"].numpy()[t.train_notes])
        maps[stage] = (tensors["map.z"].numpy(), t.ds.notes.instrument_name)
        files[stage] = (t.out / name, model, norm, history, tensors, map_meta)
    report = reports["regularized"].copy()
    twins: tuple[Literal["baseline", "unconditioned"], ...] = ("baseline", "unconditioned")
    for twin in twins:
        if twin in reports:
            report[twin] = reports[twin]
    report.update(cross_source_reports(t, report.get("spearman_rho")))
    if seconds is not None:
        report["train_seconds"] = round(seconds, 1)
    report["train_seconds_by_phase"] = {stage: round(sum(m["seconds"] for m in hist), 1)
                                        for stage, (_, hist) in t.models.items()}
    if t.target is not None:
        report["mds"] = {"dims": t.cfg.mds_dims, "stress": t.target.mds_stress,
                         "spearman_rho": t.target.mds_spearman_rho}
    paths = {}
    trained = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")  # the run's end
    if t.rank == 0:
        write_reports(t.out, report, maps={STAGE_NAMES[p]: m for p, m in maps.items()})
        levels = dynamic_levels(t.ds, t.train_notes)
        for stage, (path, model, norm, history, tensors, map_meta) in files.items():
            if t.target is not None:
                tensors["perception.positions"] = torch.tensor(t.target.positions, dtype=torch.float32)
            meta = {"preset": t.ds.preset, "sample_rate": t.ds.manifest["sample_rate"],
                    "note_seconds": t.ds.manifest["seconds"], **map_meta,
                    "perceptual_instruments": list(t.target.instruments) if t.target is not None else [],
                    "levels": levels, "phase": stage, "trained": trained, "training": t.cfg.to_dict(), "seed": t.cfg.seed,
                    "dataset": {"key": t.ds.manifest["key"], "source": t.ds.manifest["source"],
                                **{k: v for k, v in t.ds.summary().items() if k != "per_instrument"}},
                    "history": history, "metrics": reports[stage],
                    "report": report if stage == "regularized" else None}
            save_model(path, model=model, normalization=norm, meta=meta, tensors=tensors)
            paths[stage] = path
    return paths


def cross_source_reports(t: Trainer, in_source_rho: float | None) -> CrossSourceEntries:
    """The figures across sources (:mod:`~timbre_explorer.core.training.crosssource`) on the notes of the sources
    kept out of training: ``cross_source`` (the test source) and ``cross_valid`` (the validation source)."""
    from timbre_explorer.core.data.dataset import CROSS_TEST, CROSS_VALID
    from timbre_explorer.core.data.perception import load_dissimilarities
    from timbre_explorer.core.training.crosssource import NoteSet, cross_source, cross_source_report, dynamics_of

    out: CrossSourceEntries = {}
    if t.target is None or "regularized" not in t.models:
        return out
    ratings = load_dissimilarities(t.cfg.ratings)
    train = NoteSet(t.ds, t.train_notes)
    others = {"unconditioned": (t.models["unconditioned"][0].cpu(), t.variants["unconditioned"][1])} \
        if "unconditioned" in t.models else {}
    kept_out: tuple[tuple[Literal["cross_source", "cross_valid"], str, str | None], ...] = (
        ("cross_source", CROSS_TEST, t.cfg.cross_test), ("cross_valid", CROSS_VALID, t.cfg.cross_valid))
    for key, split, source in kept_out:
        held = t.ds.where(split)
        if source and np.isin(t.ds.notes.instrument_name[held], list(ratings.instruments)).any():  # notes to place
            figures = cross_source(t.models["regularized"][0].cpu(), t.norm, train, NoteSet(t.ds, held), ratings,
                                   others=others)
            out[key] = cross_source_report(source, dynamics_of(NoteSet(t.ds, held)), in_source_rho, figures)
    return out


def dump_rank_weights(t: Trainer) -> None:
    """Each rank writes its final weights (``rank<r>.safetensors``), so a test can compare the ranks."""
    from safetensors.torch import save

    from timbre_explorer.core.files import write_bytes

    for stage, (model, _) in t.models.items():
        write_bytes(t.out / f"rank{t.rank}.{stage}.safetensors",
                    save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}))
