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
    cell_f1,
    dataset_table,
    kind_table,
    signal_groups,
    signal_table,
    sort_records,
)

__all__ = [
    "signal_display_table",
    "format_mean_std",
    "dataset_display_table",
    "latex_escape",
    "to_markdown",
    "to_latex",
    "write_tables",
    "headline_text",
]


def signal_display_table(
    records: Iterable[Mapping[str, Any]], floatfmt: str = ".3f"
) -> pd.DataFrame:
    """:func:`signal_table` with formatted text cells, for the Markdown and LaTeX files.

    A cell reads ``0.812``; ``failed`` when all its jobs failed; ``0.812 (1 failed)`` when some
    seeds failed (the mean is over the others); empty when the detector has no job on the signal.
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
            if n_ok == 0:
                entry[det] = "failed"
            else:
                text = "n/a" if math.isnan(f1) else format(f1, floatfmt)
                entry[det] = f"{text} ({n_failed} failed)" if n_failed else text
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
