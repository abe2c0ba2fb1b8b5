"""Speed and memory of the ``lstm_ar`` detector (a script, not a test).

For univariate signals of 1,000 / 4,000 / 16,000 steps (sines plus noise, scaled to [-1, 1]) it
fits the detector with its default hyperparameters (``--head``, ``--epochs``, ``--device`` and
``--set`` override) and prints seconds per epoch, training steps per second (timesteps of the
training subsequences processed per second, forward and backward, ``n_train_windows * seq_len *
epochs / fit seconds``), the scoring time and scored steps per second, the first and last epoch's
NLL and the peak memory: Python-level allocations (``tracemalloc``; torch's CPU buffers are not
traced), the process's peak resident set size (``resource.getrusage``, monotonic over the whole
run) and, on CUDA, the peak GPU memory torch allocated. A small warm-up fit runs first so
one-time costs (torch's lazy imports, about 1.5 s on the first optimiser) are reported apart.

Set ``OMP_NUM_THREADS`` to pin the number of CPU threads torch uses (the table's header shows it).

Usage::

    python benchmarks/bench_lstm_ar.py
    python benchmarks/bench_lstm_ar.py --head mog --epochs 5 --lengths 1000,4000
    python benchmarks/bench_lstm_ar.py --quick        # the registered quick_params
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc

import numpy as np
from benchbench_plugins.lstm_ar import QUICK_PARAMS, LSTMAutoregressive

from benchbench.detector import epoch_progress


def make_series(n: int, seed: int = 0) -> np.ndarray:
    """A univariate test series ``(n, 1)``: two sines plus noise, min-max scaled to [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.sin(2 * np.pi * t / 90) + 0.4 * np.sin(2 * np.pi * t / 37 + 1) + 0.1 * rng.normal(size=n)
    x = 2 * (x - x.min()) / (x.max() - x.min()) - 1
    return x[:, None]


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def bench(n: int, params: dict) -> dict:
    """Fit and score one ``n``-step series; return the measurements."""
    import torch

    X = make_series(n, seed=1)
    det = LSTMAutoregressive(**params)
    stamps: list[float] = []
    cuda = str(params.get("device", "auto")) != "cpu" and torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    tracemalloc.start()
    start = time.perf_counter()
    with epoch_progress(lambda epoch, n_epochs, losses: stamps.append(time.perf_counter())):
        det.fit(X)
    fit_s = time.perf_counter() - start
    t0 = time.perf_counter()
    scores = det.score(X)
    score_s = time.perf_counter() - t0
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    epochs = len(stamps)
    epoch_times = np.diff([start, *stamps])
    train_steps = det.n_train_windows_ * int(det.seq_len) * epochs
    return {
        "n": n,
        "head": det.head,
        "device": det.device_,
        "epochs": epochs,
        "train_windows": det.n_train_windows_,
        "fit_s": fit_s,
        "s_per_epoch": float(np.median(epoch_times)) if epochs else float("nan"),
        "train_steps_per_s": train_steps / fit_s,
        "score_s": score_s,
        "score_steps_per_s": n / score_s,
        "first_nll": det.history_["nll"][0],
        "last_nll": det.history_["nll"][-1],
        "finite": bool(np.all(np.isfinite(scores))),
        "tracemalloc_peak_mib": py_peak / 2**20,
        "peak_rss_mib": peak_rss_mib(),
        "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, warm up, and print one line per signal length."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head", default=None, help="categorical or mog (default: the default)")
    parser.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--lengths", default="1000,4000,16000", help="comma-separated lengths")
    parser.add_argument("--quick", action="store_true", help="use the registered quick_params")
    parser.add_argument(
        "--set", default="{}", help="more parameters as JSON, e.g. '{\"hidden_size\": 64}'"
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args(argv)

    params: dict = dict(QUICK_PARAMS) if args.quick else {}
    params["device"] = args.device
    if args.head is not None:
        params["head"] = args.head
    if args.epochs is not None:
        params["epochs"] = args.epochs
    params.update(json.loads(args.set))

    import torch

    t0 = time.perf_counter()
    LSTMAutoregressive(
        **{**params, "epochs": 1, "seq_len": 10, "hidden_size": 4, "num_layers": 1}
    ).fit(make_series(50))
    warmup = time.perf_counter() - t0
    shown = LSTMAutoregressive(**params).get_params()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; params {shown}")
    print(f"one-time warm-up (lazy imports, first optimiser): {warmup:.2f} s")
    if not args.json:
        print(
            f"{'steps':>6} {'head':>11} {'device':>6} {'epochs':>6} {'windows':>7} {'fit s':>7} "
            f"{'s/epoch':>8} {'train st/s':>10} {'score s':>7} {'score st/s':>10} "
            f"{'nll first->last':>16} {'py MiB':>7} {'RSS MiB':>8} {'GPU MiB':>8}"
        )
    for n in (int(v) for v in args.lengths.split(",")):
        r = bench(n, params)
        if args.json:
            print(json.dumps(r))
            continue
        gpu = f"{r['cuda_peak_mib']:8.1f}" if r["cuda_peak_mib"] is not None else f"{'-':>8}"
        print(
            f"{r['n']:>6} {r['head']:>11} {r['device']:>6} {r['epochs']:>6} "
            f"{r['train_windows']:>7} {r['fit_s']:>7.2f} {r['s_per_epoch']:>8.3f} "
            f"{r['train_steps_per_s']:>10.0f} {r['score_s']:>7.2f} {r['score_steps_per_s']:>10.0f} "
            f"{r['first_nll']:>7.3f}->{r['last_nll']:<7.3f} "
            f"{r['tracemalloc_peak_mib']:>7.1f} {r['peak_rss_mib']:>8.0f} {gpu}"
        )


if __name__ == "__main__":
    main()
