"""The model: the VAE and its file format (safetensors weights plus a JSON card)."""
