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
    perception = sub.add_parser("perception", help="build the perceptual timbre space and write its report")
    perception.add_argument("--out", required=True, help="folder for the matrix, MDS space, figures and plot")
    perception.add_argument("--ratings", help="your own dissimilarity matrix or pooled-ratings CSV "
                                              "(default: the five timbre studies bundled in resources/)")
    perception.add_argument("--dims", type=int, default=None, help="MDS dimensions (default 6)")
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
    from timbre_explorer.core.errors import TimbreExplorerError

    try:
        if args.command == "perception":
            return _perception(args)
    except TimbreExplorerError as exc:
        print(f"timbre-explorer {args.command}: {exc}", file=sys.stderr)
        return 1
    return 2


def _perception(args) -> int:
    from timbre_explorer.core.perception import DEFAULT_MDS_DIMS, load_dissimilarities, write_report

    d = load_dissimilarities(args.ratings)
    f = write_report(args.out, d, dims=args.dims or DEFAULT_MDS_DIMS)
    print(f"{len(d.instruments)} instruments from {d.source}")
    print(f"{f['mds_dims']}-D metric MDS: stress {f['mds_stress']:.3f}, Spearman rho {f['mds_spearman_rho']:.3f} "
          f"(the ceiling for a latent space regularized toward it), Pearson r {f['mds_pearson_r']:.3f}")
    for k, v in f["ceiling_by_dims"].items():
        print(f"  {k}-D: stress {v['stress']:.3f}  rho {v['spearman_rho']:.3f}  r {v['pearson_r']:.3f}")
    if "mds3_vs_paper_max_distance_diff" in f:
        print(f"3-D MDS vs the paper's published one: distances agree within {f['mds3_vs_paper_max_distance_diff']:.4f}")
    print(f"wrote {args.out}/dissimilarity.csv, mds.csv, perception.json, mds.png")
    return 0


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
