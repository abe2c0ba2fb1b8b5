"""benchmarks/leaderboard_misses.py: the per-signal found/missed/false table and plot that
docs/benchmarks.md uses to explain missed leaderboard goals, on a real zscore run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from benchbench.api import run_benchmark
from benchbench.config import RunConfig
from benchbench.run.records import RunStore

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "leaderboard_misses", ROOT / "benchmarks" / "leaderboard_misses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_sums_the_records_overlap_counts_and_plot_is_written(tmp_path, capsys):
    dataset = "synthetic:spikes_1+clean_1+level_shift_1"
    cfg = RunConfig(detectors=["zscore"], datasets=[dataset],
                    seeds=[0, 1], output=str(tmp_path / "out"))
    run_dir = Path(run_benchmark(cfg, quiet=True, plots=False, executor="serial").summary.run_dir)
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
