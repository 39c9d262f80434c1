"""Reading and writing audio files (soundfile: WAV, AIFF, FLAC, OGG, MP3)."""

from __future__ import annotations

import logging
import os
from math import gcd

import numpy as np

from timbre_explorer.core.errors import AudioFileError
from timbre_explorer.core.files import atomic_path

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".aif", ".aiff", ".flac", ".ogg", ".mp3")


def load_audio(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """Read a file as mono float32 at ``sample_rate`` (channels averaged, polyphase resampling).

    Raises :class:`AudioFileError` with the reason for a missing, unreadable,
    empty or non-finite file.
    """
    import soundfile as sf
    from scipy.signal import resample_poly

    if not os.path.isfile(path):
        raise AudioFileError(f"{path}: no such file")
    try:
        data, sr = sf.read(os.fspath(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioFileError(f"{path}: not a readable audio file ({exc})") from None
    if data.size == 0:
        raise AudioFileError(f"{path}: the file holds no samples")
    mono = data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise AudioFileError(f"{path}: the file holds NaN or infinite samples")
    if sr != sample_rate:
        g = gcd(int(sr), int(sample_rate))
        mono = resample_poly(mono, sample_rate // g, sr // g).astype(np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32)


def save_wav(path: str | os.PathLike, audio, sample_rate: int, *, subtype: str = "PCM_24") -> None:
    """Write mono or ``[samples, channels]`` audio to a WAV file, atomically.

    Audio peaking above full scale is scaled down to fit (and logged) rather
    than clipped; NaN or infinite samples are refused.
    """
    import soundfile as sf

    a = np.asarray(audio, dtype=np.float32)
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise AudioFileError(f"{path}: refusing to write empty or non-finite audio")
    peak = float(np.abs(a).max())
    if peak > 1.0:
        log.warning("%s: peak %.2f above full scale, scaled down to fit", path, peak)
        a = a * (0.999 / peak)
    try:
        with atomic_path(path) as tmp:
            sf.write(os.fspath(tmp), a, int(sample_rate), subtype=subtype, format="WAV")
    except (sf.LibsndfileError, OSError, RuntimeError, ValueError) as exc:
        raise AudioFileError(f"{path}: cannot write ({exc})") from None
