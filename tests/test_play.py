"""Playing from keys without Qt: the engine's voices (driven through its real callback), the Player, MIDI.

The notes are harmonic tones of known f0 (``signals.playable_tone``), not a model's: what is measured (f0, level,
silence) is then known exactly.
"""

from __future__ import annotations

import threading
import tracemalloc

import mido
import numpy as np
import pytest
from signals import fundamental, playable_tone, pull, rms_db

from timbre_explorer.audio import midi
from timbre_explorer.audio.engine import LIMIT_KNEE, MAX_VOICES, VOICE_GAIN, AudioEngine
from timbre_explorer.audio.player import (
    BOOST_LIMIT_DB,
    ControlChange,
    FromInput,
    NoteOff,
    NoteOn,
    PitchBend,
    Player,
    Sustain,
    events_from_midi,
    velocity_gain,
)
from timbre_explorer.core.synthesis.playable import midi_to_hz

SR = 22050
BLOCK = 256



def semitones(f: float, ref: float) -> float:
    return 12 * np.log2(f / ref)


# ---------------------------------------------------------------------------------------------------- the engine
def test_a_voice_plays_its_note_transposed_to_the_key_and_holds_it(engine):
    note = playable_tone(220.0)  # A3
    engine.note_on(note, 64.0, 1.0)  # E4: 7 semitones up, read 1.498 times faster
    y = pull(engine, 2.0)
    assert semitones(fundamental(y[SR // 2:]), midi_to_hz(64)) == pytest.approx(0, abs=0.02)
    # held for 2 s (ten times its loop): the level of each quarter second stays within 0.5 dB
    levels = [rms_db(y[i:i + SR // 4]) for i in range(SR // 4, len(y) - SR // 4, SR // 4)]
    assert max(levels) - min(levels) < 0.5
    assert rms_db(y[SR // 2:]) == pytest.approx(rms_db(note.samples[note.loop_start:note.loop_end]) +
                                                20 * np.log10(VOICE_GAIN), abs=0.3)


def test_note_off_releases_over_release_s_then_frees_the_voice(engine):
    voice = engine.note_on(playable_tone(330.0, release_s=0.3), 60.0, 1.0)
    pull(engine, 0.5)
    engine.note_off(voice)
    y = pull(engine, 0.6)
    quarter = int(0.075 * SR)
    assert rms_db(y[:quarter]) > rms_db(y[2 * quarter:3 * quarter]) + 3  # fading, not cut
    assert np.abs(y[int(0.3 * SR) + BLOCK:]).max() == 0.0  # silent once release_s has passed
    assert np.abs(np.diff(y)).max() < 0.1  # no click
    assert engine.voices_sounding == 0


def test_pitch_bend_moves_every_voice(engine):
    engine.note_on(playable_tone(220.0), 57.0, 1.0)
    pull(engine, 0.2)
    engine.pitch_bend(1.0)
    y = pull(engine, 1.2)[int(0.1 * SR):]
    assert semitones(fundamental(y), midi_to_hz(57)) == pytest.approx(1.0, abs=0.02)
    engine.pitch_bend(0.0)
    y = pull(engine, 1.2)[int(0.1 * SR):]
    assert semitones(fundamental(y), midi_to_hz(57)) == pytest.approx(0.0, abs=0.02)


def test_eight_loud_voices_and_one_more_mix_below_full_scale(engine):
    """Gain staging: notes at -18 dBFS RMS (the app's loudest), full velocity, -6 dB per voice (VOICE_GAIN):
    nine voices sound together without clipping, and no limiter touches them (the mix is their exact sum)."""
    notes = [playable_tone(f) for f in (110.0, 138.6, 164.8, 196.0, 220.0, 261.6, 329.6, 392.0, 440.0)]
    assert all(rms_db(n.samples[n.loop_start:n.loop_end]) > -18.5 for n in notes)
    for n in notes[:8]:
        engine.note_on(n, n.pitch, 1.0)
    eight = pull(engine, 1.0)
    engine.note_on(notes[8], notes[8].pitch, 1.0)
    nine = pull(engine, 1.0)
    assert engine.voices_sounding == 9
    assert np.abs(eight).max() < 1.0 and np.abs(nine).max() < 1.0
    assert -16.5 < rms_db(eight[SR // 4:]) < -13.0  # eight uncorrelated -24 dBFS voices: about -15 dBFS
    # the mix is the plain sum: each voice alone, rendered by its own engine, adds up to it
    alone = []
    for n in notes[:8]:
        e = AudioEngine(SR, open_stream=False, blocksize=BLOCK)
        e.available = True
        e.note_on(n, n.pitch, 1.0)
        alone.append(pull(e, 1.0))
    np.testing.assert_allclose(eight, np.sum(alone, axis=0), atol=1e-5)


def _loudest_notes() -> list:
    """Sixteen of the loudest notes spread over 6 1/4 octaves, then sixteen in unison."""
    return [playable_tone(110.0 * 2 ** (k * 5 / 48)) for k in range(MAX_VOICES)] + \
        [playable_tone(110.0) for _ in range(MAX_VOICES)]


def test_sixteen_loud_held_voices_are_limited_below_full_scale():
    """Sixteen voices of the loudest notes at full velocity summed to 1.05 (fault 18 of issue 27) and more
    where they are in phase: the mix is soft-clipped below full scale."""
    notes = _loudest_notes()
    for group in (notes[:MAX_VOICES], notes[MAX_VOICES:]):  # spread over 6 1/4 octaves, then in unison
        e = AudioEngine(SR, open_stream=False, blocksize=BLOCK)
        e.available = True
        alone = AudioEngine(SR, open_stream=False, blocksize=BLOCK)  # one voice at a time: their plain sum
        alone.available = True
        plain = 0.0
        for n in group:
            e.note_on(n, n.pitch, 1.0)
            alone.note_on(n, n.pitch, 1.0)
            plain = plain + pull(alone, 1.0)
            alone.all_notes_off()
            pull(alone, 0.5)
        y = pull(e, 1.0)
        assert e.voices_sounding == MAX_VOICES
        assert np.abs(plain).max() > 1.0  # what the sum would be: over full scale
        assert np.abs(y).max() < 1.0
        assert np.abs(np.diff(y)).max() < 0.5  # bent, not cut: no edge sharper than the notes' own


def test_one_voice_at_a_normal_level_passes_the_limiter_unchanged(engine):
    one = playable_tone(220.0)  # a normal level: the app's loudest note, one voice
    engine.note_on(one, one.pitch, 1.0)
    y = pull(engine, 1.0)
    expected = rms_db(one.samples[one.loop_start:one.loop_end]) + 20 * np.log10(VOICE_GAIN)
    assert rms_db(y[SR // 4:]) == pytest.approx(expected, abs=0.1)
    assert np.abs(y).max() < LIMIT_KNEE  # below the knee: sample for sample as mixed


def test_the_limiter_allocates_nothing_that_grows_with_the_block():
    """The limiter keeps the callback's discipline."""
    e = AudioEngine(SR, open_stream=False, blocksize=4096)
    e.available = True
    out = np.zeros((4096, 2), np.float32)
    for n in _loudest_notes()[MAX_VOICES:]:
        e.note_on(n, n.pitch, 1.0)
    e.callback(out, 4096)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(5):
            e.callback(out, 4096)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert 0.9 < np.abs(out).max() < 1.0 and peak < 4096


def test_the_engine_refuses_a_volume_that_is_not_a_finite_number_from_0_to_1(engine):
    """``volume=inf`` or ``nan`` from a settings file made every sample NaN (fault 16 of issue 27)."""
    engine.note_on(playable_tone(220.0), 57.0, 1.0)
    for bad in (float("nan"), float("inf"), -0.5, 2.0):
        with pytest.raises(ValueError, match="volume"):
            engine.volume = bad
    assert engine.volume == 1.0
    engine.volume = 0.5
    y = pull(engine, 0.3)
    assert np.isfinite(y).all() and np.abs(y).max() > 0


def test_one_voice_too_many_steals_the_oldest_with_a_short_fade(engine):
    first = playable_tone(110.0)
    engine.note_on(first, first.pitch, 1.0)
    others = [playable_tone(220.0 * 2 ** (k / 24)) for k in range(MAX_VOICES)]
    for n in others[:MAX_VOICES - 1]:
        engine.note_on(n, n.pitch, 0.05)
    pull(engine, 0.3)
    assert engine.voices_sounding == MAX_VOICES
    engine.note_on(others[-1], others[-1].pitch, 0.05)  # the 17th: the oldest (110 Hz) goes
    y = pull(engine, 0.6)
    assert engine.voices_sounding == MAX_VOICES
    fade = int(0.005 * SR)
    assert np.abs(np.diff(y[:fade + 10])).max() < 0.05  # faded, not cut
    spectrum = np.abs(np.fft.rfft(y[SR // 10:] * np.hanning(len(y) - SR // 10)))
    freqs = np.fft.rfftfreq(len(y) - SR // 10, 1 / SR)
    assert spectrum[np.abs(freqs - 110).argmin()] < 1e-3 * spectrum.max()  # the stolen voice is gone


def test_the_callback_allocates_no_buffers(engine):
    """With 16 voices sounding (some releasing, some stolen, a bend), a 4096-frame callback allocates nothing
    that grows with the block: Python's own small objects only (a float32 block alone would be 16 KiB)."""
    e = AudioEngine(SR, open_stream=False, blocksize=4096)
    e.available = True
    out = np.zeros((4096, 2), np.float32)
    ids = [e.note_on(playable_tone(100.0 + 30 * k), 60.0 + k, 0.1) for k in range(20)]
    e.callback(out, 4096)
    e.note_off(ids[-1])
    e.pitch_bend(0.3)
    e.play(np.ones(50_000, np.float32))  # the crossfading one-sound path too
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(10):
            e.callback(out, 4096)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert np.abs(out).max() > 0
    assert peak < 4096


def test_no_output_no_voice():
    e = AudioEngine(SR, open_stream=False)
    assert not e.available and e.note_on(playable_tone(220.0), 60.0, 1.0) == -1


# ---------------------------------------------------------------------------------------------------- MIDI events
def test_midi_messages_become_events():
    assert events_from_midi(mido.Message("note_on", note=60, velocity=90, channel=3)) == NoteOn(60, 90)
    assert events_from_midi(mido.Message("note_on", note=60, velocity=0)) == NoteOff(60)
    assert events_from_midi(mido.Message("note_off", note=61, velocity=40)) == NoteOff(61)
    assert events_from_midi(mido.Message("control_change", control=64, value=64)) == Sustain(True)
    assert events_from_midi(mido.Message("control_change", control=64, value=63)) == Sustain(False)
    assert events_from_midi(mido.Message("control_change", control=16, value=5)) == ControlChange(16, 5)
    assert events_from_midi(mido.Message("pitchwheel", pitch=8191)) == PitchBend(2.0)
    assert events_from_midi(mido.Message("pitchwheel", pitch=-8192)) == PitchBend(-2.0)
    assert events_from_midi(mido.Message("pitchwheel", pitch=0)) == PitchBend(0.0)
    assert events_from_midi(mido.Message("program_change", program=3)) is None
    assert events_from_midi(mido.Message("clock")) is None


def test_velocity_curve():
    assert velocity_gain(127) == 1.0
    assert 20 * np.log10(velocity_gain(64)) == pytest.approx(-11.9, abs=0.1)
    assert velocity_gain(0) == velocity_gain(1) > 0  # clamped to 1..127
    assert all(velocity_gain(v) < velocity_gain(v + 1) for v in range(1, 127))
    # relative to the velocity the notes were made for: that velocity plays them as made, harder keys no louder
    assert velocity_gain(40, 40) == 1.0
    assert 20 * np.log10(velocity_gain(20, 40)) == pytest.approx(40 * np.log10(0.5))
    assert 20 * np.log10(velocity_gain(127, 10)) == pytest.approx(BOOST_LIMIT_DB) == 0.0


# ---------------------------------------------------------------------------------------------------- the Player
@pytest.fixture
def player(engine):
    controls = []
    p = Player(engine, on_control=controls.append, controls={16, 17})
    p.set_notes([playable_tone(261.63), playable_tone(130.81), playable_tone(523.25)])  # C3 C4 C5, any order
    p.controls_seen = controls
    return p


def test_a_key_plays_the_nearest_reference_note(player):
    assert [round(n.pitch) for n in player.notes] == [48, 60, 72]
    assert [round(player.note_for(k).pitch) for k in (30, 50, 65, 67, 100)] == [48, 48, 60, 72, 72]
    player.handle(NoteOn(67, 100))
    y = pull(player.engine, 1.0)[SR // 4:]
    assert semitones(fundamental(y), midi_to_hz(67)) == pytest.approx(0, abs=0.02)


def test_velocity_sets_the_level(player):
    levels = []
    for velocity in (30, 120):
        player.handle(NoteOn(60, velocity))
        levels.append(rms_db(pull(player.engine, 0.5)[SR // 8:]))
        player.handle(NoteOff(60))
        pull(player.engine, 0.5)
    assert levels[1] - levels[0] == pytest.approx(40 * np.log10(120 / 30), abs=0.2)


def test_sustain_pedal_holds_released_keys_until_it_is_lifted(player):
    e = player.engine
    player.handle(Sustain(True))
    player.handle(NoteOn(60, 100))
    pull(e, 0.2)
    player.handle(NoteOff(60))
    held = pull(e, 0.6)
    assert rms_db(held[-SR // 10:]) > -40 and e.voices_sounding == 1  # still sounding after its key
    player.handle(Sustain(False))
    tail = pull(e, 0.5)
    assert np.abs(tail[-SR // 10:]).max() == 0.0 and e.voices_sounding == 0  # released after the pedal


def test_a_key_released_without_pedal_stops_and_the_same_key_again_retriggers(player):
    e = player.engine
    player.handle(NoteOn(60, 100))
    player.handle(NoteOn(60, 100))  # no note-off between (a second MIDI source, or a missed message)
    pull(e, 0.1)
    assert e.voices_sounding == 2 and player.keys_down == {60}
    player.handle(NoteOff(60))
    pull(e, 0.5)
    assert e.voices_sounding == 0


def test_assigned_controllers_come_back_to_the_caller(player):
    player.handle(ControlChange(16, 30))
    player.handle(ControlChange(1, 99))  # not assigned: ignored
    player.handle(ControlChange(17, 127))
    assert player.controls_seen == [ControlChange(16, 30), ControlChange(17, 127)]


def test_a_note_on_still_on_its_way_when_its_input_goes_is_not_left_sounding(player):
    """Refresh closes the MIDI port: a note-on the port sent just before (on its way to the GUI thread) or
    after the close used to start a voice whose note-off never came (fault 17 of issue 27). The messages go
    through the same conversion as the port's callback (``events_from_midi``)."""
    engine = player.engine
    first = player.connect_input()

    def sent(number, *messages):
        return [FromInput(number, events_from_midi(m)) for m in messages]

    for event in sent(first, mido.Message("note_on", note=60, velocity=100),
                      mido.Message("control_change", control=64, value=127),
                      mido.Message("note_on", note=62, velocity=100), mido.Message("note_off", note=62)):
        player.handle(event)
    in_flight = sent(first, mido.Message("note_on", note=64, velocity=100),
                     mido.Message("control_change", control=64, value=127))
    pull(engine, 0.3)
    assert engine.voices_sounding == 2 and player.pedal_holds == 1
    player.disconnect_input(first)  # the port closed
    for event in in_flight + sent(first, mido.Message("note_on", note=65, velocity=90)):  # delivered after
        player.handle(event)
    pull(engine, 0.6)
    assert engine.voices_sounding == 0 and player.keys_down == frozenset() and player.pedal_holds == 0
    player.handle(NoteOn(67, 100))  # the computer keyboard, and the next input, still play
    second = player.connect_input()
    player.handle(FromInput(second, NoteOn(69, 100)))
    pull(engine, 0.3)
    assert engine.voices_sounding == 2 and player.keys_down == {67, 69}


def test_no_timbre_yet_plays_nothing(engine):
    p = Player(engine)
    p.handle(NoteOn(60, 100))
    assert not pull(engine, 0.1).any() and p.keys_down == frozenset()


# ---------------------------------------------------------------------------------------------------- MIDI ports
def test_without_midi_the_reason_is_one_sentence():
    found = midi.list_inputs()
    if found.names:
        pytest.skip(f"this machine has MIDI inputs: {found.names}")
    assert found.problem.count(". ") == 0 and found.problem.endswith(".")
    port, why = midi.open_input("Some Keyboard", lambda msg: None)
    assert port is None and why.endswith(".") and why.count(". ") == 0


def test_a_virtual_rtmidi_port_reaches_the_callback():
    """A real MIDI round trip through the ALSA sequencer: a virtual output, our input on it, a note."""
    found = midi.list_inputs()
    if found.problem and "connected" not in found.problem:
        pytest.skip(found.problem)
    out = mido.Backend(midi.BACKEND).open_output("Timbre Explorer test", virtual=True)
    try:
        name = next(n for n in midi.list_inputs().names if "Timbre Explorer test" in n)
        got, arrived = [], threading.Event()
        port, why = midi.open_input(name, lambda msg: (got.append(events_from_midi(msg)), arrived.set()))
        assert port is not None, why
        try:
            out.send(mido.Message("note_on", note=64, velocity=77))
            assert arrived.wait(5.0)
        finally:
            port.close()
    finally:
        out.close()
    assert got == [NoteOn(64, 77)]
