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

Keys and MIDI play :class:`~timbre_explorer.core.synthesis.playable.PlayableNote` s
on up to :data:`MAX_VOICES` voices mixed in the same callback:
:meth:`AudioEngine.note_on`, :meth:`~AudioEngine.note_off`,
:meth:`~AudioEngine.pitch_bend` and :meth:`~AudioEngine.all_notes_off` put a
small frozen command on a preallocated ring (one producer: the GUI thread;
one consumer: the callback; no lock, only whole-object assignments and an
index that only the producer moves), and the callback applies them at the
start of its next block. Each voice reads its note at a fractional step (its
transposition), interpolating linearly into preallocated scratch arrays, loops
the note's sustain loop while held, fades along a preallocated release curve
after note-off and frees itself. The callback never drops the last reference
to a note either (freeing memory can lock too): a note it lets go of goes
back on a second ring, which the GUI thread empties.

Gain staging: every sound plays times :data:`VOICE_GAIN` (-6 dB), the one a
:meth:`AudioEngine.play` hands over and every voice alike, so a point clicked
and the same point played from a key sound equally loud; a voice also times its
velocity gain (1 at the velocity its notes were made for). The app's sounds
are levelled per dynamic (``synth.dynamic_level_db``: mf at -24, ff at -15 dBFS RMS;
an unconditioned model's loudest at -18, ``synth.PLAYBACK_LEVEL_DB``), so one
ff sound at full velocity sounds at -21 dBFS RMS; ``tests/test_play.py``
measures that eight loud voices of -18 dBFS notes peak below full scale, untouched. A soft clip keeps
what more voices add below full scale: samples of the voices' sum up to :data:`LIMIT_KNEE` pass unchanged,
louder ones bend smoothly towards :data:`LIMIT_CEILING` (sixteen loud voices summed to 1.05 before; the same
slope at the knee, so nothing clicks where it starts). A sound handed to :meth:`AudioEngine.play` is a
finished render at its own level: only the voice gain scales it. The volume then scales the whole mix.

With no PortAudio library, no output device or a device that refuses to
open, the engine is *unavailable*: it says why once (``status``, and one log
line), :meth:`play` returns False, and everything else works: rendering,
saving WAV files, plots.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from math import fmod, gcd
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_CROSSFADE = 0.01  # seconds
MAX_VOICES = 16  # notes sounding at once (held or releasing); one more steals the oldest
VOICE_GAIN = 0.5  # -6 dB per sound, voice or not: eight loud voices still peak below full scale (module docstring)
STEAL_FADE_S = 0.005  # a stolen voice fades this fast: no click, and its slot frees within a block
MIN_RELEASE_S = 0.005  # a release of 0 s still fades, so letting go never clicks
RELEASE_POINTS = 4096  # resolution of the release curve (4096 steps: no audible zipper even over seconds)
RING_SIZE = 1024  # commands in flight from the GUI thread to the callback
LIMIT_KNEE = 0.8  # -1.9 dBFS: the mix passes unchanged up to here (nine loud voices peak at 0.76)
LIMIT_CEILING = 0.98  # -0.2 dBFS: no sample of the mix reaches it

FREE, HELD, RELEASED, STOLEN = range(4)  # what a voice slot is doing


@dataclass(frozen=True, eq=False)
class Voice:
    """A sound to play: mono float32 samples at the engine's stream rate."""

    samples: np.ndarray
    loop: bool = False


class PlayableNote(Protocol):
    """What a voice plays: :class:`timbre_explorer.core.synthesis.playable.PlayableNote` (described here rather
    than imported, so the sound engine stays independent of the core). Read-only, as that frozen dataclass's are."""

    @property
    def samples(self) -> np.ndarray: ...  # float32 mono
    @property
    def sample_rate(self) -> int: ...
    @property
    def pitch(self) -> float: ...  # MIDI
    @property
    def loop_start(self) -> int: ...
    @property
    def loop_end(self) -> int: ...
    @property
    def release_s(self) -> float: ...


@dataclass(frozen=True, eq=False)
class NoteOnCommand:
    """Start ``note`` on a voice that ``voice_id`` names from now on, sounding at ``pitch`` (MIDI)."""

    voice_id: int
    note: PlayableNote
    pitch: float
    gain: float


@dataclass(frozen=True)
class NoteOffCommand:
    voice_id: int


@dataclass(frozen=True)
class BendCommand:
    semitones: float


@dataclass(frozen=True)
class AllNotesOffCommand:
    pass


class _Slot:
    """One voice's state; only the callback changes it (preallocated, so starting a note allocates nothing)."""

    __slots__ = ("state", "voice_id", "note", "pitch", "gain", "pos", "age", "release_len", "release_done")

    def __init__(self) -> None:
        self.state = FREE
        self.voice_id = -1
        self.note: PlayableNote | None = None  # None only until the slot's first note: HELD or RELEASED have one
        self.pitch = self.gain = self.pos = 0.0
        self.age = 0
        self.release_len = self.release_done = 0.0


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
        The rate the stream asks the device for, and of the sounds handed to :meth:`play` without a rate of
        their own. If the device refuses it, the stream opens at the device's own rate; a sound at another
        rate (an older model's 22,050 Hz) is resampled to the stream's.
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

    def __init__(self, sample_rate: int = 44100, *, device=None, blocksize: int = 256,
                 crossfade: float = DEFAULT_CROSSFADE, latency="low", open_stream: bool = True):
        self.sample_rate = int(sample_rate)
        self.stream_rate = int(sample_rate)
        self.blocksize = int(blocksize)
        self._volume = 1.0
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
        # voices: 16 that sound plus as many slots for stolen voices' 5 ms fades, so a new note always finds one
        self._slots = [_Slot() for _ in range(2 * MAX_VOICES)]
        self._bend = 0.0
        self._age = 0
        self._next_id = 0
        self._ring: list = [None] * RING_SIZE  # GUI thread -> callback
        self._written = 0  # moved by the producer only
        self._read = 0  # moved by the callback only
        self._retired: list = [None] * RING_SIZE  # callback -> GUI thread: notes the callback let go of
        self._retired_written = 0
        self._retired_read = 0
        self._release_curve = (0.5 + 0.5 * np.cos(np.pi * np.arange(RELEASE_POINTS) / (RELEASE_POINTS - 1))
                               ).astype(np.float32)  # 1 -> 0, the last point exactly 0
        self._set_crossfade(crossfade)
        if open_stream:
            self._open(device, latency)

    # -------------------------------------------------------------- public API
    def play(self, samples, sample_rate: int | None = None, *, loop: bool = False) -> bool:
        """Replace whatever is playing with ``samples`` (mono, at ``sample_rate``: the model's, which may differ
        from the stream's; the engine's own rate when None), crossfading.

        Returns False, doing nothing else, when no output is available.
        """
        if not self.available:
            return False
        self._requested = self.make_voice(samples, sample_rate, loop=loop)
        return True

    def make_voice(self, samples, sample_rate: int | None = None, *, loop: bool = False) -> Voice:
        """A :class:`Voice` of ``samples`` (at ``sample_rate``, else the engine's) converted for the stream
        (float32, resampled if the rates differ)."""
        a = np.asarray(samples, dtype=np.float32).reshape(-1)
        rate = int(sample_rate or self.sample_rate)
        if self.stream_rate != rate:
            from scipy.signal import resample_poly

            g = gcd(self.stream_rate, rate)
            a = resample_poly(a, self.stream_rate // g, rate // g).astype(np.float32)
        return Voice(np.ascontiguousarray(a), loop)

    @property
    def volume(self) -> float:
        """The gain of the whole mix, 0 to 1 (the Audio settings' slider)."""
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        v = float(value)
        if not (math.isfinite(v) and 0.0 <= v <= 1.0):  # NaN or inf would make every sample NaN
            raise ValueError(f"the volume must be a number from 0 to 1, got {value!r}")
        self._volume = v

    def stop(self) -> None:
        """Fade out whatever is playing."""
        self._requested = None

    # -------------------------------------------------------------- voices (keys and MIDI)
    def note_on(self, note: PlayableNote, pitch: float, gain: float) -> int:
        """Start ``note`` sounding at ``pitch`` (MIDI, float) times ``gain``; returns the voice id for
        :meth:`note_off`, or -1 when no output is available.

        It sounds from the next block on. With :data:`MAX_VOICES` already sounding,
        the oldest voice (a releasing one first, else a held one) fades out in
        5 ms to make room. Call from one thread only (the GUI thread).
        """
        if not self.available:
            return -1
        self._next_id += 1
        return self._next_id if self._push(NoteOnCommand(self._next_id, note, float(pitch), float(gain))) else -1

    def note_off(self, voice_id: int) -> None:
        """Let go of a voice: it fades over its note's ``release_s`` and frees itself."""
        if voice_id >= 0:
            self._push(NoteOffCommand(int(voice_id)))

    def pitch_bend(self, semitones: float) -> None:
        """Bend every voice, sounding and future, by ``semitones`` (0 undoes it)."""
        self._push(BendCommand(float(semitones)))

    def all_notes_off(self) -> None:
        """Let go of every held voice (each releases as after :meth:`note_off`)."""
        self._push(AllNotesOffCommand())

    @property
    def voices_sounding(self) -> int:
        """Voices held or releasing now (as the callback last left them)."""
        return sum(1 for v in self._slots if v.state == HELD or v.state == RELEASED)

    def _push(self, command) -> bool:
        """Hand ``command`` to the callback (lock-free: see the module docstring); False when the ring is full."""
        while self._retired_read < self._retired_written:  # the notes the callback let go of are freed here
            self._retired[self._retired_read % RING_SIZE] = None
            self._retired_read += 1
        if self._written - self._read >= RING_SIZE:
            log.warning("the audio callback is not running: %s dropped", type(command).__name__)
            return False
        self._ring[self._written % RING_SIZE] = command  # the slot first, then the index that publishes it
        self._written += 1
        return True

    @property
    def position(self) -> float | None:
        """Seconds into the sound now playing (looped sounds wrap), or None when silent."""
        v = self._current
        if v is None or (not v.loop and self._pos >= len(v.samples)):
            return None
        return self._pos / self.stream_rate

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
        self._run_commands()
        voices = self._voices_mix[:frames]
        voices.fill(0.0)
        for slot in self._slots:
            if slot.state != FREE:
                self._render(slot, voices, frames)
        self._limit(voices)
        np.multiply(mix, VOICE_GAIN, out=mix)  # the one sound at the voices' gain: a click as loud as its key
        np.add(mix, voices, out=mix)
        np.multiply(mix, self._volume, out=mix)
        outdata[:] = mix[:, None]

    def _limit(self, mix: np.ndarray) -> None:
        """Soft-clip the voices' ``mix`` in place above :data:`LIMIT_KNEE`, towards :data:`LIMIT_CEILING` (a tanh
        curve with the slope 1 at the knee), in preallocated buffers; a mix below the knee is left exactly as it is."""
        n = len(mix)
        over, mask = self._lim_over[:n], self._lim_mask[:n]
        np.abs(mix, out=over)
        np.greater(over, LIMIT_KNEE, out=mask)
        if not mask.any():
            return
        span = LIMIT_CEILING - LIMIT_KNEE
        np.subtract(over, LIMIT_KNEE, out=over)
        np.multiply(over, 1.0 / span, out=over)
        np.tanh(over, out=over)
        np.multiply(over, span, out=over)
        np.add(over, LIMIT_KNEE, out=over)
        np.copysign(over, mix, out=over)
        np.copyto(mix, over, where=mask)

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

    def _run_commands(self) -> None:
        """Apply the commands the GUI thread published since the last block (in the callback)."""
        written = self._written
        while self._read < written:
            c = self._ring[self._read % RING_SIZE]  # left in place: the producer overwrites (and frees) it
            if isinstance(c, NoteOnCommand):
                self._start(c)
            elif isinstance(c, NoteOffCommand):
                for v in self._slots:
                    if v.voice_id == c.voice_id and v.state == HELD and v.note is not None:
                        self._release(v, _release_samples(v.note.release_s, self.stream_rate))
            elif isinstance(c, BendCommand):
                self._bend = c.semitones
            elif isinstance(c, AllNotesOffCommand):
                for v in self._slots:
                    if v.state == HELD and v.note is not None:
                        self._release(v, _release_samples(v.note.release_s, self.stream_rate))
            self._read += 1

    def _start(self, c: NoteOnCommand) -> None:  # noqa: C901
        """Put ``c``'s note on a free slot, stealing the oldest voice (a releasing one first) when 16 sound.

        Plain loops over the 32 slots: no list is built on the audio thread.
        """
        sounding = 0
        oldest_held: _Slot | None = None
        oldest_released: _Slot | None = None
        free: _Slot | None = None
        furthest: _Slot | None = None
        for v in self._slots:
            if v.state == HELD:
                sounding += 1
                if oldest_held is None or v.age < oldest_held.age:
                    oldest_held = v
            elif v.state == RELEASED:
                sounding += 1
                if oldest_released is None or v.age < oldest_released.age:
                    oldest_released = v
            elif v.state == FREE:
                free = free or v
            elif furthest is None or v.release_done / v.release_len > furthest.release_done / furthest.release_len:
                furthest = v  # the stolen voice furthest into its fade
        stolen = oldest_released or oldest_held
        if sounding >= MAX_VOICES and stolen is not None:  # (16 sound: there is one)
            self._release(stolen, _release_samples(STEAL_FADE_S, self.stream_rate))
            stolen.state = STOLEN
            if free is None:
                furthest = stolen if furthest is None else furthest
        slot = free or furthest  # no free slot: more steals in one block than slots, so cut the oldest fade
        if slot is None:  # never: with 32 slots and at most 16 sounding, one is free or fading
            return
        if slot.note is not None and slot.note is not c.note:
            self._retired[self._retired_written % RING_SIZE] = slot.note  # freed on the GUI thread, not here
            self._retired_written += 1
        self._age += 1
        slot.state, slot.voice_id, slot.note, slot.pitch, slot.gain = HELD, c.voice_id, c.note, c.pitch, c.gain
        slot.pos, slot.age, slot.release_len, slot.release_done = 0.0, self._age, 0.0, 0.0

    def _release(self, v: _Slot, length: float) -> None:
        """Start ``v``'s fade of ``length`` samples from where it is now (a releasing voice keeps its level)."""
        if v.state == RELEASED or v.state == STOLEN:
            k = int(min(v.release_done / v.release_len, 1.0) * (RELEASE_POINTS - 1))
            v.gain = v.gain * float(self._release_curve[k])
        v.state, v.release_len, v.release_done = RELEASED, length, 0.0

    def _render(self, v: _Slot, mix: np.ndarray, n: int) -> None:
        """Add ``n`` samples of voice ``v`` into ``mix``: out= operations on preallocated buffers only."""
        note = v.note
        if note is None:  # never: a voice that sounds has a note
            return
        start, end = note.loop_start, note.loop_end
        length = end - start
        step = 2.0 ** ((v.pitch - note.pitch + self._bend) / 12.0) * note.sample_rate / self.stream_rate
        pos, tmp, mask = self._v_pos[:n], self._v_tmp[:n], self._v_mask[:n]
        np.multiply(self._v_count[:n], step, out=pos)
        np.add(pos, v.pos, out=pos)
        after = v.pos + step * n
        if after >= end:  # some of this block lies past the loop's end: wrap it back into the loop
            np.greater_equal(pos, end, out=mask)
            np.subtract(pos, start, out=tmp)
            np.fmod(tmp, length, out=tmp)
            np.add(tmp, start, out=tmp)
            np.copyto(pos, tmp, where=mask)
            after = start + fmod(after - start, length)
        v.pos = after
        i0, i1, frac, a, b = self._v_i0[:n], self._v_i1[:n], self._v_frac[:n], self._v_a[:n], self._v_b[:n]
        np.floor(pos, out=tmp)
        np.copyto(i0, tmp, casting="unsafe")
        np.subtract(pos, tmp, out=tmp)
        np.copyto(frac, tmp, casting="same_kind")  # (a float64 - int op would cast through a temporary buffer)
        np.add(i0, 1, out=i1)
        np.equal(i1, end, out=mask)
        np.copyto(i1, start, where=mask)  # the sample after the loop's last is its first
        note.samples.take(i0, out=a, mode="clip")  # mode="raise" would copy through a buffer
        note.samples.take(i1, out=b, mode="clip")
        np.subtract(b, a, out=b)
        np.multiply(b, frac, out=b)
        np.add(a, b, out=a)  # linear interpolation
        np.multiply(a, v.gain * VOICE_GAIN, out=a)
        if v.state != HELD:  # releasing or stolen: along the release curve, then free
            scale = (RELEASE_POINTS - 1) / v.release_len
            np.multiply(self._v_count[:n], scale, out=tmp)
            np.add(tmp, v.release_done * scale, out=tmp)
            np.minimum(tmp, RELEASE_POINTS - 1, out=tmp)
            np.copyto(i0, tmp, casting="unsafe")
            self._release_curve.take(i0, out=b, mode="clip")
            np.multiply(a, b, out=a)
            v.release_done += n
            if v.release_done >= v.release_len:
                v.state, v.voice_id = FREE, -1
        np.add(mix, a, out=mix)

    # -------------------------------------------------------------- set-up
    def _set_crossfade(self, seconds: float) -> None:
        n = max(1, int(round(seconds * self.stream_rate)))
        self._xfade_len = n
        self._ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)).astype(np.float32)
        self._allocate(max(self.blocksize, 4096))

    def _allocate(self, frames: int) -> None:
        """Buffers the callback writes into, so it never allocates."""
        self._mix, self._tmp, self._gain_up, self._gain_down = (np.zeros(frames, np.float32) for _ in range(4))
        self._v_count = np.arange(frames, dtype=np.float64)  # 0, 1, 2…: sample offsets within a block
        self._v_pos, self._v_tmp = np.zeros(frames), np.zeros(frames)
        self._v_i0, self._v_i1 = np.zeros(frames, np.intp), np.zeros(frames, np.intp)
        self._v_frac, self._v_a, self._v_b = (np.zeros(frames, np.float32) for _ in range(3))
        self._v_mask = np.zeros(frames, bool)
        self._voices_mix, self._lim_over = np.zeros(frames, np.float32), np.zeros(frames, np.float32)
        self._lim_mask = np.zeros(frames, bool)

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


def _release_samples(seconds: float, rate: int) -> float:
    """Samples of a release of ``seconds`` at ``rate`` (at least :data:`MIN_RELEASE_S`)."""
    return max(seconds, MIN_RELEASE_S) * rate
