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

import time
from typing import Any

import numpy as np
from benchbench_plugins.vae import LSTMVAE, QUICK_PARAMS
from speedkit import FIT_COLUMNS, MEMORY_COLUMNS, STEPS, column, first_last, params_from, run_table
from speedkit import parser as speedkit_parser

COLUMNS = [
    STEPS,
    *FIT_COLUMNS,
    column("win/s", 7, "train_windows_per_s", ".0f"),
    column("score s", 7, "score_s", ".2f"),
    column("nll s", 6, "nll_score_s", ".2f"),
    first_last("-ELBO first->last", "first_loss", "last_loss", ".1f", 8, 8),
    column("KL", 5, "last_kl", ".1f"),
    *MEMORY_COLUMNS,
]


def _time_nll(det: LSTMVAE, X: np.ndarray) -> dict[str, Any]:
    """Score ``X`` again with ``score_mode="nll"`` (inside ``measure``'s memory tracing)."""
    det.set_params(score_mode="nll")
    t0 = time.perf_counter()
    scores = det.score(X)
    return {"nll_score_s": time.perf_counter() - t0,
            "nll_finite": bool(np.all(np.isfinite(scores)))}


def summary(det: LSTMVAE, r: dict) -> dict:
    """The VAE's own measurements of one fitted series scored in both modes."""
    return {
        "finite": r["finite"] and r.pop("nll_finite"),
        "train_windows_per_s": det.n_train_windows_ * r["epochs"] / r["fit_s"],
        "score_windows_per_s": (r["n"] - det.window_size + 1) / r["score_s"],
        "samples": det.samples,
        "first_loss": det.history_["total"][0],
        "last_loss": det.history_["total"][-1],
        "last_kl": det.history_["kl"][-1],
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, warm up, and print one line per signal length."""
    args = speedkit_parser(__doc__.splitlines()[0], '{"latent_size": 8}').parse_args(argv)
    params = {**params_from(args, QUICK_PARAMS), "score_mode": "reconstruction"}  # then "nll"
    run_table(args, LSTMVAE, params,
              tiny={"window_size": 10, "hidden_size": 4, "latent_size": 2}, summary=summary,
              columns=COLUMNS, extra=_time_nll)


if __name__ == "__main__":
    main()
