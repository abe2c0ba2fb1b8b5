"""``bench compare RUN_A RUN_B``: per-dataset differences between two runs, against seed noise
and chance.

Only what both runs have is compared. The unit is a signal of a (dataset, detector): it is
compared when both runs have it and neither has a missing job on it (a job planned in
``jobs.json`` without a readable record); each run keeps its own seeds. Everything else is left
out and counted in the notes (:attr:`Comparison.notes`), which say first when the two runs cover
different signals (a full run against a ``--quick`` one), when the runs come from different CPU
kinds (``cpu_model`` / ``cpu_capability`` in ``environment.json``): float kernels differ between
instruction sets, so scores are not bit-comparable across CPU kinds, and when they ran with
different settings (:func:`settings_notes`: the run's profile, ``--quick``, threshold and
threads, and each shared detector's parameters as its records hold them), so that a difference
is read as what it is: the effect of those settings, not of a code change.

For every (dataset, detector) in both runs the metric (``metric``, default the headline overlap
F1; :func:`_figures` says how each kind of metric is aggregated) of each run is set beside the
other with its seed standard deviation, the difference ``B - A`` and the combined seed spread
``sqrt(std_A^2 + std_B^2)``. A difference larger than that spread is marked ``beyond noise``;
one within it is ``noise``; with fewer than two seeds in either run there is no spread to judge
against and the verdict reads ``one seed: unknown`` (run both with ``--seeds 0,1,2``). A
(dataset, detector) without a signal both runs have reads ``no shared signal``; rows present in
one run only say so (``only in A``) and show that run's own figures, compared with nothing.

Beside the seed spread, ``wilcoxon_p`` and ``effect`` say whether B differs from A across the
signals more than chance would make it: the per-signal values (the metric of each signal's job,
mean over that run's seeds) of B and A are paired by signal and tested with the two-sided
Wilcoxon signed-rank test (:func:`benchbench.report.stats.paired_wilcoxon`: Pratt's handling of
zero differences; it assumes independent signals and differences symmetric about zero under
the null, and is weak with few signals: below 6 signals with a difference it can never reach
p < 0.05); ``effect`` is the matched-pairs rank-biserial correlation of ``B - A``
(:func:`benchbench.report.stats.rank_biserial`, -1..1, positive when B is better). A signal
enters the test when every job of it is ok in both runs; the notes count the compared pairs
left out for a failed job. The seed spread judges run-to-run noise, the test chance across
signals: a change can pass one and not the other.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from benchbench.evaluation.metrics import HEADLINE, combine
from benchbench.evaluation.score_metrics import SCORE_METRICS
from benchbench.files import atomic_write, read_json
from benchbench.report.aggregate import (
    MISSING,
    dataset_table,
    job_metric,
    job_status,
    replicate_key,
    results_frame,
    sort_records,
)
from benchbench.report.build import load_run_records
from benchbench.report.render import _md_escape, to_markdown
from benchbench.report.stats import (
    StatsError,
    canonical_metric,
    paired_wilcoxon,
    signal_values,
)
from benchbench.run.records import RunFolderError, RunStore

__all__ = ["CompareError", "Comparison", "comparison", "compare_runs", "comparison_markdown",
           "write_comparison", "cpu_kind_note", "settings_notes"]

COLUMNS = ["dataset", "detector", "signals", "f1_a", "std_a", "seeds_a", "f1_b", "std_b",
           "seeds_b", "diff", "spread", "wilcoxon_p", "effect", "verdict"]


class CompareError(ValueError):
    """A folder is not a run folder (or has no records, or a corrupt ``jobs.json``), or a run's
    results lack the metric asked for."""


@dataclass
class Comparison:
    """The comparison table (columns :data:`COLUMNS`) and the notes on what it covers, one line
    each: different signal sets (first), different CPU kinds, missing jobs, jobs left out, pairs
    left out of the paired tests; ``metric``: the metric compared."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    metric: str = HEADLINE


def _load(run_dir: Path, metric: str = HEADLINE
          ) -> tuple[list[dict[str, Any]], int | None, list[str]]:
    """A run's records with their missing entries, its number of planned jobs, and for a
    score-based ``metric`` or ``affiliation`` the lines on jobs whose scores file could not be
    read (the records then carry the score-based metrics, and the affiliation metric where the
    run did not record it, computed from the scores files as the report does)."""
    if not run_dir.is_dir() or not RunStore(run_dir).config_path.exists():
        raise CompareError(f"{run_dir}: not a benchbench run folder (no config.json)")
    try:
        loaded = load_run_records(run_dir)
    except RunFolderError as exc:
        raise CompareError(str(exc)) from exc
    if not loaded.n_records:
        raise CompareError(f"{run_dir}: the run has no finished job records")
    records, unscored = loaded.records, []
    if metric in SCORE_METRICS or metric.removesuffix("_f1") == "affiliation":
        from benchbench.report.build import add_score_metrics

        records, unscored = add_score_metrics(run_dir, records)
    return records, loaded.n_planned, unscored


def _units(records: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """``(dataset, detector, signal) -> jobs`` of a run."""
    units: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        key = (str(rec.get("dataset", "")), str(rec.get("detector", "")),
               str(rec.get("signal", "")))
        units[key].append(rec)
    return units


def _figures(records: list[dict[str, Any]], metric: str) -> pd.DataFrame:
    """``dataset, detector, f1, std, seeds`` of a run's jobs for ``metric``.

    Per replicate (seed) the value over its ok jobs, then the mean and population std over the
    replicates that have ok jobs (``seeds``). The headline metric reads the tables' micro F1
    (:func:`benchbench.report.aggregate.dataset_table`); another interval metric is micro as
    well (its four components summed), NaN for a replicate with a job lacking them; a score
    metric (``auc_roc``, ...) is the mean over the replicate's jobs that have a value.
    """
    if metric == HEADLINE:
        df = dataset_table(records, metrics=[])
        micro, std = f"{HEADLINE}_f1_micro", f"{HEADLINE}_f1_micro_std"
        return pd.DataFrame({
            "dataset": df["dataset"],
            "detector": df["detector"],
            "f1": df[micro].where(df["ok_seeds"] > 0),
            "std": df[std].where(df["ok_seeds"] > 0),
            "seeds": df["ok_seeds"].astype("int64"),
        })
    recs = sort_records(records)
    micro = metric not in SCORE_METRICS
    scores = None
    if not micro:
        frame = results_frame(recs)  # rows in the order of recs
        scores = pd.to_numeric(frame.get(metric, pd.Series(math.nan, index=frame.index)),
                               errors="coerce")
    groups: dict[tuple[str, str], dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, rec in enumerate(recs):
        replicates = groups[(str(rec.get("dataset", "")), str(rec.get("detector", "")))]
        if job_status(rec) == "ok":
            replicates[replicate_key(rec)].append(i)
    rows = []
    for (dataset, detector), replicates in sorted(groups.items()):
        values = []
        for jobs in replicates.values():
            if micro:
                results = [job_metric(recs[i], metric) for i in jobs]
                values.append(math.nan if any(r is None for r in results)
                              else float(combine(results).f1))
            else:
                cell = scores.iloc[jobs]
                values.append(float(cell.mean()) if cell.notna().any() else math.nan)
        finite = pd.Series([v for v in values if not math.isnan(v)], dtype="float64")
        rows.append({"dataset": dataset, "detector": detector,
                     "f1": float(finite.mean()) if len(finite) else math.nan,
                     "std": float(finite.std(ddof=0)) if len(finite) else math.nan,
                     "seeds": len(replicates)})
    return pd.DataFrame(rows, columns=["dataset", "detector", "f1", "std", "seeds"]).astype(
        {"seeds": "int64"})


def _paired_tests(frame_a: pd.DataFrame, frame_b: pd.DataFrame, shared: set[tuple[str, str, str]],
                  metric: str) -> tuple[pd.DataFrame, int]:
    """``dataset, detector, wilcoxon_p, effect`` of B against A over the ``shared`` units
    (dataset, detector, signal) whose every job is ok in both runs (per-job frames of the two
    runs), and how many shared units were left out."""
    keys = pd.DataFrame(sorted(shared), columns=["dataset", "detector", "signal"], dtype=object)
    a, b = (keys.merge(signal_values(frame, metric), on=["dataset", "detector", "signal"])
            for frame in (frame_a, frame_b))
    both = a.merge(b, on=["dataset", "detector", "signal"], how="inner", suffixes=("_a", "_b"))
    usable = both["complete_a"] & both["complete_b"]
    rows = []
    for (dataset, detector), group in both[usable].groupby(["dataset", "detector"], sort=True):
        _, p, effect = paired_wilcoxon(group["value_b"].to_numpy(), group["value_a"].to_numpy())
        rows.append({"dataset": dataset, "detector": detector, "wilcoxon_p": p,
                     "effect": effect})
    table = pd.DataFrame(rows, columns=["dataset", "detector", "wilcoxon_p", "effect"])
    return table, int((~usable).sum())


def _check_metric(frame: pd.DataFrame, metric: str, name: str, run_dir: Path) -> str:
    """The canonical name of ``metric`` (:func:`benchbench.report.stats.canonical_metric`)."""
    try:
        return canonical_metric(frame, metric)
    except StatsError as exc:
        raise CompareError(f"{run_dir} (run {name}): {exc}") from exc


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


#: The run settings (``config.json``) that change what a job computes.
RUN_SETTINGS = ("profile", "quick", "threshold", "threshold_params", "threads")
#: Record parameters that differ between any two jobs and say nothing about the settings.
_PER_JOB = ("random_state", "device")


def _run_config(run_dir: Path) -> dict[str, Any]:
    try:
        config = read_json(RunStore(run_dir).config_path)
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _param_values(records: list[dict[str, Any]], detector: str) -> dict[str, set[str]]:
    """``param -> the values (as repr) it took`` over ``detector``'s records that hold their
    parameters."""
    values: dict[str, set[str]] = defaultdict(set)
    for rec in records:
        params = rec.get("params")
        if rec.get("detector") == detector and isinstance(params, dict):
            for key, value in params.items():
                if key not in _PER_JOB:
                    values[key].add(repr(value))
    return values


def settings_notes(run_a: Path | str, run_b: Path | str, recs_a: list[dict[str, Any]],
                   recs_b: list[dict[str, Any]], limit: int = 6) -> list[str]:
    """Lines on the settings the two runs differ in: one for the run settings of
    :data:`RUN_SETTINGS` both ``config.json`` files name, then one per detector of both
    ``recs_a`` and ``recs_b`` (:func:`comparison` passes the records it compares) whose
    parameters differ (the set of values each parameter took over those records;
    ``random_state`` and ``device`` aside), naming up to ``limit`` parameters."""
    notes = []
    config_a, config_b = _run_config(Path(run_a)), _run_config(Path(run_b))
    differ = [f"{key} A {config_a[key]!r}, B {config_b[key]!r}" for key in RUN_SETTINGS
              if key in config_a and key in config_b and config_a[key] != config_b[key]]
    if differ:
        notes.append("the runs ran with different settings: " + "; ".join(differ))
    detectors = ({r.get("detector") for r in recs_a} & {r.get("detector") for r in recs_b})
    for detector in sorted(d for d in detectors if isinstance(d, str)):
        values_a, values_b = _param_values(recs_a, detector), _param_values(recs_b, detector)
        if not values_a or not values_b:
            continue  # records without their parameters: nothing to compare
        keys = sorted(k for k in values_a.keys() | values_b.keys()
                      if values_a.get(k) != values_b.get(k))
        cells = [f"{k} A {', '.join(sorted(values_a.get(k, {'(unset)'})))}, "
                 f"B {', '.join(sorted(values_b.get(k, {'(unset)'})))}" for k in keys[:limit]]
        if len(keys) > limit:
            cells.append(f"{len(keys) - limit} more")
        if cells:
            notes.append(f"{detector} ran with different parameters: {'; '.join(cells)}")
    return notes


def _count(n: int, what: str = "job") -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def comparison(run_a: Path | str, run_b: Path | str, metric: str = HEADLINE) -> Comparison:
    """Compare two run folders on ``metric``: the table (:data:`COLUMNS`, sorted) and its notes.

    ``signals`` is the number of signals compared in a row; ``f1_a``, ``f1_b`` are the metric of
    each run (its F1, or its value for a score metric such as ``auc_roc``); ``diff`` is
    ``f1_b - f1_a``; ``spread`` is ``sqrt(std_a^2 + std_b^2)`` (population std over each run's
    seeds); ``wilcoxon_p`` and ``effect`` the paired test of B against A over the signals
    (NaN without a signal to test); ``verdict`` and what is compared as in the module
    docstring. ``metric`` is a metric name of the records (``overlap``, ``pointwise``, ...) or a
    column of :func:`benchbench.report.aggregate.results_frame` (``auc_roc``).

    Raises:
        CompareError: a folder is not a run folder, has no records or a corrupt ``jobs.json``;
            a run's results have no such metric.
    """
    run_a, run_b = Path(run_a), Path(run_b)
    (recs_a, planned_a, unscored_a), (recs_b, planned_b, unscored_b) = (
        _load(run_a, metric), _load(run_b, metric))
    frame_a, frame_b = results_frame(recs_a), results_frame(recs_b)
    metric = _check_metric(frame_a, metric, "A", run_a)
    _check_metric(frame_b, metric, "B", run_b)
    units_a, units_b = _units(recs_a), _units(recs_b)

    def complete(units: dict, key: tuple) -> bool:
        return key in units and all(job_status(r) != MISSING for r in units[key])

    shared = {k for k in units_a.keys() & units_b.keys()
              if complete(units_a, k) and complete(units_b, k)}
    groups_a = {k[:2] for k in units_a}
    groups_b = {k[:2] for k in units_b}

    def pick(units: dict, keys) -> list[dict[str, Any]]:
        return [rec for key in sorted(keys) for rec in units[key]]

    table_a = _figures(pick(units_a, shared | {k for k in units_a if k[:2] not in groups_b}),
                       metric)
    table_b = _figures(pick(units_b, shared | {k for k in units_b if k[:2] not in groups_a}),
                       metric)
    tests, untested = _paired_tests(frame_a, frame_b, shared, metric)
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
    merged = merged.merge(tests, on=["dataset", "detector"], how="left")
    merged = merged.sort_values(["dataset", "detector"]).reset_index(drop=True)
    for col in ("seeds_a", "seeds_b", "signals"):
        merged[col] = merged[col].fillna(0).astype("int64")
    merged["diff"] = merged["f1_b"] - merged["f1_a"]
    merged["spread"] = [math.hypot(x, y) if not (pd.isna(x) or pd.isna(y)) else math.nan
                        for x, y in zip(merged["std_a"], merged["std_b"])]
    merged["verdict"] = [_verdict(row) for _, row in merged.iterrows()] if len(merged) else []
    one_sided = merged["side"] != "both"
    merged.loc[one_sided, ["diff", "spread", "wilcoxon_p", "effect"]] = math.nan

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
    notes += settings_notes(run_a, run_b, pick(units_a, shared), pick(units_b, shared))
    for name, recs, planned in (("A", recs_a, planned_a), ("B", recs_b, planned_b)):
        n_missing = sum(1 for r in recs if job_status(r) == MISSING)
        if n_missing:
            notes.append(f"{name} is incomplete: {n_missing} of {_count(planned or len(recs))} "
                         "missing (no readable record); their signals are left out")
    notes += [f"{name}: {line}" for name, lines in (("A", unscored_a), ("B", unscored_b))
              for line in lines]
    left_a = sum(len(units_a[k]) for k in units_a.keys() - shared)
    left_b = sum(len(units_b[k]) for k in units_b.keys() - shared)
    notes.append(f"compared {_count(len(shared), '(signal, detector) pair')} both runs have "
                 f"({len(recs_a) - left_a} jobs of A, {len(recs_b) - left_b} of B); left out: "
                 f"{left_a} of {_count(len(recs_a))} of A, {left_b} of {_count(len(recs_b))} "
                 "of B")
    if untested:
        notes.append(f"the paired tests leave out {_count(untested, '(signal, detector) pair')} "
                     "with a failed job (or no value) in A or B")
    return Comparison(merged[COLUMNS], notes, metric)


def compare_runs(run_a: Path | str, run_b: Path | str, metric: str = HEADLINE) -> pd.DataFrame:
    """The comparison table of :func:`comparison` alone (columns :data:`COLUMNS`, sorted).

    Raises:
        CompareError: a folder is not a run folder, has no records or a corrupt ``jobs.json``;
            a run's results have no such metric.
    """
    return comparison(run_a, run_b, metric).table


def _metric_title(metric: str) -> str:
    return metric if metric in SCORE_METRICS else f"{metric.removesuffix('_f1')} F1"


def _p_cell(p: float) -> str:
    if pd.isna(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def comparison_markdown(df: pd.DataFrame, run_a: Path | str, run_b: Path | str,
                        notes: list[str] | tuple[str, ...] = (), metric: str = HEADLINE) -> str:
    """The comparison of ``metric`` as a Markdown document (title, runs, notes when given,
    legend, table)."""
    shown = df.copy()
    shown["diff"] = [f"{d:+.3f}" if not pd.isna(d) else "" for d in df["diff"]]
    shown["wilcoxon_p"] = [_p_cell(p) for p in df["wilcoxon_p"]]
    shown["effect"] = [f"{e:+.2f}" if not pd.isna(e) else "" for e in df["effect"]]
    listed = "".join(f"- {_md_escape(note)}\n" for note in notes)
    return (
        f"# {_md_escape(_metric_title(metric))}: {_md_escape(Path(run_b).name)} (B) against "
        f"{_md_escape(Path(run_a).name)} (A)\n\n"
        f"A: `{run_a}`  \nB: `{run_b}`\n\n"
        + (f"{listed}\n" if listed else "")
        + f"{_md_escape(_metric_title(metric))} over the signals both runs have "
        + ("(mean over signals), " if metric in SCORE_METRICS else "(micro), ")
        + "mean and population std over each run's "
        "seeds; diff = B - A; spread = sqrt(std_A^2 + std_B^2). A diff within the spread is "
        "seed noise. wilcoxon_p: two-sided Wilcoxon signed-rank test of B against A, paired by "
        "signal (each signal's value a mean over seeds); effect: matched-pairs rank-biserial "
        "correlation of B - A (-1..1, positive: B better). A small p says the diff is unlikely "
        "to be chance across signals; few signals give large p whatever the diff.\n\n"
        + to_markdown(shown, na_rep="")
    )


def write_comparison(df: pd.DataFrame, run_a: Path | str, run_b: Path | str,
                     output: Path | str | None = None,
                     notes: list[str] | tuple[str, ...] = (),
                     metric: str = HEADLINE) -> list[Path]:
    """Write the comparison of ``metric`` as Markdown (with its ``notes``) and CSV; return both
    paths.

    ``output`` is the Markdown path (the CSV goes beside it with the suffix ``.csv``); default
    ``<run_b>/compare-<name of run_a>.md``.
    """
    md_path = Path(output) if output is not None else Path(run_b) / f"compare-{Path(run_a).name}.md"
    if md_path.suffix.lower() != ".md":
        md_path = md_path.with_name(md_path.name + ".md")
    csv_path = md_path.with_suffix(".csv")
    text = comparison_markdown(df, run_a, run_b, notes, metric)
    atomic_write(md_path, lambda fh: fh.write(text))
    atomic_write(csv_path, lambda fh: df.to_csv(fh, index=False, lineterminator="\n"))
    return [md_path, csv_path]
