"""Speed of the score-based metrics (VUS-ROC/PR, AUC-ROC/PR) on long signals (a script, not a test).

For signals of 10,000 / 100,000 / 1,000,000 steps (uniform noise scores, about one anomalous range
per 1,000 steps, 1 to 100 steps long, the scores raised by 0.5 inside them; seeded) it times
:func:`benchbench.evaluation.score_metrics.vus` with its defaults (buffers 0..100, 250
thresholds) and the two point-wise AUCs (scikit-learn), best of ``--repeats`` runs, and prints
per length: steps, anomalous steps, ranges, buffers, the VUS seconds, the VUS nanoseconds per
(step x buffer) — flat when the cost grows linearly in steps times buffers — the AUC seconds and
the process's peak resident memory.

Usage::

    python benchmarks/bench_vus.py
    python benchmarks/bench_vus.py --lengths 10000,100000 --max-buffer 200 --repeats 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from speedkit import peak_rss_mib

from benchbench.evaluation.score_metrics import DEFAULT_MAX_BUFFER, auc_pr, auc_roc, vus


def make_signal(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, labels)`` of ``n`` steps: noise, ``n // 1000`` ranges raised by 0.5."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=bool)
    for start in rng.integers(0, max(n - 100, 1), max(n // 1000, 1)):
        labels[start:start + rng.integers(1, 101)] = True
    return rng.random(n) + 0.5 * labels, labels


def aucs(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """AUC-ROC and AUC-PR."""
    return auc_roc(scores, labels), auc_pr(scores, labels)


def best_of(repeats: int, function, *args, **kwargs) -> tuple[float, object]:
    """The smallest wall time of ``repeats`` calls ``function(*args, **kwargs)``, and the last
    call's result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lengths", default="10000,100000,1000000", help="comma-separated steps")
    p.add_argument("--max-buffer", type=int, default=DEFAULT_MAX_BUFFER,
                   help=f"largest VUS buffer ({DEFAULT_MAX_BUFFER})")
    p.add_argument("--repeats", type=int, default=3, help="runs per length; the best counts (3)")
    args = p.parse_args(argv)
    vus(*make_signal(1_000), max_buffer=args.max_buffer)  # warm-up: imports, first calls
    print(f"{'steps':>9} {'anomalous':>9} {'ranges':>6} {'buffers':>7} {'vus s':>7} "
          f"{'ns/(step*buf)':>13} {'auc s':>6} {'VUS-ROC':>7} {'VUS-PR':>7} {'peak RSS MiB':>12}")
    for n in (int(x) for x in args.lengths.split(",")):
        scores, labels = make_signal(n)
        ranges = int(np.count_nonzero(np.diff(labels.astype(np.int8), prepend=0) == 1))
        vus_s, volume = best_of(args.repeats, vus, scores, labels, max_buffer=args.max_buffer)
        auc_s, _ = best_of(args.repeats, aucs, scores, labels)
        per = vus_s / (n * len(volume.buffers)) * 1e9
        print(f"{n:>9} {int(labels.sum()):>9} {ranges:>6} {len(volume.buffers):>7} "
              f"{vus_s:>7.3f} {per:>13.2f} {auc_s:>6.3f} {volume.roc:>7.4f} {volume.pr:>7.4f} "
              f"{peak_rss_mib():>12.0f}", flush=True)


if __name__ == "__main__":
    main()
