"""The Qt skin: views and workers over :mod:`timbre_explorer.core`. Nothing here computes."""


def no_display(why: str) -> str:
    """The one sentence for a window that cannot open (``why``: what is missing); imports nothing, so the
    command line says it before Qt is imported, and the app when Qt itself finds no display."""
    return (f"no display to open the window on ({why}): run it from a desktop session, or without one as "
            "`xvfb-run timbre-explorer`; the subcommands (see --help) need no display")
