"""Training: configuration, the training loop, run folders and their tasks, evaluation against the ratings."""
