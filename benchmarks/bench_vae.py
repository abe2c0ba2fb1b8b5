"""Speed and memory of the ``vae`` detector (a script, not a test).

For univariate signals of 1,000 / 4,000 / 16,000 steps (sines plus noise, scaled to [-1, 1]) it
fits the detector with its default hyperparameters (``--epochs``, ``--device`` and ``--set``
override) and prints seconds per epoch, training windows per second, the scoring time of both
score modes (``"reconstruction"`` and ``"nll"`` with the ``samples`` setting), the total loss
(negative ELBO, nats per window) of the first and last epoch, and the peak memory: Python-level
allocations (``tracemalloc``; torch's CPU buffers are not traced), the process's peak resident set
size (``resource.getrusage``, monotonic over the whole run) and, on CUDA, the peak GPU memory torch
allocated. A small warm-up fit runs first so one-time costs (torch's lazy imports, about 1.5 s on
the first optimiser) are reported apart. Set ``OMP_NUM_THREADS`` to fix the thread count.

Usage::

    python benchmarks/bench_vae.py
    python benchmarks/bench_vae.py --epochs 5 --device cpu --lengths 1000,4000
    python benchmarks/bench_vae.py --quick        # the registered quick_params
    python benchmarks/bench_vae.py --set '{"samples": 4}'
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc

import numpy as np
from benchbench_plugins.vae import LSTMVAE, QUICK_PARAMS

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
    """Fit and score (both modes) one ``n``-step series; return the measurements."""
    import torch

    X = make_series(n, seed=1)
    det = LSTMVAE(**params)
    stamps: list[float] = []
    cuda = str(params.get("device", "auto")) != "cpu" and torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    tracemalloc.start()
    start = time.perf_counter()
    with epoch_progress(lambda epoch, n_epochs, losses: stamps.append(time.perf_counter())):
        det.fit(X)
    fit_s = time.perf_counter() - start
    timings = {}
    finite = True
    for mode in ("reconstruction", "nll"):
        det.set_params(score_mode=mode)
        t0 = time.perf_counter()
        scores = det.score(X)
        timings[mode] = time.perf_counter() - t0
        finite = finite and bool(np.all(np.isfinite(scores)))
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    epochs = len(stamps)
    epoch_times = np.diff([start, *stamps])
    n_windows = n - det.window_size + 1
    return {
        "n": n,
        "device": det.device_,
        "epochs": epochs,
        "train_windows": det.n_train_windows_,
        "fit_s": fit_s,
        "s_per_epoch": float(np.median(epoch_times)) if epochs else float("nan"),
        "train_windows_per_s": det.n_train_windows_ * epochs / fit_s,
        "score_s": timings["reconstruction"],
        "score_windows_per_s": n_windows / timings["reconstruction"],
        "nll_score_s": timings["nll"],
        "samples": det.samples,
        "first_loss": det.history_["total"][0],
        "last_loss": det.history_["total"][-1],
        "last_kl": det.history_["kl"][-1],
        "finite": finite,
        "tracemalloc_peak_mib": py_peak / 2**20,
        "peak_rss_mib": peak_rss_mib(),
        "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, warm up, and print one line per signal length."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--lengths", default="1000,4000,16000", help="comma-separated lengths")
    parser.add_argument("--quick", action="store_true", help="use the registered quick_params")
    parser.add_argument(
        "--set", default="{}", help="more parameters as JSON, e.g. '{\"latent_size\": 8}'"
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args(argv)

    params: dict = dict(QUICK_PARAMS) if args.quick else {}
    params["device"] = args.device
    if args.epochs is not None:
        params["epochs"] = args.epochs
    params.update(json.loads(args.set))
    params.pop("score_mode", None)  # both modes are timed

    import torch

    t0 = time.perf_counter()
    LSTMVAE(**{**params, "epochs": 1, "window_size": 10, "hidden_size": 4, "latent_size": 2}).fit(
        make_series(50)
    )
    warmup = time.perf_counter() - t0
    shown = dict(LSTMVAE(**params).get_params())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; params {shown}")
    print(f"one-time warm-up (lazy imports, first optimiser): {warmup:.2f} s")
    if not args.json:
        print(
            f"{'steps':>6} {'device':>6} {'epochs':>6} {'windows':>7} {'fit s':>7} {'s/epoch':>8} "
            f"{'win/s':>7} {'score s':>7} {'nll s':>6} {'-ELBO first->last':>18} {'KL':>5} "
            f"{'py MiB':>7} {'RSS MiB':>8} {'GPU MiB':>8}"
        )
    for n in (int(v) for v in args.lengths.split(",")):
        r = bench(n, params)
        if args.json:
            print(json.dumps(r))
            continue
        gpu = f"{r['cuda_peak_mib']:8.1f}" if r["cuda_peak_mib"] is not None else f"{'-':>8}"
        print(
            f"{r['n']:>6} {r['device']:>6} {r['epochs']:>6} {r['train_windows']:>7} "
            f"{r['fit_s']:>7.2f} {r['s_per_epoch']:>8.3f} {r['train_windows_per_s']:>7.0f} "
            f"{r['score_s']:>7.2f} {r['nll_score_s']:>6.2f} "
            f"{r['first_loss']:>8.1f}->{r['last_loss']:<8.1f} {r['last_kl']:>5.1f} "
            f"{r['tracemalloc_peak_mib']:>7.1f} {r['peak_rss_mib']:>8.0f} {gpu}"
        )


if __name__ == "__main__":
    main()
