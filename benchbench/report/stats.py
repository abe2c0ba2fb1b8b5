"""Statistical comparison of detectors: average ranks, Friedman, pairwise Wilcoxon-Holm.

The unit of every test is a **signal**: a detector's value on a signal is the metric of that
signal's job, the mean over its seeds (replicates), and each dataset is analysed on its own.
Every metric is read as *higher = better* (F1, AUC, VUS all are).

* :func:`signal_scores` turns the per-job frame
  (:func:`benchbench.report.aggregate.results_frame`) into the per-signal table, keeping only the
  signals every detector scored (how the others are left out: its docstring, and
  :func:`signal_coverage` names them).
* :func:`rank_analysis` ranks the detectors on each signal, averages the ranks, runs the Friedman
  test over the detectors and the Wilcoxon signed-rank test on each pair, with Holm's correction
  over the pairs of the dataset, and groups the detectors that no test separates
  (:func:`not_different_groups`, the bars of the critical-difference diagram).
* :func:`paired_wilcoxon` is the paired test and its effect size (matched-pairs rank-biserial
  correlation), also used by ``bench compare`` for run A against run B.

What the tests assume, and when they are too weak:

* **Friedman** (:func:`scipy.stats.friedmanchisquare`): the signals are independent blocks, and
  within a signal the detectors' ranks are exchangeable under the null hypothesis that all
  detectors perform alike. The p-value comes from the chi-square approximation of the statistic
  (with scipy's correction for ties), which is rough for few signals or detectors: Demšar (2006)
  asks for more than about 10 signals and 5 detectors; below that read the p-value as an
  approximation. It says only *that* some detectors differ, not which.
* **Wilcoxon signed-rank** (:func:`scipy.stats.wilcoxon`, two-sided, ``zero_method='pratt'``):
  the signals are independent, and under the null the per-signal differences are symmetric
  about zero; it uses the sizes of the differences only through their ranks, so differences
  must be comparable across signals (an F1 gap of 0.1 on one signal means as much as on
  another). scipy's ``method='auto'`` (scipy >= 1.15) gives the exact p-value up to 50 signals
  when no differences tie and none is zero; with ties or zeros an exact permutation p-value up
  to 13 signals; otherwise the normal approximation. With n non-zero differences the smallest
  two-sided p-value possible is ``2 / 2**n``: 5 signals can never reach p < 0.05, and after
  Holm's correction over m pairs the smallest adjusted p is ``m * 2 / 2**n`` (the 3 pairs of 3
  detectors need at least 7 signals, the 6 of 4 detectors 8, the 10 of 5 detectors 9). Signals
  on which two detectors tie (both F1 1, or both 0) carry no evidence either way, so many ties
  leave few effective signals.
* **Holm** controls the family-wise error over the pairs of one dataset (not across datasets
  or metrics) without assuming the tests independent; it is conservative with many detectors.
* A non-significant pair is *not* evidence that two detectors are equivalent: with few signals
  nothing can be told apart.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "ALPHA",
    "StatsError",
    "PairTest",
    "RankAnalysis",
    "SignalCoverage",
    "value_column",
    "canonical_metric",
    "signal_values",
    "signal_scores",
    "signal_coverage",
    "rank_biserial",
    "paired_wilcoxon",
    "holm",
    "rank_analysis",
    "not_different_groups",
    "ranks_frame",
    "pairs_frame",
]

#: The significance level of the pairwise tests unless told otherwise.
ALPHA = 0.05

#: Decimals differences and values are rounded to before ranking, so that float noise
#: (``1/3`` computed two ways) does not break a tie.
_DECIMALS = 12

_KEYS = ["dataset", "signal", "detector"]


class StatsError(ValueError):
    """The frame has no column for the metric asked for (the message names the metric and the
    metrics it does have)."""


@dataclass(frozen=True)
class PairTest:
    """The Wilcoxon signed-rank test of two detectors over a dataset's signals.

    ``statistic``: scipy's two-sided statistic (the smaller of the positive and negative rank
    sums); ``p``: its p-value; ``p_holm``: Holm-adjusted over the dataset's pairs; ``effect``:
    the matched-pairs rank-biserial correlation of ``a - b`` (positive: ``a`` better,
    :func:`rank_biserial`); ``significant``: ``p_holm <= alpha``; ``wins``, ``ties``,
    ``losses``: signals where ``a`` is above, equal to, below ``b``.
    """

    a: str
    b: str
    statistic: float
    p: float
    p_holm: float
    effect: float
    significant: bool
    wins: int
    ties: int
    losses: int


@dataclass
class RankAnalysis:
    """The rank analysis of one dataset (see :func:`rank_analysis`).

    ``ranks``: average rank of each detector (1 = best), sorted best first; ``means``: its mean
    value over the same signals; ``n_signals``: the signals analysed (those every detector
    scored); ``friedman_statistic``/``friedman_p``: ``None`` with fewer than 3 detectors or 2
    signals; ``pairs``: every pair of detectors, in the order of ``ranks``; ``groups``:
    :func:`not_different_groups`.
    """

    dataset: str
    ranks: pd.Series
    means: pd.Series
    n_signals: int
    friedman_statistic: float | None
    friedman_p: float | None
    pairs: list[PairTest]
    alpha: float
    groups: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def detectors(self) -> list[str]:
        """The detectors, best average rank first."""
        return list(self.ranks.index)

    def significant_pairs(self) -> list[PairTest]:
        """The pairs that differ at :attr:`alpha` (after Holm's correction)."""
        return [pair for pair in self.pairs if pair.significant]


@dataclass
class SignalCoverage:
    """What :func:`signal_scores` kept and left out of one dataset.

    ``detectors``: the detectors analysed; ``signals``: the signals every one of them scored;
    ``left_out_signals``: ``signal -> detectors`` without a score on it; ``left_out_detectors``:
    detectors that scored no signal at all of the dataset (left out of it entirely).
    """

    dataset: str
    detectors: list[str]
    signals: list[str]
    left_out_signals: dict[str, list[str]]
    left_out_detectors: list[str]

    def note(self) -> str | None:
        """One line on what was left out, ``None`` when nothing was."""
        parts = []
        if self.left_out_detectors:
            parts.append(f"detector(s) {', '.join(self.left_out_detectors)} scored no signal "
                         "and are left out")
        if self.left_out_signals:
            named = list(self.left_out_signals)[:3]
            more = len(self.left_out_signals) - len(named)
            parts.append(f"{len(self.left_out_signals)} signal(s) not scored by every detector "
                         f"are left out ({', '.join(named)}{f' and {more} more' if more else ''})")
        return "; ".join(parts) or None


# --------------------------------------------------------------------------------------------
# Per-signal values
# --------------------------------------------------------------------------------------------


def _available(frame: pd.DataFrame) -> list[str]:
    from benchbench.evaluation.score_metrics import SCORE_METRICS

    names = [c[: -len("_f1")] for c in frame.columns if str(c).endswith("_f1")]
    names += [c for c in SCORE_METRICS if c in frame.columns]
    return list(dict.fromkeys(names))


def value_column(frame: pd.DataFrame, metric: str) -> str:
    """The column of ``frame`` holding ``metric``'s per-job value: ``metric`` itself when the
    frame has such a column (``auc_roc``, or ``value`` in a per-signal table), else
    ``<metric>_f1`` (``overlap`` -> ``overlap_f1``).

    Raises:
        StatsError: neither exists; the message names the metrics the frame has.
    """
    for column in (metric, f"{metric}_f1"):
        if column in frame.columns and column not in (*_KEYS, "seed", "repetition", "status"):
            return column
    have = ", ".join(_available(frame)) or "none"
    raise StatsError(f"metric {metric!r}: the results have no such metric (they have: {have})")


def canonical_metric(frame: pd.DataFrame, metric: str) -> str:
    """The metric's name as the records give it: ``overlap`` for ``overlap`` or ``overlap_f1``
    (an interval metric, read by its F1), ``auc_roc`` for ``auc_roc``.

    Raises:
        StatsError: the frame has no column for ``metric``.
    """
    column = value_column(frame, metric)
    return column[: -len("_f1")] if column.endswith("_f1") else column


def signal_values(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Every (dataset, signal, detector) cell of a per-job frame, sorted: columns ``dataset,
    signal, detector, value, complete``; ``value`` is the mean of ``metric`` over the cell's ok
    jobs with a finite value (NaN when none), ``complete`` whether every job of the cell is ok
    (when the frame has ``status``) and has one. Nothing is left out (see :func:`signal_scores`).

    Raises:
        StatsError: the frame has no column for ``metric``.
    """
    column = value_column(frame, metric)
    df = frame[[c for c in (*_KEYS, "status") if c in frame.columns]].copy()
    for key in _KEYS:
        df[key] = df[key].astype(str)
    df["value"] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    good = df["value"].map(math.isfinite)
    if "status" in df.columns:
        good &= df["status"] == "ok"
    df["good"] = good
    df["value"] = df["value"].where(good)
    cells = df.groupby(_KEYS, sort=True).agg(value=("value", "mean"), complete=("good", "all"))
    return cells.reset_index()


def _coverage(cells: pd.DataFrame) -> dict[str, SignalCoverage]:
    out: dict[str, SignalCoverage] = {}
    for dataset, group in cells.groupby("dataset", sort=True):
        detectors = sorted(group["detector"].unique())
        scored = {det for det, ok in group.groupby("detector")["complete"].any().items() if ok}
        kept = [d for d in detectors if d in scored]
        signals, left = [], {}
        for signal, rows in group.groupby("signal", sort=True):
            done = set(rows.loc[rows["complete"], "detector"])
            lacking = [d for d in kept if d not in done]
            if lacking:
                left[str(signal)] = lacking
            else:
                signals.append(str(signal))
        out[str(dataset)] = SignalCoverage(str(dataset), kept, signals, left,
                                           [d for d in detectors if d not in scored])
    return out


def signal_coverage(frame: pd.DataFrame, metric: str) -> dict[str, SignalCoverage]:
    """``dataset -> SignalCoverage``: which detectors and signals :func:`signal_scores` keeps for
    ``metric`` and which it leaves out (rules there)."""
    return _coverage(signal_values(frame, metric))


def signal_scores(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The per-signal table of ``metric``: ``dataset, signal, detector, value``, sorted.

    ``frame`` has one row per job with columns ``dataset, signal, detector`` (``seed``,
    ``repetition`` and ``status`` when it has them) and the metric's value column
    (:func:`value_column`; e.g. :func:`benchbench.report.aggregate.results_frame`). ``value``
    is the mean over the signal's jobs (its seeds and repetitions).

    Left out, per dataset (:func:`signal_coverage` names them):

    * a cell (signal, detector) counts as scored only when **every** job of it is ok (when the
      frame has ``status``) and has a finite value; a failed or missing seed makes the whole cell
      unscored, as in the tables' ``signals_scored``;
    * a detector without any scored signal in the dataset is left out of the dataset (else it
      would remove every signal);
    * a signal that some remaining detector did not score is left out for every detector, so
      each detector is ranked on the same signals.

    Raises:
        StatsError: the frame has no column for ``metric``.
    """
    cells = signal_values(frame, metric)
    rows = []
    for dataset, cov in _coverage(cells).items():
        keep = ((cells["dataset"] == dataset) & cells["signal"].isin(cov.signals)
                & cells["detector"].isin(cov.detectors))
        rows.append(cells.loc[keep, [*_KEYS, "value"]])
    if not rows:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in _KEYS}
                            | {"value": pd.Series(dtype="float64")})
    return pd.concat(rows).sort_values(_KEYS).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def rank_biserial(diff: np.ndarray) -> float:
    """The matched-pairs rank-biserial correlation of paired differences ``diff`` (Kerby 2014).

    The absolute differences are ranked (ties averaged) with the zero differences **kept** in
    the ranking and counted for neither side; ``r = (R+ - R-) / (n (n + 1) / 2)``, the rank sum
    of the positive differences minus that of the negative ones over the sum of all ranks. It
    lies in ``[-1, 1]``: 1 when every difference is positive, 0 when they balance or are all
    zero. Keeping the zeros means a difference on one signal among 99 ties is a small effect,
    not a perfect one. NaN for an empty ``diff``.
    """
    from scipy.stats import rankdata

    d = np.round(np.asarray(diff, dtype=float), _DECIMALS)
    n = d.size
    if n == 0:
        return math.nan
    ranks = rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / (n * (n + 1) / 2))


def paired_wilcoxon(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``(statistic, p, effect)`` of the two-sided Wilcoxon signed-rank test of ``x - y``.

    ``x`` and ``y`` are paired values (one pair per signal). The differences are rounded to 12
    decimals, so float noise does not count as a difference. Zero differences are handled with
    ``zero_method='pratt'`` (Pratt 1959): they stay in the ranking of the absolute differences,
    so the non-zero ones are ranked as among all signals, but count for neither side. Ties of
    F1 between detectors (both find everything, or nothing) are common, and ``'wilcox'`` would
    drop them before ranking; ``'zsplit'`` would count each half for and half against and so
    pull p towards 1 the more signals tie, and ``'pratt'`` is also what Ismail Fawaz et al.'s
    critical-difference code uses. ``effect`` is :func:`rank_biserial` (positive: ``x`` larger).
    When every difference is zero the result is ``(0.0, 1.0, 0.0)``; with no pair at all
    ``(nan, nan, nan)``. Assumptions and power: the module docstring.
    """
    from scipy.stats import wilcoxon

    d = np.round(np.asarray(x, dtype=float) - np.asarray(y, dtype=float), _DECIMALS)
    if d.size == 0:
        return math.nan, math.nan, math.nan
    if not np.any(d):
        return 0.0, 1.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = wilcoxon(d, zero_method="pratt", alternative="two-sided", method="auto")
    return float(res.statistic), float(min(1.0, res.pvalue)), rank_biserial(d)


def holm(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the order given: sorted ascending,
    ``p_(i) -> max over j <= i of min(1, (m - j + 1) p_(j))``. A pair is significant at ``alpha``
    exactly when its adjusted p is ``<= alpha`` (Holm's procedure)."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.maximum.accumulate(adjusted)
    out = np.empty(m)
    out[order] = adjusted
    return out


def _friedman(matrix: np.ndarray) -> tuple[float | None, float | None]:
    from scipy.stats import friedmanchisquare

    n, k = matrix.shape
    if k < 3 or n < 2:
        return None, None
    if all(np.all(row == row[0]) for row in matrix):
        return 0.0, 1.0  # every signal ties every detector: no evidence of any difference
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = friedmanchisquare(*matrix.T)
    return float(res.statistic), float(res.pvalue)


def rank_analysis(per_signal: pd.DataFrame, alpha: float = ALPHA,
                  value: str = "value") -> dict[str, RankAnalysis]:
    """Per dataset (sorted): average ranks, Friedman test and Wilcoxon-Holm pairs.

    ``per_signal`` has columns ``dataset, signal, detector`` and ``value`` (as
    :func:`signal_scores` returns; another value column can be named). A signal that lacks a
    finite value for some detector of its dataset is left out (so a hand-made table is treated
    like :func:`signal_scores` treats the results). A dataset with fewer than 2 detectors, or no
    signal left, gets no entry.

    * **Ranks**: on each signal the detectors are ranked by value, rank 1 the highest, ties
      given the average of the ranks they span (values rounded to 12 decimals first); the
      average over the signals is the detector's average rank.
    * **Friedman**: :func:`scipy.stats.friedmanchisquare` over the detectors (the signals as
      blocks); ``None`` with fewer than 3 detectors (scipy needs 3; for 2, read the one pair's
      Wilcoxon test) or fewer than 2 signals; statistic 0 and p 1 when every signal ties every
      detector.
    * **Pairs**: :func:`paired_wilcoxon` on each pair of detectors over the signals, p-values
      adjusted with :func:`holm` over the dataset's ``k (k - 1) / 2`` pairs; a pair is
      significant when its adjusted p is ``<= alpha``. The pairs are tested whatever the
      Friedman p (Holm controls the family-wise error on its own; Benavoli et al. 2016).
    * **Groups**: :func:`not_different_groups`.

    Assumptions, and how many signals the tests need: the module docstring.
    """
    out: dict[str, RankAnalysis] = {}
    if per_signal.empty:
        return out
    df = per_signal[["dataset", "signal", "detector", value]].copy()
    for key in _KEYS:
        df[key] = df[key].astype(str)
    for dataset, group in df.groupby("dataset", sort=True):
        table = group.pivot_table(index="signal", columns="detector", values=value,
                                  aggfunc="mean", dropna=False).sort_index()
        table = table.reindex(sorted(table.columns), axis=1)
        table = table[np.isfinite(table.to_numpy(dtype=float)).all(axis=1)]
        if table.shape[1] < 2 or table.shape[0] == 0:
            continue
        out[str(dataset)] = _analyse(str(dataset), table, alpha)
    return out


def _analyse(dataset: str, table: pd.DataFrame, alpha: float) -> RankAnalysis:
    from scipy.stats import rankdata

    matrix = np.round(table.to_numpy(dtype=float), _DECIMALS)
    ranks = rankdata(-matrix, axis=1, method="average")
    average = pd.Series(ranks.mean(axis=0), index=list(table.columns), dtype="float64")
    order = sorted(average.index, key=lambda d: (average[d], d))
    average = average[order]
    means = pd.Series(matrix.mean(axis=0), index=list(table.columns), dtype="float64")[order]
    stat, p = _friedman(matrix)

    column = {d: i for i, d in enumerate(table.columns)}
    raw = []
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            x, y = matrix[:, column[a]], matrix[:, column[b]]
            raw.append((a, b, *paired_wilcoxon(x, y), int(np.sum(x > y)), int(np.sum(x == y)),
                        int(np.sum(x < y))))
    adjusted = holm([r[3] for r in raw]) if raw else np.array([])
    pairs = [PairTest(a, b, s, pv, float(ph), e, bool(ph <= alpha), w, t, lo)
             for (a, b, s, pv, e, w, t, lo), ph in zip(raw, adjusted)]
    analysis = RankAnalysis(dataset, average, means, int(matrix.shape[0]), stat, p, pairs, alpha)
    analysis.groups = not_different_groups(analysis)
    return analysis


def not_different_groups(analysis: RankAnalysis) -> list[tuple[str, ...]]:
    """The groups joined by a bar in the critical-difference diagram.

    With the detectors in order of average rank, a group is a maximal run of consecutive
    detectors of which no pair differs significantly (Holm-adjusted Wilcoxon); runs of one are
    not groups, and a run inside a longer one is not listed. This is the rank-contiguous form of
    Ismail Fawaz et al.'s cliques (their code takes every maximal clique of the graph of
    not-different pairs and draws it from its best to its worst member, so a bar can pass over
    a detector that differs from a member); here a bar spans only detectors that are pairwise
    not different, and a not-different pair whose detectors are not adjacent through such a
    run gets no bar (the pairs table lists every pair).
    """
    order = analysis.detectors
    differ = {frozenset((p.a, p.b)) for p in analysis.pairs if p.significant}
    groups: list[tuple[str, ...]] = []
    last_end = -1
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and all(
                frozenset((order[i], order[end + 1])) not in differ for i in range(start, end + 1)):
            end += 1
        if end > start and end > last_end:
            groups.append(tuple(order[start:end + 1]))
            last_end = end
    return groups


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

RANK_COLUMNS = ["dataset", "detector", "average_rank", "mean", "signals", "detectors",
                "friedman_statistic", "friedman_p"]
PAIR_COLUMNS = ["dataset", "detector_a", "detector_b", "wins", "ties", "losses", "statistic",
                "p", "p_holm", "effect", "significant"]


def ranks_frame(analyses: Mapping[str, RankAnalysis]) -> pd.DataFrame:
    """One row per (dataset, detector), best rank first within a dataset: ``average_rank``,
    ``mean`` (of the value over the analysed signals), ``signals``, ``detectors`` and the
    dataset's ``friedman_statistic``, ``friedman_p`` (NaN where the test is not defined)."""
    rows = []
    for dataset, an in analyses.items():
        for det in an.detectors:
            rows.append({"dataset": dataset, "detector": det,
                         "average_rank": float(an.ranks[det]), "mean": float(an.means[det]),
                         "signals": an.n_signals, "detectors": len(an.detectors),
                         "friedman_statistic": math.nan if an.friedman_statistic is None
                         else an.friedman_statistic,
                         "friedman_p": math.nan if an.friedman_p is None else an.friedman_p})
    return pd.DataFrame(rows, columns=RANK_COLUMNS)


def pairs_frame(analyses: Mapping[str, RankAnalysis]) -> pd.DataFrame:
    """One row per tested pair: ``detector_a`` (the better average rank), ``detector_b``, the
    signals where a is above / equal to / below b, the Wilcoxon statistic, ``p``, ``p_holm``,
    ``effect`` (rank-biserial, positive: a better) and ``significant`` (at the analysis'
    alpha)."""
    rows = [{"dataset": dataset, "detector_a": p.a, "detector_b": p.b, "wins": p.wins,
             "ties": p.ties, "losses": p.losses, "statistic": p.statistic, "p": p.p,
             "p_holm": p.p_holm, "effect": p.effect, "significant": p.significant}
            for dataset, an in analyses.items() for p in an.pairs]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)
