"""What a new map does without at first, prepared off the GUI thread once it is drawn (the Explorer tab submits
:func:`prepare` to its task worker when it shows a space)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.gui import memory
from timbre_explorer.gui.explorer.results import Prepared

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.workers import Job


def prepare(space: TimbreSpace, job: Job) -> Prepared:
    """First what a first click waits for: the decoder (torch's import: 1.0-1.5 s), the NSGT and torch's kernels
    of a note; then the sliders' spans (the map's notes decoded: 0.8-1.6 s for the bundled model), the on-data
    mapping's scipy modules (0.2-0.5 s) and the "Instruments apart" axes (scikit-learn's LDA: about 1 s). A newer
    space stops it. torch's native libraries are loaded first without holding the interpreter lock, which would
    stall the GUI thread (:func:`~timbre_explorer.core.runtime.load_torch_libraries`). The GUI thread collects no
    cycles meanwhile, and what it loaded is then settled out of later collections, however it ends
    (:mod:`~timbre_explorer.gui.memory`)."""
    from timbre_explorer.core.errors import Cancelled
    from timbre_explorer.core.runtime import load_torch_libraries

    def step(fraction: float, text: str) -> None:
        if job.cancelled():
            raise Cancelled("another model was opened")
        job.progress(fraction, text)

    memory.hold()
    try:
        load_torch_libraries()
        from timbre_explorer.core.synthesis.manifold import OnData  # torch and scipy, imported here
        from timbre_explorer.core.synthesis.synth import note

        step(0.0, "Loading the decoder…")
        space.decoder()
        note(space, space.decode(space.notes.z[0]), seconds=0.2)
        step(0.1, "Computing the sliders' spans (every note of the map, decoded)…")
        ranges = {k: (float(np.percentile(v, 1)), float(np.percentile(v, 99)))
                  for k, v in space.decoded_descriptors.items()}
        step(0.6, "Computing the “Instruments apart” axes…")
        OnData(space.projection, space.notes.z[:2], (0, 1)).latent([0.0, 0.0])
        discriminant = space.discriminant_projection
    finally:
        memory.settle()  # the libraries and the space live until another model opens
    step(1.0, "")
    return Prepared(space, ranges, discriminant)
