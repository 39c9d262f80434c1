"""Synthesis: an opened timbre space, notes, paths, morphs, descriptor fields and moves, encoding of new sounds."""
