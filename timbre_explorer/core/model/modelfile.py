"""Model files: one ``NAME.timbre.safetensors`` holds a trained timbre space.

The file is plain safetensors (tensors and a JSON header, never pickle, so
opening a file from someone else cannot run code):

* ``vae.<parameter>``: the weights of the :class:`TimbreVAE`;
* any extra float32 / int64 tensors (``map.z``, ``map.instrument``, ..., and the decoder's calibration
  ``decoder.gain``, :mod:`~timbre_explorer.core.model.calibration`, checked here when a file has one);
* in the header metadata, one key ``"timbre_explorer"`` whose value is a JSON
  document: the format and its version, the app version, the
  :class:`VAEConfig`, the :class:`Normalization`, and whatever else the
  trainer records (preset, instruments, training settings, seed, metrics).

:func:`load_model` checks everything before building anything and turns every
problem into a :class:`ModelFileError` that names the file, since users open
files from anywhere: other versions, other programs, half-copied downloads.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from timbre_explorer.core.errors import ModelFileError, ParameterError
from timbre_explorer.core.files import write_bytes
from timbre_explorer.core.model.calibration import GAIN_TENSOR, check_gain
from timbre_explorer.core.model.vae_config import Normalization, VAEConfig

if TYPE_CHECKING:
    import torch

    from timbre_explorer.core.model.vae import TimbreVAE

FORMAT = "timbre-explorer-model"
FORMAT_VERSION = 2  # 2: extras may be stored as float16 and int16 (read back as float32 and int64)
MAX_FILE_BYTES = 512 << 20
MAX_HEADER_BYTES = 16 << 20
SUFFIX = ".timbre.safetensors"
METADATA_KEY = "timbre_explorer"
WEIGHT_PREFIX = "vae."
MAX_WEIGHT = 1e4  # a trained VAE's weights are far smaller; 1e30 overflows every layer to inf
MAX_VALUE = 1e7  # any other stored number: latent points, descriptors (Hz, dB)
CARD_SCHEMA = Path(__file__).with_name("card.schema.json")
#: The map of notes a card carries: name, dtype kind (f float, i integer), and its shape in notes and latent size.
MAP_TENSORS = {"map.z": ("f", ("notes", "latent")), "map.instrument": ("i", ("notes",)),
               "map.pitch": ("i", ("notes",)), "map.dynamic": ("i", ("notes",)), "map.split": ("i", ("notes",)),
               "map.descriptors": ("f", ("notes", "descriptors"))}
#: Map tensors a file may lack (written before they existed): ``map.source`` indexes the card's ``sources``.
OPTIONAL_MAP_TENSORS = {"map.source": ("i", ("notes",)), "map.envelope": ("f", ("notes", "envelope"))}
#: Points of a note's level curve in ``map.envelope``, evenly over ``note_seconds`` from its onset.
ENVELOPE_POINTS = 48

#: JSON keys that come from :func:`save_model`'s own arguments, not from ``meta``.
_RESERVED = ("format", "format_version", "config", "normalization")
_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
#: How extras may be stored, and what they are read back as: the map is most of a file that ships in the app.
_STORED_EXTRAS = {"F32": np.float32, "I64": np.int64, "F16": np.float32, "I16": np.int64}
#: Extras stored in half precision, when every value fits: a level curve in dB and descriptors (Hz, dB) need no
#: more than its 3 significant digits. Latent points stay float32 (a click finds the nearest).
HALF_PRECISION = frozenset({"map.envelope", "map.descriptors", "decoder.gain"})


@dataclass
class ModelFile:
    """A model file's contents, validated: enough to rebuild the VAE and the app's state around it. Read in numpy,
    so a model's map is there before torch is imported (:meth:`build_model` imports it)."""

    config: VAEConfig
    normalization: Normalization
    weights: dict[str, np.ndarray]  # the VAE's state dict, without the "vae." prefix
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # the extras (float32 and int64, however stored)
    meta: dict = field(default_factory=dict)  # the rest of the JSON document, app_version included

    def build_model(self) -> TimbreVAE:
        """The VAE in eval mode, every weight loaded (strictly)."""
        import torch

        from timbre_explorer.core.model.vae import TimbreVAE

        model = TimbreVAE(self.config)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in self.weights.items()}, strict=True)
        return model.eval()


# ---------------------------------------------------------------------------- saving
def save_model(path: str | os.PathLike, *, model: TimbreVAE, normalization: Normalization, meta: dict,  # noqa: C901
               tensors: Mapping[str, torch.Tensor | np.ndarray] | None = None) -> None:
    """Write ``model`` and everything needed to use it to ``path``, atomically.

    Everything is checked before the file is touched, so a failed save leaves
    an existing file as it was. Weights are stored as float32; ``tensors`` (the extras: float32 or int64 tensors
    or arrays, a loaded file's :attr:`ModelFile.arrays` among them) as :func:`_compact` makes them;
    ``app_version`` is always the running version; ``meta`` must be JSON
    without NaN and may not use the keys set from the arguments (format,
    format_version, config, normalization).
    """
    from timbre_explorer.core.model.vae import TimbreVAE

    if not isinstance(model, TimbreVAE):
        raise ParameterError(f"save_model needs a TimbreVAE, got {type(model).__name__}")
    if not isinstance(normalization, Normalization):
        raise ParameterError(f"save_model needs a Normalization, got {type(normalization).__name__}")
    if not isinstance(meta, dict):
        raise ParameterError(f"model metadata must be a dict, got {type(meta).__name__}")
    clash = sorted(set(meta) & set(_RESERVED))
    if clash:
        raise ParameterError(f"model metadata may not set {', '.join(clash)}: they come from the model itself")
    from timbre_explorer import __version__

    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__,
           "config": model.config.to_dict(), "normalization": normalization.to_dict(),
           **{k: v for k, v in meta.items() if k != "app_version"}}
    try:
        text = json.dumps(doc, allow_nan=False)  # ASCII: any string survives the safetensors header
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"model metadata cannot be saved as JSON: {exc}") from None

    import torch

    out: dict[str, np.ndarray] = {}
    for name, t in model.state_dict().items():
        a = np.ascontiguousarray(t.detach().to("cpu", torch.float32).numpy())
        if not np.isfinite(a).all():
            raise ParameterError(f"the model's weights hold NaN or infinite values ({name}): training diverged?")
        out[WEIGHT_PREFIX + name] = a
    for name, t in (tensors or {}).items():
        if not isinstance(name, str) or not name or name.startswith(WEIGHT_PREFIX):
            raise ParameterError(f"extra tensor names must be non-empty and not start with '{WEIGHT_PREFIX}', "
                                 f"got {name!r}")
        a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t
        if not isinstance(a, np.ndarray) or a.dtype not in _DTYPES:
            raise ParameterError(f"extra tensor '{name}' must be a float32 or int64 tensor, got "
                                 f"{getattr(t, 'dtype', type(t).__name__)}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ParameterError(f"extra tensor '{name}' holds NaN or infinite values")
        out[name] = _compact(name, np.ascontiguousarray(a))
    header = len(json.dumps(text)) + 200 * len(out)  # a generous bound on the safetensors header
    size = sum(a.nbytes for a in out.values()) + header
    if size > MAX_FILE_BYTES or header > MAX_HEADER_BYTES:  # load_model would refuse it
        raise ParameterError(f"the model or its metadata is too large to save ({size >> 20} MB in all, "
                             f"{header >> 20} MB of header; at most {MAX_FILE_BYTES >> 20} and "
                             f"{MAX_HEADER_BYTES >> 20} MB)")

    from safetensors.numpy import save

    write_bytes(path, save(out, metadata={METADATA_KEY: text}))  # a full disk: an OSError naming the file


# ---------------------------------------------------------------------------- loading
def load_model(path: str | os.PathLike, *, expected: dict | None = None, card: bool = False) -> ModelFile:
    """Read and validate a model file; every problem is a :class:`ModelFileError` naming the file.

    The safetensors header is parsed here first, and the tensors' names,
    shapes and dtypes are checked against the settings, before the
    safetensors library sees the data. Nothing is ever unpickled. With
    ``expected``, each of its keys must have that value in the file's
    metadata (e.g. ``{"preset": "nsynth-168"}``). The metadata keys a card
    knows must have its types (``card.schema.json``); with ``card``, the
    whole card and its map must be there and agree (:func:`check_card`).
    """
    path = Path(path)
    data = _read_bytes(path)
    header = _parse_header(path, data)
    doc = _document(path, header)
    try:
        config = VAEConfig.from_dict(doc.get("config"))
        normalization = Normalization.from_dict(doc.get("normalization"))
    except ParameterError as exc:
        raise ModelFileError(f"{path}: invalid model settings: {exc}") from None
    meta = {k: v for k, v in doc.items() if k not in _RESERVED}
    _check_schema(path, {**meta, "normalization": doc.get("normalization")}, required=card)
    for key, value in (expected or {}).items():
        if meta.get(key) != value:
            raise ModelFileError(f"{path}: this model's {key} is {meta.get(key)!r}, expected {value!r}")

    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    _check_layout(path, config, entries)
    try:
        from safetensors.numpy import load as load_bytes

        loaded = load_bytes(data)
    except Exception as exc:  # the library's own errors are many and unexported: all mean "damaged"
        raise ModelFileError(f"{path}: the model file is damaged ({exc})") from None
    del data
    _check_values(path, loaded)
    state = {k[len(WEIGHT_PREFIX):]: v for k, v in loaded.items() if k.startswith(WEIGHT_PREFIX)}
    extras = {k: v.astype(_STORED_EXTRAS[entries[k]["dtype"]], copy=False) for k, v in loaded.items()
              if not k.startswith(WEIGHT_PREFIX)}
    if GAIN_TENSOR in extras:
        check_gain(path, extras[GAIN_TENSOR], n_bins=config.n_bins, conditioned=config.conditioned)
    mf = ModelFile(config, normalization, state, extras, meta)
    if card:
        check_card(path, mf)
    return mf


def _check_values(path: Path, loaded: dict[str, np.ndarray]) -> None:
    """Every floating tensor finite and within its bound (a damaged or hostile file), one sentence naming it.

    In numpy, on one thread: torch's reductions wait for all its threads, up to 10 times slower on a busy machine
    (the bundled model's checks: 1.1 s of the app's launch there)."""
    for name, t in loaded.items():
        if t.dtype.kind != "f":
            continue
        magnitude = np.abs(t)
        if not np.isfinite(magnitude).all():
            raise ModelFileError(f"{path}: tensor '{name}' holds NaN or infinite values: the model is unusable")
        limit = MAX_WEIGHT if name.startswith(WEIGHT_PREFIX) else MAX_VALUE
        if magnitude.size and float(magnitude.max()) > limit:
            raise ModelFileError(f"{path}: tensor '{name}' holds values up to {float(magnitude.max()):.3g}, beyond "
                                 f"{limit:g}: the model is damaged")


@cache
def _card_schema() -> dict:
    return json.loads(CARD_SCHEMA.read_text(encoding="utf-8"))


def _check_schema(path: Path, meta: dict, *, required: bool) -> None:
    """The card's keys (and the normalization, whose range it bounds) against ``card.schema.json``: one sentence
    for the first problem, naming the key."""
    import jsonschema

    schema = _card_schema() if required else {k: v for k, v in _card_schema().items() if k != "required"}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(meta))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the card"
        raise ModelFileError(f"{path}: invalid model card ({where}: {error.message})")


def check_card(path: str | os.PathLike, mf: ModelFile) -> None:  # noqa: C901
    """What a schema cannot say: the map's tensors agree with the latent size, the note count and the card's
    lists, their codes are in range, and the preset is one this version knows."""
    from timbre_explorer.core.signal.scales import get_preset
    from timbre_explorer.core.signal.units import DESCRIPTORS

    meta, t = mf.meta, mf.arrays
    try:
        get_preset(meta["preset"])
    except ParameterError as exc:
        raise ModelFileError(f"{path}: invalid model card (preset: {exc})") from None
    missing = [k for k in MAP_TENSORS if k not in t]
    if missing:
        raise ModelFileError(f"{path}: no map of notes ({', '.join(missing)} missing); files written by "
                             "`timbre-explorer train` have one")
    sizes = {"notes": t["map.z"].shape[0] if t["map.z"].ndim else -1, "latent": mf.config.latent,
             "descriptors": len(DESCRIPTORS), "envelope": ENVELOPE_POINTS}
    for name, (kind, dims) in {**MAP_TENSORS, **OPTIONAL_MAP_TENSORS}.items():
        if name not in t:
            continue
        want = [sizes[d] for d in dims]
        if list(t[name].shape) != want or (t[name].dtype.kind == "f") != (kind == "f"):
            raise ModelFileError(f"{path}: the map does not agree with the model ({name} is "
                                 f"{t[name].dtype} {list(t[name].shape)}, expected "
                                 f"{'float' if kind == 'f' else 'integer'} {want}: "
                                 f"{', '.join(f'{d} {sizes[d]}' for d in dims)})")
    if len(meta["families"]) != len(meta["instruments"]):
        raise ModelFileError(f"{path}: invalid model card ({len(meta['families'])} families for "
                             f"{len(meta['instruments'])} instruments)")
    for name, low, high in (("map.instrument", 0, len(meta["instruments"])), ("map.dynamic", -1, len(meta["dynamics"])),
                            ("map.split", 0, len(meta["splits"])), ("map.pitch", -1, 128),
                            ("map.source", 0, len(meta.get("sources") or []))):
        codes = t.get(name)
        if codes is None:
            continue
        if codes.size and (int(codes.min()) < low or int(codes.max()) >= high):
            raise ModelFileError(f"{path}: the map's {name} holds codes from {int(codes.min())} to "
                                 f"{int(codes.max())}, outside {low} to {high - 1}")
    positions = t.get("perception.positions")
    rated = len(meta.get("perceptual_instruments") or [])
    if positions is not None and (positions.ndim != 2 or positions.shape[0] != rated):
        raise ModelFileError(f"{path}: perception.positions is {list(positions.shape)}, expected one row for "
                             f"each of the {rated} perceptual instruments")


def _read_bytes(path: Path) -> bytes:
    """The whole file, once: what is validated is what is loaded."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ModelFileError(f"{path}: not a model file (not a regular file)")
        if st.st_size > MAX_FILE_BYTES:
            raise ModelFileError(f"{path}: the file is too large for a model ({st.st_size >> 20} MB; "
                                 f"at most {MAX_FILE_BYTES >> 20} MB)")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:  # it grew since stat()
        raise ModelFileError(f"{path}: the file is too large for a model (at most {MAX_FILE_BYTES >> 20} MB)")
    return data


def _parse_header(path: Path, data: bytes) -> dict:
    """The safetensors header (an 8-byte little-endian length, then JSON), checked against the file's size."""
    not_ours = f"{path}: not a Timbre Explorer model (not a safetensors file"
    if len(data) < 8:
        raise ModelFileError(f"{not_ours}: {'empty' if not data else 'too short'})")
    n = int.from_bytes(data[:8], "little")
    if n < 2 or n > MAX_HEADER_BYTES or n > len(data) - 8:
        raise ModelFileError(f"{not_ours}: invalid header length {n})")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ModelFileError(f"{not_ours}: the header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{not_ours}: the header is not a JSON object)")
    available = len(data) - 8 - n
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, stop = entry["data_offsets"]
            ok = (isinstance(entry["dtype"], str) and isinstance(entry["shape"], list)
                  and all(type(d) is int and d >= 0 for d in entry["shape"])
                  and type(begin) is int and type(stop) is int and 0 <= begin <= stop)
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            raise ModelFileError(f"{not_ours}: invalid entry for tensor '{name}')")
        end = max(end, stop)
    if end > available:
        raise ModelFileError(f"{path}: the model file is truncated ({end - available} bytes missing): "
                             "copy or download it again")
    return header


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _document(path: Path, header: dict) -> dict:
    """Our JSON document from the header metadata, its format and version checked."""
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
        raise ModelFileError(f"{path}: not a Timbre Explorer model (a safetensors file without Timbre Explorer "
                             "metadata)")
    try:
        doc = json.loads(metadata[METADATA_KEY], parse_constant=_no_constant)
    except (TypeError, ValueError, RecursionError):
        raise ModelFileError(f"{path}: the model's metadata is damaged (not JSON)") from None
    if not isinstance(doc, dict):
        raise ModelFileError(f"{path}: the model's metadata is damaged (not a JSON object)")
    if doc.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a Timbre Explorer model (format {doc.get('format')!r})")
    version = doc.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: the model's metadata is damaged (format version {version!r})")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path}: this model was made by a newer version of Timbre Explorer "
                             f"({doc.get('app_version', 'unknown')}, model format {version}; this version reads "
                             f"format {FORMAT_VERSION}): please update Timbre Explorer")
    return doc


def _check_layout(path: Path, config: VAEConfig, entries: dict) -> None:
    """Weight names, shapes and dtypes against the VAE ``config`` builds (:meth:`VAEConfig.weight_shapes`)."""
    want = {WEIGHT_PREFIX + k: v for k, v in config.weight_shapes().items()}
    have = {k: v for k, v in entries.items() if k.startswith(WEIGHT_PREFIX)}
    mismatch = f"{path}: the model's weights do not match its settings"
    missing, unexpected = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    if missing:
        raise ModelFileError(f"{mismatch} (missing {', '.join(missing[:5])}{'...' if len(missing) > 5 else ''})")
    if unexpected:
        raise ModelFileError(f"{mismatch} (unexpected {', '.join(unexpected[:5])}"
                             f"{'...' if len(unexpected) > 5 else ''})")
    for name, want_shape in want.items():
        shape, dtype = have[name]["shape"], have[name]["dtype"]
        if shape != list(want_shape) or dtype != "F32":
            raise ModelFileError(f"{mismatch} ({name} is {dtype} {shape}, the settings need "
                                 f"F32 {list(want_shape)})")
    for name, entry in entries.items():
        if not name.startswith(WEIGHT_PREFIX) and entry["dtype"] not in _STORED_EXTRAS:
            raise ModelFileError(f"{path}: tensor '{name}' has unsupported type {entry['dtype']} "
                                 "(float32, float16, int64 or int16 expected)")


def _compact(name: str, a: np.ndarray) -> np.ndarray:
    """An extra as it is stored: integer codes in 16 bits and :data:`HALF_PRECISION` floats in 16, where every
    value fits; anything else as it is."""
    if not a.size:
        return a
    if a.dtype.kind != "f":
        small = int(a.min()) >= np.iinfo(np.int16).min and int(a.max()) <= np.iinfo(np.int16).max
        return a.astype(np.int16) if small else a
    if name in HALF_PRECISION and float(np.abs(a).max()) <= float(np.finfo(np.float16).max):
        return a.astype(np.float16)
    return a
