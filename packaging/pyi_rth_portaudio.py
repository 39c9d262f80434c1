"""PyInstaller runtime hook: the frozen app uses the PortAudio bundled with it.

sounddevice finds PortAudio with ``ctypes.util.find_library("portaudio")``, which on Linux searches
the system only, so a machine without ``libportaudio2`` would get no sound although the app carries
the library. When the bundle holds one, hand sounddevice its path; otherwise leave the lookup alone
(the system's, if any).
"""

import ctypes.util
import os
import sys


def _use_bundled_portaudio() -> None:
    bundled = os.path.join(sys._MEIPASS, "libportaudio.so.2")
    if not os.path.isfile(bundled):
        return
    find_library = ctypes.util.find_library

    def find(name):
        return bundled if name == "portaudio" else find_library(name)

    ctypes.util.find_library = find


_use_bundled_portaudio()
