"""Reading and writing audio files (soundfile: WAV, AIFF, FLAC, OGG, MP3)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import struct
import sys
import threading
from collections.abc import Iterable, Iterator
from math import gcd
from typing import IO, TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import AudioFileError
from timbre_explorer.core.files import write_bytes

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from numpy.typing import ArrayLike

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".aif", ".aiff", ".flac", ".ogg", ".mp3")
MIN_FILE_RATE, MAX_FILE_RATE = 1000, 768_000  # a header outside these is damaged, not audio
MAX_SECONDS = 600.0  # longer files are refused: resampled, they would take gigabytes
#: The rate of every audio file written for the user (exports, renders, instrument samples), whatever the
#: model's: the rate a 44.1/48 kHz DAW session takes without a conversion of its own (docs/research.md)
EXPORT_RATE = 44_100
EXPORT_QUALITY = "HQ"  # soxr's: images under -130 dB, flat to 0.91 of the lower Nyquist (docs/research.md)

_stderr_lock = threading.Lock()


@contextlib.contextmanager
def decoder_quiet(path: str | os.PathLike) -> Iterator[None]:
    """Silence what a decoder library prints on the process's stderr (mpg123's "Note: Illegal Audio-MPEG-Header").

    Only around MP3 decoding: the redirect is process-wide, so it is kept as short and rare as it can be.
    """
    if not os.fspath(path).lower().endswith(".mp3"):
        yield
        return
    with _stderr_lock:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def load_audio(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """Read a file as mono float32 at ``sample_rate`` (channels averaged, polyphase resampling).

    Raises :class:`AudioFileError` with the reason for a missing, unreadable,
    empty or non-finite file, and for a header whose sample rate or length
    is absurd (a 1 Hz header would resample to gigabytes), before decoding.
    """
    import soundfile as sf
    from scipy.signal import resample_poly

    if not os.path.isfile(path):
        raise AudioFileError(f"{path}: no such file")
    try:
        # opened by Python, not by libsndfile, which cannot open a name that is not UTF-8
        with open(path, "rb") as f, decoder_quiet(path), sf.SoundFile(within := _WithinFile(f)) as sound:
            if within.outside is not None:
                raise AudioFileError(f"{path}: the header points outside the file's {within.size} bytes: a damaged "
                                     "header")
            _check_header(path, sound.samplerate, sound.frames)
            data, sr = sound.read(dtype="float32", always_2d=True), sound.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        raise AudioFileError(f"{path}: not a readable audio file") from None
    except OSError as exc:
        raise AudioFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    _check_header(path, sr, len(data))
    if data.size == 0:
        raise AudioFileError(f"{path}: the file holds no samples")
    mono = data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise AudioFileError(f"{path}: the file holds NaN or infinite samples")
    if sr != sample_rate:
        g = gcd(int(sr), int(sample_rate))
        mono = resample_poly(mono, sample_rate // g, sr // g).astype(np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32)


class _WithinFile:
    """A file as libsndfile reads it (its virtual I/O), whose seeks stay inside the file.

    A header that claims more than a file can hold (an RF64 length of 2^62 samples) makes libsndfile seek to an
    offset the OS refuses: soundfile's callback then prints a traceback and reading goes on. Here the seek is
    kept inside and remembered (:attr:`outside`), so the file is refused in one sentence.
    """

    def __init__(self, f: io.BufferedReader) -> None:
        self._f = f
        self.size = os.fstat(f.fileno()).st_size
        self.outside: int | None = None

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        target = offset + (self._f.tell() if whence == os.SEEK_CUR else self.size if whence == os.SEEK_END else 0)
        if not 0 <= target <= self.size:
            self.outside = target if self.outside is None else self.outside
            target = min(max(target, 0), self.size)
        return self._f.seek(target)

    def tell(self) -> int:
        return self._f.tell()

    def read(self, n: int = -1) -> bytes:
        return self._f.read(n)

    def readinto(self, buffer: WriteableBuffer) -> int:
        return self._f.readinto(buffer)


def _check_header(path: str | os.PathLike, sample_rate: int, frames: int) -> None:
    if not MIN_FILE_RATE <= sample_rate <= MAX_FILE_RATE:
        raise AudioFileError(f"{path}: the file says its sample rate is {sample_rate} Hz, outside "
                             f"{MIN_FILE_RATE}-{MAX_FILE_RATE} Hz: a damaged header")
    if frames > MAX_SECONDS * sample_rate:
        raise AudioFileError(f"{path}: too long ({frames / sample_rate / 60:.0f} minutes; at most "
                             f"{MAX_SECONDS / 60:.0f})")


def save_wav(path: str | os.PathLike, audio: ArrayLike, sample_rate: int, *, subtype: str = "PCM_24") -> None:
    """Write mono or ``[samples, channels]`` audio to a WAV file (:func:`wav_bytes`), atomically.

    The file is encoded in memory and written by Python, so a failed write says why ("No space left on
    device"), where libsndfile says only "System error."
    """
    data = wav_bytes(path, audio, sample_rate, subtype=subtype)
    try:
        write_bytes(path, data)
    except OSError as exc:
        raise AudioFileError(f"{path}: cannot write ({exc.strerror or exc})") from None


def wav_bytes(path: str | os.PathLike, audio: ArrayLike, sample_rate: int, *, subtype: str = "PCM_24") -> bytes:
    """The WAV file ``path`` would hold for ``audio``.

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
        encoded = io.BytesIO()
        sf.write(encoded, a, int(sample_rate), subtype=subtype, format="WAV")
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioFileError(f"{path}: cannot write ({exc})") from None
    return encoded.getvalue()


def export_wav(path: str | os.PathLike, audio: ArrayLike, sample_rate: int) -> None:
    """Write mono ``audio`` at ``sample_rate`` (the model's) as the user's 24-bit WAV at :data:`EXPORT_RATE`
    (:func:`at_export_rate`, then :func:`save_wav`, which scales down a resampler's overshoot past full scale)."""
    save_wav(path, at_export_rate(audio, sample_rate), EXPORT_RATE)


def export_bytes(path: str | os.PathLike, audio: ArrayLike, sample_rate: int) -> bytes:
    """The WAV file :func:`export_wav` would write (for writers that write several files together)."""
    return wav_bytes(path, at_export_rate(audio, sample_rate), EXPORT_RATE)


def export_length(samples: int, sample_rate: int) -> int:
    """How many samples ``samples`` at ``sample_rate`` become at :data:`EXPORT_RATE` (what soxr gives)."""
    return int(samples) if int(sample_rate) == EXPORT_RATE else round(int(samples) * EXPORT_RATE / int(sample_rate))


def at_export_rate(audio: ArrayLike, sample_rate: int) -> np.ndarray:
    """Mono ``audio`` at ``sample_rate`` resampled to :data:`EXPORT_RATE` (float32), band-limited (soxr, HQ); at
    that rate already, it is returned as it is, bit for bit. soxr, not scipy's ``resample_poly``, whose images of a
    22,050 Hz model's top octave reach -9 dB above 11 kHz, where soxr's stay under -130 dB (docs/research.md)."""
    a = np.asarray(audio, np.float32).reshape(-1)
    if int(sample_rate) == EXPORT_RATE:
        return a
    return np.concatenate(list(export_blocks([a], sample_rate, a.size)))


def export_blocks(blocks: Iterable[np.ndarray], sample_rate: int, samples: int) -> Iterator[np.ndarray]:
    """Mono ``blocks`` (``samples`` in all, at ``sample_rate``) resampled to :data:`EXPORT_RATE` as they come, in
    the memory of one block: the same samples :func:`at_export_rate` gives for them joined, bit for bit (soxr's
    stream keeps the filter's state across blocks), :func:`export_length` of them."""
    if int(sample_rate) == EXPORT_RATE:
        yield from (np.asarray(b, np.float32).reshape(-1) for b in blocks)
        return
    import soxr

    stream = soxr.ResampleStream(int(sample_rate), EXPORT_RATE, 1, dtype="float32", quality=EXPORT_QUALITY)
    given, due, out = 0, export_length(samples, sample_rate), 0
    for block in blocks:
        a = np.ascontiguousarray(np.asarray(block, np.float32).reshape(-1))
        given += a.size
        r = stream.resample_chunk(a, last=given >= samples)
        r = r[:max(due - out, 0)]  # soxr rounds as export_length does; never more than it says
        out += r.size
        yield r
    if given != samples:
        raise ValueError(f"{samples} samples to resample were given {given}")
    if out < due:
        yield np.zeros(due - out, np.float32)


def write_wav_blocks(f: IO[bytes], blocks: Iterable[np.ndarray], sample_rate: int, samples: int) -> None:
    """Write a mono 24-bit WAV of ``samples`` samples to the open binary file ``f`` as ``blocks`` come: the bytes
    :func:`wav_bytes` gives for them joined, in the memory of one block (a 10-minute render).

    The header comes first, so the length must be known; the blocks must hold that many finite samples within
    full scale (a ValueError otherwise: the caller's fault, not the user's). Encoding is libsndfile's (its
    headerless ``RAW`` format); writing is Python's, so a full disk is an :class:`OSError` that says so.
    """
    import soundfile as sf

    data = 3 * samples
    f.write(struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + data + data % 2, b"WAVE", b"fmt ", 16, 1, 1,
                        int(sample_rate), 3 * int(sample_rate), 3, 24, b"data", data))
    written = 0
    for block in blocks:
        a = np.asarray(block, np.float32).reshape(-1)
        if not np.all(np.isfinite(a)) or (a.size and float(np.abs(a).max()) > 1.0):
            raise ValueError("WAV blocks must be finite and within full scale")
        encoded = io.BytesIO()
        sf.write(encoded, a, int(sample_rate), subtype="PCM_24", format="RAW")
        f.write(encoded.getvalue())
        written += a.size
    if written != samples:
        raise ValueError(f"a WAV of {samples} samples was given {written}")
    if data % 2:
        f.write(b"\0")  # RIFF chunks are padded to an even length
