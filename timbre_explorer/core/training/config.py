"""Training settings, torch-free: the CLI's ``train --config`` file and the Trainer tab's form are one TrainConfig.

Importing this module loads no torch, so the GUI learns the defaults, the choices and what a config lacks
before the first model loads.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from timbre_explorer.core.data.instruments import GENERAL_MIDI, INSTRUMENTS, Instrument, pitch_name
from timbre_explorer.core.data.sources import entry_folder, entry_name, philharmonia_folder, recordings_folder
from timbre_explorer.core.data.webaudiofont import bank_problem
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.model.vae_config import CONDITIONINGS, VAEConfig

if TYPE_CHECKING:
    from timbre_explorer.core.data.recipe import DatasetRecipe

#: The perceptual regularizers, with what each does.
REGULARIZERS = {"kl": "KL to the timbre space (the paper's)", "l2": "L2 to the dissimilarities",
                "none": "none (a plain VAE)"}
#: The augmentations of training frames (:mod:`timbre_explorer.core.training.augment` applies them).
AUGMENTATIONS = {"eq": "spectral tilt and EQ", "lowpass": "low-pass roll-off", "noise": "noise floor",
                 "detune": "detune (±30 cents)", "transpose": "transpose (±5 semitones)"}
#: Where a run trains.
DEVICES = {"auto": "auto (a CUDA GPU when there is one)", "cpu": "CPU", "cuda": "CUDA GPU"}
#: The transform presets of ``core.signal.scales.PRESETS``, described for the Trainer (a test keeps the two equal).
PRESETS = {"nsgt-erb": "NSGT-ERB, 22.05 kHz, to 8 kHz (the paper's best)", "nsgt-cqt": "NSGT-CQT, 22.05 kHz, to 8 kHz "
           "(constant-Q)", "nsgt-mel": "NSGT-Mel, 22.05 kHz, to 8 kHz", "nsgt-erb-44k": "NSGT-ERB, 44.1 kHz, to 16 kHz "
           "(full band)", "nsgt-cqt-44k": "NSGT-CQT, 44.1 kHz, to 16 kHz", "nsgt-mel-44k": "NSGT-Mel, 44.1 kHz, to 16 kHz"}
SOURCES = ("soundfont", "folder")
#: How the decoder's Gaussian spreads its variance over a frame's bins (``vae.shared_logvar``).
LIKELIHOODS = {"bin": "a variance per bin (the paper's code)", "shared": "one variance for every bin of a frame"}
#: The training stages, in the order they run (see :mod:`timbre_explorer.core.training.loop`).
STAGES = ("stage1", "regularized", "baseline", "unconditioned")
STAGE_NAMES = {"stage1": "stage 1", "regularized": "regularized", "baseline": "unregularized",
               "unconditioned": "unconditioned"}
#: The instruments of the bundled timbre studies: the perceptual regularizer needs three of them.
RATED = frozenset(i.name for i in INSTRUMENTS if not i.novel)
#: Which General MIDI programs a SoundFont dataset renders: the 18 orchestral instruments, or every pitched program.
PROGRAMS = {"orchestral": "the 18 orchestral instruments", "general-midi": "every pitched General MIDI program"}
#: The grid of the programs beyond the 18 in a "general-midi" dataset: every WIDE_STEP semitones at WIDE_DYNAMICS,
#: so ~100 programs of three sample sets still train on 2 CPU cores (docs/research.md, "Every General MIDI program").
WIDE_STEP = 3
WIDE_DYNAMICS = ("p", "mf", "ff")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; a JSON file of these keys is ``train --config``.

    Defaults are ours, chosen to train in minutes on 2 CPU cores; the paper's
    settings differ where noted (see docs/research.md, "Training").
    """

    # data
    source: str = "soundfont"  # 'soundfont' or 'folder'
    folder: str | None = None
    soundfont: str | None = None  # a SoundFont file in place of the system's FluidR3_GM
    # the sample sets rendered (short names or SoundFont files; philharmonia=FOLDER reads the Philharmonia samples,
    # named Philharmonia); the default trains on four and keeps FreePats, which shares no recording with them, out of
    # training as the cross-source test (see docs/research.md, "Training across sources")
    sources: tuple[str, ...] = ("FluidR3_GM", "MuseScore_General", "TimGM6mb", "sf_GMbank", "freepats")
    preset: str = next(iter(PRESETS))
    hold_out: tuple[str, ...] | None = None  # None: the source's default
    programs: str = "general-midi"  # a key of PROGRAMS: which General MIDI programs the SoundFonts render
    instruments: tuple[str, ...] | None = None  # the SoundFont instruments rendered; None: all of the programs
    pitch_range: tuple[int, int] | None = None  # the SoundFont's MIDI pitches rendered (inclusive); None: all
    split_seed: int = 0
    # a source in sources kept out of training: the cross-source test notes (one not in sources is ignored)
    cross_test: str | None = "freepats"
    cross_valid: str | None = None  # another one: cross-source validation notes (for choosing settings)
    ratings: str | None = None  # a dissimilarity matrix or pooled-ratings CSV; None: the five studies
    mds_dims: int = 6
    # model (paper: 3 x 2000, latent 64)
    hidden: int = 512
    layers: int = 3
    latent: int = 16
    conditioning: str = "both"  # a key of CONDITIONINGS ('none': the paper's model)
    decoder_axis: str = "bins"  # a key of DECODER_AXES ('pitch': the decoder's mean made relative to the pitch)
    # optimisation (paper: Adam 1e-4, beta 2 over 100 epochs, alpha 0.1, 10,000 + 10,000 epochs)
    epochs_stage1: int = 30
    epochs_stage2: int = 40  # 30 + 40: every General MIDI program of four sets in about 18 min of CPU
    frames_per_note: int = 2  # 2: every pitched program of four sets trains in the time 4 took for the 18
    batch_size: int = 256
    lr: float = 1e-3
    beta: float = 0.5  # chosen with the conditioned model (docs/research.md: "Conditioning"); the paper: 2
    warmup_epochs: int = 20
    likelihood: str = "bin"  # a key of LIKELIHOODS
    band_weight: float = 0.0  # weight of the half-octave band-energy error (vae.band_energy_error); 0: none
    augment: tuple[str, ...] = ()  # names of core.training.augment.AUGMENTATIONS applied to training frames
    partner_share: float = 0.5  # share of frames a conditioned model rebuilds from another note of the instrument
    partner_semitones: int = 3  # how far (semitones) that other note may be
    regularizer: str = "kl"
    alpha: float = 400.0  # chosen on cross-source validation notes; see docs/research.md (paper: 0.1)
    timbre_scale: float = 10.0  # MDS positions are multiplied by this before the Student-t kernel
    baseline: bool = False  # also train the unregularized twin from the same stage 1
    compare_unconditioned: bool = True  # a conditioned run also trains the paper's unconditioned model beside it
    seed: int = 0
    device: str = "auto"  # 'auto' (CUDA when torch sees a GPU, else the CPU), 'cpu' or 'cuda'
    dump_rank_weights: bool = False  # each rank writes its final weights (the DDP test reads them)

    def __post_init__(self) -> None:  # noqa: C901
        if self.source not in SOURCES:
            raise ParameterError(f"source must be 'soundfont' or 'folder', got {self.source!r}")
        if self.source == "folder" and not self.folder:
            raise ParameterError("source 'folder' needs 'folder': the sample folder")
        if self.device not in DEVICES:
            raise ParameterError(f"device must be one of {tuple(DEVICES)}, got {self.device!r}")
        if self.conditioning not in CONDITIONINGS:
            raise ParameterError(f"conditioning must be one of {tuple(CONDITIONINGS)}, got {self.conditioning!r}")
        if self.likelihood not in LIKELIHOODS:
            raise ParameterError(f"likelihood must be one of {tuple(LIKELIHOODS)}, got {self.likelihood!r}")
        if self.regularizer not in REGULARIZERS:
            raise ParameterError(f"regularizer must be one of {tuple(REGULARIZERS)}, got {self.regularizer!r}")
        for name, least in (("epochs_stage1", 0), ("epochs_stage2", 0), ("warmup_epochs", 0), ("partner_semitones", 0),
                            ("frames_per_note", 1), ("batch_size", 1)):
            if getattr(self, name) < least:
                raise ParameterError(f"{name} must be at least {least}, got {getattr(self, name)}")
        if not (isinstance(self.partner_share, (int, float)) and 0.0 <= self.partner_share <= 1.0):
            raise ParameterError(f"partner_share must be a share from 0 to 1, got {self.partner_share!r}")
        for name in ("lr", "beta", "alpha", "timbre_scale", "band_weight"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ParameterError(f"{name} must be a non-negative number, got {v!r}")
        unknown = sorted(set(self.augment) - set(AUGMENTATIONS))
        if isinstance(self.augment, str) or unknown:
            raise ParameterError(f"augment must be a list of {', '.join(AUGMENTATIONS)}, got {self.augment!r}")
        object.__setattr__(self, "augment", tuple(self.augment))
        if self.source == "soundfont" and not isinstance(self.sources, str) and not self.sources:
            raise ParameterError("no sample set trains: choose at least one (sources is empty)")
        if isinstance(self.sources, str) or not self.sources or len(set(self.sources)) < len(self.sources):
            raise ParameterError(f"sources must be a list of distinct sample sets, got {self.sources!r}")
        object.__setattr__(self, "sources", tuple(self.sources))
        folders = [philharmonia_folder(s) for s in self.sources if philharmonia_folder(s) is not None]
        if len(folders) > 1 or "" in folders:
            raise ParameterError(f"sources: name one Philharmonia folder as philharmonia=FOLDER, got {self.sources!r}")
        if "" in map(recordings_folder, self.sources):
            raise ParameterError("sources: folder=FOLDER needs the folder of your recordings")
        names = {s: entry_name(s) for s in self.sources}
        twins = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
        if twins:
            raise ParameterError(f"sources: two sample sets would both be named {twins[0]} (a folder's notes carry "
                                 "its name): rename one of the folders")
        for name in ("cross_test", "cross_valid"):  # one that is not a rendered sample set keeps nothing out
            held = names.get(getattr(self, name), getattr(self, name))  # philharmonia=FOLDER holds out Philharmonia
            object.__setattr__(self, name, held if self.source == "soundfont" and held in names.values() else None)
        if self.cross_test is not None and self.cross_test == self.cross_valid:
            raise ParameterError(f"cross_test and cross_valid must be different sources, both are {self.cross_test!r}")
        if len([s for s in (self.cross_test, self.cross_valid) if s]) >= len(self.sources):
            raise ParameterError("holding out the cross-source test and validation sources leaves none to train on: "
                                 "choose at least one sample set to train")
        if self.hold_out is not None:
            object.__setattr__(self, "hold_out", tuple(self.hold_out))
        if self.programs not in PROGRAMS:
            raise ParameterError(f"programs must be one of {tuple(PROGRAMS)}, got {self.programs!r}")
        if self.instruments is not None:
            object.__setattr__(self, "instruments", tuple(self.instruments))
            known = [i.name for i in program_table(self.programs)]
            unknown = sorted(set(self.instruments) - set(known))
            if unknown:
                raise ParameterError(f"instruments: {', '.join(unknown)} are not SoundFont instruments of programs "
                                     f"{self.programs!r} (known: {', '.join(known)})")
        if self.pitch_range is not None:
            pitches = tuple(self.pitch_range)
            if len(pitches) != 2 or not all(isinstance(p, int) for p in pitches) \
                    or not 0 <= pitches[0] <= pitches[1] <= 127:
                raise ParameterError(f"pitch_range must be two MIDI pitches, the low one first, within 0-127, got "
                                     f"{self.pitch_range!r}")
            object.__setattr__(self, "pitch_range", pitches)
        VAEConfig(hidden=self.hidden, layers=self.layers, latent=self.latent, conditioning=self.conditioning,
                  decoder_axis=self.decoder_axis)  # validates them

    # ------------------------------------------------------------------ the schedule
    @property
    def regularized(self) -> bool:
        """Whether stage 2 has a perceptual term (a regularizer, and α above 0)."""
        return self.regularizer != "none" and self.alpha > 0

    def stages(self) -> dict[str, int]:
        """The stages this config runs, in order, with their epochs (the baseline only beside a regularized
        stage 2: without one it would repeat it)."""
        stage1, regularized, baseline, unconditioned = STAGES
        stages = {stage1: self.epochs_stage1, regularized: self.epochs_stage2}
        if self.baseline and self.regularized:
            stages[baseline] = self.epochs_stage2
        if self.compare_unconditioned and self.conditioning != "none":
            stages[unconditioned] = self.epochs_stage1 + self.epochs_stage2  # its own stage 1, then regularized
        return stages

    def total_epochs(self) -> int:
        return sum(self.stages().values())

    def problems(self, *, instruments: Iterable[str] | None = None, cuda: bool | None = None,  # noqa: C901
                 soundfont_unavailable: str | None = None) -> list[str]:
        """Why this config cannot train here, beyond what constructing it checks (an empty list: it can).

        What only the caller knows is passed in, each check skipped when it is None: ``instruments``, the
        source's instruments; ``cuda``, whether torch sees a GPU; ``soundfont_unavailable``, why the
        SoundFont source cannot run.
        """
        out = []
        if self.epochs_stage1 + self.epochs_stage2 == 0:
            out.append("Nothing to train: give stage 1 or stage 2 some epochs.")
        renders = self.source == "soundfont" and any(entry_folder(s) is None for s in self.sources)  # a sample set
        if renders and soundfont_unavailable and not self.soundfont:
            out.append(soundfont_unavailable)
        if renders and not soundfont_instruments(self):
            low, high = self.pitch_range or (0, 127)
            out.append(f"No chosen instrument plays between {pitch_name(low)} and {pitch_name(high)}: widen the "
                       "pitch range, or choose other instruments.")
        if self.source == "folder":
            if not self.folder:
                out.append("Choose the folder of your samples.")
            elif not Path(self.folder).expanduser().is_dir():
                out.append(f"{self.folder}: no such folder.")
        for entry in self.sources if self.source == "soundfont" else ():
            if (problem := bank_problem(entry)) is not None:
                out.append(f"{problem}.")
                continue
            folder = entry_folder(entry)
            if folder is not None and not Path(folder).expanduser().is_dir():  # as the source reads it
                what = ("the Philharmonia samples" if philharmonia_folder(entry) is not None else "your recordings"
                        if recordings_folder(entry) is not None else "WebAudioFont's wavetables")
                out.append(f"{folder}: no such folder ({entry.split('=')[0]}=FOLDER names {what}).")
        if self.device == "cuda" and cuda is False:
            out.append("The device is CUDA, but torch sees no CUDA GPU here: choose auto or CPU.")
        if self.regularizer != "none" and self.alpha == 0:
            out.append("α is 0, so the perceptual regularizer would do nothing: set α above 0, "
                       "or the regularizer to none.")
        if instruments is not None:
            names, held = list(instruments), set(self.hold_out or ())
            if names and all(n in held for n in names):
                out.append("Every instrument is held out: check at least one to train on.")
            rated = [n for n in names if n in RATED]
            if self.regularizer != "none" and self.ratings is None and len(rated) < 3:
                out.append(f"Only {len(rated)} of these instruments were rated in the timbre studies "
                           f"({', '.join(sorted(RATED))}); the perceptual regularizer needs 3. Name folders after "
                           "them, or set the regularizer to none.")
        return out

    # ------------------------------------------------------------------ the JSON file
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for key in ("sources", "augment", "hold_out", "instruments", "pitch_range"):
            d[key] = list(d[key]) if d[key] is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ParameterError(f"unknown training settings: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        try:
            return cls(**d)
        except TypeError as exc:
            raise ParameterError(f"bad training settings: {exc}") from None

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> TrainConfig:
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ParameterError(f"{path}: not a readable JSON training config ({exc})") from None
        if not isinstance(d, dict):
            raise ParameterError(f"{path}: a training config is a JSON object of settings")
        return cls.from_dict(d)

    def dataset_recipe(self) -> DatasetRecipe:
        """The dataset this config trains on, in the plain values the data layer builds it from."""
        from timbre_explorer.core.data.recipe import DatasetRecipe

        return DatasetRecipe(folder=self.folder if self.source == "folder" else None,
                             sample_sets=soundfont_sources(self), instruments=soundfont_instruments(self),
                             folder_instruments=self.instruments, preset=self.preset, hold_out=self.hold_out,
                             seed=self.split_seed)

    def save(self, path: str | os.PathLike) -> None:
        """Write the JSON file ``train --config`` takes, atomically."""
        from timbre_explorer.core.files import write_json

        write_json(path, self.to_dict())


def soundfont_sources(cfg: TrainConfig) -> tuple[str, ...]:
    """The sample sets a config renders, as short names or files: ``soundfont``, when set, stands for FluidR3_GM
    (``philharmonia=FOLDER`` and ``folder=FOLDER`` stay as they are)."""
    return tuple(cfg.soundfont if name == "FluidR3_GM" and cfg.soundfont else name for name in cfg.sources)


def program_table(programs: str) -> tuple[Instrument, ...]:
    """The instruments of a :data:`PROGRAMS` choice, the programs beyond the 18 on the wide grid
    (:data:`WIDE_STEP`, :data:`WIDE_DYNAMICS`)."""
    if programs == "orchestral":
        return INSTRUMENTS
    return tuple(i if i in INSTRUMENTS else dataclasses.replace(i, step=WIDE_STEP, dynamics=WIDE_DYNAMICS)
                 for i in GENERAL_MIDI)


def soundfont_instruments(cfg: TrainConfig) -> tuple[Instrument, ...]:
    """The SoundFont instruments a config renders (all of its programs by default), each cut to its pitch range."""
    low, high = cfg.pitch_range or (0, 127)
    chosen = [i for i in program_table(cfg.programs) if cfg.instruments is None or i.name in cfg.instruments]
    return tuple(dataclasses.replace(i, low=max(i.low, low), high=min(i.high, high)) for i in chosen
                 if max(i.low, low) <= min(i.high, high))

