"""The evaluation's tables, defined once for ``report.md`` and the Trainer's report view (torch-free: the GUI
imports it before torch loads).

A report is an :class:`~timbre_explorer.core.training.evaluate.EvaluationReport`, its unregularized twin under
``"baseline"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the types only: evaluate and crosssource import torch
    from timbre_explorer.core.training.crosssource import CrossSourceReport
    from timbre_explorer.core.training.evaluate import EvaluationReport

MISSING = "–"


@dataclass(frozen=True)
class Figure:
    """A row of the paper's Table 1: the report's key, its label and its number format."""

    key: str
    label: str
    fmt: str

    def cell(self, report: Mapping[str, object]) -> str:
        """The figure in ``report`` (or its baseline) as the tables write it; a dash where it was not computed.

        >>> FIGURES[0].cell({"spearman_rho": 0.92812}), FIGURES[0].cell({})
        ('0.928', '–')
        """
        return format(report[self.key], self.fmt) if self.key in report else MISSING


FIGURES = (
    Figure("spearman_rho", "Spearman ρ, latent vs perceptual instrument distances", ".3f"),
    Figure("pearson_r", "Pearson r", ".3f"),
    Figure("kl_timbre", "KL to the timbre space (R, lower is closer)", ".3f"),
    Figure("test_nll", "test NLL per bin", ".4f"),
    Figure("test_mse", "test ‖x − x̃‖² per bin", ".4f"),
    Figure("test_log_mse", "test log-magnitude error² per bin (comparable across conditioning)", ".4f"),
)


#: The placements of an across-sources entry (``report["cross_source"]``, ``report["cross_valid"]``; see
#: :mod:`~timbre_explorer.core.training.crosssource`), in the order the tables list them.
PLACEMENTS: tuple[Literal["latent", "unconditioned", "logspec", "mfcc"], ...] = (
    "latent", "unconditioned", "logspec", "mfcc")  # "unconditioned": the paper's twin, when trained
LABELS = {"latent": "model latent", "unconditioned": "unconditioned model latent (the paper's)",
          "logspec": "log-spectrum (baseline)", "mfcc": "MFCC (baseline)"}
CROSS_COLUMNS = ("placement", "in-source test ρ", "cross-source ρ", "Pearson r", "nearest instrument right")


def cross_source_rows(entry: CrossSourceReport) -> list[tuple[str, str, str, str, str]]:
    """A row per placement of one across-sources entry (:data:`CROSS_COLUMNS`); the in-source ρ beside the model's.

    >>> cross_source_rows({"in_source_rho": 0.9, "latent": {"spearman_rho": 0.4, "pearson_r": 0.5,
    ...                                                     "nearest_share": 0.625}})
    [('model latent', '0.900', '0.400', '0.500', '62 %')]

    With fewer than 3 rated instruments held out there are no distances to correlate:

    >>> cross_source_rows({"latent": {"spearman_rho": None, "pearson_r": None, "nearest_share": 0.5}})
    [('model latent', '–', '–', '–', '50 %')]
    """
    rows = []
    for name in (n for n in PLACEMENTS if n in entry):
        f = entry[name]
        inside = f"{entry['in_source_rho']:.3f}" if name == "latent" and entry.get("in_source_rho") else MISSING
        rho, r = (MISSING if v is None else f"{v:.3f}" for v in (f["spearman_rho"], f["pearson_r"]))
        rows.append((LABELS[name], inside, rho, r, f"{100 * f['nearest_share']:.0f} %"))
    return rows


BY_INSTRUMENT = "Notes nearest their own instrument (model latent)"


def by_instrument_text(entry: CrossSourceReport) -> str:
    """Where the model's placement puts each held-out instrument's notes, in one line ('' for a report written
    before it was recorded).

    >>> by_instrument_text({"latent": {"by_instrument": {"Bassoon": {"right": 10, "notes": 10, "instead": None},
    ...                                                  "Trumpet": {"right": 0, "notes": 11, "instead": "Trombone"}}}})
    'Bassoon 10 of 10; Trumpet 0 of 11, most nearest Trombone.'
    """
    shares = entry["latent"].get("by_instrument")
    if not shares:
        return ""
    return "; ".join(
        f"{name} {s['right']} of {s['notes']}" + (f", most nearest {s['instead']}"
                                                  if s["instead"] and 2 * s["right"] < s["notes"] else "")
        for name, s in shares.items()) + "."


def novel_rows(report: EvaluationReport) -> list[tuple[str, str, str, str]]:
    """A row per held-out instrument: its name, its nearest training instruments (distance), whether the nearest
    is of its family, and the unregularized model's nearest."""
    base = report.get("baseline", {}).get("novel_instruments", {})
    rows = []
    for name, v in report.get("novel_instruments", {}).items():
        near = ", ".join(f"{n['instrument']} ({n['distance']:.2f})" for n in v["nearest"])
        b = base.get(name)
        rows.append((name, near, "yes" if v["family_holds"] else "no",
                     ", ".join(n["instrument"] for n in b["nearest"]) if b else MISSING))
    return rows


def cross_source_markdown(entry: CrossSourceReport, role: str = "") -> str:
    """One across-sources entry as a markdown table (in ``report.md`` and ``evaluate --cross-source``); ``role``,
    when given, says what the run kept the source out for (``the test``, ``validation``)."""
    kept = f", kept out as {role}" if role else ""
    rated = len(entry["latent"]["instruments"])
    rows = [f"## Across sources: {entry['source']} ({entry['latent']['notes']} notes of "
            f"{rated} rated instrument{'s' if rated != 1 else ''}, {', '.join(entry['dynamics'])}{kept})", "",
            "| " + " | ".join(CROSS_COLUMNS) + " |", "|" + "---|" * len(CROSS_COLUMNS)]
    rows += ["| " + " | ".join(cells) + " |" for cells in cross_source_rows(entry)]
    if line := by_instrument_text(entry):
        rows += ["", f"{BY_INSTRUMENT}: {line}"]
    return "\n".join(rows) + "\n"
