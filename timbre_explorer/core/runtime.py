"""Process-wide settings that make torch on a CPU run at its measured speed."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys


def tune_allocator() -> bool:
    """Ask glibc to keep freed memory for reuse instead of handing it back to the OS.

    torch allocates a fresh buffer for every intermediate tensor. glibc serves
    blocks above its mmap threshold (32 MB at most, often far less) straight
    from the kernel and returns them on free, so every call page-faults its
    temporaries in again: measured here, it doubled the time of an NSGT of a
    batch of one-second signals. Raising the mmap and trim thresholds keeps
    such blocks in the heap. Called once at program start (CLI, app,
    benchmarks); a no-op, returning False, where glibc is not the allocator.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 512 << 20)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError):
        return False

