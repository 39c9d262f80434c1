"""The shape of a timbre VAE, torch-free: training settings validate against it before torch loads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from timbre_explorer.core.errors import ParameterError

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
