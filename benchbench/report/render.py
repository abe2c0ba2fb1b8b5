"""Rendering of a run's tables: mean ± std cells, Markdown, LaTeX, the table files and the
terminal summary.

The numbers come from :mod:`benchbench.report.aggregate`; nothing here computes a statistic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchbench.evaluation.metrics import HEADLINE
from benchbench.files import atomic_write
from benchbench.report.aggregate import (
    MISSING,
    SCORE_LABELS,
    SCORE_METRICS,
    cell_f1,
    coverage_line,
    dataset_table,
    is_partial,
    kind_coverage,
    kind_table,
    signal_groups,
    signal_table,
    sort_records,
)

__all__ = [
    "signal_display_table",
    "format_mean_std",
    "dataset_display_table",
    "kind_display_table",
    "f1_micro_cell",
    "score_cell",
    "signals_cell",
    "latex_escape",
    "to_markdown",
    "to_latex",
    "write_tables",
    "headline_text",
    "reference_table",
    "reference_text",
]


def signal_display_table(
    records: Iterable[Mapping[str, Any]], floatfmt: str = ".3f"
) -> pd.DataFrame:
    """:func:`signal_table` with formatted text cells, for the Markdown and LaTeX files.

    A cell reads ``0.812``; ``failed`` when no job is ok and some failed; ``missing`` when all its
    jobs are missing (no readable record); ``0.812 (1 failed)``, ``0.812 (1 missing)`` when some
    seeds failed or are missing (the mean is over the others); empty when the detector has no job
    on the signal.
    """
    recs = sort_records(records)
    rows, detectors, cells = signal_groups(recs)
    data = []
    for row in rows:
        entry: dict[str, Any] = {"dataset": row[0], "signal": row[1], "kind": row[2]}
        for det in detectors:
            jobs = cells[row].get(det, [])
            if not jobs:
                entry[det] = ""
                continue
            f1, n_ok, n_failed = cell_f1(jobs)
            n_missing = len(jobs) - n_ok - n_failed
            if n_ok == 0:
                entry[det] = "failed" if n_failed else MISSING
            else:
                text = "n/a" if math.isnan(f1) else format(f1, floatfmt)
                lost = [f"{n} {what}" for n, what in ((n_failed, "failed"), (n_missing, MISSING))
                        if n]
                entry[det] = f"{text} ({', '.join(lost)})" if lost else text
        data.append(entry)
    return pd.DataFrame(data, columns=["dataset", "signal", "kind", *detectors], dtype=object)


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
    the mean with one seed), followed by ``(partial)`` when it covers only part of the planned
    signals (:func:`~benchbench.report.aggregate.is_partial`); rows without any ok job read
    ``failed`` (or ``missing`` when no job failed); each score-based metric and its std merge the
    same way into one cell (``n/a`` when no job has it, :func:`score_cell`); ``signals`` reads
    ``scored/planned`` (``15/16``) and the ``signals_scored`` and ``ok_seeds`` columns are
    dropped; other numbers are formatted with ``floatfmt``.
    """
    micro, std = f"{HEADLINE}_f1_micro", f"{HEADLINE}_f1_micro_std"
    drop = [std, "ok_seeds", "signals_scored", *(f"{m}_std" for m in SCORE_METRICS)]
    out = df.drop(columns=drop, errors="ignore").astype(object)
    scores = [m for m in SCORE_METRICS if m in df.columns]
    for i in range(len(df)):
        row = df.iloc[i]
        out.iloc[i, out.columns.get_loc("signals")] = signals_cell(row)
        out.iloc[i, out.columns.get_loc(micro)] = f1_micro_cell(row, floatfmt)
        for m in scores:
            out.iloc[i, out.columns.get_loc(m)] = score_cell(row, m, floatfmt)
    return out


def score_cell(row: pd.Series, metric: str, floatfmt: str = ".3f") -> str:
    """A score-based metric of a :func:`dataset_table` row as ``mean ± std`` over its ok seeds
    (just the mean with one); ``n/a`` when no job of the row has it."""
    return format_mean_std(float(row[metric]), float(row[f"{metric}_std"]), int(row["ok_seeds"]),
                           floatfmt)


def signals_cell(row: pd.Series) -> str:
    """``scored/planned`` signals of a :func:`dataset_table` row."""
    return f"{int(row['signals_scored'])}/{int(row['signals'])}"


def f1_micro_cell(row: pd.Series, floatfmt: str = ".3f", partial: str = " (partial)") -> str:
    """The micro F1 cell of a :func:`dataset_table` row: ``failed``/``missing`` without any ok
    job, else mean ± std, with ``partial`` appended when the row covers only part of its
    signals."""
    micro, std = f"{HEADLINE}_f1_micro", f"{HEADLINE}_f1_micro_std"
    n_ok = int(row["ok_seeds"])
    if n_ok == 0:
        return "failed" if int(row["failed"]) else MISSING
    text = format_mean_std(float(row[micro]), float(row[std]), n_ok, floatfmt)
    return text + partial if is_partial(row) else text


def kind_display_table(records: Iterable[Mapping[str, Any]], floatfmt: str = ".3f") -> pd.DataFrame:
    """:func:`kind_table` with text cells: ``0.812``, or ``0.812 (2/3 signals)`` when only some of
    the detector's signals of that kind are scored (the F1 is over those); ``n/a`` without any ok
    job."""
    df = kind_table(records)
    coverage = kind_coverage(records)
    out = df.astype(object)
    for det in df.columns[3:]:
        for i in range(len(df)):
            value = float(df[det].iloc[i])
            text = "n/a" if math.isnan(value) else format(value, floatfmt)
            scored, planned = coverage.get((df["dataset"].iloc[i], df["kind"].iloc[i], det),
                                           (0, 0))
            if planned and scored < planned and not math.isnan(value):
                text += f" ({scored}/{planned} signals)"
            out.iloc[i, out.columns.get_loc(det)] = text
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


_NUMERIC_WORDS = {"", "failed", MISSING, "n/a"}


def _right_aligned(column: pd.Series) -> bool:
    """Whether a column holds numbers (or numbers rendered as text) and should align right; a
    column of ``n/a`` cells only (a metric no job has) is one of numbers."""
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
            seen = seen or text == "n/a"
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


_MD_SPECIAL = {"\\": "\\\\", "|": "\\|", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": " ",
               "\n": " "}


def _md_escape(text: str) -> str:
    """Text made safe for a Markdown table cell: ``\\`` and ``|`` escaped with a backslash, HTML's
    ``& < >`` written as entities (so a name like ``<b>x</b>`` shows as that text, not as markup),
    line breaks as spaces."""
    return "".join(_MD_SPECIAL.get(ch, ch) for ch in str(text))


def to_markdown(df: pd.DataFrame, floatfmt: str = ".3f", na_rep: str = "") -> str:
    """Render ``df`` (its columns; the index is ignored) as a GitHub pipe table.

    Floats use ``floatfmt``, integers print as integers, missing values as ``na_rep``; cells and
    header are escaped with :func:`_md_escape` (``|`` and ``\\`` backslashed, ``& < >`` as HTML
    entities). Numeric columns are right-aligned (``---:``), others left-aligned, and
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


_NOTES = (
    "F1 micro: per seed, F1 of the summed components over the dataset's signals; "
    "mean ± population std over seeds. Macro: mean of per-signal F1, then over seeds. "
    "Failed jobs and missing jobs (planned, but no readable record) are excluded from all scores "
    "and counted in `failed` and `missing`; `signals` is scored/planned (a signal is scored when "
    "all its jobs are ok), and an F1 marked (partial) is over the scored jobs only. "
    "Point-adjusted scores are inflated by construction. "
    "Affiliation (Huet et al. 2022): precision and recall by the distance of the detections to "
    "each labelled event, pooled over the events of the dataset's signals. "
    "AUC-ROC, AUC-PR, VUS-ROC, VUS-PR: from each job's raw scores, independent of the "
    "thresholding; per seed the mean over the signals whose test part has both normal and "
    "anomalous timesteps (`score_signals` counts them), then mean ± population std over seeds."
)


#: The title of the reference rows beside a run's per-dataset figures.
REFERENCE_TITLE = "Reference: Orion 0.7.1 (published overlap F1)"


def reference_table(datasets: Iterable[str]) -> pd.DataFrame | None:
    """Orion 0.7.1's published overlap F1 (:func:`benchbench.report.reference.orion_rows`) for
    the ``datasets`` that match one of its columns (:func:`~benchbench.report.reference.
    orion_column`: ``nab:Art`` -> Art, ``nasa:SMAP`` -> SMAP, ``yahoo:A1`` -> A1, ``ucr`` -> UCR):
    a ``pipeline`` column, then one float column per matching dataset, named as in the run and
    in the order given; ``None`` when none matches."""
    from benchbench.report.reference import orion_column, orion_rows

    columns = {d: orion_column(d) for d in dict.fromkeys(str(d) for d in datasets)}
    columns = {d: c for d, c in columns.items() if c is not None}
    if not columns:
        return None
    rows = [{"pipeline": ref["pipeline"], **{d: ref[c] for d, c in columns.items()}}
            for ref in orion_rows()]
    return pd.DataFrame(rows, columns=["pipeline", *columns])


def _reference_note(datasets: Iterable[str]) -> str:
    from benchbench.report.reference import ORION_CAVEAT, ORION_SOURCE, orion_column

    pairs = ", ".join(f"{d} = {orion_column(d)}" for d in datasets)
    return f"Orion's columns: {pairs}. Source: {ORION_SOURCE}. {ORION_CAVEAT}"


def _reference_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    """The reference section of ``f1_by_dataset.md`` (empty when no dataset matches Orion's)."""
    table = reference_table(sorted({str(r.get("dataset", "")) for r in records}))
    if table is None:
        return ""
    return (f"\n{REFERENCE_TITLE}\n\n{to_markdown(table)}\n"
            f"{_reference_note(list(table.columns[1:]))}\n")


def reference_text(datasets: Iterable[str]) -> str:
    """Orion 0.7.1's published overlap F1 for the terminal: a title, then one line per pipeline
    with the matching datasets' figures as Orion publishes them (``.657``), headed by Orion's
    column names (at most 96 columns wide with all twelve). Empty when no dataset matches."""
    from benchbench.report.reference import orion_column

    table = reference_table(datasets)
    if table is None:
        return ""
    header = ["pipeline", *(str(orion_column(d)) for d in table.columns[1:])]
    rows = [[str(r["pipeline"]), *(format(float(v), ".3f").removeprefix("0")
                                   for v in list(r)[1:])] for _, r in table.iterrows()]
    widths = [max(len(header[j]), *(len(row[j]) for row in rows)) for j in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                         for j, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([f"{REFERENCE_TITLE}, one run per signal, its own protocol", line(header),
                      *(line(row) for row in rows)]) + "\n"


def _with_coverage(note: str, records: Sequence[Mapping[str, Any]]) -> str:
    """``note`` preceded by the records' ``incomplete: ...`` line when some jobs are missing."""
    line = coverage_line(records)
    return f"{line}. {note}" if line else note


def write_tables(records: Iterable[Mapping[str, Any]], out_dir: Path) -> dict[str, Path]:
    """Write ``f1_by_{dataset,signal,kind}.{csv,md,tex}`` into ``out_dir``.

    The CSVs hold the numeric frames of :func:`dataset_table`, :func:`signal_table` and
    :func:`kind_table` at full precision; the Markdown and LaTeX files hold the display versions
    (mean ± std, ``failed``, ``missing``, ``scored/planned`` signals), and each file's note starts
    with ``incomplete: N of M jobs missing`` when the records include missing jobs. When some
    dataset matches a column of Orion's leaderboard, ``f1_by_dataset.md`` ends with Orion 0.7.1's
    published overlap F1 for those datasets (:func:`reference_table`). ``out_dir`` is created if
    needed and each file is written atomically. Returns the written paths keyed by file name.
    """
    recs = sort_records(records)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    by_dataset = dataset_table(recs)
    by_dataset_display = dataset_display_table(by_dataset)
    by_signal = signal_table(recs)
    by_signal_display = signal_display_table(recs)
    by_kind = kind_table(recs)
    by_kind_display = kind_display_table(recs)
    notes = _with_coverage(_NOTES, recs)
    signal_note = _with_coverage(
        "Overlap F1 of each job, mean over its ok seeds; `failed` and `missing` name the jobs left "
        "out.", recs)
    kind_note = _with_coverage(
        "Overlap F1, micro over the signals of each kind, mean over seeds; (k/n signals): only k "
        "of the detector's n signals of that kind are scored.", recs)

    texts = {
        "f1_by_dataset.csv": by_dataset.to_csv(index=False, lineterminator="\n"),
        "f1_by_dataset.md": to_markdown(by_dataset_display) + "\n" + notes + "\n"
        + _reference_markdown(recs),
        "f1_by_dataset.tex": "% "
        + notes
        + "\n"
        + to_latex(
            by_dataset_display,
            caption="Overlap F1 and the other metrics by dataset and detector (failed and "
            "missing jobs excluded).",
            label="tab:f1_by_dataset",
        ),
        "f1_by_signal.csv": by_signal.to_csv(index=False, lineterminator="\n"),
        "f1_by_signal.md": to_markdown(by_signal_display) + "\n" + signal_note + "\n",
        "f1_by_signal.tex": "% "
        + signal_note
        + "\n"
        + to_latex(
            by_signal_display,
            caption="Overlap F1 by signal (mean over seeds).",
            label="tab:f1_by_signal",
        ),
        "f1_by_kind.csv": by_kind.to_csv(index=False, lineterminator="\n"),
        "f1_by_kind.md": to_markdown(by_kind_display, na_rep="n/a") + "\n" + kind_note + "\n",
        "f1_by_kind.tex": "% "
        + kind_note
        + "\n"
        + to_latex(
            by_kind_display,
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


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def headline_text(records: Iterable[Mapping[str, Any]], floatfmt: str = ".3f") -> str:
    """A compact plain-text table of the headline results for the end of a run.

    One line per (dataset, detector): overlap F1 micro (``± std`` when several seeds; a ``*``
    when it covers only part of the planned signals, explained under the table), VUS-PR (mean
    over signals, ``± std`` over seeds; ``-`` when no job has it), overlap precision and recall,
    signals scored/planned, failed and missing jobs and mean fit seconds (the macro F1 and the
    other metrics are in the tables).
    The first line reads ``incomplete: N of M jobs missing`` when the records include missing
    jobs. Dataset and detector names are clipped so a line fits in 100 columns. When some
    dataset matches a column of Orion's leaderboard, Orion 0.7.1's published overlap F1 follows
    the table after a blank line (:func:`reference_text`). Returns ``"no results"`` when there
    are no records.
    """
    recs = sort_records(records)
    df = dataset_table(recs, metrics=[])
    if df.empty:
        return "no results\n"

    def num(value: float, fmt: str = floatfmt) -> str:
        return "-" if _is_missing(value) else format(float(value), fmt)

    header = ["dataset", "detector", "F1 micro", SCORE_LABELS["vus_pr"], "prec", "recall",
              "signals", "failed", "missing", "fit s"]
    rows = []
    for _, r in df.iterrows():
        rows.append(
            [
                str(r["dataset"]),
                str(r["detector"]),
                f1_micro_cell(r, floatfmt, partial="*"),
                "-" if _is_missing(r["vus_pr"]) else score_cell(r, "vus_pr", floatfmt),
                num(r[f"{HEADLINE}_precision"]),
                num(r[f"{HEADLINE}_recall"]),
                signals_cell(r),
                str(int(r["failed"])),
                str(int(r["missing"])),
                num(r["fit_s_mean"], ".1f"),
            ]
        )
    right = [False, False] + [True] * (len(header) - 2)
    widths = [max(len(header[j]), *(len(row[j]) for row in rows)) for j in range(len(header))]
    # clip the names (the longer first, down to 8 each) until a line fits
    while sum(widths) + 2 * (len(widths) - 1) > 100 and max(widths[:2]) > 8:
        j = 0 if widths[0] >= widths[1] else 1
        widths[j] -= 1
    for row in rows:
        row[0], row[1] = _clip(row[0], widths[0]), _clip(row[1], widths[1])

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if rj else c.ljust(w) for c, w, rj in zip(cells, widths, right)
        ).rstrip()

    title = (
        f"{HEADLINE} F1 by dataset and detector (micro; VUS-PR: mean over signals), ± std over "
        "seeds, ok jobs"
    )
    out = [_clip(title, 100), line(header), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    if any(is_partial(r) and int(r["ok_seeds"]) for _, r in df.iterrows()):
        out.append("* over the scored signals only (signals: scored/planned)")
    coverage = coverage_line(recs)
    if coverage:
        out.insert(0, coverage)
    reference = reference_text(df["dataset"].astype(str).unique())
    return "\n".join(out) + "\n" + (f"\n{reference}" if reference else "")
