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



def load_torch_libraries() -> bool:
    """Load torch's native libraries with the interpreter lock released, ahead of ``import torch``.

    Python's import runs ``dlopen`` holding the lock, and loading libtorch (its relocations and static
    initialisers) takes 0.2-0.3 s, during which no other Python thread runs: the app's GUI thread stalled that long
    when a worker first imported torch. A call through ctypes releases the lock, so a worker that loads the same
    files here first leaves the import only to find them loaded. They are loaded as torch loads them (its global
    dependencies ``RTLD_GLOBAL``, the rest local, all bound at once). True when they were loaded; False, having
    done nothing, once torch is imported, off glibc, or where the files are not where torch's wheel puts them.
    """
    import importlib.util
    from pathlib import Path

    if "torch" in sys.modules or not sys.platform.startswith("linux"):
        return False
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return False
    root = Path(spec.origin).parent
    rtld_now, rtld_global = 2, 0x100
    files = [(root / "lib" / "libtorch_global_deps.so", rtld_now | rtld_global),
             (root / "lib" / "libtorch_python.so", rtld_now), *((p, rtld_now) for p in sorted(root.glob("_C.*.so")))]
    if not all(path.is_file() for path, _ in files):
        return False
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return False
    dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
    return all(dlopen(str(path).encode(), mode) for path, mode in files)
