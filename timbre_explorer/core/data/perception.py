"""The perceptual timbre space: dissimilarity ratings -> a normalized matrix -> an MDS space.

The built-in data (``resources/perceptual/``) pools the ratings of five classic
timbre studies (Grey 1977; Krumhansl 1989; Iverson & Krumhansl 1993;
McAdams et al. 1995; Lakatos 2000) for the 12 instruments that have ratings
for every pair, as used by Esling et al. (DAFx 2018). As the paper's code
does: per pair, the mean of a Gaussian fitted to the pooled ratings; the
matrix divided by its maximum; a metric MDS of it (scikit-learn, precomputed
dissimilarities, seeded) is the timbre space the regularizer pulls toward.

Researchers can bring their own experiment: a square dissimilarity matrix
(CSV with instrument names as header and first column) or a pooled-ratings
file (``instrument_a, instrument_b, dissimilarity`` rows) takes the place of
the built-in data after :func:`load_dissimilarities` has validated it.
"""

from __future__ import annotations

import csv
import inspect
import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NotRequired, TypedDict

import numpy as np

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.paths import resources_dir

#: MDS settings of the paper's code (misc/perceptive.py), n_init as in the shared reference table.
MDS_SEED = 3
MDS_MAX_ITER = 3000
MDS_EPS = 1e-9
MDS_N_INIT = 4
#: Timbre-space dimension used by default. 3-D is the paper's (its Fig. 2), but it caps the agreement
#: with the ratings at Spearman rho 0.88; 6-D reaches 0.98 (resources/perceptual/README.md).
DEFAULT_MDS_DIMS = 6


@dataclass(frozen=True)
class Dissimilarities:
    """A symmetric instrument x instrument dissimilarity matrix, normalized to a maximum of 1."""

    instruments: tuple[str, ...]
    matrix: np.ndarray  # [n, n], zero diagonal
    source: str

    def __post_init__(self) -> None:
        _validate_matrix(self.matrix, self.instruments, self.source)
        if not np.isclose(self.matrix.max(), 1.0):
            raise ParameterError(f"{self.source}: the matrix must be normalized to a maximum of 1")

    def pairs(self) -> np.ndarray:
        """The upper-triangle values, one per instrument pair."""
        return self.matrix[np.triu_indices(len(self.instruments), 1)]


@dataclass(frozen=True)
class PerceptualSpace:
    """Instrument positions from a metric MDS of a dissimilarity matrix, and how well they fit it."""

    instruments: tuple[str, ...]
    positions: np.ndarray  # [n, dims]
    stress: float
    spearman_rho: float  # MDS distances vs dissimilarities: the ceiling of any space regularized toward it
    pearson_r: float

    def distances(self) -> np.ndarray:
        return _distances(self.positions)


class MdsFit(TypedDict):
    """How well an MDS space fits the dissimilarities (:class:`PerceptualSpace`'s figures)."""

    stress: float
    spearman_rho: float
    pearson_r: float


class PerceptionReport(TypedDict):
    """``perception.json`` (:func:`write_report`)."""

    source: str
    instruments: list[str]
    mds_dims: int
    mds_stress: float
    mds_spearman_rho: float
    mds_pearson_r: float
    ceiling_by_dims: dict[str, MdsFit]  # per dimension count, 2 to 8
    mds3_vs_paper_max_distance_diff: NotRequired[float]  # the built-in ratings only


def builtin_ratings_path() -> Path:
    return resources_dir() / "perceptual" / "pooled_ratings.csv"


def read_pooled_ratings(path: str | os.PathLike) -> dict[tuple[str, str], np.ndarray]:
    """Ratings per unordered instrument pair from a ``instrument_a, instrument_b, dissimilarity`` CSV."""
    pairs: dict[tuple[str, str], list[float]] = {}
    with _open_csv(path) as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:3]] != ["instrument_a", "instrument_b", "dissimilarity"]:
            raise ParameterError(f"{path}: a pooled-ratings file starts with the header "
                                 "instrument_a,instrument_b,dissimilarity")
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                a, b, value = row[0].strip(), row[1].strip(), float(row[2])
            except (IndexError, ValueError):
                raise ParameterError(f"{path}, line {line}: expected two instrument names and a number") from None
            if not np.isfinite(value) or value < 0:
                raise ParameterError(f"{path}, line {line}: dissimilarity must be a non-negative number, got {value}")
            if a == b:
                continue  # same-instrument ratings do not enter the matrix (its diagonal is 0)
            pairs.setdefault((min(a, b), max(a, b)), []).append(value)
    if not pairs:
        raise ParameterError(f"{path}: no ratings between different instruments")
    return {k: np.asarray(v) for k, v in pairs.items()}


def dissimilarities_from_ratings(path: str | os.PathLike) -> tuple[Dissimilarities, np.ndarray]:
    """Fit a Gaussian to each pair's ratings; return the normalized means and standard deviations.

    The maximum-likelihood Gaussian fit is the sample mean and the (biased)
    sample standard deviation, as ``scipy.stats.norm.fit`` in the paper's
    code. Each matrix is divided by its own maximum, as in the shared data.
    """
    pairs = read_pooled_ratings(path)
    instruments = _ordered_instruments(pairs)
    n = len(instruments)
    missing = [(a, b) for i, a in enumerate(instruments) for b in instruments[i + 1:] if tuple(sorted((a, b))) not in pairs]
    if missing:
        shown = ", ".join(f"{a}-{b}" for a, b in missing[:5])
        raise ParameterError(f"{path}: no ratings for {len(missing)} instrument pairs ({shown}...)")
    mean, std = np.zeros((n, n)), np.zeros((n, n))
    for (a, b), values in pairs.items():
        i, j = instruments.index(a), instruments.index(b)
        mean[i, j] = mean[j, i] = values.mean()
        std[i, j] = std[j, i] = values.std()
    return Dissimilarities(tuple(instruments), mean / mean.max(), str(path)), std / std.max()


def read_matrix(path: str | os.PathLike) -> Dissimilarities:
    """A square dissimilarity matrix CSV (names in the header and the first column), any scale."""
    with _open_csv(path) as f:
        rows = [r for r in csv.reader(f) if r]
    if len(rows) < 3:
        raise ParameterError(f"{path}: a dissimilarity matrix needs a header row and at least two instruments")
    header = [h.strip() for h in rows[0][1:]]
    names = [r[0].strip() for r in rows[1:]]
    if any(len(r) != len(rows[0]) for r in rows[1:]) or len(names) != len(header):
        raise ParameterError(f"{path}: the matrix is not square ({len(names)} rows, {len(header)} columns)")
    if names != header:
        raise ParameterError(f"{path}: row names {names} differ from column names {header}")
    try:
        m = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    except ValueError as exc:
        raise ParameterError(f"{path}: every entry must be a number ({exc})") from None
    _validate_matrix(m, tuple(names), str(path))
    return Dissimilarities(tuple(names), m / m.max(), str(path))


def load_dissimilarities(path: str | os.PathLike | None = None, *,
                         labels: Collection[str] | None = None) -> Dissimilarities:
    """The regularization target: the built-in studies, or a user's matrix or pooled-ratings file.

    With ``labels`` (the dataset's instrument names), every instrument of the
    matrix must be among them, so a misspelled name is caught before training.
    """
    path = builtin_ratings_path() if path is None else Path(path)
    try:
        with _open_csv(path) as f:
            first = f.readline().strip().lower()
        d = dissimilarities_from_ratings(path)[0] if first.startswith("instrument_a") else read_matrix(path)
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: not a text file (ratings are a UTF-8 CSV table)") from None
    if labels is not None:
        unknown = sorted(set(d.instruments) - set(labels))
        if unknown:
            raise ParameterError(f"{path}: instruments {unknown} are not in the dataset "
                                 f"(its labels: {', '.join(sorted(set(labels)))})")
    return d


def timbre_space(d: Dissimilarities, *, dims: int = DEFAULT_MDS_DIMS, seed: int = MDS_SEED) -> PerceptualSpace:
    """Metric MDS of ``d`` (scikit-learn, precomputed dissimilarities, seeded)."""
    from scipy.stats import pearsonr, spearmanr
    from sklearn.manifold import MDS

    if not 1 <= dims < len(d.instruments):
        raise ParameterError(f"MDS dimension must be between 1 and {len(d.instruments) - 1}, got {dims}")
    kwargs: dict[str, object] = dict(n_components=dims, n_init=MDS_N_INIT, max_iter=MDS_MAX_ITER, eps=MDS_EPS,
                                     random_state=seed)
    if "metric_mds" in inspect.signature(MDS).parameters:  # scikit-learn >= 1.8
        kwargs.update(metric="precomputed", metric_mds=True, init="random", normalized_stress=False)
    else:
        kwargs.update(dissimilarity="precomputed", metric=True, normalized_stress=False)
    mds = MDS(**kwargs).fit(d.matrix)
    dist = _distances(mds.embedding_)[np.triu_indices(len(d.instruments), 1)]
    return PerceptualSpace(d.instruments, mds.embedding_, float(mds.stress_),
                       float(spearmanr(dist, d.pairs()).statistic), float(pearsonr(dist, d.pairs()).statistic))


def read_positions(path: str | os.PathLike) -> tuple[tuple[str, ...], np.ndarray]:
    """An ``instrument, x, y, ...`` CSV of positions (e.g. ``mds3_reference.csv``)."""
    with _open_csv(path) as f:
        rows = [r for r in csv.reader(f) if r][1:]
    return tuple(r[0] for r in rows), np.array([[float(v) for v in r[1:]] for r in rows])


def write_matrix(path: str | os.PathLike, d: Dissimilarities) -> None:
    _write_csv(path, ["", *d.instruments], zip(d.instruments, d.matrix))


def write_positions(path: str | os.PathLike, space: PerceptualSpace) -> None:
    axes = [f"dim{i + 1}" for i in range(space.positions.shape[1])]
    _write_csv(path, ["instrument", *axes], zip(space.instruments, space.positions))


# ---------------------------------------------------------------------------- helpers
def _open_csv(path: str | os.PathLike) -> IO[str]:
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _write_csv(path: str | os.PathLike, header: Sequence[str],
               named_rows: Iterable[tuple[str, Iterable[float]]]) -> None:
    """A table of names and numbers, written atomically."""
    from timbre_explorer.core.files import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for name, values in named_rows:
            w.writerow([name, *(f"{v:.6f}" for v in values)])


def _distances(positions: np.ndarray) -> np.ndarray:
    return np.sqrt(((positions[:, None, :] - positions[None, :, :]) ** 2).sum(-1))


def _ordered_instruments(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Instruments in order of first appearance in the file (the shared data's canonical order)."""
    seen: dict[str, None] = {}
    for a, b in pairs:
        seen.setdefault(a)
        seen.setdefault(b)
    return list(seen)


def _validate_matrix(m: np.ndarray, names: tuple[str, ...], source: str) -> None:
    n = len(names)
    if m.shape != (n, n) or n < 2:
        raise ParameterError(f"{source}: expected a {n}x{n} matrix, got {m.shape}")
    if len(set(names)) != n:
        raise ParameterError(f"{source}: instrument names repeat")
    if not np.all(np.isfinite(m)):
        raise ParameterError(f"{source}: the matrix holds NaN or infinite values")
    if np.any(m < 0):
        raise ParameterError(f"{source}: dissimilarities must be non-negative")
    if not np.allclose(m, m.T, rtol=1e-6, atol=1e-9 * max(1.0, float(np.abs(m).max()))):
        i, j = np.unravel_index(np.argmax(np.abs(m - m.T)), m.shape)
        raise ParameterError(f"{source}: the matrix is not symmetric ({names[i]}-{names[j]}: "
                             f"{m[i, j]:g} vs {m[j, i]:g})")
    if np.any(np.diag(m) != 0):
        raise ParameterError(f"{source}: the diagonal (an instrument against itself) must be 0")
    offdiag = m[~np.eye(n, dtype=bool)]
    if np.any(offdiag == 0):
        raise ParameterError(f"{source}: two different instruments have dissimilarity 0")


def write_report(out_dir: str | os.PathLike, d: Dissimilarities, *, dims: int = DEFAULT_MDS_DIMS) -> PerceptionReport:
    """Write the matrix, the MDS space and its figures to ``out_dir``; return the figures.

    Files: ``dissimilarity.csv``, ``mds.csv``, ``perception.json`` (stress, the
    Spearman rho / Pearson r ceiling, per dimension 2-8, and for the built-in
    data the agreement with the paper's 3-D MDS), ``mds.png`` (the space and
    its Shepard diagram).
    """
    from timbre_explorer.core.files import write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    space = timbre_space(d, dims=dims)
    write_matrix(out / "dissimilarity.csv", d)
    write_positions(out / "mds.csv", space)
    spaces = {k: space if k == dims else timbre_space(d, dims=k) for k in range(2, min(9, len(d.instruments)))}
    figures: PerceptionReport = {
        "source": d.source, "instruments": list(d.instruments), "mds_dims": dims,
        "mds_stress": space.stress, "mds_spearman_rho": space.spearman_rho, "mds_pearson_r": space.pearson_r,
        "ceiling_by_dims": {str(k): {"stress": s.stress, "spearman_rho": s.spearman_rho, "pearson_r": s.pearson_r}
                            for k, s in spaces.items()}}
    reference = resources_dir() / "perceptual" / "mds3_reference.csv"
    if Path(d.source) == builtin_ratings_path() and reference.exists() and 3 in spaces:
        names, pos = read_positions(reference)
        index = [d.instruments.index(n) for n in names]
        diff = np.abs(spaces[3].distances()[np.ix_(index, index)] - _distances(pos))
        figures["mds3_vs_paper_max_distance_diff"] = float(diff.max())
    write_json(out / "perception.json", figures)
    _plot(out / "mds.png", d, space)
    return figures


def _plot(path: Path, d: Dissimilarities, space: PerceptualSpace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from timbre_explorer.core.files import write_figure

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 5))
    p = space.positions
    ax1.scatter(p[:, 0], p[:, 1], c=range(len(p)), cmap="tab20", s=60)
    for name, (x, y) in zip(space.instruments, p[:, :2]):
        ax1.annotate(name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=9)
    ax1.set(title=f"Timbre space ({p.shape[1]}-D metric MDS, dims 1-2)", xlabel="MDS 1", ylabel="MDS 2")
    ax1.set_aspect("equal", adjustable="datalim")
    iu = np.triu_indices(len(d.instruments), 1)
    ax2.scatter(d.pairs(), space.distances()[iu], s=14)
    ax2.set(title=f"Shepard diagram: Spearman rho {space.spearman_rho:.3f}, stress {space.stress:.3f}",
            xlabel="dissimilarity (normalized ratings)", ylabel="MDS distance")
    fig.tight_layout()
    write_figure(path, fig, dpi=110)
