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

from benchbench_plugins.lstm_ar import QUICK_PARAMS, LSTMAutoregressive
from speedkit import FIT_COLUMNS, MEMORY_COLUMNS, STEPS, column, first_last, params_from, run_table
from speedkit import parser as speedkit_parser

COLUMNS = [
    STEPS,
    column("head", 11, "head"),
    *FIT_COLUMNS,
    column("train st/s", 10, "train_steps_per_s", ".0f"),
    column("score s", 7, "score_s", ".2f"),
    column("score st/s", 10, "score_steps_per_s", ".0f"),
    first_last("nll first->last", "first_nll", "last_nll", ".3f", 7, 7),
    *MEMORY_COLUMNS,
]


def summary(det: LSTMAutoregressive, r: dict) -> dict:
    """The LSTM-AR's own measurements of one fitted and scored series."""
    return {
        "head": det.head,
        "train_steps_per_s": det.n_train_windows_ * int(det.seq_len) * r["epochs"] / r["fit_s"],
        "score_steps_per_s": r["n"] / r["score_s"],
        "first_nll": det.history_["nll"][0],
        "last_nll": det.history_["nll"][-1],
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, warm up, and print one line per signal length."""
    parser = speedkit_parser(__doc__.splitlines()[0], '{"hidden_size": 64}')
    parser.add_argument("--head", default=None, help="categorical or mog (default: the default)")
    args = parser.parse_args(argv)
    params = params_from(args, QUICK_PARAMS)
    if args.head is not None:
        params["head"] = args.head
    run_table(args, LSTMAutoregressive, params,
              tiny={"seq_len": 10, "hidden_size": 4, "num_layers": 1}, summary=summary,
              columns=COLUMNS)


if __name__ == "__main__":
    main()
