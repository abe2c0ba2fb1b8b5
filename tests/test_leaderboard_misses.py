"""benchmarks/leaderboard_misses.py: the per-signal found/missed/false table and plot that
docs/benchmarks.md uses to explain missed leaderboard goals, on a real zscore run (its folder,
and the results file that ``bench leaderboard add`` trims from it)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from benchbench.api import run_benchmark
from benchbench.config import RunConfig
from benchbench.report.leaderboard import add_results
from benchbench.run.records import RunStore

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "leaderboard_misses", ROOT / "benchmarks" / "leaderboard_misses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DATASET = "synthetic:spikes_1+clean_1+level_shift_1"


def _run(tmp_path: Path) -> Path:
    cfg = RunConfig(detectors=["zscore"], datasets=[DATASET], seeds=[0, 1],
                    output=str(tmp_path / "out"))
    return Path(run_benchmark(cfg, quiet=True, plots=False, executor="serial").summary.run_dir)


def test_table_sums_the_records_overlap_counts_and_plot_is_written(tmp_path, capsys):
    dataset = DATASET
    run_dir = _run(tmp_path)
    records = RunStore(run_dir).load_records()
    script = _script()
    script.main([str(run_dir), "--dataset", dataset, "--detectors", "zscore,vae", "--plot",
                 "spikes_1", "--plot-out", str(tmp_path / "m.png")])
    out = capsys.readouterr().out
    tp = sum(r["metrics"]["overlap"]["recall_num"] for r in records)
    fn = sum(r["metrics"]["overlap"]["recall_den"] for r in records) - tp
    fp = sum(r["metrics"]["overlap"]["precision_den"] for r in records) - tp
    total = next(line for line in out.splitlines() if line.startswith("| all |"))
    assert f"| {tp:.0f}/{fn:.0f}/{fp:.0f} (" in total
    rows = [line for line in out.splitlines() if line.startswith("| ") and "windows" not in line]
    assert len(rows) == 4 and all(line.endswith("| not run |") for line in rows)  # vae: no runs
    assert "clean_1 | 0 |" in out  # a signal without labelled windows
    assert (tmp_path / "m.png").stat().st_size > 0


def test_a_leaderboard_results_file_gives_the_run_folders_table(tmp_path, capsys):
    run_dir = _run(tmp_path)
    recorded = "git_commit" in json.loads((run_dir / "environment.json").read_text())
    added = add_results(run_dir, "x", tmp_path / "lb", commit=None if recorded else "abc1234")
    script = _script()
    script.main([str(run_dir), "--dataset", DATASET, "--detectors", "zscore"])
    from_run = capsys.readouterr().out
    script.main([str(added.csv_path), "--dataset", DATASET, "--detectors", "zscore"])
    assert capsys.readouterr().out == from_run
    with pytest.raises(SystemExit, match="no ok record of that signal in a run folder"):
        script.main([str(added.csv_path), "--dataset", DATASET, "--detectors", "zscore",
                     "--plot", "spikes_1"])
