"""Metrics comparing labelled anomalous intervals with detected ones, for one signal.

Every metric has the signature ``metric(expected, detected, index) -> MetricResult``:

* ``expected``: the labelled anomalous intervals, closed ``[start, end]`` in ``index`` units.
* ``detected``: the detected intervals, closed ``[start, end]``; a third element (a severity
  score) may follow and is ignored.
* ``index``: the sorted 1-D array of the test part's timestamps (ints or floats).

An interval with ``start > end`` (or a NaN bound, or fewer than two elements) raises
:class:`ValueError` naming the interval; an unsorted or non 1-D ``index`` raises too.

====================  ================  ==================================================
name                  function          what it counts
====================  ================  ==================================================
``overlap``           overlap_segment   events: a true interval hit by >= 1 detection is
                                        one TP, one hit by none is one FN, a detection
                                        hitting no true interval is one FP (the headline)
``pointwise``         pointwise         timestamps of ``index`` in true / detected intervals
``point_adjusted``    point_adjusted    timestamps, after the point-adjust protocol
                                        (inflates scores; for comparison with papers only)
``weighted_segment``  weighted_segment  lengths (index units) of the elementary segments
                                        labelled true / detected
``range_based``       range_based       Tatbul et al. (2018) range-based precision/recall,
                                        ``alpha=0``, flat bias, cardinality factor 1
``affiliation``       affiliation       Huet et al. (2022) affiliation precision/recall:
                                        distances of detections to the labelled events
                                        (:mod:`benchbench.evaluation.affiliation`)
====================  ================  ==================================================

The first five are :data:`BUILTIN_METRICS`; ``affiliation`` lives in its own module, which builds
on this one, and :mod:`benchbench.builtins` registers it beside them.

Each metric returns a :class:`MetricResult` holding precision and recall as numerator and
denominator, so that results of several signals can be summed (:func:`combine`, micro
aggregation) or their F1 scores averaged (:func:`macro_f1`, macro aggregation).

Zero-division conventions (scores are never NaN):

* precision with denominator 0 (nothing detected) is 1.0: no false alarm was raised;
* recall with denominator 0 (no true anomaly) is 1.0: nothing could be missed;
* F1 is the harmonic mean of precision and recall, and 0.0 when both are 0.

Hence no true anomaly and no detection gives P = R = F1 = 1; no true anomaly but some
detection gives P = 0, R = 1, F1 = 0; true anomalies but no detection gives P = 1, R = 0, F1 = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BUILTIN_METRICS",
    "HEADLINE",
    "MetricResult",
    "combine",
    "macro_f1",
    "overlap_segment",
    "point_adjusted",
    "pointwise",
    "range_based",
    "weighted_segment",
]

_FIELDS = ("precision_num", "precision_den", "recall_num", "recall_den")


@dataclass(frozen=True)
class MetricResult:
    """Precision and recall of one signal (or of several, summed), as numerators/denominators.

    ``precision = precision_num / precision_den`` and ``recall = recall_num / recall_den``, with
    the module's zero-division conventions (a zero denominator gives 1.0). The four components are
    stored as non-negative finite floats, each numerator at most its denominator; anything else
    raises :class:`ValueError`.
    """

    precision_num: float
    precision_den: float
    recall_num: float
    recall_den: float

    def __post_init__(self) -> None:
        for name in _FIELDS:
            value = float(getattr(self, name))
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"MetricResult.{name} must be finite and >= 0, got {value!r}")
            object.__setattr__(self, name, value)
        if self.precision_num > self.precision_den:
            raise ValueError(
                f"MetricResult: precision_num {self.precision_num!r} exceeds "
                f"precision_den {self.precision_den!r}"
            )
        if self.recall_num > self.recall_den:
            raise ValueError(
                f"MetricResult: recall_num {self.recall_num!r} exceeds "
                f"recall_den {self.recall_den!r}"
            )

    @classmethod
    def from_counts(cls, tp: float, fp: float, fn: float) -> MetricResult:
        """The result of a counting metric with ``tp`` true positives, ``fp`` false positives and
        ``fn`` false negatives: precision ``tp / (tp + fp)``, recall ``tp / (tp + fn)``."""
        return cls(precision_num=tp, precision_den=tp + fp, recall_num=tp, recall_den=tp + fn)

    def counts(self) -> tuple[float, float, float]:
        """``(tp, fp, fn)``, recovered as ``tp = recall_num``, ``fp = precision_den -
        precision_num`` and ``fn = recall_den - recall_num``.

        Meaningful only for the counting metrics (``overlap_segment``, ``pointwise``,
        ``point_adjusted``, ``weighted_segment``) and sums of them; for ``range_based`` the
        figures are sums of fractional scores, not counts.
        """
        return (
            self.recall_num,
            self.precision_den - self.precision_num,
            self.recall_den - self.recall_num,
        )

    @property
    def precision(self) -> float:
        """``precision_num / precision_den``; 1.0 when nothing was detected (den 0)."""
        if self.precision_den == 0:
            return 1.0
        return self.precision_num / self.precision_den

    @property
    def recall(self) -> float:
        """``recall_num / recall_den``; 1.0 when there is no true anomaly (den 0)."""
        if self.recall_den == 0:
            return 1.0
        return self.recall_num / self.recall_den

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall; 0.0 when both are 0."""
        p, r = self.precision, self.recall
        if p + r == 0:
            return 0.0
        return 2 * p * r / (p + r)

    def to_dict(self) -> dict[str, float]:
        """The four components plus ``precision``, ``recall`` and ``f1``, as plain floats."""
        out = {name: getattr(self, name) for name in _FIELDS}
        out.update(precision=self.precision, recall=self.recall, f1=self.f1)
        return out


def combine(results: Iterable[MetricResult]) -> MetricResult:
    """Micro aggregation: the sum of each of the four components over ``results``.

    For the counting metrics this pools tp/fp/fn over the signals of a dataset; for
    ``range_based`` it averages the per-range scores over all ranges of the dataset. Raises
    :class:`ValueError` when ``results`` is empty (rather than reporting a perfect score for
    nothing).
    """
    items = list(results)
    if not items:
        raise ValueError("combine() needs at least one MetricResult")
    return MetricResult(*(math.fsum(getattr(r, name) for r in items) for name in _FIELDS))


def macro_f1(results: Iterable[MetricResult]) -> float:
    """Macro aggregation: the mean of the per-result F1 scores. Raises :class:`ValueError` when
    ``results`` is empty."""
    scores = [r.f1 for r in results]
    if not scores:
        raise ValueError("macro_f1() needs at least one MetricResult")
    return math.fsum(scores) / len(scores)


# --------------------------------------------------------------------------------------------
# input handling


def _as_intervals(intervals: Sequence[Sequence[float]], what: str) -> np.ndarray:
    """``intervals`` as a float array of shape ``(k, 2)`` (extra elements dropped), validated."""
    rows: list[tuple[float, float]] = []
    for i, interval in enumerate(intervals):
        if len(interval) < 2:
            raise ValueError(f"{what}[{i}] = {interval!r}: an interval needs a start and an end")
        start, end = float(interval[0]), float(interval[1])
        if math.isnan(start) or math.isnan(end):
            raise ValueError(f"{what}[{i}] = ({start!r}, {end!r}): NaN bound")
        if start > end:
            raise ValueError(f"{what}[{i}] = ({start!r}, {end!r}): start > end")
        rows.append((start, end))
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def _as_index(index: np.ndarray) -> np.ndarray:
    try:
        arr = np.asarray(index, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"index must be numeric timestamps: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"index must be 1-D, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError("index contains NaN")
    if arr.size > 1 and np.any(arr[1:] < arr[:-1]):
        raise ValueError("index must be sorted ascending")
    return arr


def _prepare(
    expected: Sequence[Sequence[float]], detected: Sequence[Sequence[float]], index: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    exp = _as_intervals(expected, "expected")
    det = _as_intervals(detected, "detected")
    return exp, det, _as_index(index)


def _positions(intervals: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each closed interval, the slice ``lo:hi`` of ``index`` timestamps lying in it."""
    lo = np.searchsorted(index, intervals[:, 0], side="left")
    hi = np.searchsorted(index, intervals[:, 1], side="right")
    return lo, hi


def _mask(intervals: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Boolean mask of the ``index`` timestamps lying in at least one closed interval."""
    lo, hi = _positions(intervals, index)
    delta = np.zeros(index.size + 1, dtype=np.int64)
    np.add.at(delta, lo, 1)
    np.add.at(delta, hi, -1)
    return np.cumsum(delta[:-1]) > 0


def _mask_counts(truth: np.ndarray, pred: np.ndarray) -> MetricResult:
    tp = np.count_nonzero(truth & pred)
    fp = np.count_nonzero(~truth & pred)
    fn = np.count_nonzero(truth & ~pred)
    return MetricResult.from_counts(tp, fp, fn)


# --------------------------------------------------------------------------------------------
# metrics


def overlap_segment(
    expected: Sequence[Sequence[float]], detected: Sequence[Sequence[float]], index: np.ndarray
) -> MetricResult:
    """Overlapping-segment counts, as the TadGAN paper and Orion's reference count them.

    Two closed intervals overlap when they share at least one point (``[2, 4]`` and ``[4, 6]``
    overlap: touching endpoints count). Then:

    * a true interval overlapped by at least one detection is one TP (once, however many
      detections hit it);
    * a true interval overlapped by no detection is one FN;
    * a detection overlapping no true interval is one FP (a detection spanning two true
      intervals makes two TP and no FP).

    precision = tp / (tp + fp), recall = tp / (tp + fn). The intervals are compared as they
    are: ``index`` is only validated, not used (an interval need not contain a timestamp).
    """
    exp, det, _ = _prepare(expected, detected, index)
    hits = (exp[:, None, 0] <= det[None, :, 1]) & (det[None, :, 0] <= exp[:, None, 1])
    tp = int(np.count_nonzero(hits.any(axis=1)))
    fn = len(exp) - tp
    fp = int(np.count_nonzero(~hits.any(axis=0)))
    return MetricResult.from_counts(tp, fp, fn)


def pointwise(
    expected: Sequence[Sequence[float]], detected: Sequence[Sequence[float]], index: np.ndarray
) -> MetricResult:
    """Point-wise counts over the timestamps of ``index``.

    A timestamp is anomalous if it lies in at least one true interval (closed) and detected if
    it lies in at least one detection (closed). TP / FP / FN are the numbers of timestamps that
    are (anomalous, detected), (not anomalous, detected) and (anomalous, not detected).
    Intervals containing no timestamp of ``index`` contribute nothing.
    """
    exp, det, idx = _prepare(expected, detected, index)
    return _mask_counts(_mask(exp, idx), _mask(det, idx))


def point_adjusted(
    expected: Sequence[Sequence[float]], detected: Sequence[Sequence[float]], index: np.ndarray
) -> MetricResult:
    """Point-wise counts after the point-adjust protocol (Xu et al., WWW 2018).

    As :func:`pointwise`, except that for each true interval, if any of its timestamps is
    detected (by the original detections), all of its timestamps count as detected. Each true
    interval is adjusted on its own, as labelled (two adjacent true intervals are two events).
    False positives are unchanged, so recall (and tp) is never below the point-wise one.

    This protocol is known to inflate scores, to the point that random detections can score
    well (Kim et al., AAAI 2022); it is reported for comparison with papers only.
    """
    exp, det, idx = _prepare(expected, detected, index)
    truth = _mask(exp, idx)
    pred = _mask(det, idx)
    adjusted = pred.copy()
    for lo, hi in zip(*_positions(exp, idx)):
        if pred[lo:hi].any():
            adjusted[lo:hi] = True
    return _mask_counts(truth, adjusted)


def _step(index: np.ndarray) -> float:
    """The median of the positive spacings of ``index``; 1.0 when there is none."""
    gaps = np.diff(index)
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else 1.0


def weighted_segment(
    expected: Sequence[Sequence[float]], detected: Sequence[Sequence[float]], index: np.ndarray
) -> MetricResult:
    """Segment counts weighted by length in ``index`` units.

    Let ``step`` be the median spacing of ``index`` (the median of its positive gaps; 1.0 when
    ``index`` has fewer than two distinct timestamps). Each timestamp ``t`` owns the cell
    ``[t, t + step)``, so each closed interval ``[s, e]`` is taken to cover ``[s, e + step)``
    (a one-point interval like ``[5, 5]`` then has length ``step``, not 0), and the timeline is
    ``[index[0], index[-1] + step)``. The timeline is cut at every covered-range boundary of
    both lists (boundaries outside it are clipped) into elementary segments; each segment is
    labelled (inside a true interval?, inside a detection?) and weighted by its length. TP / FP
    / FN are the summed lengths of the (true, detected), (false, detected) and (true, not
    detected) segments, as floats. Parts of intervals outside the timeline do not count.

    With a regular integer index and integer bounds inside the timeline this equals
    :func:`pointwise` (times ``step``). An empty ``index`` gives all-zero counts.
    """
    exp, det, idx = _prepare(expected, detected, index)
    if idx.size == 0:
        return MetricResult.from_counts(0.0, 0.0, 0.0)
    step = _step(idx)
    start, stop = float(idx[0]), float(idx[-1]) + step
    exp_cov = np.column_stack([exp[:, 0], exp[:, 1] + step])
    det_cov = np.column_stack([det[:, 0], det[:, 1] + step])
    cuts = np.concatenate([[start, stop], exp_cov.ravel(), det_cov.ravel()])
    cuts = np.unique(np.clip(cuts, start, stop))
    lengths = np.diff(cuts)
    mids = (cuts[:-1] + cuts[1:]) / 2

    def inside(cov: np.ndarray) -> np.ndarray:
        return ((mids[:, None] >= cov[None, :, 0]) & (mids[:, None] < cov[None, :, 1])).any(axis=1)

    truth, pred = inside(exp_cov), inside(det_cov)
    tp = float(lengths[truth & pred].sum())
    fp = float(lengths[~truth & pred].sum())
    fn = float(lengths[truth & ~pred].sum())
    return MetricResult.from_counts(tp, fp, fn)


def range_based(
    expected: Sequence[Sequence[float]],
    detected: Sequence[Sequence[float]],
    index: np.ndarray,
    *,
    alpha: float = 0.0,
) -> MetricResult:
    """Range-based precision and recall (Tatbul et al., NeurIPS 2018).

    Parameters: existence-reward weight ``alpha`` (default 0: no existence reward), flat
    positional bias, cardinality factor ``gamma = 1`` (no penalty for fragmented detections).
    Sizes are counted in timestamps of ``index``: ``|R|`` is the number of timestamps in the
    closed range ``R`` and ``|R ∩ P|`` the number lying in both ``R`` and ``P``.

    * Recall of a true range ``R_i``: ``alpha * existence(R_i) + (1 - alpha) *
      min(1, sum_j |R_i ∩ P_j| / |R_i|)``, where ``existence(R_i)`` is 1 when some timestamp
      lies in ``R_i`` and in a detection, else 0.
    * Precision of a detection ``P_j``: ``min(1, sum_i |P_j ∩ R_i| / |P_j|)`` (no existence
      term).
    * A range containing no timestamp of ``index`` has size 0 and overlaps nothing: its score
      is defined as 0.

    ``recall_num`` is the sum of the per-true-range recalls and ``recall_den`` the number of
    true ranges; ``precision_num`` the sum of the per-detection precisions and
    ``precision_den`` the number of detections (so the zero-division conventions apply).
    ``alpha`` outside ``[0, 1]`` raises :class:`ValueError`.
    """
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
    exp, det, idx = _prepare(expected, detected, index)
    lo_e, hi_e = _positions(exp, idx)
    lo_d, hi_d = _positions(det, idx)
    size_e = (hi_e - lo_e).astype(np.float64)
    size_d = (hi_d - lo_d).astype(np.float64)
    # |R_i ∩ P_j|: timestamps in [max(starts), min(ends)]; empty intersections clip to 0
    lo = np.maximum(lo_e[:, None], lo_d[None, :])
    hi = np.minimum(hi_e[:, None], hi_d[None, :])
    inter = np.maximum(hi - lo, 0).astype(np.float64)

    def ratio(overlap: np.ndarray, size: np.ndarray) -> np.ndarray:
        out = np.zeros_like(size)
        np.divide(overlap, size, out=out, where=size > 0)
        return np.minimum(out, 1.0)

    overlap_e = inter.sum(axis=1)
    recall_i = alpha * (overlap_e > 0) + (1.0 - alpha) * ratio(overlap_e, size_e)
    precision_j = ratio(inter.sum(axis=0), size_d)
    return MetricResult(
        precision_num=math.fsum(precision_j.tolist()),
        precision_den=len(det),
        recall_num=math.fsum(recall_i.tolist()),
        recall_den=len(exp),
    )


BUILTIN_METRICS: dict[str, Callable[..., MetricResult]] = {
    "overlap": overlap_segment,
    "pointwise": pointwise,
    "weighted_segment": weighted_segment,
    "point_adjusted": point_adjusted,
    "range_based": range_based,
}
"""The built-in metrics of this module by name; each is callable as ``metric(expected, detected,
index)``. The plugin registry holds these and ``affiliation`` (see the module docstring)."""

HEADLINE = "overlap"
"""The name of the metric reports lead with."""
