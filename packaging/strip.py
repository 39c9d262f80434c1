"""Strip the built app's shared libraries of their symbol tables, keeping a stripped one only where it still loads.

    python packaging/strip.py dist/timbre-explorer/_internal

About 145 MB less (torch's libraries 95 MB, pyenv's libpython 17 MB). Libraries in a wheel's ``*.libs``
folder are left alone: auditwheel rewrote them (patchelf), and stripped they no longer load ("ELF load command
address/offset not page-aligned"), nor does what links them (numpy's and SciPy's OpenBLAS). Any other library
that loaded before and does not once stripped gets its original back.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: Loads each library named in argv in this process (constructors run, nothing of Python is initialised) and prints
#: the ones that loaded; os._exit skips destructors that may not expect to run in a bare interpreter.
LOAD = """import ctypes, os, sys
for path in sys.argv[1:]:
    try:
        ctypes.CDLL(path, os.RTLD_LAZY)
        print(path)
    except OSError:
        pass
sys.stdout.flush()
os._exit(0)
"""


def loading(paths: list[Path]) -> set[str]:
    """The libraries among ``paths`` that load, tried in a process of their own."""
    out = subprocess.run([sys.executable, "-c", LOAD, *map(str, paths)], capture_output=True, text=True).stdout
    return set(out.splitlines())


def main(bundle: Path) -> int:
    libraries = [p for p in sorted(bundle.rglob("*.so*")) if p.is_file() and not p.is_symlink()
                 and not any(part.endswith(".libs") for part in p.relative_to(bundle).parts)]
    stripped = {}
    for lib in libraries:
        out = lib.with_name(lib.name + ".stripped")
        done = subprocess.run(["strip", "--strip-unneeded", "-o", str(out), str(lib)], capture_output=True)
        if done.returncode == 0 and out.stat().st_size < lib.stat().st_size:
            stripped[lib] = out
        else:
            out.unlink(missing_ok=True)
    before = loading(list(stripped))
    saved = 0
    for lib, out in stripped.items():
        lib.rename(lib.with_name(lib.name + ".original"))
        out.rename(lib)
    after = loading(list(stripped))
    kept_back = []
    for lib in stripped:
        original = lib.with_name(lib.name + ".original")
        if str(lib) in before and str(lib) not in after:
            original.replace(lib)
            kept_back.append(lib.relative_to(bundle).as_posix())
        else:
            saved += original.stat().st_size - lib.stat().st_size
            original.unlink()
    print(f"strip.py: {len(stripped) - len(kept_back)} libraries stripped, {saved / 1e6:.0f} MB less"
          + (f"; not loading stripped, left whole: {', '.join(kept_back)}" if kept_back else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
