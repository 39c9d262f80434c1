"""The shape of a timbre VAE and its normalization, torch-free: training settings validate against them, and a model
file is read and checked (:mod:`~timbre_explorer.core.model.modelfile`), before torch loads (the app draws a model's
map first: torch's import is most of a launch)."""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, TypeGuard, overload

import numpy as np

from timbre_explorer.core.errors import ParameterError

if TYPE_CHECKING:
    import torch

#: How the conditions enter the network: ``(pitch - PITCH_CENTRE) / PITCH_SPAN`` (MIDI), and the same for the
#: level (a frame's mean natural-log magnitude), so both lie about within [-1, 1] over the instruments' ranges.
PITCH_CENTRE, PITCH_SPAN = 60.0, 24.0
LEVEL_CENTRE, LEVEL_SPAN = -7.5, 2.5
#: The pitch a conditioned model plays when none is asked for (middle C).
DEFAULT_PITCH = 60.0

N_CONDITIONS = 2

#: Log-variance ranges. Outside them exp() under- or overflows in float32 and training turns to NaN.
OUTPUT_LOGVAR_RANGE = (-10.0, 5.0)
LATENT_LOGVAR_RANGE = (-20.0, 10.0)

#: A pitch-relative decoder's axis (``decoder_axis`` "pitch"): semitones from the asked pitch, from RELATIVE_LOW
#: (below it, where a note holds only noise) to RELATIVE_HIGH (16 kHz above MIDI 21), RELATIVE_STEPS per semitone
#: (the ERB bands are a third of a semitone apart at 4 kHz).
RELATIVE_LOW, RELATIVE_HIGH, RELATIVE_STEPS = -36.0, 112.0, 3
RELATIVE_POINTS = int((RELATIVE_HIGH - RELATIVE_LOW) * RELATIVE_STEPS) + 1

#: A band extension (``VAEConfig.extension_bins``): an MLP of two hidden layers of EXTENSION_HIDDEN units from the code,
#: the conditions and the decoded band's top EXTENSION_CONTEXT bins (docs/research.md, "The band above 8 kHz").
EXTENSION_HIDDEN, EXTENSION_CONTEXT = 256, 48

_CONFIG_LIMITS = {"n_bins": 4096, "hidden": 8192, "layers": 8, "latent": 512}
#: What a model is conditioned on, besides its latent code: pitch (MIDI) and level (a frame's mean log-magnitude).
CONDITIONINGS = {"none": "none (the paper's model)", "decoder": "pitch and level into the decoder",
                 "both": "pitch and level into the encoder and the decoder"}
#: The axis a decoder's mean is made on: the transform's bins, or semitones above the pitch it is asked for,
#: shifted onto the bins (a note's partials then sit at the same outputs whatever its pitch).
DECODER_AXES = {"bins": "the transform's bins (the paper's)",
                "pitch": "semitones above the asked pitch, shifted onto the bins"}


@dataclass(frozen=True)
class VAEConfig:
    """The shape of a :class:`TimbreVAE`: everything needed to rebuild it before loading weights."""

    n_bins: int = 168
    hidden: int = 512
    layers: int = 3
    latent: int = 16
    conditioning: str = "none"  # a key of CONDITIONINGS; files without it are the paper's unconditioned model
    decoder_axis: str = "bins"  # a key of DECODER_AXES; "pitch" needs a decoder conditioned on pitch
    #: The top bins a band extension makes beside the decoder (``timbre-explorer extend``): the encoder reads, and the
    #: decoder makes, the ``n_bins - extension_bins`` below them; 0: none
    extension_bins: int = 0

    def __post_init__(self) -> None:
        if self.conditioning not in CONDITIONINGS:
            raise ParameterError(f"model setting 'conditioning' must be one of {tuple(CONDITIONINGS)}, "
                                 f"got {self.conditioning!r}")
        if self.decoder_axis not in DECODER_AXES:
            raise ParameterError(f"model setting 'decoder_axis' must be one of {tuple(DECODER_AXES)}, "
                                 f"got {self.decoder_axis!r}")
        if self.decoder_axis == "pitch" and not self.conditioned:
            raise ParameterError("model setting 'decoder_axis' 'pitch' needs a decoder conditioned on pitch "
                                 "('conditioning' 'decoder' or 'both')")
        for name, top in _CONFIG_LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ParameterError(f"model setting '{name}' must be a whole number, got {value!r}")
            if not 1 <= value <= top:
                raise ParameterError(f"model setting '{name}' must be between 1 and {top}, got {value}")
        self._check_extension()

    def _check_extension(self) -> None:
        if not isinstance(self.extension_bins, int) or isinstance(self.extension_bins, bool) \
                or self.extension_bins < 0 or (self.extension_bins and self.encoded_bins < EXTENSION_CONTEXT):
            raise ParameterError(f"model setting 'extension_bins' must be a whole number from 0 to "
                                 f"{max(0, self.n_bins - EXTENSION_CONTEXT)}, got {self.extension_bins!r}")
        if self.extension_bins and (not self.conditioned or self.decoder_axis != "bins"):
            raise ParameterError("a band extension ('extension_bins') needs a decoder conditioned on pitch and level "
                                 "whose axis is the transform's bins")

    @property
    def conditioned(self) -> bool:
        return self.conditioning != "none"

    @property
    def encoded_bins(self) -> int:
        """The bins the encoder reads and the decoder makes: all of a frame's, but a band extension's."""
        return self.n_bins - self.extension_bins

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter and buffer of the :class:`~timbre_explorer.core.model.vae.TimbreVAE` these settings
        build, by its name in the model file, with its shape (all float32): what a file's weights are checked
        against without building the network (a test keeps the two equal)."""
        n_c = N_CONDITIONS if self.conditioned else 0
        shapes: dict[str, tuple[int, ...]] = {}

        def linear(name: str, n_in: int, n_out: int) -> None:
            shapes[f"{name}.weight"], shapes[f"{name}.bias"] = (n_out, n_in), (n_out,)

        low = self.encoded_bins
        for i in range(self.layers):  # the MLPs' Linear layers sit at even indices, each followed by its ReLU
            linear(f"encoder.{2 * i}", self.hidden if i else low + (n_c if self.conditioning == "both" else 0),
                   self.hidden)
        linear("enc_mu", self.hidden, self.latent)
        linear("enc_logvar", self.hidden, self.latent)
        for i in range(self.layers):
            linear(f"decoder.{2 * i}", self.hidden if i else self.latent + n_c, self.hidden)
        relative = self.decoder_axis == "pitch"
        linear("dec_mu", self.hidden, RELATIVE_POINTS if relative else low)
        linear("dec_logvar", self.hidden, low)
        if relative:
            shapes["bin_pitch"] = (self.n_bins,)
        if self.extension_bins:
            linear("extension.0", self.latent + n_c + EXTENSION_CONTEXT, EXTENSION_HIDDEN)
            linear("extension.2", EXTENSION_HIDDEN, EXTENSION_HIDDEN)
            linear("extension.4", EXTENSION_HIDDEN, self.extension_bins)
        return shapes

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> VAEConfig:
        """Validated settings; a missing key takes its default (older files), an unknown one is an error."""
        if not isinstance(d, dict):
            raise ParameterError(f"model settings must be a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ParameterError(f"unknown model settings: {', '.join(map(str, unknown))}")
        return cls(**d)


@dataclass(frozen=True)
class Normalization:
    """Corpus-wide scalar normalization of log-magnitudes.

    As in the paper, one global mean and scale for every bin, so the relative
    intensities between bins (the spectral envelope, i.e. the timbre) are
    kept; ``floor`` bounds the logarithm of silent bins.

    Example
    -------
    >>> norm = Normalization.fit(np.array([1.0, 10.0, 100.0]))
    >>> round(norm.mean, 4), round(norm.scale, 4)
    (2.3026, 1.8801)
    >>> norm.forward(np.array([1.0, 10.0, 100.0])).round(4)
    array([-1.2247,  0.    ,  1.2247])
    >>> np.allclose(norm.inverse(norm.forward(np.array([0.5, 2.0]))), [0.5, 2.0])
    True
    """

    floor: float
    mean: float
    scale: float

    def __post_init__(self) -> None:
        for name in ("floor", "mean", "scale"):
            value = getattr(self, name)
            try:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            except OverflowError:  # an int too large for a float
                ok = False
            if not ok:
                raise ParameterError(f"normalization '{name}' must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.floor <= 0 or self.scale <= 0:
            raise ParameterError(f"normalization floor and scale must be positive, got {self.floor} and {self.scale}")

    @classmethod
    def fit(cls, magnitudes: torch.Tensor | np.ndarray, *, floor: float = 1e-6) -> Normalization:
        """Mean and standard deviation of ``log(max(magnitudes, floor))`` over every value (in float64)."""
        import torch

        if not (isinstance(floor, (int, float)) and math.isfinite(floor) and floor > 0):
            raise ParameterError(f"normalization floor must be a positive number, got {floor!r}")
        mag = torch.as_tensor(magnitudes).detach().to("cpu", torch.float64)
        if mag.numel() == 0:
            raise ParameterError("cannot fit a normalization to no magnitudes")
        if not torch.isfinite(mag).all() or (mag < 0).any():
            raise ParameterError("magnitudes must be finite and non-negative")
        return cls.fit_log(torch.log(mag.clamp_min(floor)), floor=floor)

    @classmethod
    def fit_log(cls, log_magnitudes: torch.Tensor, *, floor: float = 1e-6) -> Normalization:
        """:meth:`fit` from natural-log magnitudes (what the dataset stores)."""
        import torch

        logm = torch.as_tensor(log_magnitudes).detach().to("cpu", torch.float64).clamp_min(math.log(floor))
        if logm.numel() == 0 or not torch.isfinite(logm).all():
            raise ParameterError("cannot fit a normalization to no or non-finite log-magnitudes")
        std = logm.std(correction=0).item()
        if not std > 0:
            raise ParameterError("cannot fit a normalization: every magnitude is the same (silence?)")
        return cls(float(floor), logm.mean().item(), std)

    def from_log(self, log_mag: torch.Tensor) -> torch.Tensor:
        """Natural-log magnitudes to model inputs ``x`` (same as ``forward(exp(log_mag))``)."""
        return (log_mag.clamp_min(math.log(self.floor)) - self.mean) / self.scale

    def forward(self, mag: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """Magnitudes to model inputs ``x``."""
        if _is_tensor(mag):
            return (mag.clamp_min(self.floor).log() - self.mean) / self.scale
        return (np.log(np.maximum(mag, self.floor)) - self.mean) / self.scale

    @overload
    def inverse(self, x: torch.Tensor) -> torch.Tensor: ...
    @overload
    def inverse(self, x: np.ndarray) -> np.ndarray: ...

    def inverse(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """Model outputs back to magnitudes (values below ``floor`` come back as ``floor``)."""
        if _is_tensor(x):
            return (x * self.scale + self.mean).exp()
        return np.exp(x * self.scale + self.mean)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> Normalization:
        if not isinstance(d, dict):
            raise ParameterError(f"normalization must be a mapping, got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        if set(d) != names:
            raise ParameterError(f"normalization needs exactly the keys {sorted(names)}, got {sorted(map(str, d))}")
        return cls(**d)


def _is_tensor(x: object) -> TypeGuard[torch.Tensor]:
    """Whether ``x`` is a torch tensor, without importing torch (nothing can be one before torch is imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)
