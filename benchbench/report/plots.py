"""Figures of a run: one per signal, a heatmap of one metric (overlap F1 by default), F1 against
fit time, the per-seed spread and the loss curves.

Everything is drawn from the job records and the score artifacts they point to (``npz`` files
relative to the run folder, holding ``index (n,)``, ``values (n, c)`` and ``scores (n,)``), in a
fixed order, so a resumed or merged run draws the same figures. matplotlib is imported inside the
functions (with the non-interactive ``Agg`` backend), never at module import, and every figure is
closed after it is saved.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import textwrap
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchbench.evaluation.metrics import HEADLINE
from benchbench.files import safe_name
from benchbench.report.aggregate import (
    SCORE_KEY,
    SCORE_METRICS,
    dataset_table,
    job_metric,
    job_score,
    metric_label,
    metric_table,
    resolve_metric,
    seed_table,
    sort_records,
)

__all__ = [
    "ScoresError",
    "load_scores",
    "plot_signal",
    "plot_f1_heatmap",
    "plot_quality_vs_cost",
    "plot_loss_curves",
    "plot_seed_spread",
    "signal_plot_path",
    "write_plots",
]

DPI = 100
LABEL_COLOR = "tab:red"
DETECTED_COLOR = "tab:blue"
MAX_CHANNELS = 8

def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    """Save ``fig`` as a PNG at ``path`` atomically (temporary file, then ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=DPI)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@contextlib.contextmanager
def _figure(path: Path, *args: Any, **kwargs: Any) -> Iterator[tuple[Any, Any, Any]]:
    """``plt.subplots(*args, **kwargs)`` as ``(plt, fig, axes)``; on leaving the block the figure
    is laid out and saved to ``path`` (atomically), and closed in any case.

    Text is never parsed as mathtext, so a name from a data file holding ``$`` is drawn as it is
    instead of failing the figure (log axes get plain tick labels, see :func:`_plain_log_ticks`)."""
    plt = _pyplot()
    with plt.rc_context({"text.parse_math": False}):
        fig, axes = plt.subplots(*args, **kwargs)
        try:
            yield plt, fig, axes
            _plain_log_ticks(fig)
            fig.tight_layout()
            _save(fig, Path(path))
        finally:
            plt.close(fig)


def _plain_log_ticks(fig: Any) -> None:
    """Give every log-scaled axis of ``fig`` plain tick labels (``0.1``, ``1``, ``10``).

    Matplotlib's default log formatter writes mathtext (``$\\mathdefault{10^{0}}$``), which comes
    out verbatim with ``text.parse_math`` off, as :func:`_figure` sets it.
    """
    from matplotlib import ticker

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for get, set_ in ((axis.get_major_formatter, axis.set_major_formatter),
                              (axis.get_minor_formatter, axis.set_minor_formatter)):
                fmt = get()
                if isinstance(fmt, ticker.LogFormatterMathtext):
                    set_(ticker.LogFormatter(base=axis.get_transform().base,
                                             labelOnlyBase=fmt.labelOnlyBase,
                                             minor_thresholds=fmt.minor_thresholds))


def _first_line(text: Any, limit: int = 140) -> str:
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
    line = lines[0] if lines else "unknown error"
    return line if len(line) <= limit else line[: limit - 1] + "…"


class ScoresError(ValueError):
    """A job's score artifact cannot be used: ``path`` (``None`` when the record names none) and
    ``reason``; the message names both."""

    def __init__(self, path: Path | None, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(reason if path is None else f"{path}: {reason}")


def load_scores(run_dir: Path | str, rec: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A job's score artifact (``scores/<job>.npz`` as the record's ``artifacts`` name it) as
    ``{"index": (n,) float, "values": (n, c) float, "scores": (n,) float}``.

    Raises:
        ScoresError: the record names no artifact, or the file is absent, not an npz archive
            (truncated, corrupt), lacks one of the three arrays, holds non-numbers, or its arrays
            differ in length.
    """
    rel = (rec.get("artifacts") or {}).get("scores")
    if not rel:
        raise ScoresError(None, "the record names no scores file")
    path = Path(run_dir) / rel
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {}
            for name in ("index", "values", "scores"):
                if name not in npz.files:
                    raise ScoresError(path, f"no array {name!r} in the archive")
                arrays[name] = np.asarray(npz[name], dtype=float)
    except FileNotFoundError:
        raise ScoresError(path, "no such file") from None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ScoresError(path, f"not a readable npz archive (truncated or corrupt: {exc})"
                          ) from None
    except ScoresError:
        raise
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ScoresError(path, f"cannot be read: {type(exc).__name__}: {exc}") from None
    index, values = arrays["index"].reshape(-1), arrays["values"]
    scores = arrays["scores"].reshape(-1)
    if values.ndim == 1:
        values = values[:, None]
    elif values.ndim > 2:
        values = values.reshape(len(values), -1)
    if not len(index) == len(values) == len(scores):
        raise ScoresError(path, f"its arrays differ in length (index {len(index)}, values "
                          f"{len(values)}, scores {len(scores)})")
    return {"index": index, "values": values, "scores": scores}


def _load_scores(run_dir: Path, rec: Mapping[str, Any]) -> tuple[dict[str, np.ndarray] | None, str]:
    """:func:`load_scores` for a figure: ``(arrays, "")`` or ``(None, reason)``."""
    try:
        return load_scores(run_dir, rec), ""
    except ScoresError as exc:
        return None, f"scores unavailable: {exc.reason}"


def _shade(ax: Any, intervals: Iterable[Sequence[float]], color: str, alpha: float) -> None:
    """Shade ``[start, end]`` intervals on ``ax`` (a zero-width one as a vertical line)."""
    for item in intervals or []:
        try:
            start, end = float(item[0]), float(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        if end > start:
            ax.axvspan(start, end, color=color, alpha=alpha, lw=0)
        else:
            ax.axvline(start, color=color, alpha=min(1.0, 3 * alpha), lw=1)


def _plain_x(ax: Any) -> None:
    """Write x tick labels in full (no ``1e9`` offset), when the formatter allows it."""
    try:
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    except AttributeError:
        pass


def _f1_text(rec: Mapping[str, Any]) -> str:
    res = job_metric(rec, HEADLINE)
    if res is not None:
        return f"{res.f1:.3f}"
    stored = ((rec.get("metrics") or {}).get(HEADLINE) or {}).get("f1")
    return "n/a" if stored is None else f"{float(stored):.3f}"


def _panel_title(det: str, rec: Mapping[str, Any]) -> str:
    """``det (seed s): overlap F1 0.500``, then ``, VUS-PR 0.812`` when the job has it."""
    title = f"{det} (seed {rec.get('seed')}): {HEADLINE} F1 {_f1_text(rec)}"
    vus_pr = job_score(rec, "vus_pr") if rec.get(SCORE_KEY) else math.nan
    return title if math.isnan(vus_pr) else f"{title}, {metric_label('vus_pr')} {vus_pr:.3f}"


def _message(ax: Any, text: str, color: str = "0.3") -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=color,
        fontsize=10,
        wrap=True,
    )
    ax.set_yticks([])


def plot_signal(run_dir: Path, records_for_signal: list[dict], path: Path) -> None:
    """Draw one signal's figure to ``path`` (PNG).

    The top panel shows the signal's (scaled) test values against the index with the labelled
    intervals shaded red; below it one panel per detector (its lowest seed's job) with the score
    trace and the detected intervals shaded blue (labelled intervals faintly red for reference),
    titled with the detector, its overlap F1 and, when the record carries the score-based metrics,
    its VUS-PR. A failed job's panel reads
    ``failed: <first line of the error>`` (a missing job's ``missing: no record``); a job whose
    score artifact is missing says so. The values come from the first ok job (by detector, seed)
    whose artifact loads.

    Args:
        run_dir: the run folder that artifact paths are relative to.
        records_for_signal: the records of one (dataset, signal), any detectors and seeds.
        path: the PNG to write (its folder is created).
    """
    recs = sort_records(records_for_signal)
    if not recs:
        raise ValueError("plot_signal needs at least one record")
    first = recs[0]
    dataset, signal = str(first.get("dataset", "")), str(first.get("signal", ""))
    kind = next((str(r["kind"]) for r in recs if r.get("kind")), "")
    expected = next((r.get("expected") for r in recs if r.get("expected")), []) or []

    chosen: dict[str, Mapping[str, Any]] = {}
    for rec in recs:  # sorted by detector then seed: the first one seen is the lowest seed
        chosen.setdefault(str(rec.get("detector", "")), rec)
    detectors = sorted(chosen)

    loaded: dict[str, tuple[dict[str, np.ndarray] | None, str]] = {}
    for det in detectors:
        if chosen[det].get("status") == "ok":
            loaded[det] = _load_scores(run_dir, chosen[det])
    base = next((d for d, _ in loaded.values() if d is not None), None)
    if base is None:  # no chosen job loads: try any other ok job of the signal
        for rec in recs:
            if rec.get("status") == "ok":
                base, _ = _load_scores(run_dir, rec)
                if base is not None:
                    break

    from matplotlib.patches import Patch

    n_panels = 1 + len(detectors)
    heights = [1.4] + [1.0] * len(detectors)
    with _figure(
        path,
        n_panels,
        1,
        sharex=True,
        figsize=(12, 1.2 + 2.2 * sum(heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    ) as (_, fig, axes):
        axes = axes[:, 0]
        title = f"{dataset} / {signal}" + (f" ({kind})" if kind else "")
        fig.suptitle(title, fontsize=13)

        ax = axes[0]
        if base is None:
            _message(ax, "test values unavailable (no readable scores artifact)")
        else:
            values = base["values"]
            n_ch = values.shape[1]
            shown = min(n_ch, MAX_CHANNELS)
            for j in range(shown):
                ax.plot(
                    base["index"],
                    values[:, j],
                    lw=0.8,
                    color="black" if shown == 1 else None,
                    alpha=1.0 if shown == 1 else 0.8,
                )
            ylabel = "value" if n_ch == 1 else f"values ({shown} of {n_ch} ch.)"
            ax.set_ylabel(ylabel)
        _shade(ax, expected, LABEL_COLOR, 0.2)
        ax.set_title("test values and labelled anomalies", fontsize=10, loc="left")
        ax.legend(
            handles=[
                Patch(color=LABEL_COLOR, alpha=0.3, label="labelled anomaly"),
                Patch(color=DETECTED_COLOR, alpha=0.35, label="detected"),
            ],
            loc="upper right",
            fontsize=8,
            framealpha=0.8,
        )

        for ax, det in zip(axes[1:], detectors):
            rec = chosen[det]
            seed = rec.get("seed")
            if rec.get("status") != "ok":
                ax.set_title(f"{det} (seed {seed})", fontsize=10, loc="left")
                status = "missing" if rec.get("status") == "missing" else "failed"
                text = textwrap.fill(f"{status}: {_first_line(rec.get('error'), 220)}", 110)
                _message(ax, text, color="tab:red")
                ax.set_facecolor("0.96")
                continue
            data, reason = loaded.get(det, (None, "no scores"))
            ax.set_title(_panel_title(det, rec), fontsize=10, loc="left")
            _shade(ax, expected, LABEL_COLOR, 0.1)
            _shade(ax, [d[:2] for d in rec.get("detected") or []], DETECTED_COLOR, 0.3)
            if data is None:
                _message(ax, reason)
            else:
                ax.plot(data["index"], data["scores"], lw=0.8, color="0.15")
                ax.set_ylabel("score")

        if base is not None and len(base["index"]):
            axes[-1].set_xlim(float(base["index"][0]), float(base["index"][-1]))
        for ax in axes:
            _plain_x(ax)
            ax.margins(x=0)
        axes[-1].set_xlabel("index")


def plot_f1_heatmap(records: Iterable[Mapping[str, Any]], path: Path,
                    metric: str = HEADLINE) -> bool:
    """Draw a detector x dataset heatmap of ``metric`` (mean over seeds) to ``path``.

    ``metric`` is any name :func:`benchbench.report.aggregate.resolve_metric` accepts: an
    interval metric (``overlap``, the default, or ``overlap_f1``), shown by its micro F1, or a
    score-based one (``vus_pr``), a mean over signals per seed
    (:func:`benchbench.report.aggregate.metric_table`). Cells are annotated with the value
    (``± std`` with several seeds, and the number of failed and missing jobs when any); the
    colour scale is fixed to 0..1. A cell without any ok job reads ``failed`` (``missing`` when
    no job failed; ``-`` with no job). Returns ``False`` (writing nothing) when there are no
    records.

    Raises:
        ValueError: an unknown ``metric``; the message lists the valid ones.
    """
    recs = sort_records(records)
    metric = resolve_metric(metric, recs)
    df = metric_table(recs, metric)
    if df.empty:
        return False
    datasets = sorted(df["dataset"].unique())
    detectors = sorted(df["detector"].unique())
    grid = np.full((len(detectors), len(datasets)), np.nan)
    notes: dict[tuple[int, int], str] = {}
    micro, std = "value", "std"
    label = metric_label(metric)
    how = "mean over signals" if metric in SCORE_METRICS else "micro over signals"
    for _, row in df.iterrows():
        i, j = detectors.index(row["detector"]), datasets.index(row["dataset"])
        n_ok, failed, missing = int(row["ok_seeds"]), int(row["failed"]), int(row["missing"])
        if n_ok == 0:
            notes[(i, j)] = "failed" if failed else "missing"
            continue
        grid[i, j] = float(row[micro])
        text = "n/a" if math.isnan(grid[i, j]) else f"{grid[i, j]:.3f}"
        if n_ok > 1 and not math.isnan(float(row[std])):
            text += f"\n± {float(row[std]):.3f}"
        if failed:
            text += f"\n({failed} failed)"
        if missing:
            text += f"\n({missing} missing)"
        notes[(i, j)] = text

    width = min(24.0, 3.0 + 1.5 * len(datasets))
    height = min(20.0, 1.8 + 0.75 * len(detectors))
    with _figure(path, figsize=(max(6.0, width), max(3.5, height))) as (plt, fig, ax):
        cmap = plt.get_cmap("viridis").with_extremes(bad="0.85")
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        fig.colorbar(image, ax=ax, label=label, fraction=0.05, pad=0.03)
        ax.set_xticks(range(len(datasets)), labels=[_first_line(d, 40) for d in datasets],
                      rotation=30, ha="right")
        ax.set_yticks(range(len(detectors)), labels=[_first_line(d, 30) for d in detectors])
        ax.set_xlabel("dataset")
        ax.set_ylabel("detector")
        for i in range(len(detectors)):
            for j in range(len(datasets)):
                value = grid[i, j]
                text = notes.get((i, j), "-")
                color = "black" if math.isnan(value) or value >= 0.55 else "white"
                ax.text(j, i, text, ha="center", va="center", color=color, fontsize=9)
        ax.set_title(f"{label}\n({how}, mean over seeds; failed jobs excluded)", fontsize=10)
    return True


def plot_quality_vs_cost(records: Iterable[Mapping[str, Any]], path: Path) -> bool:
    """Draw headline F1 against mean fit seconds per job to ``path``: quality against cost.

    One point per (detector, dataset) with at least one ok job: x is the mean fit time of its ok
    jobs (logarithmic), y the micro F1 (mean over seeds) with the seed std as an error bar; colour
    by detector, marker by dataset. Returns ``False`` (writing nothing) without such a point.
    """
    df = dataset_table(records, metrics=[])
    micro, std = f"{HEADLINE}_f1_micro", f"{HEADLINE}_f1_micro_std"
    df = df[(df["ok_seeds"] > 0) & df[micro].notna() & df["fit_s_mean"].notna()]
    if df.empty:
        return False
    detectors = sorted(df["detector"].unique())
    datasets = sorted(df["dataset"].unique())
    markers = "osD^vP*Xph"
    with _figure(path, figsize=(8.5, 5.0)) as (plt, fig, ax):
        colors = plt.get_cmap("tab10").colors
        for i, det in enumerate(detectors):
            for j, dataset in enumerate(datasets):
                sel = df[(df["detector"] == det) & (df["dataset"] == dataset)]
                if sel.empty:
                    continue
                row = sel.iloc[0]
                x = max(float(row["fit_s_mean"]), 1e-4)
                err = float(row[std]) if int(row["ok_seeds"]) > 1 else 0.0
                ax.errorbar(x, float(row[micro]), yerr=err if err > 0 else None,
                            fmt=markers[j % len(markers)], color=colors[i % len(colors)],
                            ms=8, capsize=3)
                ax.annotate(det, (x, float(row[micro])), textcoords="offset points",
                            xytext=(6, 4), fontsize=8, color=colors[i % len(colors)])
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("mean fit seconds per job (log scale)")
        ax.set_ylabel(f"{HEADLINE} F1 (micro, mean over seeds)")
        ax.grid(True, alpha=0.3, which="both")
        if len(datasets) > 1:
            from matplotlib.lines import Line2D

            handles = [Line2D([], [], ls="", marker=markers[j % len(markers)], color="0.3",
                              label=d) for j, d in enumerate(datasets)]
            ax.legend(handles=handles, fontsize=8, title="dataset", loc="best")
        ax.set_title("quality against cost: F1 vs fit time (error bars: std over seeds)",
                     fontsize=10)
    return True


def _history_series(rec: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A job's per-epoch loss series by name (non-numbers become NaN; empty series dropped)."""
    out: dict[str, np.ndarray] = {}
    history = rec.get("history") or {}
    if not isinstance(history, Mapping):
        return out
    for name in sorted(history, key=str):
        series = history[name]
        if not isinstance(series, (list, tuple, np.ndarray)) or len(series) == 0:
            continue
        values = []
        for v in series:
            try:
                values.append(float(v))
            except (TypeError, ValueError):
                values.append(math.nan)
        arr = np.asarray(values, dtype=float)
        if np.isfinite(arr).any():
            out[str(name)] = arr
    return out


def _finish_grid(fig: Any, axes: Any, used: int, title: str) -> None:
    """Hide a subplot grid's unused panels and add the title (:func:`_figure` lays it out)."""
    for ax in list(np.ravel(axes))[used:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=12)


def plot_loss_curves(records: Iterable[Mapping[str, Any]], path: Path) -> bool:
    """Draw per-epoch training losses to ``path``: one subplot per detector with any history.

    Each ok job contributes one thin line per loss name (colour by loss name, legend of loss
    names); x is the epoch (from 1), the y axis is logarithmic when all of a subplot's values are
    positive. Detectors without history are skipped; when no detector has any, nothing is
    written and ``False`` is returned (``True`` otherwise).
    """
    per_detector: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)
    for rec in sort_records(records):
        if rec.get("status") != "ok":
            continue
        series = _history_series(rec)
        if series:
            per_detector[str(rec.get("detector", ""))].append(series)
    if not per_detector:
        return False

    detectors = sorted(per_detector)
    ncols = min(3, len(detectors))
    nrows = math.ceil(len(detectors) / ncols)
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    with _figure(path, nrows, ncols, figsize=(5.2 * ncols, 3.6 * nrows + 0.6),
                 squeeze=False) as (plt, fig, axes):
        colors = plt.get_cmap("tab10").colors
        for k, det in enumerate(detectors):
            ax = axes[k // ncols][k % ncols]
            jobs = per_detector[det]
            names = sorted({name for job in jobs for name in job})
            color = {name: colors[i % len(colors)] for i, name in enumerate(names)}
            finite_values: list[np.ndarray] = []
            for job in jobs:
                for name, arr in job.items():
                    epochs = np.arange(1, len(arr) + 1)
                    ax.plot(epochs, arr, lw=0.8, alpha=0.6, color=color[name])
                    finite_values.append(arr[np.isfinite(arr)])
            allv = np.concatenate(finite_values) if finite_values else np.array([])
            if allv.size and (allv > 0).all():
                ax.set_yscale("log")
            ax.set_title(f"{det} ({len(jobs)} job{'s' if len(jobs) != 1 else ''})", fontsize=10)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch")
            ax.set_ylabel("loss")
            ax.grid(True, alpha=0.3)
            handles = [Line2D([], [], color=color[n], lw=1.5, label=n) for n in names]
            ax.legend(handles=handles, fontsize=8, loc="upper right", framealpha=0.8)
        _finish_grid(fig, axes, len(detectors), "training losses per epoch (one line per job)")
    return True


def plot_seed_spread(records: Iterable[Mapping[str, Any]], path: Path) -> bool:
    """Draw the per-seed overlap F1 (micro over signals) of every detector, one panel per dataset.

    Each replicate (seed, or seed x repetition with ``--repeat``) is one dot, jittered sideways by
    a fixed amount so nothing depends on randomness; a black bar marks the mean and a line the
    mean ± std, the figures the tables report. Written only when some (dataset, detector) has
    more than one replicate; returns whether it was written.
    """
    df = seed_table(records)
    column = f"{HEADLINE}_f1_micro"
    if df.empty or df.groupby(["dataset", "detector"]).size().max() < 2:
        return False
    datasets = sorted(df["dataset"].unique())
    detectors = sorted(df["detector"].unique())
    ncols = min(3, len(datasets))
    nrows = math.ceil(len(datasets) / ncols)
    width = max(4.5, 1.0 + 0.9 * len(detectors))
    with _figure(path, nrows, ncols, figsize=(width * ncols, 3.8 * nrows + 0.5),
                 squeeze=False) as (_, fig, axes):
        for k, dataset in enumerate(datasets):
            ax = axes[k // ncols][k % ncols]
            part = df[df["dataset"] == dataset]
            for i, det in enumerate(detectors):
                values = part.loc[part["detector"] == det, column].to_numpy(dtype=float)
                values = values[np.isfinite(values)]
                if not values.size:
                    continue
                offsets = np.linspace(-0.18, 0.18, len(values)) if len(values) > 1 else [0.0]
                ax.scatter(i + np.asarray(offsets), values, s=22, alpha=0.75, zorder=3)
                mean, std = float(values.mean()), float(values.std(ddof=0))
                ax.hlines(mean, i - 0.3, i + 0.3, color="black", lw=2, zorder=4)
                ax.vlines(i, mean - std, mean + std, color="black", lw=1, zorder=4)
            ax.set_xticks(range(len(detectors)), labels=detectors, rotation=30, ha="right")
            ax.set_ylim(-0.05, 1.05)
            ax.set_ylabel(f"{HEADLINE} F1 (micro)")
            ax.set_title(dataset, fontsize=10)
            ax.grid(True, axis="y", alpha=0.3)
        _finish_grid(fig, axes, len(datasets), "F1 per seed (dots), mean (bar) ± std (line)")
    return True


def signal_plot_path(out_dir: Path, dataset: str, signal: str) -> Path:
    """Where :func:`write_plots` puts the figure of one signal inside ``out_dir``."""
    return Path(out_dir) / "signals" / f"{safe_name(f'{dataset}__{signal}')}.png"


def write_plots(
    run_dir: Path, records: Iterable[Mapping[str, Any]], out_dir: Path | None = None,
    metric: str = HEADLINE,
) -> list[Path]:
    """Write a run's figures and return their paths (in a fixed order).

    Into ``out_dir`` (default ``run_dir / "plots"``): ``f1_heatmap.png`` (the heatmap of
    ``metric``, see :func:`plot_f1_heatmap`; an unknown name raises :class:`ValueError` before
    anything is drawn),
    ``quality_vs_cost.png`` (when some job is ok), ``seed_spread.png`` (only when some dataset
    and detector have several seeds), ``loss_curves.png`` (only when some job has a loss history)
    and ``signals/<dataset>__<signal>.png`` for every signal (:func:`signal_plot_path`; file names
    made safe with :func:`benchbench.files.safe_name`).
    """
    run_dir = Path(run_dir)
    recs = sort_records(records)
    metric = resolve_metric(metric, recs)
    out = Path(out_dir) if out_dir is not None else run_dir / "plots"
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    heatmap = out / "f1_heatmap.png"
    if plot_f1_heatmap(recs, heatmap, metric):
        written.append(heatmap)
    cost = out / "quality_vs_cost.png"
    if plot_quality_vs_cost(recs, cost):
        written.append(cost)
    spread = out / "seed_spread.png"
    if plot_seed_spread(recs, spread):
        written.append(spread)
    losses = out / "loss_curves.png"
    if plot_loss_curves(recs, losses):
        written.append(losses)

    by_signal: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in recs:
        by_signal[(str(rec.get("dataset", "")), str(rec.get("signal", "")))].append(dict(rec))
    for (dataset, signal), group in sorted(by_signal.items()):
        path = signal_plot_path(out, dataset, signal)
        plot_signal(run_dir, group, path)
        written.append(path)
    return written
