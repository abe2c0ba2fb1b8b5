"""Shared measuring code of the ``bench_*.py`` speed scripts (imported by them, not a test).

``measure`` fits and scores one detector on one series and returns the seconds (fit, per epoch,
scoring) and the peak memory: Python-level allocations (``tracemalloc``; torch's CPU buffers are
not traced), the process's peak resident set size (``resource.getrusage``, monotonic over the whole
run) and, on CUDA, the peak GPU memory torch allocated. ``run_table`` is the main loop of a
script that measures one detector at several lengths: a warm-up fit, then one table row
(built from ``column`` specs) or JSON line per length.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

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


def measure(det: Any, X: np.ndarray,
            extra: Callable[[Any, np.ndarray], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Fit ``det`` on ``X`` and score ``X``; return timings and peak memory.

    ``extra(det, X)``, when given, runs after the scoring and inside the memory tracing (e.g. a
    second score mode); the dict it returns is merged into the result.
    """
    import torch

    stamps: list[float] = []
    cuda = str(det.get_params().get("device", "auto")) != "cpu" and torch.cuda.is_available()
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
    extras = extra(det, X) if extra is not None else {}
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    epochs = len(stamps)
    epoch_times = np.diff([start, *stamps])
    return {
        "n": len(X),
        "device": det.device_,
        "epochs": epochs,
        "train_windows": det.n_train_windows_,
        "fit_s": fit_s,
        "s_per_epoch": float(np.median(epoch_times)) if epochs else float("nan"),
        "score_s": score_s,
        "finite": bool(np.all(np.isfinite(scores))),
        "tracemalloc_peak_mib": py_peak / 2**20,
        "peak_rss_mib": peak_rss_mib(),
        "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        **extras,
    }


def parser(description: str, set_example: str) -> argparse.ArgumentParser:
    """The options every speed script takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--lengths", default="1000,4000,16000", help="comma-separated lengths")
    p.add_argument("--quick", action="store_true", help="use the registered quick_params")
    p.add_argument("--set", default="{}", help=f"more parameters as JSON, e.g. '{set_example}'")
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    return p


def params_from(args: argparse.Namespace, quick_params: dict) -> dict:
    """Detector overrides from the common options."""
    params: dict = dict(quick_params) if args.quick else {}
    params["device"] = args.device
    if args.epochs is not None:
        params["epochs"] = args.epochs
    params.update(json.loads(args.set))
    return params


def gpu_cell(r: dict[str, Any]) -> str:
    return f"{r['cuda_peak_mib']:8.1f}" if r["cuda_peak_mib"] is not None else f"{'-':>8}"


# -- the growth table of one detector ---------------------------------------------------------
#: A table column: its title, its width, and the function giving a result's cell.
Column = tuple[str, int, Callable[[dict[str, Any]], str]]


def column(title: str, width: int, key: str | Callable[[dict[str, Any]], str],
           spec: str = "") -> Column:
    """A column titled ``title``, right-aligned in ``width`` characters; a result ``r`` has the
    cell ``format(r[key], spec)``, or ``key(r)`` when ``key`` is a function (which pads it)."""
    if callable(key):
        return title, width, key
    return title, width, lambda r: format(r[key], f">{width}{spec}")


def first_last(title: str, first: str, last: str, spec: str, left: int, right: int) -> Column:
    """A ``first->last`` column of two values (e.g. the first and last epoch's loss), ``left``
    and ``right`` characters wide."""
    return title, left + 2 + right, lambda r: f"{r[first]:>{left}{spec}}->{r[last]:<{right}{spec}}"


STEPS = column("steps", 6, "n")
#: The fit columns, after the steps (and a detector's own columns, if any).
FIT_COLUMNS = [
    column("device", 6, "device"),
    column("epochs", 6, "epochs"),
    column("windows", 7, "train_windows"),
    column("fit s", 7, "fit_s", ".2f"),
    column("s/epoch", 8, "s_per_epoch", ".3f"),
]
#: The memory columns that end every table.
MEMORY_COLUMNS = [
    column("py MiB", 7, "tracemalloc_peak_mib", ".1f"),
    column("RSS MiB", 8, "peak_rss_mib", ".0f"),
    column("GPU MiB", 8, gpu_cell),
]


def run_table(args: argparse.Namespace, factory: Callable[..., Any], params: dict, *,
              tiny: dict, summary: Callable[[Any, dict[str, Any]], dict[str, Any]],
              columns: list[Column],
              extra: Callable[[Any, np.ndarray], dict[str, Any]] | None = None) -> None:
    """Measure ``factory(**params)`` at each of ``--lengths`` and print one row per length.

    A one-epoch fit with ``tiny`` parameters on 50 steps runs first, so the one-time costs (torch's
    lazy imports, the first optimiser) are reported apart. Each length ``n`` gets a fresh
    detector, :func:`measure` (with ``extra``) on ``make_series(n, seed=1)``, and the result
    ``{**measured, **summary(detector, measured)}`` (``summary`` may pop what it replaces),
    printed as a row of ``columns`` (or as JSON with ``--json``).
    """
    import torch

    t0 = time.perf_counter()
    factory(**{**params, "epochs": 1, **tiny}).fit(make_series(50))
    warmup = time.perf_counter() - t0
    shown = factory(**params).get_params()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; params {shown}")
    print(f"one-time warm-up (lazy imports, first optimiser): {warmup:.2f} s")
    if not args.json:
        print(" ".join(f"{title:>{width}}" for title, width, _ in columns))
    for n in (int(v) for v in args.lengths.split(",")):
        det = factory(**params)
        r = measure(det, make_series(n, seed=1), extra=extra)
        own = summary(det, r)
        r = {**r, **own}
        print(json.dumps(r) if args.json else " ".join(cell(r) for _, _, cell in columns))
