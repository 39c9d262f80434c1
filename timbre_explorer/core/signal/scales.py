"""Frequency scales that place the bands of the NSGT, and the named transform presets built on them.

A scale maps a band index to a centre frequency. Five kinds are supported:

``oct``
    Constant-Q: ``bins`` bands per octave from ``fmin``; the band count is
    ``ceil(log2(fmax / fmin) * bins) + 1`` (the convention of Grill's ``nsgt``,
    so the paper's NSGT-CQT, 24 bins/octave over 64-8000 Hz, has 169 bands).
``log``
    ``bins`` bands geometrically spaced from ``fmin`` to ``fmax``.
``lin``
    ``bins`` bands linearly spaced from ``fmin`` to ``fmax``.
``mel``
    ``bins`` bands equally spaced in mel, ``m = 2595 log10(1 + f / 700)``.
``erb``
    ``bins`` bands equally spaced on the ERB-rate scale of Glasberg & Moore
    (1990), ``E = 21.4 log10(1 + 0.00437 f)``.

Each scale also extrapolates one *guard* band below ``fmin`` and one above
``fmax`` (``beyond=1`` in ``nsgt``'s terms). The transform keeps them so that
it stays a frame with perfect reconstruction, while the feature matrix holds
only the ``bins`` bands of the scale itself.

The presets (:data:`PRESETS`) live here, not beside the transform, because a model file names one: the map of a
model opens without torch (:mod:`timbre_explorer.core.synthesis.space`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


SCALE_KINDS = ("oct", "log", "lin", "mel", "erb")


def hz_to_mel(f: ArrayLike) -> np.ndarray | float:
    """Mel of a frequency in Hz (O'Shaughnessy's formula, as ``nsgt``)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=float) / 700.0)


def mel_to_hz(m: ArrayLike) -> np.ndarray | float:
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (np.power(10.0, np.asarray(m, dtype=float) / 2595.0) - 1.0)


def hz_to_erb_rate(f: ArrayLike) -> np.ndarray | float:
    """ERB-rate (ERB number) of a frequency, Glasberg & Moore (1990)."""
    return 21.4 * np.log10(1.0 + 0.00437 * np.asarray(f, dtype=float))


def erb_rate_to_hz(e: ArrayLike) -> np.ndarray | float:
    """Inverse of :func:`hz_to_erb_rate`."""
    return (np.power(10.0, np.asarray(e, dtype=float) / 21.4) - 1.0) / 0.00437


_WARP: dict[str, tuple[Callable, Callable]] = {  # kind: (Hz to the scale's unit, and back)
    "log": (np.log2, np.exp2),
    "oct": (np.log2, np.exp2),  # frequencies() evaluates both as fmin * ratio**k
    "lin": (lambda f: np.asarray(f, dtype=float), lambda u: np.asarray(u, dtype=float)),
    "mel": (hz_to_mel, mel_to_hz),
    "erb": (hz_to_erb_rate, erb_rate_to_hz),
}


@dataclass(frozen=True)
class FrequencyScale:
    """Band placement of an NSGT.

    Parameters
    ----------
    kind : {'oct', 'log', 'lin', 'mel', 'erb'}
        How bands are spaced.
    fmin, fmax : float
        Centre frequencies (Hz) of the lowest and highest band.
    bins : int
        Bands per octave for ``oct``; the number of bands otherwise.
    """

    kind: str
    fmin: float
    fmax: float
    bins: int

    def __post_init__(self) -> None:
        if self.kind not in SCALE_KINDS:
            raise ParameterError(f"unknown frequency scale {self.kind!r}; choose one of {', '.join(SCALE_KINDS)}")
        if not (0 < self.fmin < self.fmax):
            raise ParameterError(f"need 0 < fmin < fmax, got fmin={self.fmin}, fmax={self.fmax}")
        if int(self.bins) != self.bins or self.bins < 2:
            raise ParameterError(f"bins must be an integer >= 2, got {self.bins}")

    @property
    def n_bands(self) -> int:
        """Number of bands of the scale itself (guard bands excluded)."""
        if self.kind == "oct":
            return int(np.ceil((np.log2(self.fmax) - np.log2(self.fmin)) * self.bins)) + 1
        return int(self.bins)

    def frequencies(self, *, beyond: int = 0) -> np.ndarray:
        """Centre frequencies in Hz, with ``beyond`` extrapolated bands on each side.

        Examples
        --------
        >>> FrequencyScale("oct", 100.0, 200.0, 2).frequencies().round(1)
        array([100. , 141.4, 200. ])
        """
        warp, unwarp = _WARP[self.kind]
        lo, hi = warp(self.fmin), warp(self.fmax)
        step = (hi - lo) / (self.n_bands - 1)
        index = np.arange(-beyond, self.n_bands + beyond, dtype=float)
        if self.kind in ("oct", "log"):
            # fmin * ratio**k, evaluated as nsgt does, so window centres that fall
            # on a half bin round the same way as in the reference
            return 2.0 ** (lo - step * beyond) * (2.0 ** step) ** (index + beyond)
        return np.asarray(unwarp(lo + index * step), dtype=float)

    def describe(self) -> str:
        unit = "bins/octave" if self.kind == "oct" else "bins"
        return f"{self.kind.upper()} {self.bins} {unit}, {self.fmin:g}-{self.fmax:g} Hz ({self.n_bands} bands)"


@dataclass(frozen=True)
class TransformPreset:
    """A named transform setting: a frequency scale at a sample rate."""

    name: str
    scale: FrequencyScale
    sample_rate: int = 22050

    def to_dict(self) -> dict:
        s = self.scale
        return {"name": self.name, "kind": s.kind, "fmin": s.fmin, "fmax": s.fmax, "bins": s.bins,
                "sample_rate": self.sample_rate}

    @classmethod
    def from_dict(cls, d: dict) -> TransformPreset:
        try:
            scale = FrequencyScale(str(d["kind"]), float(d["fmin"]), float(d["fmax"]), int(d["bins"]))
            return cls(str(d["name"]), scale, int(d["sample_rate"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"invalid transform preset {d!r}: {exc}") from exc


#: The paper's settings (Esling et al. 2018, section 4.1), at 22,050 Hz up to 8 kHz; then full band (44.1 kHz, bands
#: from 64 Hz to 16 kHz, the paper's band density carried above 8 kHz: 202 ERB bands where the paper has 168 up to
#: 8 kHz, 24 per octave, 213 mel bands). The default stays the paper's until the model learns the band above 8 kHz:
#: trained as today at 44.1 kHz, it decodes that band about 25 dB too loud (docs/research.md, *Full band*).
PRESETS: dict[str, TransformPreset] = {
    "nsgt-erb": TransformPreset("nsgt-erb", FrequencyScale("erb", 64.0, 8000.0, 168)),
    "nsgt-cqt": TransformPreset("nsgt-cqt", FrequencyScale("oct", 64.0, 8000.0, 24)),
    "nsgt-mel": TransformPreset("nsgt-mel", FrequencyScale("mel", 64.0, 8000.0, 168)),
    "nsgt-erb-44k": TransformPreset("nsgt-erb-44k", FrequencyScale("erb", 64.0, 16000.0, 202), 44100),
    "nsgt-cqt-44k": TransformPreset("nsgt-cqt-44k", FrequencyScale("oct", 64.0, 16000.0, 24), 44100),
    "nsgt-mel-44k": TransformPreset("nsgt-mel-44k", FrequencyScale("mel", 64.0, 16000.0, 213), 44100),
}
DEFAULT_PRESET = "nsgt-erb"


def get_preset(name: str) -> TransformPreset:
    """Look a preset up by name (case-insensitive)."""
    try:
        return PRESETS[name.lower()]
    except KeyError:
        raise ParameterError(f"unknown transform preset {name!r}; choose one of {', '.join(PRESETS)}") from None
