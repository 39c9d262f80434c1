"""Grill's ``nsgt`` 0.19, the reference NSGT, with its one bug on numpy >= 1.17 worked around.

For tests and benchmarks only: the app never imports it. ``nsgfwin_sl.nsgfwin``
clips an int array in place with a float bound (``np.clip(M, min_win, np.inf,
out=M)``), which modern numpy refuses. The module looks ``np`` up at call
time, so it gets a numpy whose ``clip`` casts the result back into ``out``.
"""

from __future__ import annotations

import warnings

import numpy as np


class _NumpyWithIntClip:
    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def clip(a, lo, hi, out=None):
        r = np.clip(a, lo, hi)
        if out is None:
            return r
        out[...] = r.astype(out.dtype)
        return out


def patched_nsgt():
    """Import ``nsgt`` (ImportError if absent) and apply the workaround; returns the module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "nsgt.fft falling back to numpy.fft", audio I/O notices
        import nsgt
        import nsgt.nsgfwin_sl as nsgfwin_sl
    nsgfwin_sl.np = _NumpyWithIntClip()
    return nsgt
