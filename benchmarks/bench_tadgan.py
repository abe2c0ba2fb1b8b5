"""Speed and memory of the ``tadgan`` and ``gan`` detectors (a script, not a test).

Three measurements:

1. Growth with the signal length: for univariate series of 1,000 / 4,000 / 16,000 steps (sines
   plus noise, scaled to [-1, 1]) each detector is fitted with its reference settings (window 100,
   step 1, batch 64, 5 critic iterations; ``--epochs`` epochs, 2 by default since the per-epoch
   cost is what grows) and scored; the script prints seconds per epoch, training windows per
   second, scoring seconds (DTW error + critic KDE, all vectorised) and peak memory (``speedkit``).
2. ``--nab DATA_DIR``: the paper-profile job on NAB's ``artificialWithAnomaly/art_daily_jumpsup``
   (35 epochs, DTW / mult), run through the harness exactly as ``bench run --profile paper`` runs
   it (load, aggregate to 600 s, fit, score, threshold, metrics); ``--profile fast`` runs the
   fast profile's job instead. The script prints its fit, score and wall times and the process's
   CPU seconds (less sensitive than wall time to other work on the machine), and no speed ratio
   against the reference implementation (Orion's TadGAN pipeline): that needs it run beside this
   one, on the same machine.
3. ``--phases``: where one training minibatch (5 x 64 windows, reference-sized networks) spends
   its time: the 5 critic iterations (Cx and Cz), the E/G step and the rest (the batched E(x),
   G(z) for the critics' fakes), mean of 12 minibatches after 3 of warm-up.

Set ``OMP_NUM_THREADS`` to fix the thread count (torch uses every core by default). The script
tunes glibc's malloc as ``bench run`` does for its jobs (:mod:`benchbench.run.allocator`; set
``BENCHBENCH_MALLOC=default`` to measure without).

Usage::

    python benchmarks/bench_tadgan.py                      # growth table, tadgan and gan
    python benchmarks/bench_tadgan.py --detectors tadgan --lengths 4000 --epochs 5
    python benchmarks/bench_tadgan.py --nab datasets          # the 35-epoch NAB job
    python benchmarks/bench_tadgan.py --nab datasets --profile fast   # its fast-profile job
    python benchmarks/bench_tadgan.py --phases                    # one minibatch's phases
"""

from __future__ import annotations

import json
import time

from benchbench_plugins.tadgan import GAN, QUICK_PARAMS, TadGAN
from speedkit import gpu_cell, make_series, measure, params_from
from speedkit import parser as speedkit_parser

DETECTORS = {"tadgan": TadGAN, "gan": GAN}
NAB_SIGNAL = "artificialWithAnomaly/art_daily_jumpsup"


def bench(name: str, n: int, params: dict) -> dict:
    """Fit and score one ``n``-step series with detector ``name``; return the measurements."""
    det = DETECTORS[name](**params)
    r = measure(det, make_series(n, seed=1))
    return {
        **r,
        "detector": name,
        "train_windows_per_s": det.n_train_windows_ * r["epochs"] / r["fit_s"],
        "first_rec": det.history_["eg_reconstruction"][0],
        "last_rec": det.history_["eg_reconstruction"][-1],
    }


def nab_job(data_dir: str, name: str, device: str, profile: str = "paper") -> dict:
    """Run the ``profile`` job of ``name`` on art_daily_jumpsup; return its timings and F1."""
    from benchbench.config import RunConfig
    from benchbench.plugins import load_registries
    from benchbench.run.pipeline import run_job
    from benchbench.run.planning import plan_jobs

    registries = load_registries(load_entry_points=False)
    import torch

    # the harness pins each job's torch threads (default 1); give this job the script's threads
    config = RunConfig(detectors=[name], datasets=[f"nab:{NAB_SIGNAL}"], profile=profile,
                       data_dir=data_dir, device=device, threads=torch.get_num_threads())
    (job,) = plan_jobs(config, registries)
    start, cpu = time.perf_counter(), time.process_time()
    result = run_job(job, registries)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    record = result.record
    if record["status"] != "ok":
        raise SystemExit(f"{name}: the job failed: {record['error']}")
    overlap = record["metrics"]["overlap"]
    return {"detector": name, "profile": profile, "epochs": record["params"]["epochs"],
            "threads": config.threads, "fit_s": record["fit_seconds"],
            "score_s": record["score_seconds"], "wall_s": wall, "cpu_s": cpu,
            "f1": overlap["f1"], "device": record["device"]}


def phases(minibatches: int = 12) -> dict:
    """Seconds per minibatch of each training phase (wall time, trainer methods timed)."""
    import torch
    from benchbench_plugins.tadgan.network import TadGANNets
    from benchbench_plugins.tadgan.training import AdversarialTrainer

    det = TadGAN()  # the detector's defaults: the reference's settings
    torch.manual_seed(0)
    nets = TadGANNets(det.window_size, 1).train()
    trainer = AdversarialTrainer(nets, loss=det._loss, learning_rate=det.learning_rate,
                                 n_critic=det.n_critic, gp_weight=det._gp_weight(),
                                 rec_weight=det.rec_weight)
    seconds = {"critics": 0.0, "encoder_generator": 0.0}
    critic_steps, eg_step = trainer._critic_steps, trainer._encoder_generator_step

    def timed_critics(*args):
        start = time.perf_counter()
        result = critic_steps(*args)
        seconds["critics"] += time.perf_counter() - start
        return result

    def timed_eg(*args):
        start = time.perf_counter()
        result = eg_step(*args)
        seconds["encoder_generator"] += time.perf_counter() - start
        return result

    trainer._critic_steps, trainer._encoder_generator_step = timed_critics, timed_eg
    size = det.batch_size * det.n_critic
    windows = torch.rand(6 * size, det.window_size, 1) * 2 - 1
    for _ in range(3):
        trainer.minibatch(windows[:size])
    for key in seconds:  # the warm-up does not count
        seconds[key] = 0.0
    start = time.perf_counter()
    for i in range(minibatches):
        trainer.minibatch(windows[(i % 6) * size : (i % 6 + 1) * size])
    total = time.perf_counter() - start
    out = {key: value / minibatches for key, value in seconds.items()}
    out["fakes_and_rest"] = total / minibatches - sum(out.values())
    out["minibatch"] = total / minibatches
    return {"threads": torch.get_num_threads(), **out}


def main(argv: list[str] | None = None) -> None:
    """Parse the options and print the table (or the NAB job's line)."""
    parser = speedkit_parser(__doc__.splitlines()[0], '{"error_type": "point"}')
    parser.set_defaults(epochs=2)
    parser.add_argument("--detectors", default="tadgan,gan", help="tadgan, gan or both")
    parser.add_argument("--nab", metavar="DATA_DIR", default=None,
                        help="run the 35-epoch paper-profile job on NAB's art_daily_jumpsup")
    parser.add_argument("--profile", default="paper", choices=("paper", "fast"),
                        help="the profile of the --nab job [default: paper]")
    parser.add_argument("--phases", action="store_true",
                        help="time the phases of one training minibatch instead")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.detectors.split(",") if n.strip()]

    import torch

    from benchbench.run.allocator import tune_malloc

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, malloc {tune_malloc()}")
    if args.phases:
        r = phases()
        print(json.dumps(r) if args.json else
              f"{r['threads']} thread(s), seconds per minibatch: "
              + ", ".join(f"{key} {value:.3f}" for key, value in r.items() if key != "threads"))
        return
    if args.nab:
        for name in names:
            r = nab_job(args.nab, name, args.device, args.profile)
            print(json.dumps(r) if args.json else
                  f"{name}: {NAB_SIGNAL}, {args.profile} profile ({r['epochs']} epochs) on "
                  f"{r['device']}, {r['threads']} thread(s): fit {r['fit_s']:.1f} s, score "
                  f"{r['score_s']:.1f} s, job {r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s; "
                  f"overlap F1 {r['f1']:.3f} (reference 1.0)")
        return

    params = params_from(args, QUICK_PARAMS)
    t0 = time.perf_counter()
    TadGAN(**{**params, "epochs": 1, "window_size": 20, "encoder_hidden": 4,
              "generator_hidden": 4}).fit(make_series(200))
    print(f"one-time warm-up (lazy imports, first optimiser): {time.perf_counter() - t0:.2f} s")
    print(f"params {TadGAN(**params).get_params()}")
    if not args.json:
        print(f"{'detector':>8} {'steps':>6} {'device':>6} {'epochs':>6} {'windows':>7} "
              f"{'fit s':>7} {'s/epoch':>8} {'win/s':>6} {'score s':>7} "
              f"{'rec loss first->last':>21} {'py MiB':>7} {'RSS MiB':>8} {'GPU MiB':>8}")
    for name in names:
        for n in (int(v) for v in args.lengths.split(",")):
            r = bench(name, n, params)
            if args.json:
                print(json.dumps(r))
                continue
            print(f"{name:>8} {r['n']:>6} {r['device']:>6} {r['epochs']:>6} "
                  f"{r['train_windows']:>7} {r['fit_s']:>7.2f} {r['s_per_epoch']:>8.2f} "
                  f"{r['train_windows_per_s']:>6.0f} {r['score_s']:>7.2f} "
                  f"{r['first_rec']:>10.4f}->{r['last_rec']:<9.4f} "
                  f"{r['tracemalloc_peak_mib']:>7.1f} {r['peak_rss_mib']:>8.0f} {gpu_cell(r)}")


if __name__ == "__main__":
    main()
