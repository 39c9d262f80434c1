"""Test signals whose descriptors and spectra are known."""

from __future__ import annotations

import torch


def tone(freq: float, seconds: float = 1.0, sr: int = 22050, amplitude: float = 1.0, dtype=torch.float64):
    t = torch.arange(int(round(seconds * sr)), dtype=dtype) / sr
    return amplitude * torch.sin(2 * torch.pi * freq * t)


def harmonic_tone(f0: float, seconds: float = 1.0, sr: int = 22050, partials: int = 15, dtype=torch.float64):
    """A steady harmonic note with 1/k partial amplitudes and fixed phases."""
    t = torch.arange(int(round(seconds * sr)), dtype=dtype) / sr
    return sum((0.5 / k) * torch.sin(2 * torch.pi * f0 * k * t + k) for k in range(1, partials + 1))


def steady_tone(f0: float, seconds: float = 1.0, sr: int = 22050, attack: float = 0.02):
    """A steady harmonic tone (numpy float32; 1/k partials, fixed phases) with a short linear attack, at about
    -18 dBFS RMS: the level the app gives its loudest notes."""
    import numpy as np

    t = np.arange(int(seconds * sr)) / sr
    x = sum((0.5 / k) * np.sin(2 * np.pi * f0 * k * t + k) for k in range(1, 12) if f0 * k < sr / 2)
    return (0.3 * np.minimum(t / attack, 1.0) * x).astype(np.float32)


def playable_tone(f0: float, *, release_s: float = 0.2, sr: int = 22050):
    """A :class:`PlayableNote` of :func:`steady_tone` (f0 known): what the tests play instead of a model's notes."""
    from timbre_explorer.core.synthesis.playable import hz_to_midi, make_loop

    return make_loop(steady_tone(f0, sr=sr), sr, hz_to_midi(f0), attack_s=0.02, release_s=release_s)


def fundamental(x, sr: int = 22050) -> float:
    """The frequency (Hz) of the strongest spectral peak of ``x`` (Hann window, parabolic interpolation on the
    log magnitude): the f0 of the steady harmonic tones above, whose fundamental is their strongest partial."""
    import numpy as np

    x = np.asarray(x, np.float64)
    spectrum = np.log(np.abs(np.fft.rfft(x * np.hanning(len(x)))) + 1e-12)
    k = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = spectrum[k - 1:k + 2]
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * sr / len(x)


def rms_db(x) -> float:
    import numpy as np

    return float(20 * np.log10(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)) + 1e-12))


def pull(engine, seconds: float, *, sr: int = 22050, block: int = 256):
    """``seconds`` of an audio engine's output (left channel), block by block through its callback."""
    import numpy as np

    out = np.empty((block, 2), np.float32)
    chunks = []
    for _ in range(int(np.ceil(seconds * sr / block))):
        engine.callback(out, block, None, None)
        chunks.append(out[:, 0].copy())
    return np.concatenate(chunks)


def pull_blocks(engine, blocks: int, frames: int = 256, channels: int = 2):
    """``blocks`` blocks of an audio engine's output, every channel, through its callback."""
    import numpy as np

    out = np.empty((frames, channels), np.float32)
    chunks = []
    for _ in range(blocks):
        engine.callback(out, frames, None, None)
        chunks.append(out.copy())
    return np.concatenate(chunks)


def spectral_centroid_hz(x, sr: int = 22050) -> float:
    """The spectral centroid (Hz) of ``x``: the mean frequency of its magnitude spectrum (Hann window), as the
    app's descriptors and librosa weigh it; how bright a held sound is."""
    import numpy as np

    x = np.asarray(x, np.float64)
    magnitude = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float((magnitude * np.fft.rfftfreq(len(x), 1 / sr)).sum() / magnitude.sum())
