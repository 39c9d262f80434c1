#!/usr/bin/env bash
# Set up Timbre Explorer (first run only) and launch it, or run its tests.
#
#   ./run.sh [ARGS...]        launch the app on the bundled model (ARGS go to timbre-explorer)
#   ./run.sh test [ARGS...]   run the checks, the whole test suite and the smoke benchmark (with ARGS: only the
#                             checks and the suite's pytest on ARGS)
#
# Set-up, on Debian/Ubuntu with Python 3.11+: installs the system libraries Qt, PortAudio and the
# virtual display need (with apt-get, as root or through passwordless sudo; otherwise it lists
# them), creates .venv, installs torch (the CPU build unless an NVIDIA GPU is present) and the
# package. It re-runs pip only when pyproject.toml or this script changed. For the tests it also makes
# .venv-core, the same environment without Qt (see below).
set -euo pipefail
cd "$(dirname "$0")"

TORCH_VERSION=2.13.0
VENV=.venv
mode=app
if [[ ${1:-} == test ]]; then mode=test; shift; fi

say() { printf '\033[1mrun.sh:\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mrun.sh: warning:\033[0m %s\n' "$*" >&2; }

# ---------------------------------------------------------------- Python
python=
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python=$(command -v "$candidate"); break
  fi
done
if [[ -z $python ]]; then
  say "Timbre Explorer needs Python 3.11 or newer (apt-get install python3, or see python.org)."; exit 1
fi

# ---------------------------------------------------------------- system libraries
# libportaudio2: sound (without it the app runs silent); libxcb-* libxkbcommon-x11-0 libegl1 libgl1
# libfontconfig1 libdbus-1-3: Qt on an X display; libfluidsynth3 fluid-soundfont-gm: the synthesizer and
# the General MIDI SoundFont (FluidR3_GM) the default dataset is rendered from; musescore-general-soundfont
# timgm6mb-soundfont csound-soundfont: three more sample sets (MuseScore_General, TimGM6mb, sf_GMbank) for
# datasets of several sources; freepats timidity: FreePats, the sample set the cross-source evaluation keeps out
# (Gravis patches, which TiMidity++ renders); xvfb xauth: the 3D view's tests on a virtual display.
system_packages=(libportaudio2 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1
  libfontconfig1 libdbus-1-3 libfluidsynth3 fluid-soundfont-gm musescore-general-soundfont timgm6mb-soundfont
  csound-soundfont freepats timidity)
[[ $mode == test ]] && system_packages+=(xvfb xauth)
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  system_packages+=("python3-venv")
fi
if command -v dpkg >/dev/null; then
  missing=()
  for p in "${system_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    sudo=()
    if (( EUID != 0 )); then
      if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else sudo=(none); fi
    fi
    if [[ ${sudo[0]:-} == none ]]; then
      warn "cannot install system packages without root; please run:"
      warn "  sudo apt-get install ${missing[*]}"
    else
      say "installing system packages: ${missing[*]}"
      if ! { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
               --no-install-recommends "${missing[@]}" >/dev/null; }; then
        warn "apt-get could not install: ${missing[*]} (sound or display may not work)"
      fi
    fi
  fi
else
  warn "not a Debian/Ubuntu system: install PortAudio and Qt's X11/xcb libraries with your package manager"
fi

# ---------------------------------------------------------------- virtual environment
if [[ ! -x $VENV/bin/python ]]; then
  say "creating $VENV with $("$python" --version)"
  "$python" -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
stamp=$VENV/.timbre-explorer-$mode
want=$(cat pyproject.toml "$0" | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
      say "NVIDIA GPU found: installing torch $TORCH_VERSION with CUDA"
      "${pip[@]}" install -q "torch==$TORCH_VERSION"
    else
      # No GPU: the CPU build (about 200 MB) instead of PyPI's default CUDA build (several GB).
      say "no NVIDIA GPU: installing the CPU build of torch $TORCH_VERSION"
      "${pip[@]}" install -q "torch==$TORCH_VERSION+cpu" 2>/dev/null \
        || "${pip[@]}" install -q "torch==$TORCH_VERSION" --index-url https://download.pytorch.org/whl/cpu
    fi
  fi
  if [[ $mode == test ]]; then
    say "installing Timbre Explorer and its test tools"
    "${pip[@]}" install -q -e ".[test]"
    # nsgt, the reference our NSGT is tested against: its sdist imports numpy in setup.py.
    "${pip[@]}" install -q setuptools wheel
    "${pip[@]}" install -q --no-build-isolation "nsgt==0.19"
  else
    say "installing Timbre Explorer"
    "${pip[@]}" install -q -e .
  fi
  echo "$want" >"$stamp"
fi

# ---------------------------------------------------------------- tests
if [[ $mode == test ]]; then
  # .venv-core: .venv without Qt, where the core's and the command line's tests must pass. Its site-packages
  # are hard links to .venv's (seconds, no disk, no download); made again whenever pip has changed .venv.
  core_venv=.venv-core
  if [[ ! -f $core_venv/.made || $stamp -nt $core_venv/.made ]]; then
    say "making $core_venv: $VENV without Qt"
    rm -rf "$core_venv"
    "$VENV/bin/python" -m venv --without-pip "$core_venv"
    purelib() { "$1" -c 'import sysconfig; print(sysconfig.get_path("purelib"))'; }
    core_site=$(purelib "$core_venv/bin/python")
    rmdir "$core_site"
    cp -al "$(purelib "$VENV/bin/python")" "$core_site"
    "$core_venv/bin/python" -m pip --disable-pip-version-check uninstall -q -y \
      PySide6-Essentials shiboken6 pyqtgraph PyOpenGL pytest-qt
    touch "$core_venv/.made"
  fi
  # The tests that need Qt, left out of the no-Qt job: a new one fails there (cannot import PySide6) until listed.
  qt_tests=(timbre_explorer/gui tests/gl tests/test_gui.py tests/test_explorer.py tests/test_trainer_tab.py
    tests/test_trainer_run.py tests/test_play_gui.py tests/test_crash.py tests/test_smoke.py tests/test_gl_views.py
    tests/test_sessions.py tests/test_osc_gui.py tests/test_names.py tests/test_undo.py tests/test_help.py)
  gui_start_test=tests/test_architecture.py::test_gui_modules_do_not_import_torch_at_module_level
  no_qt_tests() {
    if "$core_venv/bin/python" -c 'import PySide6' 2>/dev/null; then
      say "$core_venv imports PySide6: it is not the no-Qt environment"; return 1
    fi
    "$core_venv/bin/python" -m pytest -q tests timbre_explorer "${qt_tests[@]/#/--ignore=}" \
      --deselect "$gui_start_test"
  }
  step() {  # step NAME COMMAND...: run one check, timed; the first that fails ends the tests, named
    local name=$1 started=$SECONDS status=0
    shift
    say "$name..."
    "$@" || status=$?
    if (( status )); then
      printf '\033[1;31mrun.sh: FAILED: %s (exit %d)\033[0m\n' "$name" "$status" >&2
      exit "$status"
    fi
    say "$name: passed ($(( SECONDS - started )) s)"
  }
  step "import layers (lint-imports)" "$VENV/bin/lint-imports"
  step "lint (ruff check)" "$VENV/bin/ruff" check
  step "types (mypy)" "$VENV/bin/mypy"
  if (( $# )); then  # a selection of the suite: all of it is in reach, in .venv
    step "the selected tests (pytest)" "$VENV/bin/python" -m pytest "$@"
  else  # the whole suite, each test once: the Qt-free ones without Qt, then the ones that need it
    step "core and command line tests without Qt (pytest in $core_venv)" no_qt_tests
    step "GUI tests (pytest)" "$VENV/bin/python" -m pytest "${qt_tests[@]}" "$gui_start_test"
    # every benchmark group at its smallest sizes: each named figure produced and finite (no timing is checked)
    step "benchmarks, smallest sizes (benchmarks/run.py --smoke)" "$VENV/bin/python" benchmarks/run.py --smoke
  fi
  exit 0
fi

# ---------------------------------------------------------------- go
if [[ -z ${DISPLAY:-}${WAYLAND_DISPLAY:-} && -z ${QT_QPA_PLATFORM:-} ]]; then
  warn "no display found (DISPLAY is unset): run this from a desktop session, or under xvfb-run"
fi
exec "$VENV/bin/timbre-explorer" "$@"
