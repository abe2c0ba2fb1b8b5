"""Critical-difference diagrams (Demšar 2006 style) and the rank tables behind them.

A diagram shows one dataset: an axis of average ranks (rank 1 = best, on the left), each
detector as a tick on it with its name and average rank, and thick bars joining detectors that
no Holm-corrected Wilcoxon test separates (:func:`benchbench.report.stats.not_different_groups`).
With Wilcoxon-Holm pairs there is no single critical difference, so no CD interval is drawn
(as in Ismail Fawaz et al.'s diagrams). The statistics come from
:mod:`benchbench.report.stats`; matplotlib is imported on first use (``Agg`` backend), never at
module import, and each figure is closed after it is saved.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from benchbench.evaluation.metrics import HEADLINE
from benchbench.files import atomic_write, safe_name
from benchbench.report.stats import (
    ALPHA,
    RankAnalysis,
    SignalCoverage,
    canonical_metric,
    pairs_frame,
    rank_analysis,
    ranks_frame,
    signal_coverage,
    signal_scores,
    value_column,
)

__all__ = [
    "critical_difference_path",
    "plot_critical_difference",
    "ranks_markdown",
    "write_critical_difference",
]

_FONT = 9
_CHAR_IN = 0.075  # rough width of a character at _FONT points, in inches
_ROW_IN = 0.25
_BAR_IN = 0.12


def critical_difference_path(plots_dir: Path | str, metric: str, dataset: str,
                             several: bool) -> Path:
    """``<plots_dir>/critical_difference_<metric>.png``, or with ``several`` datasets in the run
    ``critical_difference_<metric>_<dataset>.png`` (names made file-safe with
    :func:`benchbench.files.safe_name`)."""
    name = f"critical_difference_{safe_name(metric)}"
    if several:
        name += f"_{safe_name(dataset)}"
    return Path(plots_dir) / f"{name}.png"


def _p_text(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _friedman_text(an: RankAnalysis) -> str:
    if an.friedman_p is None:
        why = "fewer than 3 detectors" if len(an.detectors) < 3 else "fewer than 2 signals"
        return f"Friedman: not defined ({why})"
    p = an.friedman_p
    return (f"Friedman chi2 = {an.friedman_statistic:.2f}, "
            + ("p < 0.001" if p < 0.001 else f"p = {p:.3f}"))


def plot_critical_difference(analysis: RankAnalysis, path: Path | str,
                             label: str = f"{HEADLINE}_f1") -> Path:
    """Draw ``analysis`` (at least 2 detectors) as a critical-difference diagram at ``path``.

    The best half of the detectors is labelled on the left, the rest on the right, each name
    with its average rank; bars under the axis join the groups of
    :attr:`RankAnalysis.groups`. The title names the dataset, the metric (``label``: its value
    column, e.g. ``overlap_f1``), the number of signals and the Friedman p-value. Text is never
    parsed as mathtext. Returns ``path``.
    """
    from benchbench.report.plots import _pyplot, _save

    names = analysis.detectors
    ranks = analysis.ranks
    k = len(names)
    if k < 2:
        raise ValueError(f"dataset {analysis.dataset!r}: a diagram needs 2 detectors, got {k}")
    texts = {d: f"{d} ({ranks[d]:.2f})" for d in names}
    n_left = math.ceil(k / 2)
    left, right = names[:n_left], list(reversed(names[n_left:]))
    title = (f"{analysis.dataset}: average rank by {label} over {analysis.n_signals} "
             "signal(s), 1 = best")
    subtitle = (f"{_friedman_text(analysis)}; bars: no significant difference "
                f"(Wilcoxon-Holm, alpha {analysis.alpha:g})")
    label_w = _CHAR_IN * max(len(t) for t in texts.values()) + 0.3
    axis_w = max(3.0, 0.7 * (k - 1))
    width = max(6.0, 2 * label_w + axis_w + 0.4, _CHAR_IN * len(title) + 0.4,
                0.9 * _CHAR_IN * len(subtitle) + 0.4)
    x0 = (width - axis_w) / 2
    y_axis = 0.85
    y_bars = y_axis + 0.22
    y_rows = y_bars + len(analysis.groups) * _BAR_IN + 0.18
    height = y_rows + max(len(left), len(right)) * _ROW_IN + 0.1

    def x(rank: float) -> float:
        return x0 + (rank - 1) / (k - 1) * axis_w

    plt = _pyplot()
    with plt.rc_context({"text.parse_math": False, "font.size": _FONT}):
        fig = plt.figure(figsize=(width, height))
        try:
            ax = fig.add_axes((0, 0, 1, 1))
            ax.set_xlim(0, width)
            ax.set_ylim(height, 0)
            ax.axis("off")
            ax.text(width / 2, 0.12, title, ha="center", va="top")
            ax.text(width / 2, 0.32, subtitle, ha="center", va="top", fontsize=_FONT - 1)
            ax.plot([x0, x0 + axis_w], [y_axis, y_axis], color="black", lw=1)
            for tick in range(1, k + 1):
                ax.plot([x(tick), x(tick)], [y_axis - 0.07, y_axis], color="black", lw=1)
                ax.text(x(tick), y_axis - 0.1, str(tick), ha="center", va="bottom")
                if tick < k:
                    half = x(tick + 0.5)
                    ax.plot([half, half], [y_axis - 0.035, y_axis], color="black", lw=0.7)
            for side, members in (("left", left), ("right", right)):
                end = x0 - 0.1 if side == "left" else x0 + axis_w + 0.1
                for row, det in enumerate(members):
                    y = y_rows + row * _ROW_IN
                    xr = x(float(ranks[det]))
                    ax.plot([xr, xr, end], [y_axis, y, y], color="black", lw=0.8)
                    ax.text(end - 0.05 if side == "left" else end + 0.05, y, texts[det],
                            ha="right" if side == "left" else "left", va="center")
            for level, group in enumerate(analysis.groups):
                y = y_bars + level * _BAR_IN
                lo, hi = (x(float(ranks[d])) for d in (group[0], group[-1]))
                ax.plot([lo - 0.06, hi + 0.06], [y, y], color="black", lw=4,
                        solid_capstyle="butt")
            _save(fig, Path(path))
        finally:
            plt.close(fig)
    return Path(path)


def ranks_markdown(analyses: Mapping[str, RankAnalysis],
                   coverage: Mapping[str, SignalCoverage], label: str,
                   alpha: float = ALPHA) -> str:
    """The rank analysis of a metric (``label``: its value column) as Markdown: per dataset the
    Friedman line, what was left out, the average ranks and the pairs that differ at ``alpha``;
    datasets without an analysis say why."""
    from benchbench.report.render import _md_escape, to_markdown

    parts = [f"# Average ranks by {_md_escape(label)} (rank 1 = best)\n",
             f"On each signal the detectors are ranked by {_md_escape(label)} (mean over seeds; "
             "ties share the average rank); only signals every detector scored count. Friedman "
             "test over the detectors; pairs: two-sided Wilcoxon signed-rank test over the "
             f"signals (Pratt's zeros), Holm-corrected over the dataset's pairs, alpha {alpha:g}; "
             "effect: matched-pairs rank-biserial correlation (positive: the first detector "
             "better). Few signals make every test weak: a pair not shown is not shown to be "
             "equal.\n"]
    if not coverage and not analyses:
        parts.append("No job scored any signal.\n")
    for dataset in sorted(set(coverage) | set(analyses)):
        parts.append(f"## {_md_escape(dataset)}\n")
        cov = coverage.get(dataset)
        note = cov.note() if cov else None
        note = note[:1].upper() + note[1:] if note else None
        an = analyses.get(dataset)
        if an is None:
            n_det = len(cov.detectors) if cov else 0
            why = (f"only {n_det} detector(s) scored it" if n_det < 2
                   else "no signal was scored by every detector")
            parts.append(f"Not analysed: {why}." + (f" {_md_escape(note)}." if note else "")
                         + "\n")
            continue
        floor = min(1.0, len(an.pairs) * 2.0 / 2.0 ** an.n_signals)
        weak = (f" With {an.n_signals} signal(s) and {len(an.pairs)} pair(s) no pair can differ "
                f"at alpha {alpha:g}: the smallest Holm-adjusted p possible is {floor:.3g}."
                if floor > alpha else "")
        parts.append(f"{an.n_signals} signal(s), {len(an.detectors)} detectors; "
                     f"{_friedman_text(an)}." + (f" {_md_escape(note)}." if note else "") + weak
                     + "\n")
        ranks = ranks_frame({dataset: an})[["detector", "average_rank", "mean"]]
        parts.append(to_markdown(ranks))
        sig = an.significant_pairs()
        if not sig:
            parts.append(f"No pair differs at alpha {alpha:g} ({len(an.pairs)} pair(s) "
                         "tested).\n")
            continue
        table = pd.DataFrame(
            [{"better": p.a, "worse": p.b, "wins/ties/losses": f"{p.wins}/{p.ties}/{p.losses}",
              "p (Holm)": _p_text(p.p_holm), "effect": p.effect} for p in sig])
        parts.append(f"Pairs that differ at alpha {alpha:g} ({len(sig)} of {len(an.pairs)}):\n")
        parts.append(to_markdown(table))
    return "\n".join(parts)


def write_critical_difference(run_dir: Path | str,
                              data: Iterable[Mapping[str, Any]] | pd.DataFrame,
                              metric: str = HEADLINE, alpha: float = ALPHA,
                              plots: bool = True) -> list[Path]:
    """Write the rank analysis of ``metric`` of a run; return the paths written.

    ``data`` is the run's job records or their per-job frame
    (:func:`benchbench.report.aggregate.results_frame`); ``metric`` an interval metric
    (``overlap`` or ``overlap_f1``: its F1) or a score-based one (``vus_pr``), see
    :func:`benchbench.report.stats.value_column`. Writes under ``run_dir``, ``<metric>`` being
    the name without ``_f1`` (:func:`benchbench.report.stats.canonical_metric`):

    * ``plots/critical_difference_<metric>[_<dataset>].png``: one diagram per dataset with at
      least 2 detectors and a signal every detector scored (:func:`critical_difference_path`;
      the dataset in the name only when the results hold several); none with ``plots=False``;
    * ``tables/ranks_<metric>.csv``: :func:`benchbench.report.stats.ranks_frame`;
    * ``tables/pairs_<metric>.csv``: :func:`benchbench.report.stats.pairs_frame`;
    * ``tables/ranks_<metric>.md``: :func:`ranks_markdown`.

    Raises:
        benchbench.report.stats.StatsError: the results have no such metric (nothing written).
    """
    from benchbench.report.aggregate import results_frame

    run_dir = Path(run_dir)
    frame = data if isinstance(data, pd.DataFrame) else results_frame(data)
    name, label = canonical_metric(frame, metric), value_column(frame, metric)
    coverage = signal_coverage(frame, metric)
    analyses = rank_analysis(signal_scores(frame, metric), alpha=alpha)
    written: list[Path] = []
    if plots:
        several = frame["dataset"].astype(str).nunique() > 1
        for dataset, an in analyses.items():
            path = critical_difference_path(run_dir / "plots", name, dataset, several)
            written.append(plot_critical_difference(an, path, label))
    stem = safe_name(name)
    texts = {
        f"ranks_{stem}.csv": ranks_frame(analyses).to_csv(index=False, lineterminator="\n"),
        f"pairs_{stem}.csv": pairs_frame(analyses).to_csv(index=False, lineterminator="\n"),
        f"ranks_{stem}.md": ranks_markdown(analyses, coverage, label, alpha),
    }
    for file_name, text in texts.items():
        path = run_dir / "tables" / file_name
        atomic_write(path, lambda fh, text=text: fh.write(text))
        written.append(path)
    return written
