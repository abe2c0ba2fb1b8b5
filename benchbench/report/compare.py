"""``bench compare RUN_A RUN_B``: per-dataset F1 differences between two runs, against seed noise.

Only what both runs have is compared. The unit is a signal of a (dataset, detector): it is
compared when both runs have it and neither has a missing job on it (a job planned in
``jobs.json`` without a readable record); each run keeps its own seeds. Everything else is left
out and counted in the notes (:attr:`Comparison.notes`), which say first when the two runs cover
different signals (a full run against a ``--quick`` one), and also when the runs come from
different CPU kinds (``cpu_model`` / ``cpu_capability`` in ``environment.json``): float kernels
differ between instruction sets, so scores are not bit-comparable across CPU kinds.

For every (dataset, detector) in both runs the headline F1 (micro over the compared signals,
mean over seeds) of each run is set beside the other with its seed standard deviation, the
difference ``B - A`` and the combined seed spread ``sqrt(std_A^2 + std_B^2)``. A difference
larger than that spread is marked ``beyond noise``; one within it is ``noise``; with fewer than
two seeds in either run there is no spread to judge against and the verdict reads ``one seed:
unknown`` (run both with ``--seeds 0,1,2``). A (dataset, detector) without a signal both runs
have reads ``no shared signal``; rows present in one run only say so (``only in A``) and show
that run's own figures, compared with nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from benchbench.evaluation.metrics import HEADLINE
from benchbench.files import atomic_write, read_json
from benchbench.report.aggregate import MISSING, dataset_table, job_status
from benchbench.report.build import load_run_records
from benchbench.report.render import _md_escape, to_markdown
from benchbench.run.records import RunFolderError, RunStore

__all__ = ["CompareError", "Comparison", "comparison", "compare_runs", "comparison_markdown",
           "write_comparison", "cpu_kind_note"]

COLUMNS = ["dataset", "detector", "signals", "f1_a", "std_a", "seeds_a", "f1_b", "std_b",
           "seeds_b", "diff", "spread", "verdict"]


class CompareError(ValueError):
    """A folder is not a run folder (or has no records, or a corrupt ``jobs.json``)."""


@dataclass
class Comparison:
    """The comparison table (columns :data:`COLUMNS`) and the notes on what it covers, one line
    each: different signal sets (first), different CPU kinds, missing jobs, jobs left out."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _load(run_dir: Path) -> tuple[list[dict[str, Any]], int | None]:
    """A run's records with their missing entries, and its number of planned jobs."""
    if not run_dir.is_dir() or not RunStore(run_dir).config_path.exists():
        raise CompareError(f"{run_dir}: not a benchbench run folder (no config.json)")
    try:
        loaded = load_run_records(run_dir)
    except RunFolderError as exc:
        raise CompareError(str(exc)) from exc
    if not loaded.n_records:
        raise CompareError(f"{run_dir}: the run has no finished job records")
    return loaded.records, loaded.n_planned


def _units(records: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """``(dataset, detector, signal) -> jobs`` of a run."""
    units: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        key = (str(rec.get("dataset", "")), str(rec.get("detector", "")),
               str(rec.get("signal", "")))
        units[key].append(rec)
    return units


def _table(records: list[dict[str, Any]]) -> pd.DataFrame:
    df = dataset_table(records, metrics=[])
    micro, std = f"{HEADLINE}_f1_micro", f"{HEADLINE}_f1_micro_std"
    return pd.DataFrame({
        "dataset": df["dataset"],
        "detector": df["detector"],
        "f1": df[micro].where(df["ok_seeds"] > 0),
        "std": df[std].where(df["ok_seeds"] > 0),
        "seeds": df["ok_seeds"].astype("int64"),
    })


def _verdict(row: pd.Series) -> str:
    if row["side"] != "both":
        return f"only in {row['side']}"
    if row["signals"] == 0:
        return "no shared signal"
    if pd.isna(row["f1_a"]) or pd.isna(row["f1_b"]):
        return "no ok job" if pd.isna(row["f1_a"]) and pd.isna(row["f1_b"]) else (
            "no ok job in A" if pd.isna(row["f1_a"]) else "no ok job in B")
    if min(row["seeds_a"], row["seeds_b"]) < 2:
        return "one seed: unknown"
    return "beyond noise" if abs(row["diff"]) > row["spread"] else "noise"


def _cpu_kind(run_dir: Path) -> dict[str, str | None]:
    try:
        env = read_json(run_dir / "environment.json")
    except (OSError, ValueError):
        env = {}
    env = env if isinstance(env, dict) else {}
    return {key: (str(env[key]) if env.get(key) not in (None, "") else None)
            for key in ("cpu_capability", "cpu_model")}


def _cpu_text(kind: dict[str, str | None]) -> str:
    if not any(kind.values()):
        return "unknown"
    return f"{kind['cpu_capability'] or 'unknown'} ({kind['cpu_model'] or 'model unknown'})"


def cpu_kind_note(run_a: Path | str, run_b: Path | str) -> str | None:
    """A line when the two runs come from different CPU kinds, or when only one run names its
    kind (older runs lack ``cpu_model`` / ``cpu_capability``); ``None`` when both name the same
    kind or neither names one."""
    a, b = _cpu_kind(Path(run_a)), _cpu_kind(Path(run_b))
    known_a, known_b = any(a.values()), any(b.values())
    if not known_a and not known_b:
        return None
    if known_a != known_b:
        return (f"CPU kind: A {_cpu_text(a)}, B {_cpu_text(b)} (one run's environment.json does "
                "not name it): cannot tell whether the scores are bit-comparable")
    if any(a[k] and b[k] and a[k] != b[k] for k in a):
        return (f"the runs come from different CPU kinds: A {_cpu_text(a)}, B {_cpu_text(b)}; "
                "scores are not bit-comparable across CPU kinds, so part of a difference may "
                "come from that alone")
    return None


def _count(n: int, what: str = "job") -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def comparison(run_a: Path | str, run_b: Path | str) -> Comparison:
    """Compare two run folders: the table (:data:`COLUMNS`, sorted) and its notes.

    ``signals`` is the number of signals compared in a row; ``diff`` is ``f1_b - f1_a``;
    ``spread`` is ``sqrt(std_a^2 + std_b^2)`` (population std over each run's seeds);
    ``verdict`` and what is compared as in the module docstring.

    Raises:
        CompareError: a folder is not a run folder, has no records or a corrupt ``jobs.json``.
    """
    run_a, run_b = Path(run_a), Path(run_b)
    (recs_a, planned_a), (recs_b, planned_b) = _load(run_a), _load(run_b)
    units_a, units_b = _units(recs_a), _units(recs_b)

    def complete(units: dict, key: tuple) -> bool:
        return key in units and all(job_status(r) != MISSING for r in units[key])

    shared = {k for k in units_a.keys() & units_b.keys()
              if complete(units_a, k) and complete(units_b, k)}
    groups_a = {k[:2] for k in units_a}
    groups_b = {k[:2] for k in units_b}

    def pick(units: dict, keys) -> list[dict[str, Any]]:
        return [rec for key in sorted(keys) for rec in units[key]]

    table_a = _table(pick(units_a, shared | {k for k in units_a if k[:2] not in groups_b}))
    table_b = _table(pick(units_b, shared | {k for k in units_b if k[:2] not in groups_a}))
    merged = table_a.merge(table_b, on=["dataset", "detector"], how="outer",
                           suffixes=("_a", "_b"))
    keys = pd.DataFrame(
        [{"dataset": d, "detector": det,
          "side": "both" if (d, det) in groups_a and (d, det) in groups_b
          else ("A" if (d, det) in groups_a else "B"),
          "signals": sum(1 for k in shared if k[:2] == (d, det))}
         for d, det in sorted(groups_a | groups_b)],
        columns=["dataset", "detector", "side", "signals"])
    merged = keys.merge(merged, on=["dataset", "detector"], how="left")
    merged = merged.sort_values(["dataset", "detector"]).reset_index(drop=True)
    for col in ("seeds_a", "seeds_b", "signals"):
        merged[col] = merged[col].fillna(0).astype("int64")
    merged["diff"] = merged["f1_b"] - merged["f1_a"]
    merged["spread"] = [math.hypot(x, y) if not (pd.isna(x) or pd.isna(y)) else math.nan
                        for x, y in zip(merged["std_a"], merged["std_b"])]
    merged["verdict"] = [_verdict(row) for _, row in merged.iterrows()] if len(merged) else []
    one_sided = merged["side"] != "both"
    merged.loc[one_sided, ["diff", "spread"]] = math.nan

    notes = []
    signals_a = {(r.get("dataset"), r.get("signal")) for r in recs_a}
    signals_b = {(r.get("dataset"), r.get("signal")) for r in recs_b}
    if signals_a != signals_b:
        notes.append(
            f"the runs cover different signals: A {len(signals_a)}, B {len(signals_b)} "
            f"({len(signals_a - signals_b)} only in A, {len(signals_b - signals_a)} only in B); "
            f"only the {len(signals_a & signals_b)} signals both have are compared")
    cpu = cpu_kind_note(run_a, run_b)
    if cpu:
        notes.append(cpu)
    for name, recs, planned in (("A", recs_a, planned_a), ("B", recs_b, planned_b)):
        n_missing = sum(1 for r in recs if job_status(r) == MISSING)
        if n_missing:
            notes.append(f"{name} is incomplete: {n_missing} of {_count(planned or len(recs))} "
                         "missing (no readable record); their signals are left out")
    left_a = sum(len(units_a[k]) for k in units_a.keys() - shared)
    left_b = sum(len(units_b[k]) for k in units_b.keys() - shared)
    notes.append(f"compared {_count(len(shared), '(signal, detector) pair')} both runs have "
                 f"({len(recs_a) - left_a} jobs of A, {len(recs_b) - left_b} of B); left out: "
                 f"{left_a} of {_count(len(recs_a))} of A, {left_b} of {_count(len(recs_b))} "
                 "of B")
    return Comparison(merged[COLUMNS], notes)


def compare_runs(run_a: Path | str, run_b: Path | str) -> pd.DataFrame:
    """The comparison table of :func:`comparison` alone (columns :data:`COLUMNS`, sorted).

    Raises:
        CompareError: a folder is not a run folder, has no records or a corrupt ``jobs.json``.
    """
    return comparison(run_a, run_b).table


def comparison_markdown(df: pd.DataFrame, run_a: Path | str, run_b: Path | str,
                        notes: list[str] | tuple[str, ...] = ()) -> str:
    """The comparison as a Markdown document (title, runs, notes when given, legend, table)."""
    shown = df.copy()
    shown["diff"] = [f"{d:+.3f}" if not pd.isna(d) else "" for d in df["diff"]]
    listed = "".join(f"- {_md_escape(note)}\n" for note in notes)
    return (
        f"# {HEADLINE} F1: {_md_escape(Path(run_b).name)} (B) against "
        f"{_md_escape(Path(run_a).name)} (A)\n\n"
        f"A: `{run_a}`  \nB: `{run_b}`\n\n"
        + (f"{listed}\n" if listed else "")
        + "F1 micro over the signals both runs have, mean and population std over each run's "
        "seeds; diff = B - A; spread = sqrt(std_A^2 + std_B^2). A diff within the spread is "
        "seed noise.\n\n"
        + to_markdown(shown, na_rep="")
    )


def write_comparison(df: pd.DataFrame, run_a: Path | str, run_b: Path | str,
                     output: Path | str | None = None,
                     notes: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """Write the comparison as Markdown (with its ``notes``) and CSV; return both paths.

    ``output`` is the Markdown path (the CSV goes beside it with the suffix ``.csv``); default
    ``<run_b>/compare-<name of run_a>.md``.
    """
    md_path = Path(output) if output is not None else Path(run_b) / f"compare-{Path(run_a).name}.md"
    if md_path.suffix.lower() != ".md":
        md_path = md_path.with_name(md_path.name + ".md")
    csv_path = md_path.with_suffix(".csv")
    text = comparison_markdown(df, run_a, run_b, notes)
    atomic_write(md_path, lambda fh: fh.write(text))
    atomic_write(csv_path, lambda fh: df.to_csv(fh, index=False, lineterminator="\n"))
    return [md_path, csv_path]
