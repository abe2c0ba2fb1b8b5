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

import json
import time

from benchbench_plugins.lstm_ar import QUICK_PARAMS, LSTMAutoregressive
from speedkit import gpu_cell, make_series, measure, params_from
from speedkit import parser as speedkit_parser


def bench(n: int, params: dict) -> dict:
    """Fit and score one ``n``-step series; return the measurements."""
    det = LSTMAutoregressive(**params)
    r = measure(det, make_series(n, seed=1))
    train_steps = det.n_train_windows_ * int(det.seq_len) * r["epochs"]
    return {
        **r,
        "head": det.head,
        "train_steps_per_s": train_steps / r["fit_s"],
        "score_steps_per_s": n / r["score_s"],
        "first_nll": det.history_["nll"][0],
        "last_nll": det.history_["nll"][-1],
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, warm up, and print one line per signal length."""
    parser = speedkit_parser(__doc__.splitlines()[0], '{"hidden_size": 64}')
    parser.add_argument("--head", default=None, help="categorical or mog (default: the default)")
    args = parser.parse_args(argv)

    params = params_from(args, QUICK_PARAMS)

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
        gpu = gpu_cell(r)
        print(
            f"{r['n']:>6} {r['head']:>11} {r['device']:>6} {r['epochs']:>6} "
            f"{r['train_windows']:>7} {r['fit_s']:>7.2f} {r['s_per_epoch']:>8.3f} "
            f"{r['train_steps_per_s']:>10.0f} {r['score_s']:>7.2f} {r['score_steps_per_s']:>10.0f} "
            f"{r['first_nll']:>7.3f}->{r['last_nll']:<7.3f} "
            f"{r['tracemalloc_peak_mib']:>7.1f} {r['peak_rss_mib']:>8.0f} {gpu}"
        )


if __name__ == "__main__":
    main()
