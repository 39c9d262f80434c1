"""The peer suite: a timbre space scored on published timbre-dissimilarity studies, as its peers are.

Tian et al., ISMIR 2025 (arXiv 2507.07764) score audio embeddings on 21 published studies (334 stimuli: Grey
1977/78, Iverson 1993, McAdams 1995, Lakatos 2000, Barthet 2010, Patil 2012, Zacharakis 2014, Siedenburg 2016,
Saitis 2020, Vahidi 2020). Their public repository (tiianhk/timbremetrics, its folder ``timbremetrics/``) holds
``sounds/<Study>/<stimulus>.aiff`` and ``true_dissim/<Study>_dissimilarity_matrix.txt``; :func:`read_suite` reads
that layout from a folder the user names. Its audio carries no licence: it is read where it lies, never shipped.

**A test, never a selection criterion**: report its score; never choose a setting, a model or a checkpoint by it
(select on held-out sample sets instead), or it stops measuring anything.

The score is the paper's headline "row-wise Spearman": for each stimulus, the Spearman ρ between its Euclidean
distances to the other stimuli of its study and its rated dissimilarities to them, averaged over every stimulus
of every study (a study weighs by its number of stimuli); also per study. A row in which either side is constant
has no order to agree with and scores 0 (as the paper's code gives). A matrix's rows follow its study's sound
files sorted by name (as the repository's loader reads them); it holds dissimilarities in its upper triangle
(the lower is zeros; a symmetric matrix reads the same, a lower-triangular one is read as its transpose).

Placements scored on the same files (:data:`PLACEMENTS`):

``z``
    the model's position of the whole sound, by the function ``timbre-explorer encode`` uses
    (:func:`~timbre_explorer.core.synthesis.analysis.encode_files`: sounding frames, estimated pitch and level);
``logspec``
    the mean of the same sounding log-magnitude frames of the model's own transform (a baseline);
``mfcc``
    the paper's MFCC baseline: 40 coefficients of a 128-band HTK mel spectrogram (2048-point FFT, hop 512, 44.1
    kHz, dB with an 80 dB floor), not time-averaged; of each pair the shorter sound is padded with silence to the
    longer's length, and the flattened coefficients are compared (the paper reports 0.442, this module 0.4416);
``mfcc_mean``
    the same MFCCs averaged over time, no padding (the paper reports 0.383, this module 0.3825). Both reproduced
    on the 21 studies check the reading and the scoring against the paper's code.

It lives in ``synthesis`` because ``z`` is placed by ``encode``'s own function, which lives here; ``training`` may
not import ``synthesis``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import AudioFileError, ParameterError
from timbre_explorer.core.signal.audio_io import AUDIO_SUFFIXES, load_audio

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import TimbreSpace

#: The environment variable that names the suite's folder for ``benchmarks/run.py``.
SUITE_ENV = "TIMBRE_EXPLORER_PEER_SUITE"
MATRIX_SUFFIX = "_dissimilarity_matrix.txt"
PLACEMENTS = ("z", "logspec", "mfcc", "mfcc_mean")

MFCC_RATE = 44100
MFCC_FFT, MFCC_HOP, MFCC_MELS, MFCC_COEFFS, MFCC_TOP_DB = 2048, 512, 128, 40, 80.0


@dataclass(frozen=True)
class Study:
    """One published study: its stimuli (sorted by file name) and their rated dissimilarities ``[n, n]``
    (symmetric, zero diagonal)."""

    name: str
    files: tuple[Path, ...]
    dissimilarity: np.ndarray


@dataclass(frozen=True)
class StudyScore:
    """One study's mean row-wise Spearman for each placement."""

    study: str
    stimuli: int
    scores: dict[str, float]


@dataclass(frozen=True)
class SuiteScore:
    """The suite's scores: over every stimulus of every study (``overall``) and per study."""

    studies: tuple[StudyScore, ...]
    overall: dict[str, float]

    def beaten(self, placement: str = "z", by: str = "logspec") -> list[str]:
        """The studies where ``placement`` scores above ``by``."""
        return [s.study for s in self.studies if s.scores[placement] > s.scores[by]]


def suite_root(folder: str | os.PathLike) -> Path:
    """The folder holding ``sounds/`` and ``true_dissim/``: ``folder`` itself, or its ``timbremetrics/`` (a clone
    of the repository)."""
    root = Path(folder)
    if not root.is_dir():
        raise ParameterError(f"{root}: no such folder")
    for candidate in (root, root / "timbremetrics"):
        if (candidate / "sounds").is_dir() and (candidate / "true_dissim").is_dir():
            return candidate
    raise ParameterError(f"{root}: not a peer suite (it needs sounds/ and true_dissim/, as in the timbremetrics "
                         "repository's timbremetrics/ folder)")


def read_suite(folder: str | os.PathLike) -> list[Study]:
    """Every study of a suite's folder (:func:`suite_root`), sorted by name: each matrix paired with its sounds."""
    root = suite_root(folder)
    matrices = sorted((root / "true_dissim").glob(f"*{MATRIX_SUFFIX}"))
    if not matrices:
        raise ParameterError(f"{root / 'true_dissim'}: no *{MATRIX_SUFFIX} file")
    return [read_study(m, root / "sounds" / m.name.removesuffix(MATRIX_SUFFIX)) for m in matrices]


def read_study(matrix: Path, sounds: Path) -> Study:
    """A study from its matrix file and its folder of sounds; :class:`ParameterError` naming the file when they
    do not fit."""
    if not sounds.is_dir():
        raise ParameterError(f"{sounds}: no such folder (the sounds of {matrix.name})")
    files = tuple(sorted((f for f in sounds.iterdir() if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES),
                         key=lambda f: f.name))
    try:
        m = np.loadtxt(matrix, dtype=np.float64, ndmin=2)
    except (ValueError, OSError) as exc:
        raise ParameterError(f"{matrix}: not a matrix of numbers ({exc})") from None
    if m.shape[0] != m.shape[1]:
        raise ParameterError(f"{matrix}: not square ({m.shape[0]} rows of {m.shape[1]} numbers)")
    if len(m) != len(files):
        raise ParameterError(f"{matrix}: a {len(m)} x {len(m)} matrix for {len(files)} sounds in {sounds}")
    if len(m) < 3:
        raise ParameterError(f"{matrix}: {len(m)} stimuli; a row-wise rank correlation needs at least 3")
    if not np.all(np.isfinite(m)):
        raise ParameterError(f"{matrix}: holds a value that is not a finite number")
    upper = np.triu(m, 1)
    if not upper.any():
        upper = np.triu(m.T, 1)  # a lower-triangular matrix
    if not upper.any():
        raise ParameterError(f"{matrix}: every dissimilarity is zero")
    return Study(matrix.name.removesuffix(MATRIX_SUFFIX), files, upper + upper.T)


def row_spearman(distances: np.ndarray, dissimilarity: np.ndarray) -> np.ndarray:
    """Each stimulus's Spearman ρ ``[n]`` between its row of ``distances`` and its row of ``dissimilarity``
    (both ``[n, n]``), itself left out; ties share their mean rank; 0 where either row is constant."""
    from scipy.stats import rankdata

    d, t = np.asarray(distances, np.float64), np.asarray(dissimilarity, np.float64)
    n = len(t)
    if d.shape != (n, n) or t.shape != (n, n):
        raise ParameterError(f"distances {d.shape} and dissimilarities {t.shape} must be the same n x n")
    off = ~np.eye(n, dtype=bool)
    a = rankdata(d[off].reshape(n, n - 1), axis=1)
    b = rankdata(t[off].reshape(n, n - 1), axis=1)
    a -= a.mean(1, keepdims=True)
    b -= b.mean(1, keepdims=True)
    norm = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return np.divide((a * b).sum(1), norm, out=np.zeros(n), where=norm > 1e-12)


def euclidean(points: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances ``[n, n]`` of ``points [n, d]``."""
    p = np.asarray(points, np.float64)
    return np.linalg.norm(p[:, None] - p[None], axis=-1)


def score(studies: list[Study], distances: dict[str, Callable[[Study], np.ndarray]], *,
          progress: Callable[[int, int, str], None] | None = None) -> SuiteScore:
    """Each placement's row-wise Spearman (``distances``: placement → a study's distance matrix), per study and
    over every stimulus of every study. ``progress(done, total, study)`` is called before each study."""
    rows: dict[str, list[np.ndarray]] = {name: [] for name in distances}
    per_study = []
    for k, study in enumerate(studies):
        if progress is not None:
            progress(k, len(studies), study.name)
        scores = {}
        for name, fn in distances.items():
            r = row_spearman(fn(study), study.dissimilarity)
            rows[name].append(r)
            scores[name] = float(r.mean())
        per_study.append(StudyScore(study.name, len(study.files), scores))
    return SuiteScore(tuple(per_study), {name: float(np.concatenate(r).mean()) if r else float("nan")
                                         for name, r in rows.items()})


def score_space(space: TimbreSpace, folder: str | os.PathLike, *, placements: tuple[str, ...] = PLACEMENTS,
                progress: Callable[[int, int, str], None] | None = None) -> SuiteScore:
    """A timbre space on the suite in ``folder``: the module docstring's placements, per study and overall.

    A stimulus ``encode`` cannot place (too short, silent, clipped) is an :class:`AudioFileError` naming it: a study
    scored without one of its stimuli would not be the study's score.
    """
    unknown = sorted(set(placements) - set(PLACEMENTS))
    if unknown:
        raise ParameterError(f"unknown placements {', '.join(unknown)} (known: {', '.join(PLACEMENTS)})")
    studies = read_suite(folder)
    mfcc = MfccCache()
    fns: dict[str, Callable[[Study], np.ndarray]] = {
        "z": lambda s: euclidean(positions(space, s.files)),
        "logspec": lambda s: euclidean(log_spectra(space, s.files)),
        "mfcc": lambda s: mfcc.padded_distances(s.files),
        "mfcc_mean": lambda s: euclidean(np.stack([mfcc.of(f).mean(1) for f in s.files]))}
    return score(studies, {name: fns[name] for name in placements}, progress=progress)


def positions(space: TimbreSpace, files: tuple[Path, ...]) -> np.ndarray:
    """Each file's ``z`` ``[n, latent]`` as ``timbre-explorer encode`` places it."""
    from timbre_explorer.core.synthesis.analysis import encode_files

    results, problems = encode_files(space, list(files))
    if problems:
        path, reason = problems[0]
        raise AudioFileError(f"{path}: cannot be placed ({reason})")
    return np.array([r.z for r in results], np.float64)


def log_spectra(space: TimbreSpace, files: tuple[Path, ...]) -> np.ndarray:
    """Each file's mean sounding log-magnitude frame ``[n, K]`` of the space's transform, the frames ``encode``
    places."""
    from timbre_explorer.core.synthesis.morph import analyse_note, sounding

    out = []
    for f in files:
        try:
            feats = analyse_note(space, load_audio(f, space.sample_rate)).features
        except AudioFileError as exc:
            raise AudioFileError(f"{f}: cannot be placed ({str(exc).split(f'{f}: ', 1)[-1]})") from None
        out.append(np.asarray(feats.log_magnitude, np.float64)[sounding(feats.loudness)].mean(0))
    return np.stack(out)


class MfccCache:
    """The paper's MFCCs (module docstring) of the suite's files, each file's audio and padded lengths kept."""

    def __init__(self) -> None:
        self._audio: dict[Path, np.ndarray] = {}
        self._mfcc: dict[tuple[Path, int], np.ndarray] = {}
        self._mel: np.ndarray | None = None

    def audio(self, path: Path) -> np.ndarray:
        if path not in self._audio:
            self._audio[path] = load_audio(path, MFCC_RATE)
        return self._audio[path]

    def of(self, path: Path, length: int | None = None) -> np.ndarray:
        """The MFCCs ``[coefficients, frames]`` of ``path``'s audio, padded with silence to ``length`` samples."""
        a = self.audio(path)
        key = (path, max(len(a), length or 0))
        if key not in self._mfcc:
            self._mfcc[key] = mfcc(np.pad(a, (0, key[1] - len(a))), self._filters())
        return self._mfcc[key]

    def padded_distances(self, files: tuple[Path, ...]) -> np.ndarray:
        """Distances ``[n, n]`` of flattened MFCCs, each pair at the longer sound's length."""
        n = len(files)
        d = np.zeros((n, n))
        for i in range(n):
            for j in range(i + 1, n):
                length = max(len(self.audio(files[i])), len(self.audio(files[j])))
                d[i, j] = d[j, i] = np.linalg.norm(self.of(files[i], length) - self.of(files[j], length))
        return d

    def _filters(self) -> np.ndarray:
        if self._mel is None:
            from timbre_explorer.core.signal.mel import mel_filters

            self._mel = mel_filters(MFCC_RATE, MFCC_FFT, n_mels=MFCC_MELS, htk=True, area_normalized=False)
        return self._mel


def mfcc(audio: np.ndarray, mel_filters: np.ndarray) -> np.ndarray:
    """MFCCs ``[MFCC_COEFFS, frames]``: power STFT (periodic Hann, centred with reflection), mel filters, dB
    floored :data:`MFCC_TOP_DB` below the peak, orthonormal DCT-II."""
    from timbre_explorer.core.signal.mel import mfcc as mel_cepstrum
    from timbre_explorer.core.signal.mel import power_to_db, stft_power

    db = power_to_db(mel_filters @ stft_power(audio, MFCC_FFT, MFCC_HOP), amin=1e-10, top_db=MFCC_TOP_DB)
    return mel_cepstrum(db, MFCC_COEFFS)


NAMES = {"z": "the model's z", "logspec": "log-spectrum", "mfcc": "MFCC", "mfcc_mean": "MFCC, time-averaged"}


def table(result: SuiteScore) -> str:
    """The suite's figures as a small text table: each placement overall, then per study."""
    names = [p for p in PLACEMENTS if p in result.overall]
    n = sum(s.stimuli for s in result.studies)
    lines = [f"Peer suite: {len(result.studies)} studies, {n} stimuli, row-wise Spearman (a test; never select "
             "on it)", f"{'':34}" + "".join(f"{NAMES[p]:>22}" for p in names),
             f"{'all stimuli':34}" + "".join(f"{result.overall[p]:>22.3f}" for p in names)]
    lines += [f"{s.study[:30] + f' ({s.stimuli})':34}" + "".join(f"{s.scores[p]:>22.3f}" for p in names)
              for s in result.studies]
    if "z" in names and "logspec" in names:
        won = result.beaten("z", "logspec")
        lines.append(f"z beats the log-spectrum on {len(won)} of {len(result.studies)} studies"
                     + (f": {', '.join(won)}" if won else ""))
    return "\n".join(lines)


__all__ = ["PLACEMENTS", "SUITE_ENV", "Study", "StudyScore", "SuiteScore", "read_suite", "read_study",
           "row_spearman", "score", "score_space", "table"]
