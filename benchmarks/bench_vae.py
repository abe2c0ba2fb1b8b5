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

import json
import time
from typing import Any

import numpy as np
from benchbench_plugins.vae import LSTMVAE, QUICK_PARAMS
from speedkit import gpu_cell, make_series, measure, params_from
from speedkit import parser as speedkit_parser


def _time_nll(det: LSTMVAE, X: np.ndarray) -> dict[str, Any]:
    """Score ``X`` again with ``score_mode="nll"`` (inside ``measure``'s memory tracing)."""
    det.set_params(score_mode="nll")
    t0 = time.perf_counter()
    scores = det.score(X)
    return {"nll_score_s": time.perf_counter() - t0,
            "nll_finite": bool(np.all(np.isfinite(scores)))}


def bench(n: int, params: dict) -> dict:
    """Fit and score (both modes) one ``n``-step series; return the measurements."""
    det = LSTMVAE(**{**params, "score_mode": "reconstruction"})
    r = measure(det, make_series(n, seed=1), extra=_time_nll)
    nll_finite = r.pop("nll_finite")
    n_windows = n - det.window_size + 1
    return {
        **r,
        "finite": r["finite"] and nll_finite,
        "train_windows_per_s": det.n_train_windows_ * r["epochs"] / r["fit_s"],
        "score_windows_per_s": n_windows / r["score_s"],
        "samples": det.samples,
        "first_loss": det.history_["total"][0],
        "last_loss": det.history_["total"][-1],
        "last_kl": det.history_["kl"][-1],
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, warm up, and print one line per signal length."""
    parser = speedkit_parser(__doc__.splitlines()[0], '{"latent_size": 8}')
    args = parser.parse_args(argv)
    params = params_from(args, QUICK_PARAMS)
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
        gpu = gpu_cell(r)
        print(
            f"{r['n']:>6} {r['device']:>6} {r['epochs']:>6} {r['train_windows']:>7} "
            f"{r['fit_s']:>7.2f} {r['s_per_epoch']:>8.3f} {r['train_windows_per_s']:>7.0f} "
            f"{r['score_s']:>7.2f} {r['nll_score_s']:>6.2f} "
            f"{r['first_loss']:>8.1f}->{r['last_loss']:<8.1f} {r['last_kl']:>5.1f} "
            f"{r['tracemalloc_peak_mib']:>7.1f} {r['peak_rss_mib']:>8.0f} {gpu}"
        )


if __name__ == "__main__":
    main()
