"""The one audio output of the app: a sounddevice stream fed by a callback that only copies.

Design, after sounddevice's own rules for callbacks (they run at real-time
priority: no allocation, no locks, no logging, no Qt):

* the stream runs from start to close and plays silence when idle, so a
  new sound starts on the next block without opening anything;
* :meth:`AudioEngine.play` builds a :class:`Voice` (float32 samples, loop
  flag) on the caller's thread and publishes it with one attribute
  assignment; the callback notices the new object and crossfades from the
  old voice to it, so replacing a sound never clicks;
* all buffers the callback writes into are allocated up front.

With no PortAudio library, no output device or a device that refuses to
open, the engine is *unavailable*: it says why once (``status``, and one log
line), :meth:`play` returns False, and everything else works: rendering,
saving WAV files, plots.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_CROSSFADE = 0.01  # seconds


@dataclass(frozen=True, eq=False)
class Voice:
    """A sound to play: mono float32 samples at the engine's stream rate."""

    samples: np.ndarray
    loop: bool = False


@dataclass(frozen=True)
class OutputDevice:
    """An output device as PortAudio lists it."""

    index: int
    name: str
    host_api: str
    channels: int
    default_sample_rate: float
    is_default: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.host_api}, {self.channels} ch){' (default)' if self.is_default else ''}"


def output_devices() -> list[OutputDevice]:
    """Output devices, the default first; empty without PortAudio or devices."""
    try:
        import sounddevice as sd

        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default = sd.default.device[1]
    except Exception:  # OSError: no PortAudio; PortAudioError: nothing to query
        return []
    out = [OutputDevice(i, d["name"], apis[d["hostapi"]]["name"], int(d["max_output_channels"]),
                        float(d["default_samplerate"]), i == default)
           for i, d in enumerate(devices) if d["max_output_channels"] > 0]
    return sorted(out, key=lambda d: not d.is_default)


def saved_device(name: str | None, devices: Sequence[OutputDevice]) -> tuple[int | None, str]:
    """The device to open for the ``name`` saved last time: its index, or None (the system default) with one
    sentence to show when that device is gone."""
    if not name:
        return None, ""
    for d in devices:
        if d.name == name:
            return d.index, ""
    return None, f"The audio device {name!r} chosen last time is not there; using the default output."


class AudioEngine:
    """Plays mono sounds through one output stream, never blocking the caller.

    Parameters
    ----------
    sample_rate : int
        Rate of the sounds handed to :meth:`play`. If the device refuses it,
        the stream opens at the device's own rate and :meth:`play` resamples.
    device : int or str, optional
        PortAudio device index or name; the system default if None.
    blocksize : int
        Frames per callback.
    crossfade : float
        Seconds over which a new sound replaces the old one (and a stopped
        sound fades out).
    open_stream : bool
        False builds an engine without a stream (tests drive :meth:`callback`
        themselves).
    """

    def __init__(self, sample_rate: int = 22050, *, device=None, blocksize: int = 256,
                 crossfade: float = DEFAULT_CROSSFADE, latency="low", open_stream: bool = True):
        self.sample_rate = int(sample_rate)
        self.stream_rate = int(sample_rate)
        self.blocksize = int(blocksize)
        self.volume = 1.0
        self.status = "audio output not opened"
        self.available = False
        self.device_name: str | None = None
        self.device = device  # as asked for: an index, a name or None (the default)
        self._stream = None
        self._requested: Voice | None = None
        self._current: Voice | None = None
        self._pos = 0
        self._previous: Voice | None = None
        self._prev_pos = 0
        self._xfade_done = 0
        self._set_crossfade(crossfade)
        if open_stream:
            self._open(device, latency)

    # -------------------------------------------------------------- public API
    def play(self, samples, *, loop: bool = False) -> bool:
        """Replace whatever is playing with ``samples`` (mono, at ``sample_rate``), crossfading.

        Returns False, doing nothing else, when no output is available.
        """
        if not self.available:
            return False
        self._requested = self.make_voice(samples, loop=loop)
        return True

    def make_voice(self, samples, *, loop: bool = False) -> Voice:
        """A :class:`Voice` of ``samples`` converted for the stream (float32, resampled if needed)."""
        a = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self.stream_rate != self.sample_rate:
            from scipy.signal import resample_poly

            g = gcd(self.stream_rate, self.sample_rate)
            a = resample_poly(a, self.stream_rate // g, self.sample_rate // g).astype(np.float32)
        return Voice(np.ascontiguousarray(a), loop)

    def stop(self) -> None:
        """Fade out whatever is playing."""
        self._requested = None

    @property
    def position(self) -> float | None:
        """Seconds into the sound now playing (looped sounds wrap), or None when silent."""
        v = self._current
        if v is None or (not v.loop and self._pos >= len(v.samples)):
            return None
        return self._pos / self.stream_rate

    @property
    def is_playing(self) -> bool:
        return self.position is not None

    def close(self) -> None:
        """Stop and close the stream (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception as exc:  # a device that vanished may fail to close
                log.warning("closing the audio stream failed: %s", exc)
        self.available = False

    # -------------------------------------------------------------- the callback
    def callback(self, outdata: np.ndarray, frames: int, time=None, status=None) -> None:
        """Fill ``outdata`` ``[frames, channels]``: sounddevice calls this on its audio thread."""
        if frames > len(self._mix):  # only if PortAudio ignores our block size
            self._allocate(frames)
        mix = self._mix[:frames]
        mix.fill(0.0)
        requested = self._requested
        if requested is not self._current:
            self._previous, self._prev_pos = self._current, self._pos
            self._current, self._pos = requested, 0
            self._xfade_done = 0
        if self._xfade_done < self._xfade_len:
            up, down = self._gain_up[:frames], self._gain_down[:frames]
            k = min(frames, self._xfade_len - self._xfade_done)
            up[:k] = self._ramp[self._xfade_done:self._xfade_done + k]
            up[k:] = 1.0
            np.subtract(1.0, up, out=down)
            self._prev_pos = self._add(self._previous, self._prev_pos, mix, down)
            self._pos = self._add(self._current, self._pos, mix, up)
            self._xfade_done += frames
            if self._xfade_done >= self._xfade_len:
                self._previous = None
        else:
            self._pos = self._add(self._current, self._pos, mix, None)
        np.multiply(mix, self.volume, out=mix)
        outdata[:] = mix[:, None]

    def _add(self, voice: Voice | None, pos: int, mix: np.ndarray, gain: np.ndarray | None) -> int:
        """Add ``voice`` from ``pos`` into ``mix``, times ``gain`` if given; return the new position."""
        if voice is None:
            return pos
        src, n, done = voice.samples, len(mix), 0
        while done < n and len(src):
            if pos >= len(src):
                if not voice.loop:
                    break
                pos = 0
            k = min(n - done, len(src) - pos)
            seg = src[pos:pos + k]
            if gain is not None:
                seg = np.multiply(seg, gain[done:done + k], out=self._tmp[:k])
            np.add(mix[done:done + k], seg, out=mix[done:done + k])
            done += k
            pos += k
        return pos

    # -------------------------------------------------------------- set-up
    def _set_crossfade(self, seconds: float) -> None:
        n = max(1, int(round(seconds * self.stream_rate)))
        self._xfade_len = n
        self._ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)).astype(np.float32)
        self._allocate(max(self.blocksize, 4096))

    def _allocate(self, frames: int) -> None:
        """Buffers the callback writes into, so it never allocates."""
        self._mix, self._tmp, self._gain_up, self._gain_down = (np.zeros(frames, np.float32) for _ in range(4))

    def _open(self, device, latency) -> None:
        try:
            import sounddevice as sd
        except (OSError, ImportError) as exc:  # OSError: sounddevice is there but libportaudio is not
            return self._unavailable("No sound: the PortAudio library is missing (install libportaudio2)", exc)
        try:
            info = sd.query_devices(device, kind="output")
        except (sd.PortAudioError, ValueError) as exc:
            return self._unavailable("No audio output device found", exc)
        channels = min(2, int(info["max_output_channels"])) or 1
        last_error = None
        for rate in dict.fromkeys((self.sample_rate, int(info["default_samplerate"]))):
            try:
                stream = sd.OutputStream(samplerate=rate, blocksize=self.blocksize, device=device, channels=channels,
                                         dtype="float32", latency=latency, callback=self.callback)
                stream.start()
            except (sd.PortAudioError, ValueError) as exc:
                last_error = exc
                continue
            self.stream_rate = rate
            self._set_crossfade(self._xfade_len / self.sample_rate)
            self._stream = stream
            self.available = True
            self.device_name = info["name"]
            self.status = f"Audio: {info['name']} at {rate} Hz"
            log.info("%s", self.status)
            return None
        return self._unavailable(f"The audio device {info['name']!r} cannot be opened", last_error)

    def _unavailable(self, why: str, detail: Exception | None) -> None:
        """Record why there is no sound: one sentence for the user, the library's words in the log."""
        self.available = False
        self.status = why + "; sounds can still be exported to WAV."
        log.warning("%s (%s)", self.status, detail)
        return None
