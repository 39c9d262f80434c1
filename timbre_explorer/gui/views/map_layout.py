"""Where the 2-D map puts things on the screen, Qt-free (arrays in, arrays out): the instrument names around their
centroids, and the subset of notes drawn while the view moves. Tested without a map."""

from __future__ import annotations

import itertools

import numpy as np

PICK_PIXELS = 8  # a click this close to a note, or to a name's centroid mark, is on it
#: Above this many notes the map draws a subset of about this many while it moves (:func:`level_of_detail`).
LOD_POINTS = 30_000
#: Every colour keeps at least this share of that subset (all its notes when it has fewer): none disappears.
LOD_FLOOR = 1 / 50
LABEL_GAP = 3.0  # pixels between a label and its centroid, and at least between two labels
LEADER_PIXELS = 8.0  # a label further than this from its centroid gets a line to it
#: Where a label tries to sit around its centroid, in this order: above (its usual place), right, left, below,
#: then the diagonals (screen directions, y down).
LABEL_DIRECTIONS = np.array([(0, -1), (1, 0), (-1, 0), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1)], float)


def place_labels(anchors: np.ndarray, sizes: np.ndarray, notes: np.ndarray, *, gap: float = LABEL_GAP) -> np.ndarray:
    """Centres ``[N, 2]`` of labels of ``sizes [N, 2]`` (width, height) near their ``anchors [N, 2]``, no two
    overlapping (screen pixels, y down). Qt-free: boxes in, positions out, so it is tested without a map.

    Greedy, cheap for the few dozen instruments: the label naming the most ``notes`` goes first (the big
    instruments keep their places); each takes the first free spot of :data:`LABEL_DIRECTIONS` just beside its
    anchor (a label that fits stays above its centroid), else on rings one label height further out.

    >>> place_labels([[0, 0], [0, 0]], [[40, 10], [40, 10]], [5, 9]).tolist()  # the busier one stays above
    [[0.0, 8.0], [0.0, -8.0]]
    """
    anchors = np.asarray(anchors, float).reshape(-1, 2)
    sizes = np.asarray(sizes, float).reshape(-1, 2)
    centres = anchors.copy()
    placed: list[int] = []
    for k in np.argsort(-np.asarray(notes), kind="stable"):
        half = sizes[k] / 2
        step = max(sizes[k, 1], 1.0)
        for ring in itertools.count():  # ends: once a ring passes every placed label, its right-hand spot is free
            spots = anchors[k] + LABEL_DIRECTIONS * (half + gap + ring * step)
            apart = np.abs(spots[:, None] - centres[placed][None]) >= half + sizes[placed] / 2 + gap
            free = apart.any(-1).all(1)
            if free.any():
                centres[k] = spots[np.argmax(free)]
                placed.append(k)
                break
    return centres


def level_of_detail(members: list[np.ndarray], budget: int, *, floor: float = LOD_FLOOR,
                    seed: int = 0) -> list[np.ndarray]:
    """A fixed random subset of each colour's notes (``members``: their indices), about ``budget`` in all.

    Stratified by colour: each keeps its share of the budget but at least ``floor`` of the budget, so a rare
    instrument stays visible while panning. Sorted, in the order the full layer draws them.
    """
    share = budget / max(sum(len(m) for m in members), 1)
    least = round(floor * budget)
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(m, min(len(m), max(least, round(share * len(m)))), replace=False)) for m in members]
