"""The shape of a timbre VAE, torch-free: training settings validate against it before torch loads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from timbre_explorer.core.errors import ParameterError

_CONFIG_LIMITS = {"n_bins": 4096, "hidden": 8192, "layers": 8, "latent": 512}
#: What a model is conditioned on, besides its latent code: pitch (MIDI) and level (a frame's mean log-magnitude).
CONDITIONINGS = {"none": "none (the paper's model)", "decoder": "pitch and level into the decoder",
                 "both": "pitch and level into the encoder and the decoder"}


@dataclass(frozen=True)
class VAEConfig:
    """The shape of a :class:`TimbreVAE`: everything needed to rebuild it before loading weights."""

    n_bins: int = 168
    hidden: int = 512
    layers: int = 3
    latent: int = 16
    conditioning: str = "none"  # a key of CONDITIONINGS; files without it are the paper's unconditioned model

    def __post_init__(self) -> None:
        if self.conditioning not in CONDITIONINGS:
            raise ParameterError(f"model setting 'conditioning' must be one of {tuple(CONDITIONINGS)}, "
                                 f"got {self.conditioning!r}")
        for name, top in _CONFIG_LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ParameterError(f"model setting '{name}' must be a whole number, got {value!r}")
            if not 1 <= value <= top:
                raise ParameterError(f"model setting '{name}' must be between 1 and {top}, got {value}")

    @property
    def conditioned(self) -> bool:
        return self.conditioning != "none"

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
