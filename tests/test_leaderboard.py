"""The leaderboard (benchbench.report.leaderboard, ``bench leaderboard add/render``), Orion's
reference rows (benchbench.report.reference) and their place in ``bench report``'s outputs.

The renderer is checked on small hand-made results files with hand-worked numbers; the committed
page (docs/leaderboard.md) must be exactly what its committed results files render to."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.report import leaderboard
from benchbench.report.leaderboard import (
    COLUMNS,
    LeaderboardError,
    add_results,
    load_results,
    render_leaderboard,
)
from benchbench.report.reference import ORION_COLUMNS, orion_column, orion_rows, orion_seconds

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _job(dataset: str, signal: str, detector: str, seed: int, tp: int | None, fp: int | None,
         fn: int | None, vus: float | None = 0.5, status: str = "ok", fit: float = 1.0,
         score: float = 0.5) -> dict[str, object]:
    return {"dataset": dataset, "signal": signal, "detector": detector, "seed": seed,
            "repetition": 0, "status": status, "overlap_tp": "" if tp is None else tp,
            "overlap_fp": "" if fp is None else fp, "overlap_fn": "" if fn is None else fn,
            "vus_pr": "" if vus is None else vus, "fit_seconds": fit, "score_seconds": score}


def _write_results(path: Path, jobs: list[dict[str, object]], extra: dict | None = None) -> Path:
    columns = list(COLUMNS) + list(extra or {})
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**job, **(extra or {})} for job in jobs)
    return path


def _config(path: Path, detectors: list[str], datasets: list[str]) -> Path:
    path.write_text(f"detectors = {json.dumps(detectors)}\ndatasets = {json.dumps(datasets)}\n"
                    "seeds = [0, 1]\n", encoding="utf-8")
    return path


def _rows(page: str, section: str) -> dict[tuple[str, str], list[str]]:
    """The table rows under ``## section`` of a page: (first cell, second cell) -> the rest."""
    lines = page.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0].splitlines()
    cells = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines
             if ln.startswith("|") and not ln.startswith("|-")]
    return {(c[0], c[1]): c[2:] for c in cells[1:]}


def _run_dir(tmp_path: Path, env: dict | None = None) -> Path:
    """A finished run folder: config.json, environment.json and a results.csv with more columns
    than the page needs."""
    run = tmp_path / "runs" / "20260101-000000"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({
        "detectors": ["vae"], "datasets": ["nab:Art"], "seeds": [0], "profile": "default",
        "threads": 1, "repeat": 1, "threshold": "window", "timeout": None, "quick": False,
        "params": {"vae": {"epochs": 3}}, "threshold_params": {}}), encoding="utf-8")
    (run / "environment.json").write_text(json.dumps(env if env is not None else {
        "cpu_model": "AMD EPYC", "cpu_capability": "AVX512",
        "packages": {"benchbench": "0.1.0", "torch": "2.1.0+cpu"}}), encoding="utf-8")
    _write_results(run / "results.csv", [
        _job("nab:Art", "artificialWithAnomaly/a", "vae", 0, 1, 0, 0, vus=0.30949971188810627),
        _job("nab:Art", "artificialWithAnomaly/b", "vae", 0, 0, 1, 1, vus=0.25)],
        extra={"kind": "", "overlap_f1": 0.5, "device": "cpu", "error": ""})
    return run


# --------------------------------------------------------------------------------------------
# Orion's published rows
# --------------------------------------------------------------------------------------------


def test_orion_rows_hold_the_published_table():
    rows = {r["pipeline"]: r for r in orion_rows()}
    assert list(rows) == ["aer", "lstm_dynamic_threshold", "lstm_autoencoder", "vae", "tadgan"]
    assert all(set(ORION_COLUMNS) <= set(r) for r in rows.values())
    assert rows["aer"]["MSL"] == 0.657 and rows["aer"]["UCR"] == 0.468
    assert rows["lstm_autoencoder"]["AWS"] == 0.750 and rows["tadgan"]["UCR"] == 0.175
    assert rows["vae"]["A4"] == 0.246 and rows["tadgan"]["Tweets"] == 0.588
    seconds = orion_seconds()
    assert seconds[("tadgan", "all")] == 1892 and seconds[("tadgan", "Art")] == 352
    assert seconds[("tadgan", "Tweets")] == 1709


@pytest.mark.parametrize("dataset, column", [
    ("nab:Art", "Art"), ("nab:AWS", "AWS"), ("nab:AdEx", "AdEx"), ("nab:Traf", "Traf"),
    ("nab:Tweets", "Tweets"), ("nab:realTweets", "Tweets"), ("nasa:SMAP", "SMAP"),
    ("nasa:MSL", "MSL"), ("yahoo:A1", "A1"), ("yahoo:A4Benchmark", "A4"), ("ucr", "UCR"),
    ("nab", None), ("nab:realKnownCause", None), ("yahoo:A1+A2", None), ("ucr:1-25", None),
    ("synthetic", None)])
def test_orion_column_maps_benchbench_dataset_names(dataset, column):
    assert orion_column(dataset) == column


def test_reference_files_ship_as_package_data():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "benchbench.report.reference" in setuptools["packages"]
    patterns = setuptools["package-data"]["benchbench.report.reference"]
    folder = ROOT / "benchbench" / "report" / "reference"
    data = sorted(p.name for p in folder.iterdir() if p.suffix in (".csv", ".md"))
    assert "orion_0.7.1_f1.csv" in data
    assert all(any(Path(name).match(pattern) for pattern in patterns) for name in data)


# --------------------------------------------------------------------------------------------
# The page, from hand-made results files
# --------------------------------------------------------------------------------------------


def test_overlap_f1_is_micro_over_signals_then_mean_and_std_over_seeds(tmp_path):
    # seed 0: tp 2, fp 0, fn 0 -> F1 1.0; seed 1: tp 1, fp 1, fn 1 -> F1 0.5; mean 0.75 ± 0.25
    path = _write_results(tmp_path / "r.csv", [
        _job("d", "s1", "a", 0, 1, 0, 0), _job("d", "s2", "a", 0, 1, 0, 0),
        _job("d", "s1", "a", 1, 1, 0, 0), _job("d", "s2", "a", 1, 0, 1, 1)])
    rows = _rows(render_leaderboard([path], tmp_path), "d")
    assert rows[("a", "r")][:4] == ["0.750 ± 0.250", "0.500 ± 0.000", "2", "2/2"]


def test_vus_pr_is_the_mean_over_the_signals_that_have_it(tmp_path):
    # seed 0: mean(0.2, 0.4) = 0.3 (s3 has one class: no VUS-PR); seed 1: 0.5; 0.4 ± 0.1
    path = _write_results(tmp_path / "r.csv", [
        _job("d", "s1", "a", 0, 1, 0, 0, vus=0.2), _job("d", "s2", "a", 0, 1, 0, 0, vus=0.4),
        _job("d", "s3", "a", 0, 0, 0, 0, vus=None), _job("d", "s1", "a", 1, 1, 0, 0, vus=0.5)])
    rows = _rows(render_leaderboard([path], tmp_path), "d")
    assert rows[("a", "r")][1] == "0.400 ± 0.100"


def test_a_job_not_ok_leaves_its_signal_planned_not_scored(tmp_path):
    path = _write_results(tmp_path / "r.csv", [
        _job("d", "s1", "a", 0, 1, 0, 0), _job("d", "s2", "a", 0, None, None, None,
                                               vus=None, status="missing"),
        _job("d", "s3", "a", 0, None, None, None, vus=None, status="timeout")])
    rows = _rows(render_leaderboard([path], tmp_path), "d")
    f1, _, seeds, signals, _ = rows[("a", "r")]
    assert (f1, seeds, signals) == ("1.000 (partial)", "1", "1/3")


@pytest.mark.parametrize("status, cell", [("missing", "missing"), ("failed", "failed")])
def test_a_row_without_any_ok_job_reads_missing_or_failed(tmp_path, status, cell):
    path = _write_results(tmp_path / "r.csv", [
        _job("d", "s1", "a", 0, 1, 0, 0), _job("d", "s1", "b", 0, None, None, None, vus=None,
                                               status=status)])
    assert _rows(render_leaderboard([path], tmp_path), "d")[("b", "r")][:4] == [
        cell, "n/a", "0", "0/1"]


def test_planned_detectors_without_results_show_as_not_run_yet(tmp_path):
    path = _write_results(tmp_path / "r.csv", [
        _job("nab:Art", "s1", "vae", 0, 1, 0, 0), _job("nab:Art", "s2", "vae", 0, 1, 0, 0)])
    config = _config(tmp_path / "plan.toml", ["tadgan", "vae"], ["nab:Art", "nab:AWS"])
    page = render_leaderboard([path], tmp_path, config=config)
    assert _rows(page, "nab:Art")[("tadgan", "not run yet")][:4] == ["missing", "missing", "",
                                                                     "0/2"]
    assert _rows(page, "nab:AWS")[("vae", "not run yet")][3] == "0/?"
    ranks = _rows(page, "Mean rank across datasets")
    assert ranks[("tadgan", "not run yet")] == ["", "", "0/2", "0/?"]
    assert ranks[("vae", "r")][2:] == ["1/1", "2/2"]
    assert ranks[("vae", "not run yet")] == ["", "", "0/1", "0/?"]
    assert "plan.toml" in page and "tadgan, vae" in page


def test_mean_rank_across_datasets_shares_tied_ranks(tmp_path):
    # d1: a 1.0, b 1.0, c 0.0 -> ranks 1.5, 1.5, 3; d2: a 0.0, b 1.0, c 1.0 -> 3, 1.5, 1.5
    jobs = [_job("d1", "s", "a", 0, 1, 0, 0), _job("d1", "s", "b", 0, 1, 0, 0),
            _job("d1", "s", "c", 0, 0, 1, 1), _job("d2", "s", "a", 0, 0, 1, 1),
            _job("d2", "s", "b", 0, 1, 0, 0), _job("d2", "s", "c", 0, 1, 0, 0)]
    ranks = _rows(render_leaderboard([_write_results(tmp_path / "r.csv", jobs)], tmp_path),
                  "Mean rank across datasets")
    assert [ranks[(d, "r")][0] for d in "abc"] == ["2.25", "1.50", "2.25"]
    assert list(ranks)[0] == ("b", "r")


def test_seconds_per_signal_are_fit_plus_score_of_the_ok_jobs(tmp_path):
    path = _write_results(tmp_path / "r.csv", [
        _job("d", "s1", "a", 0, 1, 0, 0, fit=1.0, score=0.5),
        _job("d", "s2", "a", 0, 1, 0, 0, fit=3.0, score=0.5),
        _job("d", "s3", "a", 0, None, None, None, status="failed", fit=100.0)])
    assert _rows(render_leaderboard([path], tmp_path), "d")[("a", "r")][4] == "2.50"


def test_orion_rows_stand_beside_a_subset_they_match(tmp_path):
    path = _write_results(tmp_path / "r.csv", [_job("nab:Art", "s", "vae", 0, 1, 0, 0),
                                               _job("synthetic", "s", "vae", 0, 1, 0, 0)])
    page = render_leaderboard([path], tmp_path)
    art = _rows(page, "nab:Art")
    assert art[("Orion 0.7.1: aer", "published")][0] == "0.750"
    assert art[("Orion 0.7.1: tadgan", "published")] == ["0.500", "", "", "6", "352"]
    assert not any(k[0].startswith("Orion") for k in _rows(page, "synthetic"))


def test_the_page_names_each_files_commit_profile_cpu_and_command(tmp_path):
    added = add_results(_run_dir(tmp_path), "nab-x", tmp_path / "lb", commit="abc1234")
    page = render_leaderboard([added.csv_path], tmp_path)
    line = next(ln for ln in page.splitlines() if ln.startswith("- [nab-x](lb/nab-x.csv)"))
    for text in ("commit `abc1234`", "profile default", "CPU AMD EPYC (AVX512)", "device cpu",
                 "run `20260101-000000`", "benchbench 0.1.0", "2 jobs (2 ok)",
                 "`bench run --detectors vae --datasets nab:Art --seeds 0 --profile default "
                 "--threads 1 --set vae.epochs=3`", "(provenance](lb/nab-x.json)"):
        assert text.replace("(provenance", "([provenance") in line


def test_a_whole_recorded_commit_shows_as_seven_digits_and_stays_whole_in_the_provenance(
        tmp_path):
    sha = "39878860550b87ec51ed2ba8390952ab8fa21247"
    added = add_results(_run_dir(tmp_path, env={"git_commit": sha}), "nab-x", tmp_path / "lb")
    assert "commit `3987886`," in render_leaderboard([added.csv_path], tmp_path)
    assert json.loads(added.csv_path.with_suffix(".json").read_text())["commit"] == sha


def test_files_run_with_another_profile_than_the_plans_are_named(tmp_path):
    config = tmp_path / "plan.toml"
    config.write_text('detectors = ["vae"]\ndatasets = ["nab:Art"]\nprofile = "fast"\n',
                      encoding="utf-8")
    default = add_results(_run_dir(tmp_path / "a"), "nab-default", tmp_path / "lb", commit="abc1")
    paper_run = _run_dir(tmp_path / "b")
    cfg = json.loads((paper_run / "config.json").read_text())
    (paper_run / "config.json").write_text(json.dumps({**cfg, "profile": "paper"}))
    paper = add_results(paper_run, "nab-paper", tmp_path / "lb", commit="abc1")
    page = render_leaderboard([default.csv_path, paper.csv_path], tmp_path, config=config)
    assert ("nab-default ran with profile default: a detector that registers neither a default "
            "nor a fast profile runs its class defaults under both") in page
    assert "nab-paper ran with profile paper: another setting than the plan's profile fast" in page
    same = render_leaderboard([default.csv_path], tmp_path,
                              config=_config(tmp_path / "p2.toml", ["vae"], ["nab:Art"]))
    assert "ran with profile" not in same


def test_a_run_folders_own_results_csv_takes_provenance_from_the_folder(tmp_path):
    run = _run_dir(tmp_path)
    page = render_leaderboard([run / "results.csv"], tmp_path)
    assert "- [20260101-000000](runs/20260101-000000/results.csv): run" in page
    assert "commit `not recorded`" in page and "AMD EPYC (AVX512)" in page


def test_a_results_file_with_a_bad_cell_names_the_file_line_and_column(tmp_path):
    path = _write_results(tmp_path / "r.csv", [_job("d", "s", "a", 0, 1, 0, 0),
                                               _job("d", "s2", "a", 0, "many", 0, 0)])
    with pytest.raises(LeaderboardError, match=r"r\.csv: line 3: overlap_tp 'many'"):
        load_results(path)


def test_an_ok_row_without_its_counts_is_named(tmp_path):
    path = _write_results(tmp_path / "r.csv", [_job("d", "s", "a", 0, None, None, None)])
    with pytest.raises(LeaderboardError, match=r"r\.csv: line 2: an ok job without overlap_tp"):
        load_results(path)


def test_two_results_files_of_the_same_name_are_refused(tmp_path):
    (tmp_path / "x").mkdir()
    one = _write_results(tmp_path / "r.csv", [_job("d", "s", "a", 0, 1, 0, 0)])
    two = _write_results(tmp_path / "x" / "r.csv", [_job("d", "s", "a", 0, 1, 0, 0)])
    with pytest.raises(LeaderboardError, match="both named 'r'"):
        render_leaderboard([one, two], tmp_path)


# --------------------------------------------------------------------------------------------
# bench leaderboard add / render
# --------------------------------------------------------------------------------------------


def _invoke(args: list[str]):
    result = CliRunner().invoke(cli, args)
    assert "Traceback" not in result.output
    return result


def test_add_trims_results_and_writes_provenance(tmp_path):
    run = _run_dir(tmp_path)
    result = _invoke(["leaderboard", "add", str(run), "--name", "nab-x", "--commit", "abc1234",
                      "--dir", str(tmp_path / "lb")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "lb" / "nab-x.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(COLUMNS)
    assert rows[1][COLUMNS.index("vus_pr")] == "0.30949971188810627"  # copied as text
    prov = json.loads((tmp_path / "lb" / "nab-x.json").read_text(encoding="utf-8"))
    assert (prov["commit"], prov["commit_from"], prov["profile"]) == ("abc1234", "--commit",
                                                                       "default")
    assert (prov["cpu_model"], prov["cpu_capability"], prov["benchbench"]) == (
        "AMD EPYC", "AVX512", "0.1.0")
    assert prov["devices"] == ["cpu"] and prov["jobs"] == 2 and prov["run"] == "20260101-000000"
    assert "nab-x.csv" in result.output and "abc1234" in result.output


def test_add_takes_the_commit_the_run_recorded(tmp_path):
    run = _run_dir(tmp_path, env={"git_commit": "9d4f3b1", "cpu_model": "x"})
    added = add_results(run, "n", tmp_path / "lb")
    assert (added.provenance["commit"], added.provenance["commit_from"]) == (
        "9d4f3b1", "environment.json")
    assert "uncommitted_changes" not in added.provenance


def test_add_notes_a_run_made_with_uncommitted_changes(tmp_path):
    run = _run_dir(tmp_path, env={"git_commit": "9d4f3b1", "git_dirty": True, "cpu_model": "x"})
    added = add_results(run, "n", tmp_path / "lb")
    assert added.provenance["uncommitted_changes"] is True
    page = render_leaderboard([added.csv_path], tmp_path)
    assert "commit `9d4f3b1` with uncommitted changes" in page


def test_add_without_a_recorded_commit_asks_for_one(tmp_path):
    run = _run_dir(tmp_path)
    result = _invoke(["leaderboard", "add", str(run), "--name", "n", "--dir",
                      str(tmp_path / "lb")])
    assert result.exit_code == 2
    assert "environment.json records no git commit" in result.output
    assert "--commit" in result.output
    assert not (tmp_path / "lb").exists()


def test_add_on_results_without_vus_pr_names_the_column_and_the_fix(tmp_path):
    run = _run_dir(tmp_path)
    text = (run / "results.csv").read_text(encoding="utf-8").replace("vus_pr", "other")
    (run / "results.csv").write_text(text, encoding="utf-8")
    result = _invoke(["leaderboard", "add", str(run), "--name", "n", "--commit", "abc1234",
                      "--dir", str(tmp_path / "lb")])
    assert result.exit_code == 2
    assert "results.csv: no column vus_pr" in result.output
    assert f"bench report {run}" in result.output


def test_add_with_a_name_that_is_no_file_name_is_a_usage_error(tmp_path):
    result = _invoke(["leaderboard", "add", str(_run_dir(tmp_path)), "--name", "../up",
                      "--commit", "abc1234", "--dir", str(tmp_path / "lb")])
    assert result.exit_code == 2 and "--name '../up'" in result.output


def test_render_writes_the_page_from_the_default_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    add_results(_run_dir(tmp_path), "nab-x", commit="abc1234")  # into docs/leaderboard/
    (tmp_path / "configs").mkdir()
    _config(tmp_path / "configs" / "leaderboard-nab.toml", ["vae", "gan"], ["nab:Art"])
    result = _invoke(["leaderboard", "render"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "docs" / "leaderboard.md").read_text(encoding="utf-8")
    assert "(../configs/leaderboard-nab.toml)" in page
    assert _rows(page, "nab:Art")[("gan", "not run yet")][3] == "0/2"


def test_render_with_a_bad_results_file_is_a_usage_error_naming_it(tmp_path):
    path = _write_results(tmp_path / "r.csv", [_job("d", "s", "a", 0, 1, 0, 0)])
    path.write_text(path.read_text(encoding="utf-8").replace("overlap_fn", "fn"),
                    encoding="utf-8")
    result = _invoke(["leaderboard", "render", str(path), "--output", str(tmp_path / "p.md")])
    assert result.exit_code == 2
    assert f"{path}: no column overlap_fn" in result.output
    assert not (tmp_path / "p.md").exists()


def test_render_with_a_missing_config_is_a_usage_error_naming_it(tmp_path):
    path = _write_results(tmp_path / "r.csv", [_job("d", "s", "a", 0, 1, 0, 0)])
    result = _invoke(["leaderboard", "render", str(path), "--config", str(tmp_path / "no.toml"),
                      "--output", str(tmp_path / "p.md")])
    assert result.exit_code == 2 and "no.toml: not found" in result.output


def test_render_without_results_files_says_how_to_add_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _invoke(["leaderboard", "render"])
    assert result.exit_code == 2 and "bench leaderboard add" in result.output


# --------------------------------------------------------------------------------------------
# The committed page
# --------------------------------------------------------------------------------------------


def test_committed_page_is_what_its_results_files_render_to():
    files = sorted((ROOT / leaderboard.DEFAULT_DIR).glob("*.csv"))
    assert files, "docs/leaderboard/ holds no results file"
    page = render_leaderboard(files, ROOT / leaderboard.DEFAULT_OUTPUT.parent,
                              config=ROOT / leaderboard.DEFAULT_CONFIG)
    committed = (ROOT / leaderboard.DEFAULT_OUTPUT).read_text(encoding="utf-8")
    assert page == committed, ("docs/leaderboard.md differs from its results files; rebuild it "
                               "with: bench leaderboard render")


def test_committed_page_covers_the_whole_plan(tmp_path):
    """Every detector of configs/leaderboard-nab.toml has a row on every subset of it, and
    one of its rows (per results file) scores every planned signal: coverage is complete, and
    no detector shows as not run yet."""
    plan = tomllib.loads((ROOT / leaderboard.DEFAULT_CONFIG).read_text(encoding="utf-8"))
    page = (ROOT / leaderboard.DEFAULT_OUTPUT).read_text(encoding="utf-8")
    for dataset in plan["datasets"]:
        rows = _rows(page, dataset)
        assert not [key for key in rows if key[1] == "not run yet"], dataset
        for detector in plan["detectors"]:
            mine = [cells for (name, _), cells in rows.items() if name == detector]
            assert mine, (dataset, detector)
            scored = [c[3].split("/") for c in mine]
            assert any(a == b for a, b in scored), (dataset, detector, scored)
        assert ("Orion 0.7.1: tadgan", "published") in rows


def test_readmes_mean_ranks_are_the_pages():
    """The README quotes each detector's mean overlap-F1 rank across the NAB subsets; every
    figure it gives is the page's, for the detector's row that ranks on all of them."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sentence = " ".join(readme.split("Mean overlap-F1 rank across the subsets", 1)[1]
                        .split(";", 1)[0].split())
    quoted = dict(re.findall(r"`(\w+)` (\d+\.\d)", sentence))
    plan = tomllib.loads((ROOT / leaderboard.DEFAULT_CONFIG).read_text(encoding="utf-8"))
    assert set(quoted) == set(plan["detectors"]), sentence
    ranks = _rows((ROOT / leaderboard.DEFAULT_OUTPUT).read_text(encoding="utf-8"),
                  "Mean rank across datasets")
    n = len(plan["datasets"])
    page = {det: f"{float(cells[0]):.1f}" for (det, _), cells in ranks.items()
            if cells[2] == f"{n}/{n}"}
    assert quoted == {det: page[det] for det in quoted}


# --------------------------------------------------------------------------------------------
# bench report: Orion's rows beside the per-dataset figures
# --------------------------------------------------------------------------------------------


def _record(dataset: str, signal: str, seed: int = 0) -> dict[str, object]:
    overlap = {"precision": 1.0, "recall": 1.0, "f1": 1.0, "precision_num": 1,
               "precision_den": 1, "recall_num": 1, "recall_den": 1}
    return {"job_id": f"{dataset}-{signal}-{seed}", "dataset": dataset, "signal": signal,
            "detector": "vae", "seed": seed, "status": "ok", "kind": "", "fit_seconds": 1.0,
            "metrics": {"overlap": overlap}, "expected": [[1, 2]], "detected": [[1, 2, 1.0]]}


def test_report_tables_set_orion_rows_beside_a_nab_subset(tmp_path):
    from benchbench.report.render import write_tables

    paths = write_tables([_record("nab:Art", "s"), _record("synthetic", "s")], tmp_path)
    md = paths["f1_by_dataset.md"].read_text(encoding="utf-8")
    reference = md.split("Reference: Orion 0.7.1 (published overlap F1)", 1)[1]
    header, _, aer = reference.strip().splitlines()[:3]
    assert header.replace(" ", "") == "|pipeline|nab:Art|"
    assert aer.replace(" ", "") == "|aer|0.750|"
    assert "Orion's columns: nab:Art = Art." in reference


def test_report_headline_adds_orion_rows_only_for_matching_datasets():
    from benchbench.report.render import headline_text

    text = headline_text([_record("nab:Tweets", "s")])
    tail = text.split("Reference: Orion 0.7.1", 1)[1].splitlines()
    assert tail[1].split() == ["pipeline", "Tweets"] and tail[2].split() == ["aer", ".606"]
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "Orion" not in headline_text([_record("synthetic", "s")])


def test_report_html_sets_orion_rows_under_a_matching_dataset(tmp_path):
    from benchbench.report.html import render_html

    html = render_html(tmp_path, [_record("nab:AdEx", "s"), _record("synthetic", "s")])
    assert html.count('<table class="reference"') == 1
    assert 'data-dataset="nab:AdEx"><thead><tr><th>pipeline</th>' in html
    assert "Orion's column AdEx, 5 signals there" in html
