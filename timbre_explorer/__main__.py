"""``python -m timbre_explorer``: the same as the ``timbre-explorer`` command."""

if __name__ == "__main__":
    from timbre_explorer.cli import main

    raise SystemExit(main())
