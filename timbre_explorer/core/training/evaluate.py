"""Evaluation of a timbre space: reconstruction, perceptual fit, novel instruments; and the model's note map.

Figures (all on notes the model never trained on unless said otherwise):

``test_nll``, ``test_mse``
    The paper's Table 1 on the test notes' representative frames: Gaussian
    negative log-likelihood and squared error per bin, of normalized
    log-magnitudes, decoding the posterior mean (deterministic, so runs compare).
``test_log_mse``
    The squared error per bin of natural-log magnitudes (floored as the model
    floors them): the one reconstruction figure that compares a conditioned
    model (which sees level-free frames, normalized otherwise) with the paper's.
``spearman_rho``, ``pearson_r``
    Between the distances of the instruments' latent centroids (test notes)
    and the perceptual dissimilarities; ``mds_ceiling_rho`` is what a perfect
    match of the MDS target would reach.
``kl_timbre``
    The paper's R(z, T) (Eqs. 8-10) over the test notes' codes, each at its
    instrument's MDS position (scaled as in training), as training computes it
    on a batch: lower is closer.
``novel_instruments``
    For every held-out instrument, its centroid's nearest training-instrument
    centroids (all notes of the training instruments), with distances, and
    whether the nearest one is of the same family.

:func:`evaluate_models` evaluates model files on the datasets their cards say they were trained on: the
``evaluate`` command and the Trainer's Evaluate.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict

import numpy as np
import torch

from timbre_explorer.core.data.dataset import NoteDataset
from timbre_explorer.core.data.instruments import DYNAMICS, family_of
from timbre_explorer.core.errors import Cancelled, ParameterError
from timbre_explorer.core.files import write_figure, write_json, write_text
from timbre_explorer.core.model.vae import (
    Normalization,
    TimbreVAE,
    frame_inputs,
    gaussian_nll,
    log_magnitudes,
    perceptual_kl,
    split_level,
)
from timbre_explorer.core.signal.descriptors import DESCRIPTORS, descriptors
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.signal.scales import get_preset
from timbre_explorer.core.training.report import FIGURES, cross_source_markdown, novel_rows

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as ProcessEvent

    from numpy.typing import ArrayLike

    from timbre_explorer.core.training.crosssource import CrossSourceReport
    from timbre_explorer.core.training.target import Perceptual


class Distances(TypedDict):
    """The instrument pairs' distances, in the same pair order: latent centroids and rated dissimilarities."""

    latent: list[float]
    perceptual: list[float]


class CentroidFit(TypedDict):
    """What :func:`centroid_fit` returns."""

    spearman_rho: float
    pearson_r: float
    instruments: list[str]  # those with a centroid and a rating, in the ratings' order
    distances: Distances


class NearestInstrument(TypedDict):
    instrument: str
    distance: float


class NovelInstrument(TypedDict):
    """A held-out instrument's nearest training instruments (the report's ``novel_instruments``)."""

    nearest: list[NearestInstrument]  # the three nearest, nearest first
    family: str
    nearest_family: str
    family_holds: bool


class MdsFigures(TypedDict):
    """The run's MDS target (the report's ``mds``)."""

    dims: int
    stress: float
    spearman_rho: float


class CrossSourceEntries(TypedDict, total=False):
    """The figures across the sources a run kept out (``cross_test``, ``cross_valid``), where it kept one out."""

    cross_source: CrossSourceReport
    cross_valid: CrossSourceReport


class EvaluationReport(CrossSourceEntries):
    """``report.json``: what :func:`evaluate` computes (the module docstring's figures), and what a run or
    :func:`evaluate_models` adds (twins, figures across sources, timings, the MDS target)."""

    test_notes: int
    test_nll: float
    test_mse: float
    test_log_mse: float
    # with a perceptual target only
    spearman_rho: NotRequired[float]
    pearson_r: NotRequired[float]
    kl_timbre: NotRequired[float]
    mds_ceiling_rho: NotRequired[float]
    perceptual_instruments: NotRequired[list[str]]
    distances: NotRequired[Distances]
    novel_instruments: NotRequired[dict[str, NovelInstrument]]  # always computed; added after the figures above
    # added by a run (export_models) or evaluate_models
    baseline: NotRequired[EvaluationReport]  # the unregularized twin
    unconditioned: NotRequired[EvaluationReport]  # the paper's unconditioned twin
    train_seconds: NotRequired[float]
    train_seconds_by_phase: NotRequired[dict[str, float]]
    mds: NotRequired[MdsFigures]


REPORT_KEYS = (*(f.key for f in FIGURES), "novel_instruments")


@torch.no_grad()
def encode_frames(model: TimbreVAE, norm: Normalization, log_frames: np.ndarray, pitch: ArrayLike | None = None, *,
                  batch: int = 4096) -> np.ndarray:
    """Posterior means ``[n, latent]`` of natural-log magnitude frames ``[n, K]`` (of MIDI ``pitch``: one number,
    one per frame, or None for the default; only a pitch-conditioned encoder reads it)."""
    model.eval()
    n = len(log_frames)
    pitches = np.broadcast_to(np.asarray(np.nan if pitch is None else pitch, np.float32), (n,))
    out = []
    for idx in np.array_split(np.arange(n), max(1, -(-n // batch))):
        p = None if pitch is None else torch.from_numpy(np.ascontiguousarray(pitches[idx]))
        x, c = frame_inputs(model.config, norm, torch.from_numpy(np.asarray(log_frames[idx], np.float32)), p)
        out.append(model.encode(x, c)[0])
    return torch.cat(out).numpy() if out else np.zeros((0, model.config.latent), np.float32)


def frame_levels(log_frames: np.ndarray) -> np.ndarray:
    """Each frame's level (its mean log-magnitude; see :func:`~timbre_explorer.core.model.vae.split_level`)."""
    return split_level(torch.from_numpy(np.asarray(log_frames, np.float32)))[1].numpy()


def dynamic_levels(ds: NoteDataset, notes: np.ndarray) -> dict[str, float]:
    """The median level of the representative frames of ``notes`` per dynamic: what a conditioned model
    plays a dynamic at."""
    levels = frame_levels(ds.representative(notes))
    dyn = ds.notes.dynamic_name[notes]
    return {d: float(np.median(levels[dyn == d])) for d in DYNAMICS if np.any(dyn == d)}


def note_envelopes(ds: NoteDataset) -> np.ndarray:
    """Each note's loudness curve ``[notes, ENVELOPE_POINTS]`` (float32, natural log of magnitude: dB × ln10/20):
    its frames' loudness from onset, resampled evenly over the note's length, less its representative frame's.
    What a played note's attack, sustain and decay follow
    (:func:`~timbre_explorer.core.synthesis.playable.note_life`), added to the model's level condition. Loudness,
    not the model's level (a frame's mean log-magnitude): an onset's broadband burst raises the mean of the quiet
    bins far more than what is heard."""
    from timbre_explorer.core.model.modelfile import ENVELOPE_POINTS

    out = np.zeros((len(ds), ENVELOPE_POINTS), np.float32)
    first, count, rep = ds.notes.first_frame, ds.notes.n_frames, ds.notes.rep_frame
    to_log = np.log(10.0) / 20.0
    for i in range(len(ds)):
        loud = np.asarray(ds.loudness[first[i]:first[i] + count[i]], np.float64)
        curve = np.interp(np.linspace(0, len(loud) - 1, ENVELOPE_POINTS), np.arange(len(loud)), loud)
        out[i] = (curve - loud[rep[i]]) * to_log
    return out


def note_map(model: TimbreVAE, norm: Normalization, ds: NoteDataset) -> tuple[dict[str, torch.Tensor], dict]:
    """Every note's latent position and metadata, as model-file tensors and the JSON that names their codes.

    ``map.source`` is each note's sample set, an index into the card's ``sources`` (the dataset's short names),
    so the Explorer can colour the map by source.
    """
    notes = ds.notes  # its codes are the map's: dynamics are coded after DYNAMICS and splits after SPLITS
    rep = ds.representative()
    z = encode_frames(model, norm, rep, notes.pitch)
    nsgt = transform_for(get_preset(ds.preset), round(ds.manifest["seconds"] * get_preset(ds.preset).sample_rate))
    desc = descriptors(np.exp(rep.astype(np.float64)), nsgt)
    dyn = list(DYNAMICS)
    tensors = {
        "map.envelope": torch.from_numpy(note_envelopes(ds)),
        "map.z": torch.from_numpy(z.astype(np.float32)),
        "map.instrument": torch.from_numpy(notes.instrument.astype(np.int64)),
        "map.pitch": torch.from_numpy(notes.pitch.astype(np.int64)),
        "map.dynamic": torch.from_numpy(np.where(notes.dynamic < len(dyn), notes.dynamic, -1).astype(np.int64)),
        "map.split": torch.from_numpy(notes.split.astype(np.int64)),
        "map.descriptors": torch.from_numpy(np.stack([desc[k] for k in DESCRIPTORS], 1).astype(np.float32)),
        "map.source": torch.from_numpy(notes.source.astype(np.int64)),
    }
    instruments = list(notes.instruments)
    meta = {"instruments": instruments, "families": [family_of(i) for i in instruments], "dynamics": dyn,
            "splits": list(notes.splits), "sources": list(notes.sources),
            "descriptors": {k: DESCRIPTORS[k] for k in DESCRIPTORS}}
    return tensors, meta


def _centroids(z: np.ndarray, labels: np.ndarray, names: Iterable[str]) -> dict[str, np.ndarray]:
    return {n: z[labels == n].mean(0) for n in names if np.any(labels == n)}


def centroid_fit(centroids: dict[str, np.ndarray], instruments: Sequence[str], matrix: np.ndarray) -> CentroidFit:
    """Spearman ρ and Pearson r between the distances of instrument centroids and the rated dissimilarities
    (``matrix``, rows in the order of ``instruments``), over the instruments that have both, with the distances."""
    from scipy.stats import pearsonr, spearmanr

    names = [n for n in instruments if n in centroids]
    c = np.stack([centroids[n] for n in names])
    idx = [list(instruments).index(n) for n in names]
    iu = np.triu_indices(len(names), 1)
    dz = np.linalg.norm(c[:, None] - c[None], axis=-1)[iu]
    dp = matrix[np.ix_(idx, idx)][iu]
    return {"spearman_rho": float(spearmanr(dz, dp).statistic), "pearson_r": float(pearsonr(dz, dp).statistic),
            "instruments": names, "distances": {"latent": dz.tolist(), "perceptual": dp.tolist()}}


def evaluate(model: TimbreVAE, norm: Normalization, ds: NoteDataset, target: Perceptual | None, *,
             timbre_scale: float) -> EvaluationReport:
    """The figures of the module docstring, as a JSON-ready dict."""
    test = ds.where("test")
    log_frames = torch.from_numpy(ds.representative(test))
    x, c = frame_inputs(model.config, norm, log_frames, torch.from_numpy(ds.notes.pitch[test].astype(np.float32)))
    with torch.no_grad():
        model.eval()
        mu, _ = model.encode(x, c)
        x_mu, x_logvar = model.decode(mu, c)
    low = model.config.encoded_bins  # a band extension's bins are not the model's to rebuild from a code
    x_mu, x_logvar, log_frames = x_mu[:, :low], x_logvar[:, :low], log_frames[:, :low]
    floored = log_frames.clamp_min(float(np.log(norm.floor)))
    report: EvaluationReport = {"test_notes": int(len(test)),
                    "test_nll": float(gaussian_nll(x, x_mu, x_logvar).mean() / x.shape[1]),
                    "test_mse": float((x - x_mu).square().mean()),
                    "test_log_mse": float((floored - log_magnitudes(norm, x_mu, c)).square().mean())}
    z_all = encode_frames(model, norm, ds.representative(), ds.notes.pitch)
    labels = ds.notes.instrument_name
    if target is not None:
        fit = centroid_fit(_centroids(z_all[test], labels[test], target.instruments), target.instruments,
                           target.matrix)
        names = fit["instruments"]
        index = {n: target.instruments.index(n) for n in names}
        lab = torch.tensor([index.get(n, -1) for n in labels[test]])
        report.update({
            "spearman_rho": fit["spearman_rho"], "pearson_r": fit["pearson_r"],
            "kl_timbre": float(perceptual_kl(torch.from_numpy(z_all[test]).double(), lab,
                                             torch.from_numpy(target.positions * timbre_scale).double())),
            "mds_ceiling_rho": float(target.mds_spearman_rho), "perceptual_instruments": names,
            "distances": fit["distances"]})
    train_names = [n for n in ds.instruments if np.any((labels == n) & (ds.notes.split_name != "novel"))]
    novel_names = [n for n in ds.instruments if np.all(ds.notes.split_name[labels == n] == "novel")]
    known = _centroids(z_all, labels, train_names)
    novel: dict[str, NovelInstrument] = {}
    for name, centre in _centroids(z_all, labels, novel_names).items():
        dist = sorted((float(np.linalg.norm(centre - k)), n) for n, k in known.items())
        novel[name] = {"nearest": [{"instrument": n, "distance": round(d, 4)} for d, n in dist[:3]],
                       "family": family_of(name), "nearest_family": family_of(dist[0][1]),
                       "family_holds": family_of(name) == family_of(dist[0][1])}
    report["novel_instruments"] = novel
    return report


def evaluate_models(models: Mapping[str, str | os.PathLike], *, cache_root: str | os.PathLike | None = None,
                    workers: int | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    cancel: threading.Event | ProcessEvent | None = None,
                    on_model: Callable[[str], None] | None = None, rebuild: bool = False,
                    folder: str | os.PathLike | None = None, soundfont: str | os.PathLike | None = None,
                    sources: tuple[str, ...] | None = None, ratings: str | os.PathLike | None = None,
                    own_run: bool = False) -> tuple[EvaluationReport, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Evaluate model files on the datasets they were trained on: ``evaluate``'s report and the maps to plot.

    ``models`` maps "regularized" and/or "unregularized" to a model file; the first one's figures make the
    report, a second one's go under ``report["baseline"]``. ``on_model(label)`` is called before each. The
    samples and ratings are the card's unless ``folder``, ``soundfont``, ``sources`` or ``ratings`` names them
    (:func:`~timbre_explorer.core.training.modelcard.training_config`); ``own_run``: the models of a run this user
    trained, whose card paths are theirs.
    """
    from timbre_explorer.core.data.dataset import leave_source_out
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.training.modelcard import check_dataset, training_config
    from timbre_explorer.core.training.target import perceptual_target

    report: EvaluationReport | None = None
    maps: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label, path in models.items():
        if cancel is not None and cancel.is_set():
            raise Cancelled("evaluation cancelled; the previous report is unchanged")
        mf = load_model(path)
        cfg = training_config(path, mf, folder=folder, soundfont=soundfont, sources=sources, ratings=ratings,
                              own_run=own_run)
        ds = dataset_for(cfg.dataset_recipe(), cache_root=cache_root, workers=workers, progress=progress,
                         cancel=cancel, rebuild=rebuild)
        check_dataset(path, mf, ds)
        if cfg.cross_test:  # the sample sets the training kept out are not in-source test notes
            leave_source_out(ds, cfg.cross_test, cfg.cross_valid)
        if on_model is not None:
            on_model(label)
        target = perceptual_target(cfg, ds.instruments) if cfg.regularizer != "none" else None
        r = evaluate(mf.build_model(), mf.normalization, ds, target, timbre_scale=cfg.timbre_scale)
        maps[label] = (mf.arrays["map.z"], ds.notes.instrument_name)
        if report is None:
            report = r
        else:
            report["baseline"] = r
    if report is None:
        raise ParameterError("no model to evaluate")
    return report, maps


def write_reports(out_dir: str | os.PathLike, report: EvaluationReport, *,
                  maps: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """``report.json``, ``report.md`` and the plots (latent PCA maps, latent vs perceptual distances)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_report(out / "report.json", report)
    write_text(out / "report.md", markdown(report))
    _plot_maps(out / "latent_map.png", maps)
    _plot_distances(out / "distances.png", report)


def write_report(path: str | os.PathLike, report: EvaluationReport) -> None:
    """Write ``report`` as JSON, or refuse (:class:`ParameterError`, before anything is written) when a figure is
    not a finite number: a model whose card passed its checks can still compute one (a damaged dataset)."""
    bad = _non_finite(report)
    if bad is not None:
        raise ParameterError(f"{path}: not written: the evaluation's {bad[0]} is {bad[1]}, not a finite number "
                             "(the model or its dataset is damaged)")
    write_json(path, report)


def _non_finite(value: object, key: str = "") -> tuple[str, float] | None:
    """The first figure in ``value`` (nested dicts and lists) that is NaN or infinite: its key path and value."""
    if isinstance(value, float) and not np.isfinite(value):
        return key or "report", value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = _non_finite(v, f"{key}/{k}" if key else str(k))
        if found is not None:
            return found
    return None


def markdown(report: EvaluationReport) -> str:
    """``report.md``: the figures of :data:`~timbre_explorer.core.training.report.FIGURES` beside the run's twins
    (the paper's unconditioned model, the unregularized one, when trained), the novel instruments, and the
    figures across sources (:func:`~timbre_explorer.core.training.report.cross_source_markdown`)."""

    named: tuple[tuple[Literal["unconditioned", "baseline"], str], ...] = (
        ("unconditioned", "unconditioned (the paper's)"), ("baseline", "unregularized"))
    twins = [(key, label) for key, label in named if key in report]
    lines = ["# Evaluation", "", f"Test notes: {report.get('test_notes')}; MDS ceiling ρ = "
             f"{report.get('mds_ceiling_rho', float('nan')):.3f}.", "",
             "| " + " | ".join(["figure", "this model", *(label for _, label in twins)]) + " |",
             "|---|---|" + "---|" * len(twins)]
    lines += ["| " + " | ".join([f.label, f.cell(report), *(f.cell(report[k]) for k, _ in twins)]) + " |"
              for f in FIGURES]
    lines += ["", "## Novel instruments (held out of training)", "",
              "| instrument | nearest training instruments (distance) | family holds | unregularized nearest |",
              "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in novel_rows(report)]
    roles: tuple[tuple[Literal["cross_source", "cross_valid"], str], ...] = (
        ("cross_source", "the test"), ("cross_valid", "validation"))
    for key, role in roles:
        if key in report:
            lines += ["", cross_source_markdown(report[key], role).rstrip("\n")]
    return "\n".join(lines) + "\n"


def _plot_maps(path: Path, maps: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    fig, axes = plt.subplots(1, len(maps), figsize=(6.5 * len(maps), 6), squeeze=False)
    for ax, (title, (z, labels)) in zip(axes[0], maps.items()):
        p = PCA(2).fit_transform(z)
        names = list(dict.fromkeys(labels))
        cmap = plt.get_cmap("tab20")
        for i, n in enumerate(names):
            m = labels == n
            ax.scatter(p[m, 0], p[m, 1], s=5, color=cmap(i % 20), label=n, alpha=0.6)
            cx, cy = p[m].mean(0)
            ax.annotate(n, (cx, cy), fontsize=8, weight="bold", ha="center")
        ax.set_title(f"{title}: latent PCA, every note")
    axes[0][-1].legend(fontsize=7, markerscale=2, loc="best")
    fig.tight_layout()
    write_figure(path, fig, dpi=90)


def _plot_distances(path: Path, report: EvaluationReport) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    for r, label, color in ((report, "regularized", "tab:blue"), (report.get("baseline"), "unregularized", "tab:gray")):
        if r and "distances" in r:
            ax.scatter(r["distances"]["perceptual"], r["distances"]["latent"], s=14, color=color,
                       label=f"{label}: ρ = {r['spearman_rho']:.3f}")
    ax.set_xlabel("perceptual dissimilarity")
    ax.set_ylabel("latent centroid distance")
    ax.legend()
    fig.tight_layout()
    write_figure(path, fig, dpi=90)
