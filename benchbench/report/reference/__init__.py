"""Published reference results shipped with benchbench, to set beside a run's own.

Orion 0.7.1 (sintel-dev/Orion): the overlapping-segment F1 of its pipelines by dataset
(:func:`orion_rows`), its run times per signal (:func:`orion_seconds`) and the signal counts of
its NAB subsets (:func:`orion_signals`). The figures are package data (``orion_0.7.1_*.csv``);
``orion_0.7.1.md`` beside them names their source. :func:`orion_column` maps a benchbench dataset
name (``nab:Art``, ``nasa:SMAP``, ``yahoo:A1``, ``ucr``) to the Orion column it matches.

Nothing here imports more than the standard library and the NAB loader's alias table.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

__all__ = ["ORION_VERSION", "ORION_COLUMNS", "ORION_SOURCE", "ORION_CAVEAT", "orion_rows",
           "orion_seconds", "orion_signals", "orion_column"]

ORION_VERSION = "0.7.1"

#: Orion's dataset columns, in the order of its leaderboard.
ORION_COLUMNS: tuple[str, ...] = ("MSL", "SMAP", "A1", "A2", "A3", "A4", "Art", "AWS", "AdEx",
                                  "Traf", "Tweets", "UCR")

#: Where the F1 figures come from, in a form for notes under a table.
ORION_SOURCE = ('sintel-dev/Orion, benchmark/leaderboard.xlsx, sheet "0.7.1-F1-Scores"; micro '
                "over each dataset's signals, one run per signal")


#: What the reference rows are and are not, for notes beside them.
ORION_CAVEAT = ("Orion's preprocessing, thresholding and signal lists are its own: its rows place "
                "a run's figures, they were not measured under the same protocol.")


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def orion_rows() -> list[dict[str, str | float]]:
    """Orion 0.7.1's published overlap F1: one dict per pipeline (in the leaderboard's order),
    ``{"pipeline": "aer", "MSL": 0.657, ...}`` with a float for every column of
    :data:`ORION_COLUMNS`."""
    return [{"pipeline": row["pipeline"], **{c: float(row[c]) for c in ORION_COLUMNS}}
            for row in _read("orion_0.7.1_f1.csv")]


def orion_seconds() -> dict[tuple[str, str], float]:
    """Orion 0.7.1's elapsed seconds per signal (hardware not stated): ``(pipeline, column) ->
    seconds``; the column ``"all"`` is the mean over every signal of its benchmark. Only the
    published figures are present (TadGAN by dataset, the others' overall means)."""
    return {(row["pipeline"], row["dataset"]): float(row["seconds"])
            for row in _read("orion_0.7.1_seconds.csv")}


def orion_signals() -> dict[str, int]:
    """The number of signals of Orion's datasets where the source states it (its NAB subsets):
    ``column -> signals``."""
    return {row["dataset"]: int(row["signals"]) for row in _read("orion_0.7.1_signals.csv")}


def orion_column(dataset: str) -> str | None:
    """The Orion column a benchbench dataset name matches, or ``None``.

    ``nab:Art``, ``nab:AWS``, ``nab:AdEx``, ``nab:Traf``, ``nab:Tweets`` (or their folder names,
    ``nab:realTweets``) map to Art .. Tweets; ``nasa:SMAP`` and ``nasa:MSL`` to SMAP and MSL;
    ``yahoo:A1`` .. ``yahoo:A4`` (or ``yahoo:A1Benchmark``) to A1 .. A4; ``ucr`` (the whole
    archive) to UCR. Names are case-insensitive. Anything else (a whole corpus such as ``nab``, a
    combined subset such as ``yahoo:A1+A2``, part of UCR) matches none.
    """
    from benchbench.data.loaders.nab import ALIASES

    name, _, subset = str(dataset).strip().partition(":")
    name, subset = name.strip().lower(), subset.strip().lower()
    if name == "ucr":
        return "UCR" if not subset else None
    if name == "nab":
        by_folder = {folder.lower(): alias for alias, folder in ALIASES.items()}
        by_alias = {alias.lower(): alias for alias in ALIASES}
        column = by_alias.get(subset) or by_folder.get(subset)
        return column if column in ORION_COLUMNS else None
    if name == "nasa":
        return {"smap": "SMAP", "msl": "MSL"}.get(subset)
    if name == "yahoo":
        key = subset.removesuffix("benchmark").upper()
        return key if key in ("A1", "A2", "A3", "A4") else None
    return None
