"""Tests of benchbench.report.aggregate and .render on hand-built job records with hand-worked
expected numbers."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchbench.report import aggregate, render
from benchbench.report.aggregate import dataset_table, kind_table, results_frame, signal_table
from benchbench.report.render import (
    dataset_display_table,
    format_mean_std,
    headline_text,
    latex_escape,
    signal_display_table,
    to_latex,
    to_markdown,
    write_tables,
)

METRICS = ("overlap", "pointwise", "point_adjusted")


def _metric(pn: float, pd_: float, rn: float, rd: float) -> dict[str, float]:
    p = 1.0 if pd_ == 0 else pn / pd_
    r = 1.0 if rd == 0 else rn / rd
    f1 = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return {
        "precision": p,
        "recall": r,
        "f1": f1,
        "precision_num": pn,
        "precision_den": pd_,
        "recall_num": rn,
        "recall_den": rd,
    }


def make_record(
    dataset: str,
    signal: str,
    detector: str,
    seed: int,
    overlap: tuple[float, float, float, float] | None,
    *,
    kind: str = "point_spikes",
    n: int = 200,
    history: dict[str, list[float]] | None = None,
    fit_seconds: float = 1.0,
) -> dict[str, Any]:
    """A job record; ``overlap=None`` makes a failed job."""
    job_id = f"{dataset}__{signal}__{detector}__s{seed}"
    rec: dict[str, Any] = {
        "job_id": job_id,
        "dataset": dataset,
        "signal": signal,
        "kind": kind,
        "detector": detector,
        "seed": seed,
        "random_state": 100 + seed,
        "device": "cpu",
        "params": {},
        "n_train": n,
        "n_test": n,
        "expected": [[50, 60], [120, 130]],
    }
    if overlap is None:
        rec.update(
            status="failed",
            error="ScoreError: scores are all NaN\nsecond line of detail",
            traceback="Traceback (most recent call last): ...",
            metrics={},
            detected=[],
            fit_seconds=None,
            score_seconds=None,
            history={},
            artifacts={},
        )
        return rec
    rec.update(
        status="ok",
        error=None,
        traceback=None,
        # pointwise mirrors overlap; point-adjusted is always perfect (it is the inflated one)
        metrics={
            "overlap": _metric(*overlap),
            "pointwise": _metric(*overlap),
            "point_adjusted": _metric(1, 1, 1, 1),
        },
        detected=[[52, 58, 0.9], [150, 155, 0.4]],
        fit_seconds=fit_seconds,
        score_seconds=0.1,
        history={} if history is None else history,
        artifacts={"scores": f"scores/{job_id}.npz"},
    )
    return rec


def build_records() -> list[dict[str, Any]]:
    """Two datasets, two detectors, two seeds, one failed job (gan on alpha/s2, seed 0).

    Overlap components are (precision_num, precision_den, recall_num, recall_den).
    """
    recon = {"reconstruction": [1.0, 0.5, 0.25]}
    gan_hist = {"generator": [2.0, 1.0, 0.8], "critic": [-1.0, -0.5, 0.1]}
    return [
        # alpha / ae
        make_record("alpha", "s1", "ae", 0, (1, 1, 1, 1), history=recon, fit_seconds=1.0),
        make_record("alpha", "s2", "ae", 0, (1, 4, 1, 4), history=recon, fit_seconds=2.0),
        make_record("alpha", "s1", "ae", 1, (1, 1, 1, 1), history=recon, fit_seconds=3.0),
        make_record("alpha", "s2", "ae", 1, (0, 0, 0, 4), history=recon, fit_seconds=4.0),
        # alpha / gan (s2 seed 0 failed)
        make_record("alpha", "s1", "gan", 0, (1, 2, 1, 1), history=gan_hist, fit_seconds=5.0),
        make_record("alpha", "s2", "gan", 0, None),
        make_record("alpha", "s1", "gan", 1, (1, 1, 1, 1), history=gan_hist, fit_seconds=7.0),
        make_record("alpha", "s2", "gan", 1, (2, 2, 2, 4), history=gan_hist, fit_seconds=9.0),
        # beta (one signal of another kind)
        make_record("beta", "b1", "ae", 0, (1, 1, 1, 1), kind="level_shift", history=recon),
        make_record("beta", "b1", "ae", 1, (1, 1, 1, 1), kind="level_shift", history=recon),
        make_record("beta", "b1", "gan", 0, (0, 2, 0, 1), kind="level_shift"),
        make_record("beta", "b1", "gan", 1, (0, 2, 0, 1), kind="level_shift"),
    ]


def _row(df: pd.DataFrame, dataset: str, detector: str) -> pd.Series:
    sel = df[(df["dataset"] == dataset) & (df["detector"] == detector)]
    assert len(sel) == 1
    return sel.iloc[0]


# ------------------------------------------------------------------------------------------------
# dataset_table


def test_micro_differs_from_macro_hand_worked() -> None:
    df = dataset_table(build_records())
    ae = _row(df, "alpha", "ae")
    # seed 0: s1 (1,1,1,1) f1 = 1; s2 (1,4,1,4) p = r = 0.25, f1 = 0.25
    #   micro: sums (2,5,2,5) -> p = r = 0.4, f1 = 0.4;  macro: (1 + 0.25) / 2 = 0.625
    # seed 1: s1 f1 = 1; s2 (0,0,0,4) p = 1 (0/0), r = 0, f1 = 0
    #   micro: sums (1,1,1,5) -> p = 1, r = 0.2, f1 = 2*0.2/1.2 = 1/3;  macro: (1 + 0) / 2 = 0.5
    # micro mean = (0.4 + 1/3) / 2 = 11/30; std (ddof=0) = |0.4 - 1/3| / 2 = 1/30
    # macro mean = (0.625 + 0.5) / 2 = 0.5625
    # precision mean = (0.4 + 1) / 2 = 0.7; recall mean = (0.4 + 0.2) / 2 = 0.3
    assert ae["overlap_f1_micro"] == pytest.approx(11 / 30)
    assert ae["overlap_f1_micro_std"] == pytest.approx(1 / 30)
    assert ae["overlap_f1_macro"] == pytest.approx(0.5625)
    assert ae["overlap_precision"] == pytest.approx(0.7)
    assert ae["overlap_recall"] == pytest.approx(0.3)
    assert ae["overlap_f1_micro"] != pytest.approx(ae["overlap_f1_macro"])
    # pointwise mirrors overlap in these records
    assert ae["pointwise_f1"] == pytest.approx(11 / 30)
    assert ae["signals"] == 2 and ae["seeds"] == 2 and ae["failed"] == 0
    assert ae["fit_s_mean"] == pytest.approx(2.5)


def test_failed_job_counted_and_excluded() -> None:
    df = dataset_table(build_records())
    gan = _row(df, "alpha", "gan")
    # seed 0: only s1 is ok (1,2,1,1): p = 0.5, r = 1, f1 = 2/3 (the failed s2 is left out)
    # seed 1: s1 (1,1,1,1) + s2 (2,2,2,4) -> sums (3,3,3,5): p = 1, r = 0.6, f1 = 1.2/1.6 = 0.75
    # micro mean = (2/3 + 0.75) / 2 = 17/24; std = (0.75 - 2/3) / 2 = 1/24
    # macro: seed 0 = 2/3; seed 1 = (1 + 2/3) / 2 = 5/6; mean = 0.75
    assert gan["failed"] == 1
    assert gan["overlap_f1_micro"] == pytest.approx(17 / 24)
    assert gan["overlap_f1_micro_std"] == pytest.approx(1 / 24)
    assert gan["overlap_f1_macro"] == pytest.approx(0.75)
    assert gan["fit_s_mean"] == pytest.approx((5 + 7 + 9) / 3)  # failed job's None ignored
    assert gan["signals"] == 2 and gan["seeds"] == 2
    # a failed job must not count as a zero: with it scored 0/0/0/x the number would drop
    assert "failed" in (dataset_table.__doc__ or "").lower()


def test_std_over_seeds_zero_for_identical_and_single_seed() -> None:
    recs = build_records()
    df = dataset_table(recs)
    beta_ae = _row(df, "beta", "ae")
    assert beta_ae["overlap_f1_micro"] == pytest.approx(1.0)
    assert beta_ae["overlap_f1_micro_std"] == 0.0
    beta_gan = _row(df, "beta", "gan")
    # (0,2,0,1): p = 0, r = 0 -> f1 = 0
    assert beta_gan["overlap_f1_micro"] == 0.0

    one_seed = dataset_table([r for r in recs if r["seed"] == 0])
    ae = _row(one_seed, "alpha", "ae")
    assert ae["seeds"] == 1
    assert ae["overlap_f1_micro"] == pytest.approx(0.4)
    assert ae["overlap_f1_micro_std"] == 0.0
    display = dataset_display_table(one_seed)
    cell = display[(display["dataset"] == "alpha") & (display["detector"] == "ae")].iloc[0]
    assert cell["overlap_f1_micro"] == "0.400"  # one seed: just the mean


def test_point_adjusted_column_marked_inflated() -> None:
    df = dataset_table(build_records())
    assert "point_adjusted_f1 (inflated)" in df.columns
    assert "point_adjusted_f1" not in df.columns
    assert list(df.columns[:7]) == [
        "dataset",
        "detector",
        "overlap_f1_micro",
        "overlap_f1_micro_std",
        "overlap_f1_macro",
        "overlap_precision",
        "overlap_recall",
    ]
    # the metrics argument selects (and orders) the other metrics
    only = dataset_table(build_records(), metrics=["point_adjusted"])
    assert "pointwise_f1" not in only.columns
    assert "point_adjusted_f1 (inflated)" in only.columns


def test_all_failed_group_is_nan() -> None:
    recs = [r for r in build_records() if r["dataset"] == "beta" and r["detector"] == "ae"]
    recs = [make_record("beta", "b1", "ae", r["seed"], None) for r in recs]
    df = dataset_table(recs)
    row = df.iloc[0]
    assert row["failed"] == 2 and row["ok_seeds"] == 0
    assert np.isnan(row["overlap_f1_micro"])
    assert dataset_display_table(df).iloc[0]["overlap_f1_micro"] == "failed"
    assert "failed" in headline_text(recs)


# ------------------------------------------------------------------------------------------------
# results_frame and signal_table


def test_results_frame_columns_and_counts() -> None:
    df = results_frame(build_records())
    assert len(df) == 12
    assert list(df.columns[:7]) == ["dataset", "signal", "kind", "detector", "seed", "repetition",
                                    "status"]
    assert list(df.columns[7:10]) == ["overlap_f1", "overlap_precision", "overlap_recall"]
    assert list(df.columns[-9:]) == [
        "overlap_tp",
        "overlap_fp",
        "overlap_fn",
        "n_detected",
        "n_expected",
        "fit_seconds",
        "score_seconds",
        "device",
        "error",
    ]
    keys = list(zip(df["dataset"], df["signal"], df["detector"], df["seed"]))
    assert keys == sorted(keys)
    row = df[(df["signal"] == "s2") & (df["detector"] == "ae") & (df["seed"] == 0)].iloc[0]
    # (1,4,1,4): tp = 1, fp = 4 - 1 = 3, fn = 4 - 1 = 3
    assert (row["overlap_tp"], row["overlap_fp"], row["overlap_fn"]) == (1, 3, 3)
    assert row["n_detected"] == 2 and row["n_expected"] == 2
    failed = df[df["status"] == "failed"].iloc[0]
    assert failed["error"] == "ScoreError: scores are all NaN"
    assert pd.isna(failed["overlap_tp"]) and np.isnan(failed["overlap_f1"])


def test_signal_table_mean_and_failed() -> None:
    recs = build_records()
    df = signal_table(recs)
    assert list(df.columns) == ["dataset", "signal", "kind", "ae", "gan"]
    assert list(zip(df["dataset"], df["signal"])) == [
        ("alpha", "s1"),
        ("alpha", "s2"),
        ("beta", "b1"),
    ]
    s2 = df[df["signal"] == "s2"].iloc[0]
    assert s2["ae"] == pytest.approx((0.25 + 0.0) / 2)
    assert s2["gan"] == pytest.approx(2 / 3)  # the ok seed only
    assert df[df["signal"] == "b1"].iloc[0]["kind"] == "level_shift"

    # both seeds of gan on alpha/s2 failed: NaN in the frame, "failed" in the renderings
    recs = [r for r in recs if not (r["signal"] == "s2" and r["detector"] == "gan")]
    recs += [make_record("alpha", "s2", "gan", s, None) for s in (0, 1)]
    df = signal_table(recs)
    assert np.isnan(df[df["signal"] == "s2"].iloc[0]["gan"])
    display = signal_display_table(recs)
    assert display[display["signal"] == "s2"].iloc[0]["gan"] == "failed"
    assert "failed" in to_markdown(display)
    assert "failed" in to_latex(display)


def test_signal_display_marks_partial_failure() -> None:
    display = signal_display_table(build_records())
    assert display[display["signal"] == "s2"].iloc[0]["gan"] == "0.667 (1 failed)"


# ------------------------------------------------------------------------------------------------
# renderers


def test_format_mean_std() -> None:
    assert format_mean_std(0.8123, 0.0311, 3) == "0.812 ± 0.031"
    assert format_mean_std(0.8123, 0.0311, 1) == "0.812"
    assert format_mean_std(0.8123, 0.0311, 2, latex=True) == "0.812 $\\pm$ 0.031"
    assert format_mean_std(float("nan"), 0.1, 2) == "n/a"
    assert format_mean_std(0.5, 0.25, 2, floatfmt=".2f") == "0.50 ± 0.25"


def test_markdown_structure() -> None:
    df = dataset_table(build_records())
    text = to_markdown(dataset_display_table(df))
    lines = text.rstrip("\n").split("\n")
    assert len(lines) == 2 + len(df) == 6
    header_cells = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header_cells[:3] == ["dataset", "detector", "overlap_f1_micro"]
    assert "point_adjusted_f1 (inflated)" in header_cells
    assert re.fullmatch(r"\|(:?-+:?\|)+", lines[1])
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines[:1] + lines[2:])
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "0.367 ± 0.033" in text  # alpha/ae: 11/30 ± 1/30
    # numbers: right-aligned; text columns: left-aligned
    seps = lines[1].strip("|").split("|")
    assert not seps[0].endswith(":") and seps[2].endswith(":")


def test_markdown_formats_and_escapes() -> None:
    df = pd.DataFrame({"name": ["a|b", None], "x": [0.123456, float("nan")], "n": [3, 4]})
    text = to_markdown(df, floatfmt=".2f", na_rep="-")
    assert "a\\|b" in text
    assert "0.12" in text and "0.123" not in text
    assert "| -" in text


def test_latex_escapes() -> None:
    assert latex_escape("a_b%c&d#e$f{g}") == r"a\_b\%c\&d\#e\$f\{g\}"
    assert latex_escape("0.5 ± 0.1") == r"0.5 $\pm$ 0.1"
    df = dataset_table(build_records())
    tex = to_latex(dataset_display_table(df), caption="F1 by_dataset", label="tab:f1_x")
    assert "point\\_adjusted\\_f1 (inflated)" in tex
    assert "overlap\\_f1\\_micro" in tex
    assert "$\\pm$" in tex
    assert re.search(r"(?<!\\)_", tex.replace("tab:f1_x", "")) is None  # every _ escaped
    for token in ("\\begin{table}", "\\toprule", "\\midrule", "\\bottomrule", "\\end{tabular}"):
        assert token in tex
    assert "\\caption{F1 by\\_dataset}" in tex and "\\label{tab:f1_x}" in tex
    body = tex.split("\\midrule\n")[1].split("\\bottomrule")[0].strip().split("\n")
    assert len(body) == len(df)
    assert re.search(r"\\begin\{tabular\}\{llr+\}", tex)
    plain = to_latex(pd.DataFrame({"a": [1]}))
    assert plain.startswith("\\begin{tabular}{r}") and "\\begin{table}" not in plain


# ------------------------------------------------------------------------------------------------
# determinism and files


def test_deterministic_under_shuffle() -> None:
    recs = build_records()
    shuffled = list(recs)
    random.Random(7).shuffle(shuffled)
    assert shuffled != recs
    pd.testing.assert_frame_equal(dataset_table(recs), dataset_table(shuffled))
    pd.testing.assert_frame_equal(signal_table(recs), signal_table(shuffled))
    pd.testing.assert_frame_equal(results_frame(recs), results_frame(shuffled))
    assert to_markdown(dataset_display_table(dataset_table(recs))) == to_markdown(
        dataset_display_table(dataset_table(shuffled))
    )
    assert headline_text(recs) == headline_text(shuffled)


def test_kind_table_is_micro_per_kind() -> None:
    df = kind_table(build_records())
    assert list(df.columns) == ["dataset", "kind", "signals", "ae", "gan"]
    alpha = df[df["kind"] == "point_spikes"].iloc[0]
    # ae: seed 0 sums (2,5,2,5) -> F1 0.4; seed 1 sums (1,1,1,5) -> P 1, R 0.2, F1 1/3
    assert alpha["ae"] == pytest.approx((0.4 + 1 / 3) / 2)
    # gan: seed 0 only s1 is ok (1,2,1,1) -> F1 2/3; seed 1 (3,3,3,5) -> P 1, R 0.6, F1 0.75
    assert alpha["gan"] == pytest.approx((2 / 3 + 0.75) / 2)
    assert alpha["signals"] == 2
    beta = df[df["kind"] == "level_shift"].iloc[0]
    assert beta["ae"] == 1.0 and beta["gan"] == 0.0


def test_write_tables(tmp_path: Path) -> None:
    recs = build_records()
    out = tmp_path / "tables" / "nested"
    paths = write_tables(recs, out)
    names = {
        f"f1_by_{t}.{ext}" for t in ("dataset", "signal", "kind") for ext in ("csv", "md", "tex")
    }
    assert set(paths) == names
    for name, path in paths.items():
        assert path == out / name and path.is_file() and path.stat().st_size > 0
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no temp files left
    back = pd.read_csv(paths["f1_by_dataset.csv"])
    row = back[(back["dataset"] == "alpha") & (back["detector"] == "ae")].iloc[0]
    assert row["overlap_f1_micro"] == pytest.approx(11 / 30, rel=1e-12)  # full precision
    assert "0.367 ± 0.033" in paths["f1_by_dataset.md"].read_text(encoding="utf-8")
    assert "failed" in paths["f1_by_signal.md"].read_text(encoding="utf-8")
    # same bytes when written again from shuffled records
    first = {n: p.read_bytes() for n, p in paths.items()}
    shuffled = list(reversed(recs))
    again = write_tables(shuffled, tmp_path / "again")
    assert {n: p.read_bytes() for n, p in again.items()} == first


def test_headline_text_fits_and_reports() -> None:
    text = headline_text(build_records())
    lines = text.rstrip("\n").split("\n")
    assert all(len(line) <= 100 for line in lines)
    assert len(lines) == 3 + 4 + 1  # title, header, rule, 4 rows, the footnote of the *
    assert "0.367 ± 0.033" in text and "0.708 ± 0.042*" in text  # gan: a job failed, partial
    assert lines[-1].startswith("* over the scored signals only")
    gan_line = next(line for line in lines if line.startswith("alpha") and "gan" in line)
    assert gan_line.split()[-4:-1] == ["1/2", "1", "0"]  # signals scored/planned, failed, missing
    assert headline_text([]).strip() == "no results"


def test_empty_inputs() -> None:
    assert results_frame([]).empty
    assert dataset_table([]).empty
    assert signal_table([]).empty
    assert "dataset" in results_frame([]).columns


def test_module_exports_exist() -> None:
    for module in (aggregate, render):
        for name in module.__all__:
            assert hasattr(module, name), name


def test_seed_table_holds_the_values_dataset_table_averages() -> None:
    from benchbench.report.aggregate import seed_table

    records = build_records()
    seeds = seed_table(records)
    ae = seeds[(seeds["dataset"] == "alpha") & (seeds["detector"] == "ae")]
    assert list(ae["seed"]) == [0, 1]
    assert list(ae["overlap_f1_micro"]) == pytest.approx([0.4, 1 / 3])
    gan = seeds[(seeds["dataset"] == "alpha") & (seeds["detector"] == "gan")]
    assert list(gan["signals"]) == [1, 2]  # the failed job is left out
    means = seeds.groupby(["dataset", "detector"])["overlap_f1_micro"].mean()
    table = dataset_table(records).set_index(["dataset", "detector"])["overlap_f1_micro"]
    assert means.to_dict() == pytest.approx(table.to_dict())
    assert seed_table([]).empty
