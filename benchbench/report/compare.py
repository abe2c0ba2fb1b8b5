"""``bench compare RUN_A RUN_B``: per-dataset F1 differences between two runs, against seed noise.

For every (dataset, detector) in either run the headline F1 (micro over signals, mean over seeds)
of each run is set beside the other with its seed standard deviation, the difference ``B - A``
and the combined seed spread ``sqrt(std_A^2 + std_B^2)``. A difference larger than that spread
is marked ``beyond noise``; one within it is ``noise``; with fewer than two seeds in either run
there is no spread to judge against and the verdict reads ``one seed: unknown`` (run both with
``--seeds 0,1,2``). Rows present in one run only say so.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from benchbench.evaluation.metrics import HEADLINE
from benchbench.files import atomic_write
from benchbench.report.aggregate import dataset_table
from benchbench.report.render import to_markdown
from benchbench.run.records import RunStore

__all__ = ["CompareError", "compare_runs", "comparison_markdown", "write_comparison"]

COLUMNS = ["dataset", "detector", "f1_a", "std_a", "seeds_a", "f1_b", "std_b", "seeds_b",
           "diff", "spread", "verdict"]


class CompareError(ValueError):
    """A folder is not a run folder (or has no records)."""


def _run_table(run_dir: Path) -> pd.DataFrame:
    store = RunStore(run_dir)
    if not Path(run_dir).is_dir() or not store.config_path.exists():
        raise CompareError(f"{run_dir}: not a benchbench run folder (no config.json)")
    records = store.load_records()
    if not records:
        raise CompareError(f"{run_dir}: the run has no finished job records")
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
    if pd.isna(row["f1_a"]) and pd.isna(row["f1_b"]):
        return "no ok job"
    if pd.isna(row["f1_a"]):
        return "only in B"
    if pd.isna(row["f1_b"]):
        return "only in A"
    if min(row["seeds_a"], row["seeds_b"]) < 2:
        return "one seed: unknown"
    return "beyond noise" if abs(row["diff"]) > row["spread"] else "noise"


def compare_runs(run_a: Path | str, run_b: Path | str) -> pd.DataFrame:
    """The comparison table of two run folders (columns :data:`COLUMNS`), sorted.

    ``diff`` is ``f1_b - f1_a``; ``spread`` is ``sqrt(std_a^2 + std_b^2)`` (population std over
    each run's seeds); ``verdict`` as in the module docstring.

    Raises:
        CompareError: a folder is not a run folder or has no records.
    """
    a, b = _run_table(Path(run_a)), _run_table(Path(run_b))
    merged = a.merge(b, on=["dataset", "detector"], how="outer", suffixes=("_a", "_b"))
    merged = merged.sort_values(["dataset", "detector"]).reset_index(drop=True)
    for col in ("seeds_a", "seeds_b"):
        merged[col] = merged[col].fillna(0).astype("int64")
    merged["diff"] = merged["f1_b"] - merged["f1_a"]
    merged["spread"] = [math.hypot(x, y) if not (pd.isna(x) or pd.isna(y)) else math.nan
                        for x, y in zip(merged["std_a"], merged["std_b"])]
    merged["verdict"] = [_verdict(row) for _, row in merged.iterrows()] if len(merged) else []
    return merged[COLUMNS]


def comparison_markdown(df: pd.DataFrame, run_a: Path | str, run_b: Path | str) -> str:
    """The comparison as a Markdown document (title, legend, table)."""
    shown = df.copy()
    shown["diff"] = [f"{d:+.3f}" if not pd.isna(d) else "" for d in df["diff"]]
    return (
        f"# {HEADLINE} F1: {Path(run_b).name} (B) against {Path(run_a).name} (A)\n\n"
        f"A: `{run_a}`  \nB: `{run_b}`\n\n"
        "F1 micro over each dataset's signals, mean and population std over seeds; diff = B - A; "
        "spread = sqrt(std_A^2 + std_B^2). A diff within the spread is seed noise.\n\n"
        + to_markdown(shown, na_rep="")
    )


def write_comparison(df: pd.DataFrame, run_a: Path | str, run_b: Path | str,
                     output: Path | str | None = None) -> list[Path]:
    """Write the comparison as Markdown and CSV; return both paths.

    ``output`` is the Markdown path (the CSV goes beside it with the suffix ``.csv``); default
    ``<run_b>/compare-<name of run_a>.md``.
    """
    md_path = Path(output) if output is not None else Path(run_b) / f"compare-{Path(run_a).name}.md"
    if md_path.suffix.lower() != ".md":
        md_path = md_path.with_name(md_path.name + ".md")
    csv_path = md_path.with_suffix(".csv")
    text = comparison_markdown(df, run_a, run_b)
    atomic_write(md_path, lambda fh: fh.write(text))
    atomic_write(csv_path, lambda fh: df.to_csv(fh, index=False, lineterminator="\n"))
    return [md_path, csv_path]
