"""Shared fixtures. GUI tests run offscreen; nothing here needs a sound card, a display or a GPU."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture
def rng():
    return np.random.default_rng(440)


@pytest.fixture(scope="session")
def reference_nsgt():
    """The reference ``nsgt``, patched for modern numpy (see ``nsgt_reference.py``)."""
    from nsgt_reference import patched_nsgt

    if os.environ.get("CI"):
        return patched_nsgt()  # CI installs it: a missing oracle must fail, not skip
    try:
        return patched_nsgt()
    except ImportError:
        pytest.skip("nsgt is not installed (./run.sh test installs it)")
