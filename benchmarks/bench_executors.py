"""Wall time of a benchmark run with 1 and 2 local worker processes (a script, not a test).

Runs ``bench run`` on the embedded ``synthetic`` suite (16 signals) once per worker count with
``--executor process --threads 1`` (each job on one torch thread, so N workers use N cores), in a
fresh temporary output folder each time, and prints per run: workers, jobs, wall seconds, the sum
of the jobs' own fit + score seconds, and the parallel efficiency (job seconds / (wall x workers)),
then the ratio of the first wall time to each later one (the speed-up). It also checks that every
run gave the same metrics (they must: the thread count is fixed per job).

The default detectors (``autoencoder,zscore``, 32 jobs) keep it to a few minutes on two cores;
``--detectors all`` measures the README's default run. Run it on a quiet machine: other processes
competing for the cores inflate the multi-worker figures.

Usage::

    python benchmarks/bench_executors.py
    python benchmarks/bench_executors.py --workers 1,2,4 --detectors all --seeds 0,1
    python benchmarks/bench_executors.py --executor dask      # a local Dask cluster instead
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

METRIC_COLUMNS = ["dataset", "signal", "detector", "seed", "repetition", "status", "overlap_f1",
                  "overlap_tp", "overlap_fp", "overlap_fn"]


def run_once(args: argparse.Namespace, workers: int, output: Path) -> tuple[float, pd.DataFrame]:
    command = [sys.executable, "-m", "benchbench", "run", "--detectors", args.detectors,
               "--datasets", args.datasets, "--seeds", args.seeds, "--executor", args.executor,
               "--workers", str(workers), "--threads", "1", "--output", str(output),
               "--quiet", "--no-plots"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"bench run failed ({done.returncode}):\n{done.stderr}")
    (run_dir,) = output.iterdir()
    return wall, pd.read_csv(run_dir / "results.csv")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts (1,2)")
    p.add_argument("--detectors", default="autoencoder,zscore", help="bench run --detectors")
    p.add_argument("--datasets", default="synthetic", help="bench run --datasets")
    p.add_argument("--seeds", default="0", help="bench run --seeds")
    p.add_argument("--executor", default="process", choices=["process", "dask"])
    args = p.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    print(f"bench run --detectors {args.detectors} --datasets {args.datasets} --seeds "
          f"{args.seeds} --executor {args.executor} --threads 1; {os.cpu_count()} CPU cores")
    print(f"{'workers':>7} {'jobs':>5} {'wall s':>8} {'job s':>8} {'efficiency':>10}")
    walls, frames = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in counts:
            wall, frame = run_once(args, workers, Path(tmp) / f"w{workers}")
            job_s = float(frame["fit_seconds"].fillna(0).sum() + frame["score_seconds"].fillna(0)
                          .sum())
            walls.append(wall)
            frames.append(frame)
            print(f"{workers:>7} {len(frame):>5} {wall:>8.1f} {job_s:>8.1f} "
                  f"{job_s / (wall * workers):>10.2f}", flush=True)
    for workers, wall in zip(counts[1:], walls[1:]):
        print(f"wall time ratio {counts[0]} worker(s) / {workers} workers: {walls[0] / wall:.2f}")
    columns = [c for c in METRIC_COLUMNS if c in frames[0].columns]
    same = all(f[columns].equals(frames[0][columns]) for f in frames[1:])
    print("metrics identical across worker counts:", "yes" if same else "NO")


if __name__ == "__main__":
    main()
