"""Data: instrument names, note sources (SoundFonts, sample folders), the analysed dataset, perceptual ratings."""
