"""Aggregation of a run's records: the per-job frame, F1 and the score-based metrics by dataset,
F1 by seed, signal and kind.

Every function here is a pure function of the job records (the dicts a run folder holds, one per
detector x signal x seed job): the records are sorted first, so a resumed or merged run whose
records arrive in another order reports exactly the same numbers, rows and bytes.

Conventions used throughout:

* **Failed jobs are excluded from every F1, precision and recall** (they have no metrics); they
  are counted in a ``failed`` column instead, so a detector that crashes on hard signals cannot
  look better than one that ran and scored poorly without that being visible.
* **Missing jobs** are planned jobs (``jobs.json``) without a readable record: none was written,
  or the file is corrupt. :func:`benchbench.report.build.load_run_records` stands a record-like
  entry with status ``missing`` (:func:`missing_record`) in for each, so they are excluded like
  failed jobs and counted in their own ``missing`` column, never silently left out.
* **Coverage** of a (dataset, detector): ``signals`` counts its planned signals, ``signals_scored``
  those whose every job (every seed and repetition) is ok, i.e. the signals that enter *every*
  replicate's statistic. A signal with a failed or missing job in some replicate is not scored:
  the F1 of those replicates is over fewer signals. Tables show it as ``scored/planned``
  (``signals: 15/16``) and mark a partial F1 (:func:`is_partial`).
* **Micro** aggregation sums the four components (``precision_num``, ``precision_den``,
  ``recall_num``, ``recall_den``) of a set of jobs with
  :func:`benchbench.evaluation.metrics.combine` and
  computes F1 from the sums; **macro** averages the per-signal F1 values.
* Seeds are aggregated last: a statistic is computed per seed, then the mean (and the population
  standard deviation, ``ddof=0``) over the seeds is reported. With ``--repeat`` a "seed" is one
  replicate, a (seed, repetition) pair (:func:`replicate_key`).
* The point-adjusted metric credits a whole labelled interval as soon as one point of it is
  detected, which inflates its scores; its column header says ``(inflated)``.
* **Affiliation** (``affiliation``, Huet et al. 2022) is an interval metric like the others: its
  micro aggregation pools the zone precisions and recalls of the labelled events of the
  dataset's signals (:func:`benchbench.evaluation.affiliation.affiliation`).
* **Score-based metrics** (:data:`SCORE_METRICS`: ``auc_roc``, ``auc_pr``, ``vus_roc``,
  ``vus_pr``, :mod:`benchbench.evaluation.score_metrics`) are read from a record's
  ``score_metrics`` mapping (metric name -> float), which the report layer computes from the job's
  stored scores and labels (:func:`benchbench.report.build.add_score_metrics`), not the job: they
  do not depend on the thresholding, and a run made before they existed gains them. They
  aggregate over signals as a **mean per seed** (over the dataset's ok jobs of that seed that
  have them), then mean ± std over seeds. A job has none when its scores file cannot be read
  (the report warns) or when its test part has one class only (no labelled anomalous timestep,
  or only anomalous ones): there no ranking of the scores is better than another, so such a
  signal is left out of the score-based metrics rather than entered at a chance value;
  ``score_signals`` counts the signals that enter them.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from benchbench.evaluation.metrics import HEADLINE, MetricResult, combine, macro_f1
from benchbench.evaluation.score_metrics import SCORE_METRICS

__all__ = [
    "METRIC_ORDER",
    "SCORE_METRICS",
    "SCORE_KEY",
    "SCORE_LABELS",
    "INFLATED_METRICS",
    "MISSING",
    "missing_record",
    "job_status",
    "is_partial",
    "coverage_line",
    "sort_records",
    "metric_names",
    "metric_column",
    "metric_label",
    "metric_choices",
    "resolve_metric",
    "job_metric",
    "job_score",
    "results_frame",
    "dataset_table",
    "metric_table",
    "replicate_key",
    "seed_table",
    "signal_groups",
    "cell_f1",
    "signal_table",
    "kind_table",
    "kind_coverage",
]

#: The built-in metrics in the order their columns appear; plugin metrics follow, sorted by name.
METRIC_ORDER: tuple[str, ...] = (
    "overlap",
    "pointwise",
    "weighted_segment",
    "point_adjusted",
    "range_based",
    "affiliation",
)

#: The key of a record's score-based metrics (metric name -> float), see the module docstring.
SCORE_KEY = "score_metrics"

#: How the score-based metrics are named in titles and headers meant for people.
SCORE_LABELS: dict[str, str] = {"auc_roc": "AUC-ROC", "auc_pr": "AUC-PR", "vus_roc": "VUS-ROC",
                                "vus_pr": "VUS-PR"}

#: The status of a planned job without a readable record (see :func:`missing_record`).
MISSING = "missing"

#: Metrics known to overstate detection quality; their column headers are marked ``(inflated)``.
INFLATED_METRICS: frozenset[str] = frozenset({"point_adjusted"})

_COMPONENTS = ("precision_num", "precision_den", "recall_num", "recall_den")

_RESULT_BASE_COLUMNS = ["dataset", "signal", "kind", "detector", "seed", "repetition", "status"]
_RESULT_TAIL_COLUMNS = [
    f"{HEADLINE}_tp",
    f"{HEADLINE}_fp",
    f"{HEADLINE}_fn",
    "n_detected",
    "n_expected",
    "fit_seconds",
    "score_seconds",
    "device",
    "error",
]


# --------------------------------------------------------------------------------------------
# Record helpers
# --------------------------------------------------------------------------------------------


def _seed_key(seed: Any) -> tuple[int, Any]:
    """Sort key for a seed that tolerates a missing seed (sorted last)."""
    return (1, 0) if seed is None else (0, seed)


def replicate_key(rec: Mapping[str, Any]) -> tuple:
    """The replicate a record belongs to: its seed and repetition (``--repeat``), sortable.

    Statistics "over seeds" are over these replicates: with ``--seeds 0,1 --repeat 2`` there are
    four. A record without a repetition (older runs) is repetition 0.
    """
    return (*_seed_key(rec.get("seed")), int(rec.get("repetition") or 0))


def _record_key(rec: Mapping[str, Any]) -> tuple:
    """Total order on records: the job's identity, then its full content as a tie-breaker."""
    return (
        str(rec.get("dataset", "")),
        str(rec.get("signal", "")),
        str(rec.get("detector", "")),
        replicate_key(rec),
        str(rec.get("job_id", "")),
        json.dumps(rec, sort_keys=True, default=str),
    )


def sort_records(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return the records sorted by dataset, signal, detector, seed (then job id and content).

    Every table and plot iterates records in this order, which makes them independent of the order
    in which the records were loaded.
    """
    return sorted(records, key=_record_key)


def _is_ok(rec: Mapping[str, Any]) -> bool:
    return rec.get("status") == "ok"


def job_status(rec: Mapping[str, Any]) -> str:
    """``ok``, ``missing`` or ``failed`` (any other status, or none, counts as failed)."""
    status = rec.get("status")
    return status if status in ("ok", MISSING) else "failed"


def missing_record(job: Any, error: str, kind: str | None = None) -> dict[str, Any]:
    """The record-like entry that stands in for a planned job without a readable record.

    ``job`` is a :class:`benchbench.run.jobs.Job` (its identity fills dataset, signal, detector,
    seed, repetition and job_id); ``error`` says why (``no record``, ``corrupt record <path>``);
    ``kind`` is the signal's anomaly kind when another record of the signal names it. It has no
    metrics, so every statistic leaves it out, and status ``missing``, so every table counts it.
    """
    return {
        "job_id": job.job_id,
        "dataset": job.dataset,
        "signal": job.signal,
        "kind": kind,
        "detector": job.detector,
        "seed": job.seed,
        "repetition": job.repetition,
        "status": MISSING,
        "error": error,
        "metrics": {},
    }


def coverage_line(records: Iterable[Mapping[str, Any]]) -> str | None:
    """``"incomplete: N of M jobs missing"`` when some records are :data:`MISSING` (M counts every
    job the records cover: the planned jobs and any record outside the plan), else ``None``."""
    recs = list(records)
    n_missing = sum(1 for r in recs if job_status(r) == MISSING)
    if not n_missing:
        return None
    return f"incomplete: {n_missing} of {len(recs)} job{'s' if len(recs) != 1 else ''} missing"


def is_partial(row: Mapping[str, Any]) -> bool:
    """Whether a :func:`dataset_table` row's scores cover only part of its planned signals (some
    signal has a failed or missing job): such an F1 is over the scored jobs only."""
    return int(row["signals_scored"]) < int(row["signals"])


def _first_line(text: Any) -> str | None:
    """The first non-empty line of an error message (``None`` when there is none)."""
    if text is None:
        return None
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return None


def metric_names(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The metric names found in the records' ``metrics``, in a fixed order.

    Built-in metrics come first in :data:`METRIC_ORDER` order (the headline metric always
    first), then any other (plugin) metrics sorted by name.
    """
    found: set[str] = set()
    for rec in records:
        metrics = rec.get("metrics") or {}
        found.update(str(name) for name in metrics)
    ordered = [HEADLINE] + [m for m in METRIC_ORDER if m != HEADLINE and m in found]
    ordered += sorted(found - set(ordered))
    return ordered


def metric_column(metric: str) -> str:
    """The column header of a metric's micro F1 in the dataset table (inflated ones marked)."""
    name = f"{metric}_f1"
    return f"{name} (inflated)" if metric in INFLATED_METRICS else name


def metric_label(metric: str) -> str:
    """A metric's name for titles: ``VUS-PR`` for a score-based one, ``overlap F1`` for an interval
    metric (by the F1 of which it is shown)."""
    return SCORE_LABELS.get(metric, f"{metric} F1")


def metric_choices(records: Iterable[Mapping[str, Any]] = ()) -> list[str]:
    """The names :func:`resolve_metric` accepts, in report order: ``<metric>_f1`` for every
    interval metric (the built-ins of :data:`METRIC_ORDER`, then any other found in the records),
    then the score-based metrics (:data:`SCORE_METRICS`)."""
    interval = list(dict.fromkeys([*METRIC_ORDER, *metric_names(records)]))
    return [f"{m}_f1" for m in interval] + list(SCORE_METRICS)


def resolve_metric(name: str, records: Iterable[Mapping[str, Any]] = ()) -> str:
    """The metric a table or figure should show for ``name``: a score-based metric (``vus_pr``)
    as it is, an interval metric's F1 (``overlap_f1``, or just ``overlap``) as the interval
    metric's name (``overlap``).

    Raises:
        ValueError: ``name`` is none of :func:`metric_choices`; the message lists them.
    """
    recs = list(records)
    choices = metric_choices(recs)
    key = str(name)
    if key in SCORE_METRICS:
        return key
    base = key[: -len("_f1")] if key.endswith("_f1") else key
    if f"{base}_f1" in choices:
        return base
    raise ValueError(f"unknown metric {name!r}: choose one of {', '.join(choices)} (an interval "
                     "metric's F1 may also be named without _f1)")


def job_metric(rec: Mapping[str, Any], metric: str = HEADLINE) -> MetricResult | None:
    """A job record's :class:`MetricResult` for ``metric``, rebuilt from its four components.

    ``None`` when the record has no such metric (a failed job) or its components are missing or
    invalid.
    """
    values = (rec.get("metrics") or {}).get(metric)
    if not isinstance(values, Mapping):
        return None
    try:
        comps = [float(values[c]) for c in _COMPONENTS]
    except (KeyError, TypeError, ValueError):
        return None
    try:
        return MetricResult(*comps)
    except ValueError:  # negative, non-finite or numerator above denominator: unusable
        return None


def job_score(rec: Mapping[str, Any], metric: str) -> float:
    """A job record's score-based ``metric`` (see :data:`SCORE_KEY`); NaN when the job is not ok
    or has no finite value in ``[0, 1]`` for it."""
    if not _is_ok(rec):
        return math.nan
    values = rec.get(SCORE_KEY)
    value = _as_float(values.get(metric)) if isinstance(values, Mapping) else math.nan
    return value if 0.0 <= value <= 1.0 else math.nan


def _as_float(value: Any) -> float:
    """``value`` as a float, NaN when missing or not a number."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# --------------------------------------------------------------------------------------------
# Per-job frame
# --------------------------------------------------------------------------------------------


def results_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per job (the contents of ``results.csv``), sorted by dataset, signal, detector, seed.

    Columns: ``dataset, signal, kind, detector, seed, repetition, status``; for each metric (see
    :func:`metric_names`) ``<metric>_f1, <metric>_precision, <metric>_recall`` as recorded by the
    job (NaN for failed and missing jobs); the score-based metrics ``auc_roc, auc_pr, vus_roc,
    vus_pr`` (:func:`job_score`: NaN for a job without them); ``overlap_tp, overlap_fp,
    overlap_fn`` as nullable integers (tp = recall_num, fn = recall_den - recall_num, fp =
    precision_den - precision_num);
    then ``n_detected, n_expected`` (nullable integers, empty for a missing job),
    ``fit_seconds, score_seconds, device`` and ``error`` (the first line of the error message of a
    failed job; ``no record`` or ``corrupt record <path>`` for a missing one). A missing job is a
    row with status ``missing``.
    """
    recs = sort_records(records)
    metrics = metric_names(recs)
    metric_cols = [f"{m}_{part}" for m in metrics for part in ("f1", "precision", "recall")]
    columns = _RESULT_BASE_COLUMNS + metric_cols + list(SCORE_METRICS) + _RESULT_TAIL_COLUMNS
    rows: list[dict[str, Any]] = []
    for rec in recs:
        row: dict[str, Any] = {
            "dataset": rec.get("dataset"),
            "signal": rec.get("signal"),
            "kind": rec.get("kind") or "",
            "detector": rec.get("detector"),
            "seed": rec.get("seed"),
            "repetition": int(rec.get("repetition") or 0),
            "status": rec.get("status"),
        }
        recorded = rec.get("metrics") or {}
        for m in metrics:
            values = recorded.get(m) if isinstance(recorded.get(m), Mapping) else {}
            for part in ("f1", "precision", "recall"):
                row[f"{m}_{part}"] = _as_float(values.get(part))
        for m in SCORE_METRICS:
            row[m] = job_score(rec, m)
        head = job_metric(rec, HEADLINE)
        if head is None:
            tp = fp = fn = None
        else:
            tp = int(round(head.recall_num))
            fn = int(round(head.recall_den - head.recall_num))
            fp = int(round(head.precision_den - head.precision_num))
        row[f"{HEADLINE}_tp"], row[f"{HEADLINE}_fp"], row[f"{HEADLINE}_fn"] = tp, fp, fn
        gone = job_status(rec) == MISSING
        row["n_detected"] = None if gone else len(rec.get("detected") or [])
        row["n_expected"] = None if gone else len(rec.get("expected") or [])
        row["fit_seconds"] = _as_float(rec.get("fit_seconds"))
        row["score_seconds"] = _as_float(rec.get("score_seconds"))
        row["device"] = rec.get("device")
        row["error"] = _first_line(rec.get("error"))
        rows.append(row)
    df = pd.DataFrame(rows, columns=columns)
    for col in (f"{HEADLINE}_tp", f"{HEADLINE}_fp", f"{HEADLINE}_fn", "n_detected",
                "n_expected"):
        df[col] = pd.array(list(df[col]), dtype="Int64")
    if rows:
        df["seed"] = pd.array(list(df["seed"]), dtype="Int64")
        df["repetition"] = df["repetition"].astype("int64")
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Aggregation by dataset
# --------------------------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


def _std(values: Sequence[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.std(vals, ddof=0)) if vals else math.nan


def _micro(results: list[MetricResult | None]) -> MetricResult | None:
    """Micro aggregate of per-job results; ``None`` if any is missing (or there are none)."""
    if not results or any(r is None for r in results):
        return None
    return combine(results)


def _scored_signals(jobs: Iterable[Mapping[str, Any]]) -> set[str]:
    """The signals among ``jobs`` whose every job is ok (see the module docstring)."""
    by_signal: dict[str, list[bool]] = defaultdict(list)
    for rec in jobs:
        by_signal[str(rec.get("signal"))].append(_is_ok(rec))
    return {signal for signal, oks in by_signal.items() if all(oks)}


def _seed_value(jobs: Sequence[Mapping[str, Any]], metric: str) -> float:
    """One replicate's statistic of ``metric`` over its ok ``jobs``: the micro F1 of an interval
    metric (NaN when a job lacks it), the mean over the jobs that have it of a score-based one
    (NaN when none has)."""
    if metric in SCORE_METRICS:
        return _mean([job_score(r, metric) for r in jobs])
    agg = _micro([job_metric(r, metric) for r in jobs])
    return math.nan if agg is None else float(agg.f1)


def _score_signals(jobs: Iterable[Mapping[str, Any]]) -> int:
    """The distinct signals among ``jobs`` with some job that has score-based metrics."""
    return len({str(r.get("signal")) for r in jobs
                if any(not math.isnan(job_score(r, m)) for m in SCORE_METRICS)})


def _dataset_columns(metrics: Sequence[str]) -> list[str]:
    others = [metric_column(m) for m in metrics if m != HEADLINE]
    others += [col for m in SCORE_METRICS for col in (m, f"{m}_std")] + ["score_signals"]
    return (
        [
            "dataset",
            "detector",
            f"{HEADLINE}_f1_micro",
            f"{HEADLINE}_f1_micro_std",
            f"{HEADLINE}_f1_macro",
            f"{HEADLINE}_precision",
            f"{HEADLINE}_recall",
        ]
        + others
        + ["signals_scored", "signals", "seeds", "ok_seeds", "failed", "missing", "fit_s_mean"]
    )


def dataset_table(
    records: Iterable[Mapping[str, Any]], metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """F1 by dataset and detector: one row per (dataset, detector), sorted by both.

    Failed and missing jobs are **excluded** from every F1, precision and recall below and
    counted in ``failed`` and ``missing``; a seed contributes only its ok jobs (so with failures,
    seeds may cover different signal sets, and ``signals_scored`` is below ``signals``). A
    (dataset, detector) without any ok job has NaN statistics.

    Columns (``overlap`` is :data:`benchbench.evaluation.metrics.HEADLINE`):

    * ``overlap_f1_micro``: for each seed,
      :func:`~benchbench.evaluation.metrics.combine` the overlap
      results of the dataset's ok jobs of that seed and take the F1 of the sums; the mean over
      seeds.
    * ``overlap_f1_micro_std``: the population standard deviation (``ddof=0``) of those per-seed
      F1 values; 0 with one seed.
    * ``overlap_f1_macro``: per seed the mean over signals of the per-signal F1
      (:func:`~benchbench.evaluation.metrics.macro_f1`), then the mean over seeds.
    * ``overlap_precision``, ``overlap_recall``: micro, mean over seeds.
    * ``<metric>_f1`` for every other metric: micro F1, mean over seeds; the point-adjusted one is
      headed ``point_adjusted_f1 (inflated)``. NaN when a job lacks that metric's components.
    * ``auc_roc``, ``auc_pr``, ``vus_roc``, ``vus_pr`` (always present) and their ``<name>_std``:
      per seed the mean over the signals that have the score-based metric (:func:`job_score`),
      then the mean and population std over seeds; NaN when no job has it. ``score_signals``:
      the distinct signals that have them (see the module docstring for those that do not).
    * ``signals_scored``: signals whose every job (all seeds and repetitions) is ok, the ones in
      every seed's statistic; ``signals``, ``seeds``: distinct signals and seeds among all the
      jobs (ok, failed or missing: the planned ones when the records come with their missing
      entries); ``ok_seeds``: seeds with at least one ok job (the seeds the statistics are over);
      ``failed``, ``missing``: numbers of failed and missing jobs; ``fit_s_mean``: mean fit
      seconds per ok job.

    Args:
        records: job records (any order).
        metrics: the non-headline interval metrics to report, in this order; ``None``: every
            metric found in the records (see :func:`metric_names`). The headline metric and the
            score-based metrics are always reported.
    """
    recs = sort_records(records)
    all_metrics = metric_names(recs) if metrics is None else [HEADLINE, *metrics]
    all_metrics = list(dict.fromkeys(all_metrics))  # drop a repeated headline, keep order
    columns = _dataset_columns(all_metrics)

    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for rec in recs:
        groups[(str(rec.get("dataset", "")), str(rec.get("detector", "")))].append(rec)

    rows: list[dict[str, Any]] = []
    for (dataset, detector), group in sorted(groups.items()):
        ok = [r for r in group if _is_ok(r)]
        by_seed: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
        for rec in ok:
            by_seed[replicate_key(rec)].append(rec)
        seeds = sorted(by_seed)

        micro_f1, macro, prec, rec_ = [], [], [], []
        other: dict[str, list[float]] = {m: [] for m in all_metrics if m != HEADLINE}
        scores: dict[str, list[float]] = {m: [] for m in SCORE_METRICS}
        for seed in seeds:
            jobs = by_seed[seed]
            head = [job_metric(r, HEADLINE) for r in jobs]
            agg = _micro(head)
            if agg is None:
                micro_f1.append(math.nan)
                prec.append(math.nan)
                rec_.append(math.nan)
                macro.append(math.nan)
            else:
                micro_f1.append(float(agg.f1))
                prec.append(float(agg.precision))
                rec_.append(float(agg.recall))
                macro.append(float(macro_f1(head)))
            for m, values in (*other.items(), *scores.items()):
                values.append(_seed_value(jobs, m))

        row: dict[str, Any] = {
            "dataset": dataset,
            "detector": detector,
            f"{HEADLINE}_f1_micro": _mean(micro_f1),
            f"{HEADLINE}_f1_micro_std": _std(micro_f1),
            f"{HEADLINE}_f1_macro": _mean(macro),
            f"{HEADLINE}_precision": _mean(prec),
            f"{HEADLINE}_recall": _mean(rec_),
        }
        for m, values in other.items():
            row[metric_column(m)] = _mean(values)
        for m, values in scores.items():
            row[m], row[f"{m}_std"] = _mean(values), _std(values)
        row["score_signals"] = _score_signals(ok)
        row["signals_scored"] = len(_scored_signals(group))
        row["signals"] = len({str(r.get("signal")) for r in group})
        row["seeds"] = len({replicate_key(r) for r in group})
        row["ok_seeds"] = len(seeds)
        statuses = [job_status(r) for r in group]
        row["failed"] = statuses.count("failed")
        row["missing"] = statuses.count(MISSING)
        row["fit_s_mean"] = _mean([_as_float(r.get("fit_seconds")) for r in ok])
        rows.append(row)

    df = pd.DataFrame(rows, columns=columns)
    for col in ("score_signals", "signals_scored", "signals", "seeds", "ok_seeds", "failed",
                "missing"):
        df[col] = df[col].astype("int64")
    return df


def metric_table(records: Iterable[Mapping[str, Any]], metric: str = HEADLINE) -> pd.DataFrame:
    """One metric by dataset and detector, with its spread over seeds: the figures of a heatmap.

    ``metric`` is an interval metric's name (its micro F1, as in :func:`dataset_table`) or a
    score-based one (mean over signals per seed); any name :func:`resolve_metric` accepts. One row
    per (dataset, detector), sorted: ``dataset, detector, value`` (mean over seeds), ``std``
    (population, over seeds), ``ok_seeds``, ``failed``, ``missing`` (as in :func:`dataset_table`).

    Raises:
        ValueError: an unknown ``metric`` (see :func:`resolve_metric`).
    """
    recs = sort_records(records)
    metric = resolve_metric(metric, recs)
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for rec in recs:
        groups[(str(rec.get("dataset", "")), str(rec.get("detector", "")))].append(rec)
    rows = []
    for (dataset, detector), group in sorted(groups.items()):
        by_seed: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
        for rec in group:
            if _is_ok(rec):
                by_seed[replicate_key(rec)].append(rec)
        values = [_seed_value(by_seed[seed], metric) for seed in sorted(by_seed)]
        statuses = [job_status(r) for r in group]
        rows.append({"dataset": dataset, "detector": detector, "value": _mean(values),
                     "std": _std(values), "ok_seeds": len(by_seed),
                     "failed": statuses.count("failed"), "missing": statuses.count(MISSING)})
    columns = ["dataset", "detector", "value", "std", "ok_seeds", "failed", "missing"]
    return pd.DataFrame(rows, columns=columns).astype(
        {"ok_seeds": "int64", "failed": "int64", "missing": "int64"})


def seed_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The per-seed figures behind the mean ± std: one row per (dataset, detector, replicate).

    Columns ``dataset, detector, seed, repetition``, ``overlap_f1_micro`` (F1 of the overlap
    components summed over that replicate's ok jobs of the dataset; NaN when a job lacks them)
    and ``signals`` (its ok jobs). Replicates without any ok job are left out.
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
    for rec in sort_records(records):
        if _is_ok(rec):
            key = (str(rec.get("dataset", "")), str(rec.get("detector", "")), replicate_key(rec))
            groups[key].append(rec)
    rows = []
    for (dataset, detector, replicate), jobs in sorted(groups.items()):
        agg = _micro([job_metric(r, HEADLINE) for r in jobs])
        rows.append({"dataset": dataset, "detector": detector, "seed": jobs[0].get("seed"),
                     "repetition": replicate[-1],
                     f"{HEADLINE}_f1_micro": math.nan if agg is None else float(agg.f1),
                     "signals": len(jobs)})
    columns = ["dataset", "detector", "seed", "repetition", f"{HEADLINE}_f1_micro", "signals"]
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------------------------
# Aggregation by signal
# --------------------------------------------------------------------------------------------


def signal_groups(
    recs: Sequence[Mapping[str, Any]],
) -> tuple[list[tuple[str, str, str]], list[str], dict[tuple[str, str, str], dict[str, list]]]:
    """Group sorted records by (dataset, signal, kind) row and detector column."""
    kinds: dict[tuple[str, str], str] = {}
    for rec in recs:
        key = (str(rec.get("dataset", "")), str(rec.get("signal", "")))
        if not kinds.get(key):
            kinds[key] = str(rec.get("kind") or "")
    detectors = sorted({str(r.get("detector", "")) for r in recs})
    cells: dict[tuple[str, str, str], dict[str, list]] = {}
    for rec in recs:
        dataset, signal = str(rec.get("dataset", "")), str(rec.get("signal", ""))
        row = (dataset, signal, kinds[(dataset, signal)])
        cells.setdefault(row, {}).setdefault(str(rec.get("detector", "")), []).append(rec)
    return sorted(cells), detectors, cells


def cell_f1(jobs: Sequence[Mapping[str, Any]]) -> tuple[float, int, int]:
    """Mean overlap F1 over the ok seeds of one signal/detector cell, plus (n_ok, n_failed);
    the cell's missing jobs are the others (``len(jobs) - n_ok - n_failed``)."""
    ok = [r for r in jobs if _is_ok(r)]
    f1s = []
    for rec in ok:
        res = job_metric(rec, HEADLINE)
        f1s.append(math.nan if res is None else float(res.f1))
    n_failed = sum(1 for r in jobs if job_status(r) == "failed")
    return _mean(f1s), len(ok), n_failed


def signal_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Overlap F1 by signal: rows (dataset, signal, kind), one column per detector (sorted).

    A cell is the mean over seeds of that job's overlap F1, over its ok jobs only. A cell whose
    jobs all failed or are missing is NaN (rendered as ``failed`` or ``missing`` by
    :func:`~benchbench.report.render.signal_display_table`); so is a cell with no job at all
    (rendered empty).
    """
    recs = sort_records(records)
    rows, detectors, cells = signal_groups(recs)
    data = []
    for row in rows:
        entry: dict[str, Any] = {"dataset": row[0], "signal": row[1], "kind": row[2]}
        for det in detectors:
            jobs = cells[row].get(det, [])
            entry[det] = cell_f1(jobs)[0] if jobs else math.nan
        data.append(entry)
    df = pd.DataFrame(data, columns=["dataset", "signal", "kind", *detectors])
    return df.astype({d: "float64" for d in detectors})


def kind_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Overlap F1 by signal kind: rows (dataset, kind), one column per detector (sorted).

    A cell is the micro F1 over the signals of that kind (components of the ok jobs summed per
    seed), then the mean over seeds; NaN when the detector has no ok job there. ``signals``
    counts the kind's signals. Records without a ``kind`` are left out (datasets that do not
    label anomaly types get no rows; a missing job's kind is known only from another record of
    its signal). :func:`kind_coverage` gives each cell's scored and planned signals.
    """
    recs = [r for r in sort_records(records) if r.get("kind")]
    detectors = sorted({str(r.get("detector", "")) for r in recs})
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for rec in recs:
        groups[(str(rec.get("dataset", "")), str(rec["kind"]))].append(rec)
    data = []
    for (dataset, kind), group in sorted(groups.items()):
        entry: dict[str, Any] = {"dataset": dataset, "kind": kind,
                                 "signals": len({str(r.get("signal")) for r in group})}
        for det in detectors:
            by_seed: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
            for rec in group:
                if rec.get("detector") == det and _is_ok(rec):
                    by_seed[replicate_key(rec)].append(rec)
            f1s = []
            for jobs in by_seed.values():
                agg = _micro([job_metric(r, HEADLINE) for r in jobs])
                f1s.append(math.nan if agg is None else float(agg.f1))
            entry[det] = _mean(f1s)
        data.append(entry)
    df = pd.DataFrame(data, columns=["dataset", "kind", "signals", *detectors])
    return df.astype({d: "float64" for d in detectors})


def kind_coverage(
    records: Iterable[Mapping[str, Any]],
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """``(dataset, kind, detector) -> (scored, planned)`` signals of each :func:`kind_table` cell:
    the detector's signals of that kind, and those whose every job is ok (module docstring)."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for rec in sort_records(records):
        if rec.get("kind"):
            key = (str(rec.get("dataset", "")), str(rec["kind"]), str(rec.get("detector", "")))
            groups[key].append(rec)
    return {key: (len(_scored_signals(jobs)), len({str(r.get("signal")) for r in jobs}))
            for key, jobs in sorted(groups.items())}
