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
