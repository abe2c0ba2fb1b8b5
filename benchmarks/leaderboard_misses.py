"""What the detectors missed and what they falsely flagged, per signal (a script, not a test).

For the run folders or results files given (any mix: the leaderboard's runs, or the trimmed
``docs/leaderboard/NAME.csv`` files that ``bench leaderboard add`` keeps), one dataset and some
detectors, it prints a Markdown table with one row per signal: the labelled windows in the test
part and, per detector, the overlap counts summed over the seeds it has ok jobs for: found (tp),
missed (fn) and falsely flagged (fp), with the overlap F1 of those sums. A last row sums every
signal.
With ``--plot SIGNAL`` it also draws that signal's figure (benchbench's per-signal plot: the test
values with the labelled windows, then each detector's scores and detections, lowest seed) to
``--plot-out``, as a 64-colour PNG; the scores it draws are in run folders only.

It is how docs/benchmarks.md explains the leaderboard goals a detector misses.

Usage::

    python benchmarks/leaderboard_misses.py RUN_DIR|RESULTS.csv [...] --dataset nab:AdEx \\
        --detectors lstm_ar,zscore [--plot realAdExchange/exchange-2_cpc_results \\
        --plot-out docs/img/adex_lstm_ar.png]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchbench.evaluation.metrics import HEADLINE, MetricResult
from benchbench.report.aggregate import job_metric
from benchbench.report.leaderboard import load_results
from benchbench.report.plots import plot_signal
from benchbench.run.records import RunStore


def _from_results_file(path: Path, dataset: str, detectors: list[str]) -> list[dict[str, Any]]:
    """The ok rows of ``dataset`` x ``detectors`` of a results file as records holding their
    overlap ``counts`` (``(tp, fn, fp)``) and no scores."""
    frame = load_results(path).frame
    chosen = frame[(frame["dataset"] == dataset) & frame["detector"].isin(detectors)
                   & (frame["status"] == "ok")]
    return [{"signal": row.signal, "detector": row.detector, "seed": int(row.seed),
             "counts": (round(row.overlap_tp), round(row.overlap_fn), round(row.overlap_fp))}
            for row in chosen.itertuples()]


def load(sources: list[Path], dataset: str, detectors: list[str]) -> list[dict[str, Any]]:
    """The ok records of ``dataset`` x ``detectors`` in ``sources`` (run folders, whose score
    paths are made absolute so one figure can draw records of several runs, or results files)."""
    out = []
    for source in sources:
        if source.is_file():
            out += _from_results_file(source, dataset, detectors)
            continue
        for rec in RunStore(source).load_records():
            if (rec.get("dataset") != dataset or rec.get("detector") not in detectors
                    or rec.get("status") != "ok"):
                continue
            artifacts = dict(rec.get("artifacts") or {})
            if "scores" in artifacts:
                artifacts["scores"] = str((source / artifacts["scores"]).resolve())
            out.append({**rec, "artifacts": artifacts})
    return out


def counts(rec: dict[str, Any]) -> tuple[int, int, int]:
    """``(tp, fn, fp)`` of one record's overlap metric."""
    if "counts" in rec:
        return rec["counts"]
    tp, fp, fn = (round(v) for v in job_metric(rec, HEADLINE).counts())
    return tp, fn, fp


def table(records: list[dict[str, Any]], detectors: list[str]) -> str:
    """The Markdown table described in the module docstring."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    seeds: dict[tuple[str, str], set[int]] = defaultdict(set)
    windows: dict[str, int] = {}
    for rec in records:
        key = (rec["signal"], rec["detector"])
        for i, value in enumerate(counts(rec)):
            cells[key][i] += value
        seeds[key].add(int(rec["seed"]))
        tp, fn, _ = counts(rec)
        windows[rec["signal"]] = len(rec["expected"] or []) if "expected" in rec else tp + fn
    head = ["signal", "windows"] + [f"{d} found/missed/false (F1)" for d in detectors]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    total = {d: [0, 0, 0] for d in detectors}

    def cell(tp: int, fn: int, fp: int) -> str:
        f1 = MetricResult.from_counts(tp, fp, fn).f1
        return f"{tp}/{fn}/{fp} ({f1:.2f})"

    for signal in sorted(windows):
        row = [signal, str(windows[signal])]
        for det in detectors:
            if (signal, det) not in cells:
                row.append("not run")
                continue
            tp, fn, fp = cells[signal, det]
            total[det] = [a + b for a, b in zip(total[det], (tp, fn, fp))]
            row.append(cell(tp, fn, fp))
        lines.append("| " + " | ".join(row) + " |")
    n_seeds = {d: sorted({s for (_, det), ss in seeds.items() if det == d for s in ss})
               for d in detectors}
    lines.append("| all | " + str(sum(windows.values())) + " | "
                 + " | ".join(cell(*total[d]) if n_seeds[d] else "not run" for d in detectors)
                 + " |")
    lines.append("")
    lines.append("Counts summed over the seeds " + "; ".join(
        f"{d}: {', '.join(map(str, n_seeds[d])) or 'none'}" for d in detectors)
        + " (windows: per seed).")
    return "\n".join(lines)


def small_png(path: Path) -> None:
    """Rewrite the PNG at ``path`` with a 64-colour palette (a third of the size; the plots use
    a few colours) when Pillow, which matplotlib installs, is there."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - matplotlib depends on Pillow
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", type=Path, metavar="RUN_DIR|RESULTS.csv")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--detectors", required=True, help="comma-separated")
    parser.add_argument("--plot", default=None, metavar="SIGNAL")
    parser.add_argument("--plot-out", type=Path, default=Path("misses.png"))
    args = parser.parse_args(argv)
    detectors = [d.strip() for d in args.detectors.split(",") if d.strip()]
    records = load(args.sources, args.dataset, detectors)
    if not records:
        raise SystemExit(f"no ok records of {args.dataset} x {', '.join(detectors)} in "
                         f"{', '.join(map(str, args.sources))}")
    print(table(records, detectors))
    if args.plot:
        chosen = [r for r in records if r["signal"] == args.plot and "artifacts" in r]
        if not chosen:
            raise SystemExit(f"--plot {args.plot}: no ok record of that signal in a run folder")
        run_dir = next(p for p in args.sources if p.is_dir())
        plot_signal(run_dir, chosen, args.plot_out)
        small_png(args.plot_out)
        print(f"\nwrote {args.plot_out}")


if __name__ == "__main__":
    main()
