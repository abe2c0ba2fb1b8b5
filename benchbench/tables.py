"""Result tables of a run: the per-job frame, F1 by dataset and by signal, and their renderings.

Every function here is a pure function of the job records (the dicts a run folder holds, one per
detector x signal x seed job): the records are sorted first, so a resumed or merged run whose
records arrive in another order reports exactly the same numbers, rows and bytes.

Conventions used throughout:

* **Failed jobs are excluded from every F1, precision and recall** (they have no metrics); they
  are counted in a ``failed`` column instead, so a detector that crashes on hard signals cannot
  look better than one that ran and scored poorly without that being visible.
* **Micro** aggregation sums the four components (``precision_num``, ``precision_den``,
  ``recall_num``, ``recall_den``) of a set of jobs with :func:`benchbench.metrics.combine` and
  computes F1 from the sums; **macro** averages the per-signal F1 values.
* Seeds are aggregated last: a statistic is computed per seed, then the mean (and the population
  standard deviation, ``ddof=0``) over the seeds is reported. With ``--repeat`` a "seed" is one
  replicate, a (seed, repetition) pair (:func:`replicate_key`).
* The point-adjusted metric credits a whole labelled interval as soon as one point of it is
  detected, which inflates its scores; its column header says ``(inflated)``.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchbench.metrics import HEADLINE, MetricResult, combine, macro_f1
from benchbench.records import atomic_write

__all__ = [
    "METRIC_ORDER",
    "INFLATED_METRICS",
    "sort_records",
    "metric_names",
    "metric_column",
    "job_metric",
    "results_frame",
    "dataset_table",
    "dataset_display_table",
    "replicate_key",
    "seed_table",
    "signal_table",
    "signal_display_table",
    "format_mean_std",
    "latex_escape",
    "to_markdown",
    "to_latex",
    "write_tables",
    "headline_text",
]

#: The built-in metrics in the order their columns appear; plugin metrics follow, sorted by name.
METRIC_ORDER: tuple[str, ...] = (
    "overlap",
    "pointwise",
    "weighted_segment",
    "point_adjusted",
    "range_based",
)

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
    job (NaN for failed jobs); ``overlap_tp, overlap_fp, overlap_fn`` as nullable integers
    (tp = recall_num, fn = recall_den - recall_num, fp = precision_den - precision_num); then
    ``n_detected, n_expected, fit_seconds, score_seconds, device`` and ``error`` (the first line of
    the error message of a failed job).
    """
    recs = sort_records(records)
    metrics = metric_names(recs)
    metric_cols = [f"{m}_{part}" for m in metrics for part in ("f1", "precision", "recall")]
    columns = _RESULT_BASE_COLUMNS + metric_cols + _RESULT_TAIL_COLUMNS
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
        head = job_metric(rec, HEADLINE)
        if head is None:
            tp = fp = fn = None
        else:
            tp = int(round(head.recall_num))
            fn = int(round(head.recall_den - head.recall_num))
            fp = int(round(head.precision_den - head.precision_num))
        row[f"{HEADLINE}_tp"], row[f"{HEADLINE}_fp"], row[f"{HEADLINE}_fn"] = tp, fp, fn
        row["n_detected"] = len(rec.get("detected") or [])
        row["n_expected"] = len(rec.get("expected") or [])
        row["fit_seconds"] = _as_float(rec.get("fit_seconds"))
        row["score_seconds"] = _as_float(rec.get("score_seconds"))
        row["device"] = rec.get("device")
        row["error"] = _first_line(rec.get("error"))
        rows.append(row)
    df = pd.DataFrame(rows, columns=columns)
    for col in (f"{HEADLINE}_tp", f"{HEADLINE}_fp", f"{HEADLINE}_fn"):
        df[col] = pd.array(list(df[col]), dtype="Int64")
    if rows:
        df["seed"] = pd.array(list(df["seed"]), dtype="Int64")
        df["repetition"] = df["repetition"].astype("int64")
        df["n_detected"] = df["n_detected"].astype("int64")
        df["n_expected"] = df["n_expected"].astype("int64")
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


def _dataset_columns(metrics: Sequence[str]) -> list[str]:
    others = [metric_column(m) for m in metrics if m != HEADLINE]
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
        + ["signals", "seeds", "ok_seeds", "failed", "fit_s_mean"]
    )


def dataset_table(
    records: Iterable[Mapping[str, Any]], metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """F1 by dataset and detector: one row per (dataset, detector), sorted by both.

    Failed jobs are **excluded** from every F1, precision and recall below and counted in
    ``failed``; a seed contributes only its ok jobs (so with failures, seeds may cover different
    signal sets). A (dataset, detector) without any ok job has NaN statistics.

    Columns (``overlap`` is :data:`benchbench.metrics.HEADLINE`):

    * ``overlap_f1_micro``: for each seed, :func:`~benchbench.metrics.combine` the overlap
      results of the dataset's ok jobs of that seed and take the F1 of the sums; the mean over
      seeds.
    * ``overlap_f1_micro_std``: the population standard deviation (``ddof=0``) of those per-seed
      F1 values; 0 with one seed.
    * ``overlap_f1_macro``: per seed the mean over signals of the per-signal F1
      (:func:`~benchbench.metrics.macro_f1`), then the mean over seeds.
    * ``overlap_precision``, ``overlap_recall``: micro, mean over seeds.
    * ``<metric>_f1`` for every other metric: micro F1, mean over seeds; the point-adjusted one is
      headed ``point_adjusted_f1 (inflated)``. NaN when a job lacks that metric's components.
    * ``signals``, ``seeds``: distinct signals and seeds among all the jobs (ok or failed);
      ``ok_seeds``: seeds with at least one ok job (the seeds the statistics are over);
      ``failed``: number of failed jobs; ``fit_s_mean``: mean fit seconds per ok job.

    Args:
        records: job records (any order).
        metrics: the non-headline metrics to report, in this order; ``None``: every metric found
            in the records (see :func:`metric_names`). The headline metric is always reported.
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
            for m in other:
                agg_m = _micro([job_metric(r, m) for r in jobs])
                other[m].append(math.nan if agg_m is None else float(agg_m.f1))

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
        row["signals"] = len({str(r.get("signal")) for r in group})
        row["seeds"] = len({replicate_key(r) for r in group})
        row["ok_seeds"] = len(seeds)
        row["failed"] = sum(1 for r in group if not _is_ok(r))
        row["fit_s_mean"] = _mean([_as_float(r.get("fit_seconds")) for r in ok])
        rows.append(row)

    df = pd.DataFrame(rows, columns=columns)
    for col in ("signals", "seeds", "ok_seeds", "failed"):
        df[col] = df[col].astype("int64")
    return df


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


def _signal_groups(
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


def _cell_f1(jobs: Sequence[Mapping[str, Any]]) -> tuple[float, int, int]:
    """Mean overlap F1 over the ok seeds of one signal/detector cell, plus (n_ok, n_failed)."""
    ok = [r for r in jobs if _is_ok(r)]
    f1s = []
    for rec in ok:
        res = job_metric(rec, HEADLINE)
        f1s.append(math.nan if res is None else float(res.f1))
    return _mean(f1s), len(ok), len(jobs) - len(ok)


def signal_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Overlap F1 by signal: rows (dataset, signal, kind), one column per detector (sorted).

    A cell is the mean over seeds of that job's overlap F1, over its ok jobs only. A cell whose
    jobs all failed is NaN (rendered as ``failed`` by :func:`signal_display_table`); so is a cell
    with no job at all (rendered empty).
    """
    recs = sort_records(records)
    rows, detectors, cells = _signal_groups(recs)
    data = []
    for row in rows:
        entry: dict[str, Any] = {"dataset": row[0], "signal": row[1], "kind": row[2]}
        for det in detectors:
            jobs = cells[row].get(det, [])
            entry[det] = _cell_f1(jobs)[0] if jobs else math.nan
        data.append(entry)
    df = pd.DataFrame(data, columns=["dataset", "signal", "kind", *detectors])
    return df.astype({d: "float64" for d in detectors})


def kind_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Overlap F1 by signal kind: rows (dataset, kind), one column per detector (sorted).

    A cell is the micro F1 over the signals of that kind (components of the ok jobs summed per
    seed), then the mean over seeds; NaN when the detector has no ok job there. ``signals``
    counts the kind's signals. Records without a ``kind`` are left out (datasets that do not
    label anomaly types get no rows).
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


def signal_display_table(
    records: Iterable[Mapping[str, Any]], floatfmt: str = ".3f"
) -> pd.DataFrame:
    """:func:`signal_table` with formatted text cells, for the Markdown and LaTeX files.

    A cell reads ``0.812``; ``failed`` when all its jobs failed; ``0.812 (1 failed)`` when some
    seeds failed (the mean is over the others); empty when the detector has no job on the signal.
    """
    recs = sort_records(records)
    rows, detectors, cells = _signal_groups(recs)
    data = []
    for row in rows:
        entry: dict[str, Any] = {"dataset": row[0], "signal": row[1], "kind": row[2]}
        for det in detectors:
            jobs = cells[row].get(det, [])
            if not jobs:
                entry[det] = ""
                continue
            f1, n_ok, n_failed = _cell_f1(jobs)
            if n_ok == 0:
                entry[det] = "failed"
            else:
                text = "n/a" if math.isnan(f1) else format(f1, floatfmt)
                entry[det] = f"{text} ({n_failed} failed)" if n_failed else text
        data.append(entry)
    return pd.DataFrame(data, columns=["dataset", "signal", "kind", *detectors], dtype=object)


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def format_mean_std(
    mean: float,
    std: float | None = None,
    n_seeds: int = 2,
    floatfmt: str = ".3f",
    latex: bool = False,
) -> str:
    """Render a mean with its standard deviation: ``"0.812 ± 0.031"``.

    Only the mean is shown when ``n_seeds <= 1`` or ``std`` is missing/NaN; a NaN mean gives
    ``"n/a"``. With ``latex=True`` the separator is ``$\\pm$`` (the result is then LaTeX source,
    not to be escaped again; :func:`to_latex` turns a plain ``±`` into ``$\\pm$`` by itself).
    """
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    text = format(mean, floatfmt)
    if n_seeds > 1 and std is not None and not math.isnan(std):
        sep = " $\\pm$ " if latex else " ± "
        text += sep + format(std, floatfmt)
    return text


def dataset_display_table(df: pd.DataFrame, floatfmt: str = ".3f") -> pd.DataFrame:
    """A :func:`dataset_table` frame made for display.

    The micro F1 and its std merge into one ``overlap_f1_micro`` cell (``0.812 ± 0.031``, just
    the mean with one seed); rows without any ok job read ``failed``; the ``ok_seeds`` column is
    dropped; other numbers are formatted with ``floatfmt``.
    """
    micro, std = f"{HEADLINE}_f1_micro", f"{HEADLINE}_f1_micro_std"
    out = df.drop(columns=[std, "ok_seeds"], errors="ignore").astype(object)
    for i in range(len(df)):
        n_ok = int(df["ok_seeds"].iloc[i]) if "ok_seeds" in df else int(df["seeds"].iloc[i])
        if n_ok == 0:
            out.iloc[i, out.columns.get_loc(micro)] = "failed"
            continue
        out.iloc[i, out.columns.get_loc(micro)] = format_mean_std(
            float(df[micro].iloc[i]), float(df[std].iloc[i]), n_ok, floatfmt
        )
    return out


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _format_cell(value: Any, floatfmt: str, na_rep: str) -> str:
    if _is_missing(value):
        return na_rep
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format(float(value), floatfmt)
    return str(value)


_NUMERIC_TEXT = re.compile(r"^[-+]?(\d|\.\d|inf|nan)")
_NUMERIC_WORDS = {"", "failed", "n/a"}


def _right_aligned(column: pd.Series) -> bool:
    """Whether a column holds numbers (or numbers rendered as text) and should align right."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        return True
    seen = False
    for value in column:
        if _is_missing(value):
            continue
        if _is_number(value):
            seen = True
            continue
        text = str(value).strip()
        if text in _NUMERIC_WORDS:
            continue
        if not _NUMERIC_TEXT.match(text):
            return False
        seen = True
    return seen


def _rendered(df: pd.DataFrame, floatfmt: str, na_rep: str) -> tuple[list[str], list[list[str]]]:
    header = [str(c) for c in df.columns]
    body = [
        [_format_cell(v, floatfmt, na_rep) for v in row]
        for row in df.itertuples(index=False, name=None)
    ]
    return header, body


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def to_markdown(df: pd.DataFrame, floatfmt: str = ".3f", na_rep: str = "") -> str:
    """Render ``df`` (its columns; the index is ignored) as a GitHub pipe table.

    Floats use ``floatfmt``, integers print as integers, missing values as ``na_rep``; ``|`` in
    cells is escaped. Numeric columns are right-aligned (``---:``), others left-aligned, and
    cells are padded so the table also reads well as plain text. Ends with a newline.
    """
    header, body = _rendered(df, floatfmt, na_rep)
    header = [_md_escape(h) for h in header]
    body = [[_md_escape(c) for c in row] for row in body]
    right = [_right_aligned(df.iloc[:, j]) for j in range(df.shape[1])]
    widths = [max([3, len(header[j])] + [len(row[j]) for row in body]) for j in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)]
        return "| " + " | ".join(padded) + " |"

    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right)
    )
    sep += "|"
    return "\n".join([line(header), sep, *(line(row) for row in body)]) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "\n": " ",
    "\r": " ",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters (``\\ & % $ # _ { } ~ ^``); write ``±`` as ``$\\pm$``."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(
    df: pd.DataFrame,
    floatfmt: str = ".3f",
    caption: str | None = None,
    label: str | None = None,
    na_rep: str = "",
    escape: bool = True,
) -> str:
    """Render ``df`` as a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``).

    Header and cells are escaped with :func:`latex_escape` (unless ``escape=False``, for cells
    that already hold LaTeX); numeric columns are right-aligned. With a ``caption`` or ``label`` the
    tabular is wrapped in a ``table`` environment; the caption is escaped, the label is not.
    Ends with a newline.
    """
    header, body = _rendered(df, floatfmt, na_rep)
    esc = latex_escape if escape else (lambda s: s)
    header = [esc(h) for h in header]
    body = [[esc(c) for c in row] for row in body]
    spec = "".join("r" if _right_aligned(df.iloc[:, j]) else "l" for j in range(df.shape[1]))
    lines = [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(header) + " \\\\",
        "\\midrule",
        *(" & ".join(row) + " \\\\" for row in body),
        "\\bottomrule",
        "\\end{tabular}",
    ]
    if caption is not None or label is not None:
        wrapped = ["\\begin{table}[ht]", "\\centering"]
        if caption is not None:
            wrapped.append(f"\\caption{{{latex_escape(caption)}}}")
        if label is not None:
            wrapped.append(f"\\label{{{label}}}")
        lines = [*wrapped, *lines, "\\end{table}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


_NOTES = (
    "F1 micro: per seed, F1 of the summed components over the dataset's signals; "
    "mean ± population std over seeds. Macro: mean of per-signal F1, then over seeds. "
    "Failed jobs are excluded from all scores and counted in `failed`. "
    "Point-adjusted scores are inflated by construction."
)


def write_tables(records: Iterable[Mapping[str, Any]], out_dir: Path) -> dict[str, Path]:
    """Write ``f1_by_{dataset,signal,kind}.{csv,md,tex}`` into ``out_dir``.

    The CSVs hold the numeric frames of :func:`dataset_table` and :func:`signal_table` at full
    precision; the Markdown and LaTeX files hold the display versions (mean ± std, ``failed``).
    ``out_dir`` is created if needed and each file is written atomically. Returns the written
    paths keyed by file name.
    """
    recs = sort_records(records)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    by_dataset = dataset_table(recs)
    by_dataset_display = dataset_display_table(by_dataset)
    by_signal = signal_table(recs)
    by_signal_display = signal_display_table(recs)
    by_kind = kind_table(recs)

    texts = {
        "f1_by_dataset.csv": by_dataset.to_csv(index=False, lineterminator="\n"),
        "f1_by_dataset.md": to_markdown(by_dataset_display) + "\n" + _NOTES + "\n",
        "f1_by_dataset.tex": "% "
        + _NOTES
        + "\n"
        + to_latex(
            by_dataset_display,
            caption="Overlap F1 by dataset and detector (failed jobs excluded).",
            label="tab:f1_by_dataset",
        ),
        "f1_by_signal.csv": by_signal.to_csv(index=False, lineterminator="\n"),
        "f1_by_signal.md": to_markdown(by_signal_display),
        "f1_by_signal.tex": to_latex(
            by_signal_display,
            caption="Overlap F1 by signal (mean over seeds).",
            label="tab:f1_by_signal",
        ),
        "f1_by_kind.csv": by_kind.to_csv(index=False, lineterminator="\n"),
        "f1_by_kind.md": to_markdown(by_kind, na_rep="n/a"),
        "f1_by_kind.tex": to_latex(
            by_kind,
            caption="Overlap F1 (micro over signals, mean over seeds) by anomaly kind.",
            label="tab:f1_by_kind",
        ),
    }
    paths: dict[str, Path] = {}
    for name, text in texts.items():
        path = out_dir / name
        atomic_write(path, lambda fh, text=text: fh.write(text))
        paths[name] = path
    return paths


# --------------------------------------------------------------------------------------------
# Terminal summary
# --------------------------------------------------------------------------------------------


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def headline_text(records: Iterable[Mapping[str, Any]], floatfmt: str = ".3f") -> str:
    """A compact plain-text table of the headline results for the end of a run.

    One line per (dataset, detector): overlap F1 micro (``± std`` when several seeds), macro F1,
    precision, recall, failed jobs and mean fit seconds. Dataset and detector names are clipped so
    a line fits in 100 columns. Returns ``"no results"`` when there are no records.
    """
    df = dataset_table(records, metrics=[])
    if df.empty:
        return "no results\n"
    micro, std = f"{HEADLINE}_f1_micro", f"{HEADLINE}_f1_micro_std"

    def num(value: float, fmt: str = floatfmt) -> str:
        return "-" if _is_missing(value) else format(float(value), fmt)

    header = ["dataset", "detector", "F1 micro", "macro", "prec", "recall", "failed", "fit s"]
    rows = []
    for _, r in df.iterrows():
        n_ok = int(r["ok_seeds"])
        f1 = (
            "failed"
            if n_ok == 0
            else format_mean_std(float(r[micro]), float(r[std]), n_ok, floatfmt)
        )
        rows.append(
            [
                _clip(str(r["dataset"]), 24),
                _clip(str(r["detector"]), 20),
                f1,
                num(r[f"{HEADLINE}_f1_macro"]),
                num(r[f"{HEADLINE}_precision"]),
                num(r[f"{HEADLINE}_recall"]),
                str(int(r["failed"])),
                num(r["fit_s_mean"], ".1f"),
            ]
        )
    right = [False, False, True, True, True, True, True, True]
    widths = [max(len(header[j]), *(len(row[j]) for row in rows)) for j in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if rj else c.ljust(w) for c, w, rj in zip(cells, widths, right)
        ).rstrip()

    title = (
        f"{HEADLINE} F1 by dataset and detector (micro over signals, mean ± std over seeds; "
        "failed jobs excluded)"
    )
    out = [_clip(title, 100), line(header), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    return "\n".join(out) + "\n"
