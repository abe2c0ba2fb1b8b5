"""Speed and memory of the ``autoencoder`` detector (a script, not a test).

For univariate signals of 1,000 / 4,000 / 16,000 steps (sines plus noise, scaled to [-1, 1]) it
fits the detector with its default hyperparameters (``--epochs`` and ``--device`` override) and
prints seconds per epoch, training windows per second, the scoring time and the peak memory:
Python-level allocations (``tracemalloc``; torch's CPU buffers are not traced), the process's peak
resident set size (``resource.getrusage``, monotonic over the whole run) and, on CUDA, the peak
GPU memory torch allocated. A small warm-up fit runs first so one-time costs (torch's lazy imports,
about 1.5 s on the first optimiser) are reported apart.

Usage::

    python benchmarks/bench_autoencoder.py
    python benchmarks/bench_autoencoder.py --epochs 5 --device cpu --lengths 1000,4000
    python benchmarks/bench_autoencoder.py --quick        # the registered quick_params
"""

from __future__ import annotations

import json
import time

from benchbench_plugins.autoencoder import QUICK_PARAMS, LSTMAutoencoder
from speedkit import gpu_cell, make_series, measure, params_from
from speedkit import parser as speedkit_parser


def bench(n: int, params: dict) -> dict:
    """Fit and score one ``n``-step series; return the measurements."""
    det = LSTMAutoencoder(**params)
    r = measure(det, make_series(n, seed=1))
    return {
        **r,
        "train_windows_per_s": det.n_train_windows_ * r["epochs"] / r["fit_s"],
        "score_windows_per_s": (n - det.window_size + 1) / r["score_s"],
        "first_loss": det.history_["reconstruction"][0],
        "last_loss": det.history_["reconstruction"][-1],
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, warm up, and print one line per signal length."""
    parser = speedkit_parser(__doc__.splitlines()[0], '{"hidden_size": 60}')
    args = parser.parse_args(argv)

    params = params_from(args, QUICK_PARAMS)

    import torch

    t0 = time.perf_counter()
    LSTMAutoencoder(**{**params, "epochs": 1, "window_size": 10, "hidden_size": 4}).fit(
        make_series(50)
    )
    warmup = time.perf_counter() - t0
    shown = {k: v for k, v in LSTMAutoencoder(**params).get_params().items()}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; params {shown}")
    print(f"one-time warm-up (lazy imports, first optimiser): {warmup:.2f} s")
    if not args.json:
        print(
            f"{'steps':>6} {'device':>6} {'epochs':>6} {'windows':>7} {'fit s':>7} {'s/epoch':>8} "
            f"{'win/s':>7} {'score s':>7} {'loss first->last':>17} {'py MiB':>7} {'RSS MiB':>8} "
            f"{'GPU MiB':>8}"
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
            f"{r['score_s']:>7.2f} {r['first_loss']:>8.4f}->{r['last_loss']:<7.4f} "
            f"{r['tracemalloc_peak_mib']:>7.1f} {r['peak_rss_mib']:>8.0f} {gpu}"
        )


if __name__ == "__main__":
    main()
