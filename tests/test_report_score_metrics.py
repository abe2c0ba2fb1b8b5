"""Score-based metrics (AUC-ROC, AUC-PR, VUS-ROC, VUS-PR) and affiliation in every output of
`bench report`, computed from the stored scores, so a run made before they existed gains them."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.evaluation.score_metrics import SCORE_METRICS, labels_from_intervals
from benchbench.files import read_json, write_json
from benchbench.plugins import load_registries
from benchbench.report.aggregate import dataset_table, metric_choices, metric_table
from benchbench.report.build import NAMED_UNSCORED, SCORE_CACHE, add_score_metrics, build_report
from benchbench.report.plots import plot_f1_heatmap, write_plots
from benchbench.report.render import dataset_display_table, headline_text

try:  # tests/ as a rootdir-relative folder (default) or as a package
    from test_tables import make_record
except ImportError:  # pragma: no cover
    from tests.test_tables import make_record

DATASET = "synthetic:spikes_1+clean_1+mixed_1"
AFFILIATION = ["affiliation_f1", "affiliation_precision", "affiliation_recall"]


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def new_run(tmp_path_factory) -> Path:
    """`bench run` of zscore on three synthetic signals (clean_1 has no anomaly), two seeds."""
    out = tmp_path_factory.mktemp("scored")
    mp = pytest.MonkeyPatch()
    mp.setenv("BENCHBENCH_LOAD_PLUGINS", "")
    try:
        result = invoke("run", "--detectors", "zscore", "--datasets", DATASET, "--seeds", "0,1",
                        "--quiet", "--no-plots", "--executor", "serial", "--output", str(out))
    finally:
        mp.undo()
    assert result.exit_code == 0, result.output
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def records_of(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "records").glob("*.json"))


@pytest.fixture
def old_run(new_run: Path, tmp_path: Path) -> Path:
    """The run as the code before the score-based metrics left it: no affiliation in the records'
    metrics, no score cache, no tables."""
    run_dir = Path(shutil.copytree(new_run, tmp_path / new_run.name))
    for path in records_of(run_dir):
        rec = read_json(path)
        del rec["metrics"]["affiliation"]
        write_json(path, rec)
    (run_dir / SCORE_CACHE).unlink()
    shutil.rmtree(run_dir / "tables")
    (run_dir / "results.csv").unlink()
    return run_dir


def perfect_scores(run_dir: Path, signal: str) -> Path:
    """Make the seed-0 job on ``signal`` a perfect detector: its scores are its labels."""
    (path,) = (run_dir / "records").glob(f"*__{signal}__zscore__s0*.json")
    rec = read_json(path)
    npz = run_dir / rec["artifacts"]["scores"]
    with np.load(npz) as data:
        arrays = dict(data)
    arrays["scores"] = labels_from_intervals(rec["expected"], arrays["index"]).astype(float)
    np.savez(npz, **arrays)
    return npz


def test_new_runs_record_affiliation(new_run: Path):
    assert "affiliation" in load_registries(load_entry_points=False).metrics.names()
    for path in records_of(new_run):
        rec = read_json(path)
        assert set(rec["metrics"]["affiliation"]) >= {"precision", "recall", "f1"}
        assert "score_metrics" not in rec  # computed by the report, never stored in a record


def test_old_run_gains_the_new_columns(old_run: Path, new_run: Path):
    before = {p.name: p.read_bytes() for p in records_of(old_run)}
    result = invoke("report", str(old_run), "--no-plots")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert "VUS-PR" in result.output.split("---")[0]
    # results.csv: every metric, affiliation as recorded by a new run
    results = pd.read_csv(old_run / "results.csv")
    fresh = pd.read_csv(new_run / "results.csv")
    for column in [*SCORE_METRICS, *AFFILIATION]:
        assert column in results.columns
    scored = results[results["signal"] != "clean_1"]
    values = scored[[*SCORE_METRICS, *AFFILIATION]].to_numpy(dtype=float)
    assert np.isfinite(values).all() and ((values >= 0) & (values <= 1)).all()
    assert results[AFFILIATION].to_numpy() == pytest.approx(fresh[AFFILIATION].to_numpy())
    assert results[list(SCORE_METRICS)].equals(fresh[list(SCORE_METRICS)])
    # one class only (clean_1 has no labelled anomaly): no score-based metric
    assert results.loc[results["signal"] == "clean_1", list(SCORE_METRICS)].isna().all().all()
    # the per-dataset tables
    table = pd.read_csv(old_run / "tables" / "f1_by_dataset.csv").iloc[0]
    assert table["score_signals"] == 2 and table["signals"] == 3
    for column in ("affiliation_f1", *SCORE_METRICS, *(f"{m}_std" for m in SCORE_METRICS)):
        assert math.isfinite(table[column]) and 0 <= table[column] <= 1, column
    md = (old_run / "tables" / "f1_by_dataset.md").read_text(encoding="utf-8")
    tex = (old_run / "tables" / "f1_by_dataset.tex").read_text(encoding="utf-8")
    assert all(m in md for m in (*SCORE_METRICS, "affiliation_f1", "score_signals"))
    assert all(m.replace("_", "\\_") in tex for m in (*SCORE_METRICS, "affiliation_f1"))
    assert f"{table['vus_pr']:.3f} ± 0.000" in md  # two seeds: mean ± std
    page = (old_run / "report.html").read_text(encoding="utf-8")
    assert "VUS-PR" in page and "affiliation F1" in page and f"{table['vus_pr']:.3f}" in page
    # the records are left as they were
    assert {p.name: p.read_bytes() for p in records_of(old_run)} == before


def test_old_run_gains_the_plots(old_run: Path):
    report = build_report(old_run, metric="vus_pr")
    assert not report.warnings
    heatmap = old_run / "plots" / "f1_heatmap.png"
    assert heatmap in report.files and heatmap.read_bytes()[:4] == b"\x89PNG"
    page = (old_run / "report.html").read_text(encoding="utf-8")
    assert "VUS-PR heatmap" in page


def test_perfect_detector_has_vus_pr_one(old_run: Path):
    build_report(old_run, plots=False)  # fills the cache with the zscore values
    npz = perfect_scores(old_run, "spikes_1")
    report = build_report(old_run, plots=False)  # the changed file is seen, not the cache entry
    assert not report.warnings
    results = pd.read_csv(old_run / "results.csv")
    row = results[(results["signal"] == "spikes_1") & (results["seed"] == 0)].iloc[0]
    assert (row["vus_pr"], row["vus_roc"], row["auc_pr"], row["auc_roc"]) == (1.0, 1.0, 1.0, 1.0)
    other = results[(results["signal"] == "spikes_1") & (results["seed"] == 1)].iloc[0]
    assert other["vus_pr"] < 1.0
    assert npz.is_file()


def test_missing_scores_file_is_named_and_the_rest_reported(old_run: Path):
    (path,) = (old_run / "records").glob("*__mixed_1__zscore__s1*.json")
    npz = old_run / read_json(path)["artifacts"]["scores"]
    npz.unlink()
    result = invoke("report", str(old_run), "--no-plots")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1
    assert str(npz) in warned[0] and "no such file" in warned[0]
    assert "mixed_1 / zscore / seed 1" in warned[0] and "affiliation" in warned[0]
    results = pd.read_csv(old_run / "results.csv")
    gone = (results["signal"] == "mixed_1") & (results["seed"] == 1)
    assert results.loc[gone, [*SCORE_METRICS, *AFFILIATION]].isna().all().all()
    assert results.loc[~gone & (results["signal"] != "clean_1"), "vus_pr"].notna().all()
    assert path.is_file() and len(records_of(old_run)) == 6


@pytest.mark.parametrize("damage, why, plots", [
    (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "not a readable npz", True),
    (lambda p: np.savez(p, index=np.arange(3.0), values=np.zeros((3, 1)), scores=np.zeros(2)),
     "differ in length", False),
    (lambda p: np.savez(p, index=np.arange(3.0), values=np.zeros((3, 1))), "no array 'scores'",
     False),
])
def test_damaged_scores_file_is_named(old_run: Path, damage, why: str, plots: bool):
    (path,) = (old_run / "records").glob("*__spikes_1__zscore__s0*.json")
    npz = old_run / read_json(path)["artifacts"]["scores"]
    damage(npz)
    report = build_report(old_run, plots=plots)  # the signal's figure says so, nothing crashes
    (warning,) = report.warnings
    assert str(npz) in warning and why in warning
    assert (old_run / "plots" / "signals").is_dir() == plots


def test_many_unreadable_scores_files_named_then_counted(tmp_path: Path):
    records = [make_record("d", f"s{i:02d}", "ae", 0, (1, 1, 1, 1)) for i in range(8)]
    out, warnings = add_score_metrics(tmp_path, records)
    assert len(warnings) == NAMED_UNSCORED + 1
    assert all("no such file" in w for w in warnings[:NAMED_UNSCORED])
    assert warnings[-1].startswith(f"... and {8 - NAMED_UNSCORED} more jobs")
    assert all("score_metrics" not in rec for rec in out) and "score_metrics" not in records[0]


def test_cached_values_are_reused_until_an_input_changes(old_run: Path, monkeypatch):
    build_report(old_run, plots=False)
    first = pd.read_csv(old_run / "results.csv")
    cache = read_json(old_run / SCORE_CACHE)
    assert len(cache["jobs"]) == 6

    def broken(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr("benchbench.evaluation.score_metrics.score_metrics", broken)
    again = build_report(old_run, plots=False)
    assert not again.warnings
    assert pd.read_csv(old_run / "results.csv").equals(first)
    monkeypatch.undo()
    # an unreadable cache is computed afresh
    (old_run / SCORE_CACHE).write_text("{", encoding="utf-8")
    assert not build_report(old_run, plots=False).warnings
    assert pd.read_csv(old_run / "results.csv").equals(first)
    assert json.loads((old_run / SCORE_CACHE).read_text(encoding="utf-8"))["jobs"]


def test_unknown_heatmap_metric_is_one_value_error(old_run: Path):
    with pytest.raises(ValueError) as info:
        build_report(old_run, metric="vus")
    message = str(info.value)
    assert "'vus'" in message
    for name in ("overlap_f1", "affiliation_f1", "range_based_f1", *SCORE_METRICS):
        assert name in message
    assert not (old_run / "results.csv").exists()  # nothing written
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        write_plots(old_run, [], metric="f2")


def test_heatmap_metric_names(old_run: Path, tmp_path: Path):
    records = [read_json(p) for p in records_of(old_run)]
    records, _ = add_score_metrics(old_run, records)
    for name in ("overlap", "overlap_f1", "affiliation", "pointwise_f1", *SCORE_METRICS):
        assert plot_f1_heatmap(records, tmp_path / f"{name}.png", metric=name), name
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    vus = metric_table(records, "vus_pr").iloc[0]
    assert 0 < vus["value"] < 1 and vus["ok_seeds"] == 2


# ------------------------------------------------------------------------------------------------
# aggregation on hand-built records


def _scored(signal: str, seed: int, vus_pr: float | None) -> dict:
    rec = make_record("d", signal, "ae", seed, (1, 1, 1, 1))
    rec["score_metrics"] = {} if vus_pr is None else {
        "auc_roc": 0.9, "auc_pr": 0.5, "vus_roc": 0.8, "vus_pr": vus_pr}
    return rec


def test_score_metrics_mean_over_signals_per_seed_then_over_seeds():
    records = [_scored("s1", 0, 0.2), _scored("s2", 0, 0.4), _scored("s1", 1, 0.6),
               _scored("s2", 1, 0.8), _scored("flat", 0, None), _scored("flat", 1, None)]
    row = dataset_table(records).iloc[0]
    assert row["vus_pr"] == pytest.approx(0.5) and row["vus_pr_std"] == pytest.approx(0.2)
    assert row["auc_roc"] == pytest.approx(0.9) and row["auc_roc_std"] == pytest.approx(0.0)
    assert (row["score_signals"], row["signals"], row["signals_scored"]) == (2, 3, 3)
    display = dataset_display_table(dataset_table(records)).iloc[0]
    assert display["vus_pr"] == "0.500 ± 0.200" and "vus_pr_std" not in display
    assert "0.500 ± 0.200" in headline_text(records)
    heat = metric_table(records, "vus_pr").iloc[0]
    assert (heat["value"], heat["std"], heat["ok_seeds"]) == pytest.approx((0.5, 0.2, 2))
    # a failed job has no score-based metric even if a stale mapping is present
    failed = make_record("d", "s3", "ae", 0, None)
    failed["score_metrics"] = {"vus_pr": 1.0}
    assert dataset_table([*records, failed]).iloc[0]["vus_pr"] == pytest.approx(0.5)


def test_records_without_score_metrics_read_na():
    records = [make_record("d", "s1", "ae", 0, (1, 1, 1, 1))]
    row = dataset_table(records).iloc[0]
    assert all(math.isnan(row[m]) for m in SCORE_METRICS) and row["score_signals"] == 0
    display = dataset_display_table(dataset_table(records)).iloc[0]
    assert display["vus_pr"] == "n/a"
    line = next(ln for ln in headline_text(records).splitlines() if ln.startswith("d "))
    assert line.split()[3] == "-"  # VUS-PR column


def test_metric_choices_list_interval_f1_then_score_metrics():
    choices = metric_choices([make_record("d", "s1", "ae", 0, (1, 1, 1, 1))])
    assert choices[0] == "overlap_f1" and "affiliation_f1" in choices
    assert choices[-4:] == list(SCORE_METRICS)
