"""Timbre Explorer: explore a generative timbre space (Esling, Chemla-Romeu-Santos & Bitton, DAFx 2018)."""

__version__ = "0.1.0"
