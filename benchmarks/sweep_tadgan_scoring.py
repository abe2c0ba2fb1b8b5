"""TadGAN's scoring choices on the same trained networks (a script, not a test).

For each signal of a dataset and each seed it trains ``tadgan`` or ``gan`` once, with the
default profile's settings (``CPU_PARAMS``) and the random state ``bench run`` gives that job,
then scores the test part under every combination of

* reconstruction error ``point``, ``area`` or ``dtw``,
* combination with the critic score ``mult``, ``sum`` or ``rec`` (reconstruction only),
* smoothing ``0.01`` (the default: a moving average over 1 % of the windows) or none,

thresholds each with the run's default rule (``window``) and counts the overlap tp / fp / fn. It
prints, per variant, the overlap F1 micro over the signals (mean over the seeds) and the mean
VUS-PR; the variant ``0.01/dtw/mult`` is what ``bench run`` scores today (its counts equal the
run's). Training dominates the cost: one default-profile job per signal and seed.

Usage::

    python benchmarks/sweep_tadgan_scoring.py --detector tadgan --seeds 0,1,2
    python benchmarks/sweep_tadgan_scoring.py --detector gan --signals spikes_1,clean_1
    python benchmarks/sweep_tadgan_scoring.py --detector tadgan --dataset nab:Art \\
        --data-dir datasets --seeds 0,1,2 --out art.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from benchbench_plugins.tadgan import CPU_PARAMS, GAN, TadGAN, scoring

from benchbench.data.preprocessing import preprocess, unroll_windows
from benchbench.evaluation.metrics import overlap_segment
from benchbench.evaluation.score_metrics import labels_from_intervals, vus
from benchbench.evaluation.thresholding import apply_threshold
from benchbench.plugins import load_registries
from benchbench.report.render import to_markdown
from benchbench.run.jobs import derive_random_state
from benchbench.run.planning import open_dataset

DETECTORS = {"tadgan": TadGAN, "gan": GAN}


def variants(det, arr: np.ndarray):
    """``(smoothing, error, combination, scores)`` for every variant, from one forward pass."""
    recon_windows, critic = det._windows_out(arr)
    recon = unroll_windows(recon_windows, len(arr), 1, reducer="median")
    for smoothing in (0.01, 0.0):
        smooth = max(1, int(smoothing * len(critic)))
        critic_score = scoring.critic_zscore(
            scoring.critic_per_timestep(critic, int(det.window_size)), smooth)
        for error in scoring.ERROR_TYPES:
            errors = scoring.reconstruction_errors(arr, recon, error, int(det.score_window),
                                                   smooth)
            for combination in scoring.COMBINATIONS:
                yield smoothing, error, combination, scoring.combine_scores(
                    critic_score, errors, combination, float(det.lambda_rec))


def sweep(detector: str, dataset_spec: str, data_dir: Path, seeds: list[int],
          signals: list[str] | None = None, epochs: int | None = None) -> list[dict]:
    """One row per (seed, signal, variant): overlap counts and VUS-PR; ``signals``: only these
    of the dataset (their random states stay the dataset's); ``epochs``: instead of the default
    profile's."""
    params = {**CPU_PARAMS, **({"epochs": epochs} if epochs else {})}
    dataset = open_dataset(dataset_spec, data_dir, load_registries())
    names = [n for n in dataset.signal_names() if not signals or n in signals]
    rows = []
    for seed in seeds:
        for name in names:
            signal = dataset.load_signal(name)
            prepared = preprocess(signal)
            det = DETECTORS[detector](**params, device="cpu", random_state=derive_random_state(
                seed, dataset_spec, name, detector))
            det.fit(prepared.train)
            arr = det._validate(prepared.test, fitting=False)
            labels = labels_from_intervals(signal.anomalies, prepared.test_index)
            two_class = bool(labels.any() and not labels.all())
            for smoothing, error, combination, scores in variants(det, arr):
                detected = apply_threshold("window", scores, prepared.test_index)
                tp, fp, fn = overlap_segment(signal.anomalies, detected,
                                             prepared.test_index).counts()
                rows.append({"seed": seed, "signal": name,
                             "variant": f"{smoothing}/{error}/{combination}", "tp": tp,
                             "fp": fp, "fn": fn,
                             "vus_pr": vus(scores, labels).pr if two_class else np.nan})
            print(f"seed {seed} {name}: trained and scored", flush=True)
    return rows


def summary(rows: list[dict]) -> pd.DataFrame:
    """Per variant: overlap F1 micro per seed, its mean and std over seeds, mean VUS-PR."""
    frame = pd.DataFrame(rows)
    per_seed = frame.groupby(["variant", "seed"])[["tp", "fp", "fn"]].sum()
    per_seed["f1"] = 2 * per_seed.tp / (2 * per_seed.tp + per_seed.fp + per_seed.fn)
    f1 = per_seed.f1.unstack("seed")
    out = pd.DataFrame({"f1_mean": f1.mean(axis=1), "f1_std": f1.std(axis=1, ddof=0)})
    for seed in f1.columns:
        out[f"f1_seed{seed}"] = f1[seed]
    out["vus_pr"] = frame.groupby("variant").vus_pr.mean()
    return out.sort_values("f1_mean", ascending=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", default="tadgan", choices=sorted(DETECTORS))
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--data-dir", type=Path, default=Path("datasets"))
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--signals", default="", help="comma-separated: only these signals")
    parser.add_argument("--epochs", type=int, default=None,
                        help="train this many epochs instead of the default profile's")
    parser.add_argument("--out", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # as bench run's jobs (--threads 1)
    rows = sweep(args.detector, args.dataset, args.data_dir,
                 [int(s) for s in args.seeds.split(",")],
                 [s for s in args.signals.split(",") if s], args.epochs)
    if args.out:
        args.out.write_text(json.dumps(rows, default=float))
    print(to_markdown(summary(rows).round(3).reset_index()))


if __name__ == "__main__":
    main()
