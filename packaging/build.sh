#!/usr/bin/env bash
# Build Timbre Explorer as a one-folder Linux app in dist/timbre-explorer/, then smoke-test the result.
#
#   packaging/build.sh
#
# Uses the checkout's .venv (set up by ./run.sh, which this runs first if there is none) and installs
# PyInstaller into it if missing. PyInstaller works in build/ and follows packaging/timbre-explorer.spec;
# the .desktop entry and the icons go into the bundle's share/. Then the built app is started on a
# virtual display by packaging/smoke.py (it loads the model, clicks the map, quits): a build that does not
# start, sound and quit cleanly fails here.
set -euo pipefail
cd "$(dirname "$0")/.."

python=.venv/bin/python
app=dist/timbre-explorer
say() { printf '\033[1mbuild.sh:\033[0m %s\n' "$*" >&2; }

[[ -x $python ]] || ./run.sh --version
if ! "$python" -c "import PyInstaller" 2>/dev/null; then
  say "installing PyInstaller into .venv"
  "$python" -m pip install -q --disable-pip-version-check "pyinstaller>=6,<7" pyinstaller-hooks-contrib
fi

started=$(date +%s)
nice -n 10 "$python" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/timbre-explorer.spec
# Libraries that carry their symbol tables (torch's, pyenv's libpython): stripped, about 140 MB less. Not with
# PyInstaller's strip, which strips every library and breaks numpy's OpenBLAS: strip.py says why.
if command -v strip >/dev/null; then "$python" packaging/strip.py "$app/_internal"; fi
if command -v desktop-file-validate >/dev/null; then desktop-file-validate packaging/timbre-explorer.desktop; fi
install -Dm644 packaging/timbre-explorer.desktop "$app/share/applications/timbre-explorer.desktop"
for png in resources/icons/timbre-explorer-*.png; do
  size=${png##*-}; size=${size%.png}
  install -Dm644 "$png" "$app/share/icons/hicolor/${size}x${size}/apps/timbre-explorer.png"
done
install -Dm644 packaging/icon.svg "$app/share/icons/hicolor/scalable/apps/timbre-explorer.svg"
say "built $app: $(du -sh "$app" | cut -f1) in $(( $(date +%s) - started )) s"
size=$(du -sm "$app" | cut -f1)
if (( size > 700 )); then say "warning: $app is $size MiB, over the 700 it should stay under (packaging/README.md)"; fi

say "smoke test of the built app"
if command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1280x1024x24" "$python" packaging/smoke.py "$app/timbre-explorer"
elif [[ -n ${DISPLAY:-} ]]; then
  "$python" packaging/smoke.py "$app/timbre-explorer"
else
  say "no xvfb-run and no display: cannot smoke-test the build (apt-get install xvfb)"; exit 1
fi
# a figure as a report draws one: matplotlib finds its fonts in the bundle (the spec keeps only those it needs)
figures=$(mktemp -d)
"$app/timbre-explorer" perception --out "$figures" >/dev/null
if [[ ! -s $figures/mds.png ]]; then say "the built app wrote no figure (perception --out)"; exit 1; fi
rm -rf "$figures"
say "figure check: the built app drew mds.png"
say "done: run $app/timbre-explorer (packaging/README.md says how to install it)"
