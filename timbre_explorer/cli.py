"""The ``timbre-explorer`` command: the app by default, and subcommands for batch work."""

from __future__ import annotations

import argparse
import logging
import sys

from timbre_explorer import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="timbre-explorer",
                                     description="Explore a generative timbre space: click the map, hear the sound.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", help="open the app (the default)")
    gui.add_argument("--model", help="model file to open instead of the bundled default")
    sub.add_parser("info", help="print the model, transform and audio set-up the app would use")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from timbre_explorer.core.runtime import tune_allocator

    tune_allocator()
    args = build_parser().parse_args(argv)
    if args.command in (None, "gui"):
        from timbre_explorer.gui.app import run

        return run(model=getattr(args, "model", None))
    if args.command == "info":
        return _info()
    return 2


def _info() -> int:
    from timbre_explorer.audio.engine import AudioEngine, output_devices
    from timbre_explorer.core.nsgt import DEFAULT_PRESET, PRESETS
    from timbre_explorer.paths import default_model_path

    model = default_model_path()
    print(f"Timbre Explorer {__version__}")
    print(f"model: {model} ({'present' if model.exists() else 'not built yet'})")
    print(f"transform: {DEFAULT_PRESET}: {PRESETS[DEFAULT_PRESET].scale.describe()}")
    devices = output_devices()
    print("audio devices:", ", ".join(d.label for d in devices) if devices else "none")
    engine = AudioEngine()
    print(engine.status)
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
