"""Notes a keyboard can play: a sound with a seamless sustain loop, its pitch, and how long it takes to release.

A keyboard holds a note for as long as its key is down, which no rendered
sound of fixed length can do. A :class:`PlayableNote` therefore carries a
sustain loop: the sound plays from its start, repeats ``loop_start`` to
``loop_end`` while the key is held and fades over ``release_s`` once it is
let go. The sound engine transposes it to any key by reading it faster or
slower, so one note per few semitones is enough (a sampler's "multisample").

:func:`make_loop` turns any steady sound into one; :func:`playable_note`
renders one from a latent point of a timbre space; :func:`key_pitches` says
at which pitches, and in which order, a point's notes are made for the keys,
and :func:`key_notes` makes them, their brightness following from key to key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.pitch import hz_to_midi, midi_to_hz

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.space import TimbreSpace

MIN_LOOP_S = 0.2  # shorter loops make a steady tone sound like a buzz at the loop rate
CROSSFADE_S = 0.05  # baked at the loop's end, so the jump back to loop_start joins two smooth signals
PLAYABLE_SECONDS = 1.0  # length of the sound playable_note renders before looping it
PLAYABLE_ATTACK_S = 0.02
PLAYABLE_RELEASE_S = 0.25
ATTACK_S = 0.04  # without the map's envelopes, a note's level rises over this from 30 dB below its dynamic's
LIFE_NEIGHBOURS = 8  # map notes whose level curves a played note follows
SETTLE_S = 0.15  # from its peak, a played note settles to its held level over this
KEY_STEP = 2  # semitones between the notes made for the keys: a key plays one at most 1 semitone from its own
KEY_SMOOTHING = 6.0  # semitones (a Gaussian's sigma) over which the keys' brightness follows the model's
KEY_STEP_BRIGHTNESS = 1.05  # at most this centroid ratio between neighbouring notes, beyond a semitone's shift
MAX_TILT = 4.0  # a key note's brightness is set by a gain (f / 1 kHz) ** tilt, the tilt at most this either way


@dataclass(frozen=True, eq=False)
class PlayableNote:
    """A mono sound that can be held for any time (see the module docstring).

    ``samples`` is stored as a read-only float32 array, so the audio thread
    can read it while other threads hold the same note.
    """

    samples: np.ndarray  # [n] float32 mono
    sample_rate: int
    pitch: float  # MIDI pitch (float) of the sound's fundamental
    loop_start: int  # sample index: the loop plays samples[loop_start:loop_end] again and again
    loop_end: int
    release_s: float  # seconds of fade after note-off

    def __post_init__(self) -> None:
        a = np.asarray(self.samples)
        if a.ndim != 1 or a.size < 2:
            raise ParameterError(f"a playable note needs mono samples (one dimension, 2 or more), got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.floating) or not np.isfinite(a).all():
            raise ParameterError("a playable note's samples must be finite floating-point numbers")
        if not (isinstance(self.sample_rate, int | np.integer) and self.sample_rate > 0):
            raise ParameterError(f"a playable note's sample rate must be a positive integer, got {self.sample_rate!r}")
        if not (math.isfinite(self.pitch) and 0.0 <= self.pitch <= 135.0):
            raise ParameterError(f"a playable note's pitch must be a MIDI pitch from 0 to 135, got {self.pitch!r}")
        if not 0 <= self.loop_start < self.loop_end - 1 < a.size:
            raise ParameterError(f"a playable note's loop must lie inside its {a.size} samples and hold at least 2, "
                                 f"got {self.loop_start} to {self.loop_end}")
        if not (math.isfinite(self.release_s) and self.release_s >= 0.0):
            raise ParameterError(f"a playable note's release must be 0 s or more, got {self.release_s!r}")
        frozen = np.array(a, dtype=np.float32, copy=True)
        frozen.flags.writeable = False
        object.__setattr__(self, "samples", frozen)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))
        object.__setattr__(self, "pitch", float(self.pitch))
        object.__setattr__(self, "loop_start", int(self.loop_start))
        object.__setattr__(self, "loop_end", int(self.loop_end))
        object.__setattr__(self, "release_s", float(self.release_s))

    @property
    def frequency(self) -> float:
        return midi_to_hz(self.pitch)

    def held(self, seconds: float) -> np.ndarray:
        """The note ``seconds`` long (at least its attack and release), as a key let go in time for its release
        to end then: its attack, its loop for as long as it takes, and the release (a raised-cosine fade over
        ``release_s`` while the loop goes on). What a map click plays."""
        release = int(round(self.release_s * self.sample_rate))
        hold = max(int(round(seconds * self.sample_rate)) - release, self.loop_start)
        loop = self.samples[self.loop_start:self.loop_end]
        body = self.samples[:self.loop_start]
        repeats = -(-(hold + release - len(body)) // len(loop))
        out = np.concatenate([body, np.tile(loop, max(repeats, 0))])[:hold + release].astype(np.float32)
        if release:
            out[hold:] *= (0.5 + 0.5 * np.cos(np.pi * np.arange(len(out) - hold) / release)).astype(np.float32)
        return out


def make_loop(audio: ArrayLike, sample_rate: int, pitch: float, *, attack_s: float, release_s: float) -> PlayableNote:
    """A :class:`PlayableNote` of ``audio`` (mono, steady after ``attack_s``) whose fundamental is ``pitch``.

    The loop starts after the attack and lasts a whole number of periods of the
    fundamental, at least :data:`MIN_LOOP_S`: among the lengths that fit, the one
    whose end looks most like its start (normalised correlation of the
    :data:`CROSSFADE_S` before each) wins, so a tone whose period is not a whole
    number of samples, or a sound that is not exactly periodic, still loops well.
    The last :data:`CROSSFADE_S` of the loop is then crossfaded with the audio
    just before ``loop_start``: jumping from ``loop_end`` back to ``loop_start``
    continues exactly the audio that led into ``loop_start`` the first time.

    The crossfade keeps the power constant: gains ``g_out``, ``g_in`` with
    ``g_out² + g_in² + 2 r g_out g_in = 1`` for the correlation ``r`` of the
    two segments. For uncorrelated sounds (``r = 0``) it is the usual
    sine/cosine equal-power fade; for the in-phase periods a loop is made of
    (``r`` near 1) it tends to equal gain, where the sine/cosine fade would
    swell by up to 3 dB in the middle of every pass.
    """
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    if x.size == 0 or not np.isfinite(x).all():
        raise ParameterError("the sound to loop is empty or not finite")
    if not (math.isfinite(pitch) and 0.0 <= pitch <= 135.0):
        raise ParameterError(f"the pitch of the sound to loop must be a MIDI pitch from 0 to 135, got {pitch!r}")
    if attack_s < 0 or release_s < 0:
        raise ParameterError("attack and release must be 0 s or more")
    sr = int(sample_rate)
    period = sr / midi_to_hz(pitch)
    min_len = int(math.ceil(MIN_LOOP_S * sr))
    fade = max(2, min(int(round(CROSSFADE_S * sr)), min_len // 2))
    start = int(round(attack_s * sr)) + fade  # the segment crossfaded in lies after the attack
    if start + min_len > x.size:
        raise ParameterError(f"the sound is {x.size / sr:.2f} s long: too short for a {MIN_LOOP_S:g} s loop after "
                             f"its {attack_s:g} s attack")
    length = _best_length(x, start, fade, period, min_len)
    end = start + length
    g_out, g_in = _crossfade_gains(x[end - fade:end], x[start - fade:start])
    y = x.copy()
    y[end - fade:end] = g_out * x[end - fade:end] + g_in * x[start - fade:start]
    return PlayableNote(y.astype(np.float32), sr, float(pitch), start, end, float(release_s))


def _best_length(x: np.ndarray, start: int, fade: int, period: float, min_len: int) -> int:
    """The loop length (samples) from ``start``: a whole number of periods near it, ending most like the start."""
    room = x.size - start
    n0 = max(1, int(math.ceil(min_len / period)))
    periods = range(n0, n0 + max(1, int(round(0.1 * len(x) / period))) + 1)  # up to ~10% of the sound longer
    lengths = sorted({round(n * period) + d for n in periods for d in (-1, 0, 1)})
    lengths = [k for k in lengths if min_len <= k <= room] or [min(room, max(min_len, int(round(n0 * period))))]
    ref = x[start - fade:start]
    best, best_score = lengths[0], -np.inf
    for k in lengths:
        seg = x[start + k - fade:start + k]
        score = float(np.dot(ref, seg) / (np.linalg.norm(ref) * np.linalg.norm(seg) + 1e-12))
        if score > best_score + 1e-9:
            best, best_score = k, score
    return best


def _crossfade_gains(leaving: np.ndarray, arriving: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gains of the constant-power crossfade for the correlation of the two segments (see :func:`make_loop`)."""
    n = len(leaving)
    r = float(np.dot(leaving, arriving) / (np.linalg.norm(leaving) * np.linalg.norm(arriving) + 1e-12))
    r = min(max(r, 0.0), 1.0)  # anti-correlated segments fade as uncorrelated ones: no gain above 1
    t = (np.arange(n) + 0.5) / n
    s = 0.5 - 0.5 * np.cos(np.pi * t)  # raised cosine, 0 -> 1
    a, b = 1.0 - s, s
    g = 1.0 / np.sqrt(a * a + b * b + 2.0 * r * a * b)
    return a * g, b * g


def note_life(space: TimbreSpace, z: np.ndarray, steps: int) -> tuple[np.ndarray, float]:
    """The level curve ``[steps]`` (natural log, 0 where the note holds) of a note at ``z`` over
    :data:`PLAYABLE_SECONDS`, and where its held part starts (seconds).

    From the median level curve of the :data:`LIFE_NEIGHBOURS` map notes nearest ``z`` (``space.envelopes``):
    its rise to the peak is the attack; from the peak the level settles over :data:`SETTLE_S` to the median
    of the rest while it sounds (a piano's decay, a flute's steady breath) and holds there, so the loop is
    steady. A file without envelopes rises over :data:`ATTACK_S` from 30 dB below and holds.
    """
    from timbre_explorer.core.data.dataset import sounding

    t = np.linspace(0.0, PLAYABLE_SECONDS, steps)
    floor = np.log(10 ** (-30 / 20))
    if space.envelopes is None:
        return np.maximum(np.log(np.clip(t / ATTACK_S, 1e-9, 1.0)), floor), 2 * ATTACK_S
    distance = np.linalg.norm(space.notes.z - np.asarray(z, np.float32), axis=1)
    nearest = np.argpartition(distance, min(LIFE_NEIGHBOURS, len(distance)) - 1)[:LIFE_NEIGHBOURS]  # any order
    curve = np.median(space.envelopes[nearest].astype(np.float64), 0)
    curve = np.interp(t, np.linspace(0.0, space.note_seconds, len(curve)), curve)  # held past its end
    peak = int(np.argmax(curve[: max(2, steps // 2)]))
    # the held level is the note's, not the silence after a short sample ends inside its window
    end = max(sounding(curve * (20 / math.log(10))).stop, peak + 1)
    held = float(np.median(curve[peak:end]))
    settle = np.exp(-np.maximum(t - t[peak], 0.0) / (SETTLE_S / 3))  # 95 % settled after SETTLE_S
    shape = np.where(t <= t[peak], curve, held + (curve[peak] - held) * settle) - held
    return np.maximum(shape, floor), float(t[peak] + SETTLE_S)


def playable_note(space: TimbreSpace, z: ArrayLike, *, pitch: float, dynamic: str,
                  centroid_hz: float | None = None) -> PlayableNote:
    """A playable note of the latent point ``z`` for the key ``pitch`` (MIDI) at ``dynamic`` (one of
    ``space.dynamics``), its sustain at the dynamic's level (:func:`~timbre_explorer.core.synthesis.gestures.
    dynamic_level_db`), so every point of the map plays at one level, as a click there does.

    A conditioned model decodes the point at the pitch and along a level curve (:func:`note_life`): the real
    notes nearest the point lend their attack and settling, then the level holds for the loop (the decoder
    voices the softer, darker onset a quieter frame has).
    An unconditioned one renders its decoded frame held, measures the pitch it has (or takes ``pitch`` for an
    unpitched sound) and leaves the transposition to the sound engine. ``centroid_hz`` (a conditioned model's):
    the spectral centroid a key holding it has (:func:`held_centroid_hz`), reached by a tilt (:func:`tilted`): a
    key's brightness set to follow its neighbours' (:func:`key_notes`).
    """
    from timbre_explorer.core.signal.phase import render_frames
    from timbre_explorer.core.signal.pitch import estimate_pitch
    from timbre_explorer.core.synthesis.synth import Envelope, at_dynamic, note, path_steps

    if space.dynamics and dynamic not in space.dynamics:
        raise ParameterError(f"dynamic must be one of {', '.join(space.dynamics)}, got {dynamic!r}")
    sr = space.sample_rate
    z = np.asarray(z, np.float32).reshape(1, -1)
    if space.conditioned:
        steps = path_steps(PLAYABLE_SECONDS)
        shape, attack_s = note_life(space, z[0], steps)
        levels = space.level_of(dynamic if dynamic in space.levels else None) + shape
        frames = space.decode(np.repeat(z, steps, 0), pitch=float(pitch), level=levels).T.contiguous()
        audio = render_frames(frames, space.preset, seconds=PLAYABLE_SECONDS, pitch_hz=midi_to_hz(pitch)).audio.numpy()

        def made(tilt: float) -> PlayableNote:
            a = tilted(audio, sr, tilt) if tilt else audio
            return make_loop(at_dynamic(a, sr, dynamic, skip_s=attack_s), sr, float(pitch), attack_s=attack_s,
                             release_s=PLAYABLE_RELEASE_S)

        return made(0.0) if centroid_hz is None else _aimed(made, centroid_hz)
    audio = note(space, space.decode(z[0]), seconds=PLAYABLE_SECONDS,
                 envelope=Envelope(attack=PLAYABLE_ATTACK_S, release=0.0))
    measured = estimate_pitch(audio[int(PLAYABLE_ATTACK_S * sr):], sr)
    return make_loop(audio, sr, measured if measured is not None else float(pitch), attack_s=PLAYABLE_ATTACK_S,
                     release_s=PLAYABLE_RELEASE_S)


def playable_range(space: TimbreSpace) -> tuple[int, int]:
    """The keys a point's notes are made for (MIDI, both ends included): the pitch range the model was trained on,
    its map notes' lowest to highest (the bundled model's 21 to 108, a piano's).

    Not the computer keyboard's reach: its two rows and octave keys span C0 to B8, and MIDI all 128 keys, but the
    decoder only learned the pitches it saw; a key outside the range plays the nearest end's note, transposed.
    Nor only the two rows shown: an octave key or a MIDI keyboard reaches the rest at once.
    """
    pitches = np.asarray(space.notes.pitch, np.float64)
    if pitches.size == 0:
        return 60, 60
    return int(max(0, math.floor(pitches.min()))), int(min(127, math.ceil(pitches.max())))


def key_pitches(play_pitch: int, lowest: int, highest: int, *, rows: tuple[int, int] | None = None) -> list[int]:
    """The pitches at which a point's notes are made for the keys, in the order they are made.

    Every :data:`KEY_STEP` semitones from ``play_pitch`` (which a click renders, so its note is the first, and
    ready when the click sounds), far enough either way that every key from ``lowest`` to ``highest`` is at most
    1 semitone from one: a key transposed by a semitone keeps its brightness, where one transposed by 3 or more
    shifts every partial with it (resampling) and its neighbour, made at its own pitch, does not. Then the keys
    of the computer keyboard's ``rows`` (lowest, highest), then the rest, each nearest the Play pitch first.
    """
    half = KEY_STEP // 2
    lo, hi = min(lowest, play_pitch) - half, max(highest, play_pitch) + half
    below = range(play_pitch, max(lo, 0) - 1, -KEY_STEP)
    above = range(play_pitch + KEY_STEP, min(hi, 127) + 1, KEY_STEP)
    shown = rows or (play_pitch, play_pitch)
    return sorted([*below, *above], key=lambda p: (not shown[0] - half <= p <= shown[1] + half, abs(p - play_pitch),
                                                   p))


def key_notes(space: TimbreSpace, z: ArrayLike, pitches: Sequence[int], *, play_pitch: int, dynamic: str,
              first: PlayableNote | None = None) -> Iterator[PlayableNote]:
    """The playable notes of ``z`` for the keys, one per pitch of ``pitches`` (:func:`key_pitches`: the Play
    pitch's first, each next to one made before it), made one at a time so each plays as soon as it is made.

    The Play pitch's note is ``first`` when given (the click's own, as it played), else made as a click makes it.
    A conditioned decoder's brightness for one point can leap between pitches 2 semitones apart (the bundled
    model's Flute and Trumpet centres, as decoded: neighbouring keys up to 86 % apart in spectral centroid,
    ``benchmarks/run.py --only keys``), a jump no key spacing hides. So every other note is tilted
    (:func:`tilted`) to follow the one made next to it by the model's own trend (its decoded centroids over pitch,
    smoothed with a Gaussian of :data:`KEY_SMOOTHING` semitones), kept within :data:`KEY_STEP_BRIGHTNESS` of a
    semitone's transposition: the key between two notes plays the nearer one shifted by a semitone and the next
    key the other as made. The centroid aimed at is the held note's (:func:`held_centroid_hz`), reached by a tilt
    searched for on the note itself: the decoded frame's centroid was up to 11 % off what a key plays.
    """
    trend = _brightness_trend(space, z, pitches, dynamic) if space.conditioned else {}
    made: dict[int, float] = {}  # pitch -> log centroid of the note made there
    bound = math.log(KEY_STEP_BRIGHTNESS)
    for p in pitches:
        inner = [q for q in (p - KEY_STEP, p + KEY_STEP) if q in made]
        if p == play_pitch and first is not None:
            note = first
        elif p == play_pitch or not inner or not trend:
            note = playable_note(space, z, pitch=p, dynamic=dynamic)
        else:
            j = min(inner, key=lambda q: abs(q - play_pitch))
            shift = math.copysign(math.log(2.0) / 12.0, p - j)
            step = min(max(trend[p] - trend[j], shift - bound), shift + bound)
            note = playable_note(space, z, pitch=p, dynamic=dynamic, centroid_hz=math.exp(made[j] + step))
        made[p] = math.log(held_centroid_hz(note))
        yield note


def _brightness_trend(space: TimbreSpace, z: ArrayLike, pitches: Sequence[int], dynamic: str) -> dict[int, float]:
    """Log spectral centroid of ``z`` decoded at each pitch (held level), smoothed over :data:`KEY_SMOOTHING`."""
    p = np.array(sorted(set(pitches)), np.float64)
    frames = space.decode(np.repeat(np.asarray(z, np.float32).reshape(1, -1), len(p), 0), pitch=p,
                          dynamic=dynamic if dynamic in space.levels else None)
    own = np.log(np.maximum(space.describe(frames)["centroid"], 1e-6))
    weights = np.exp(-0.5 * ((p[:, None] - p[None]) / KEY_SMOOTHING) ** 2)
    return {int(q): float(t) for q, t in zip(p, weights @ own / weights.sum(1))}


def centroid_hz(audio: np.ndarray, sample_rate: int) -> float:
    """The spectral centroid (Hz) of ``audio``: the mean frequency of its magnitude spectrum (Hann window), as the
    app's descriptors weigh it."""
    a = np.asarray(audio, np.float64)
    magnitude = np.abs(np.fft.rfft(a * np.hanning(len(a))))
    return float((magnitude * np.fft.rfftfreq(len(a), 1 / sample_rate)).sum() / max(magnitude.sum(), 1e-30))


def tilted(audio: np.ndarray, sample_rate: int, tilt: float) -> np.ndarray:
    """``audio`` through the gain ``(f / 1 kHz) ** tilt`` (zero phase, zero-padded so the note's end does not wrap
    onto its start): an equaliser's tilt, brighter or darker, every partial where it was."""
    a = np.asarray(audio, np.float64)
    n = 2 * len(a)
    gain = np.exp(tilt * np.log(np.maximum(np.fft.rfftfreq(n, 1 / sample_rate), 20.0) / 1000.0))
    return np.fft.irfft(np.fft.rfft(a, n) * gain, n)[:len(a)].astype(np.float32)


def held_centroid_hz(note: PlayableNote) -> float:
    """The spectral centroid of a key holding ``note`` at its own pitch, past its attack (0.3 s to 1 s)."""
    held = note.held(1.0 + note.release_s)
    return centroid_hz(held[int(0.3 * note.sample_rate):note.sample_rate], note.sample_rate)


def _aimed(made: Callable[[float], PlayableNote], centroid: float) -> PlayableNote:
    """The note ``made(tilt)`` whose held centroid is nearest ``centroid`` Hz: the tilt found by the secant method
    on the log centroid (nearly straight in the tilt), a few tries, at most :data:`MAX_TILT` either way."""
    goal = math.log(centroid)
    tries = [(0.0, made(0.0))]
    errors = [math.log(held_centroid_hz(tries[0][1])) - goal]
    tilt = -errors[0] / 0.5  # about half an octave of centroid per unit of tilt, to start
    for _ in range(4 if abs(errors[0]) >= 0.01 else 0):
        tilt = min(max(tilt, -MAX_TILT), MAX_TILT)
        note = made(tilt)
        tries.append((tilt, note))
        errors.append(math.log(held_centroid_hz(note)) - goal)
        if abs(errors[-1]) < 0.01 or tilt == tries[-2][0]:
            break
        (t0, _), (t1, _) = tries[-2], tries[-1]
        slope = (errors[-1] - errors[-2]) / (t1 - t0) if t1 != t0 else 0.5
        tilt = t1 - errors[-1] / (slope if slope > 1e-3 else 0.5)
    return tries[int(np.argmin(np.abs(errors)))][1]


__all__ = ["PlayableNote", "make_loop", "note_life", "playable_note", "playable_range", "key_pitches", "key_notes",
           "centroid_hz", "held_centroid_hz", "tilted", "KEY_STEP", "midi_to_hz", "hz_to_midi"]
