"""``python -m timbre_explorer``: the same as the ``timbre-explorer`` command, and the frozen app's entry."""

if __name__ == "__main__":
    import multiprocessing

    # In the frozen app (packaging/), the Trainer's worker process is this executable started again:
    # freeze_support runs the worker there instead of a second app. A no-op everywhere else.
    multiprocessing.freeze_support()

    from timbre_explorer.cli import main

    raise SystemExit(main())
