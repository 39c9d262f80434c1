"""Signals: the NSGT and its scales, phase reconstruction, audio descriptors, units and audio files."""
