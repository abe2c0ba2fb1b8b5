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

from benchbench_plugins.autoencoder import QUICK_PARAMS, LSTMAutoencoder
from speedkit import FIT_COLUMNS, MEMORY_COLUMNS, STEPS, column, first_last, params_from, run_table
from speedkit import parser as speedkit_parser

COLUMNS = [
    STEPS,
    *FIT_COLUMNS,
    column("win/s", 7, "train_windows_per_s", ".0f"),
    column("score s", 7, "score_s", ".2f"),
    first_last("loss first->last", "first_loss", "last_loss", ".4f", 8, 7),
    *MEMORY_COLUMNS,
]


def summary(det: LSTMAutoencoder, r: dict) -> dict:
    """The autoencoder's own measurements of one fitted and scored series."""
    return {
        "train_windows_per_s": det.n_train_windows_ * r["epochs"] / r["fit_s"],
        "score_windows_per_s": (r["n"] - det.window_size + 1) / r["score_s"],
        "first_loss": det.history_["reconstruction"][0],
        "last_loss": det.history_["reconstruction"][-1],
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, warm up, and print one line per signal length."""
    args = speedkit_parser(__doc__.splitlines()[0], '{"hidden_size": 60}').parse_args(argv)
    run_table(args, LSTMAutoencoder, params_from(args, QUICK_PARAMS),
              tiny={"window_size": 10, "hidden_size": 4}, summary=summary, columns=COLUMNS)


if __name__ == "__main__":
    main()
