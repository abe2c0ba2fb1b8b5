"""Score-based metrics of one signal: AUC-ROC, AUC-PR, range-based AUC and VUS on the raw scores.

These metrics read a detector's per-timestep anomaly scores (higher = more anomalous) and the
per-timestep labels, not the detected intervals, so they do not depend on the thresholding.
Every function takes ``(scores, labels)``:

* ``scores``: 1-D array of finite floats, one per timestep of the test part;
* ``labels``: 1-D array of the same length, ``True`` / ``1`` where the timestep is anomalous,
  ``False`` / ``0`` elsewhere (:func:`labels_from_intervals` builds it from labelled intervals).

Anything else (another shape, a length mismatch, NaN or infinite scores, labels outside
``{0, 1}``, an empty signal) raises :class:`ValueError` naming ``scores`` or ``labels``.

===========  =================  =====================================================
name         function           what it integrates
===========  =================  =====================================================
``auc_roc``  :func:`auc_roc`    the point-wise ROC curve (TPR over FPR), every threshold
``auc_pr``   :func:`auc_pr`     average precision: precision over recall, a step function
``vus_roc``  :func:`vus`        range-based ROC areas, averaged over label buffers 0..L
``vus_pr``   :func:`vus`        range-based PR areas, averaged over label buffers 0..L
===========  =================  =====================================================

All four depend only on the order of the scores (and their ties): scores under any strictly
increasing transform give identical values.

**One class only.** With no anomalous timestep, or only anomalous ones, no ranking is better or
worse than another (every score ranks like a constant). Each metric then takes the value a
constant score gets where that is defined, never NaN: AUC-ROC and VUS-ROC 0.5; AUC-PR and VUS-PR
the anomaly rate, i.e. 0.0 without anomalies and 1.0 when every timestep is anomalous. Use
``labels.any() and not labels.all()`` to tell such signals apart (a report may leave them out of
rankings).

**VUS** follows the definition of Paparrizos et al., "Volume Under the Surface: A New Accuracy
Evaluation Measure for Time-Series Anomaly Detection" (VLDB 2022), as implemented in the
reference packages ``vus`` 0.0.6 (``vus.analysis.robustness_eval.generate_curve``) and
``TSB-AD`` 1.5 (``TSB_AD.evaluation.basic_metrics.generate_curve``, whose ``VUS-PR`` is TSB-AD's
headline metric); both compute the same values. :func:`vus` documents it in full; the defaults
(:data:`DEFAULT_MAX_BUFFER` = 100, :data:`DEFAULT_BUFFER_STEP` = 1,
:data:`DEFAULT_THRESHOLDS` = 250) are those of ``TSB_AD.evaluation.metrics.get_metrics``
(``slidingWindow=100, thre=250``; the buffer sweep ``range(0, slidingWindow + 1)``). TSB-AD's own
benchmark script passes a period estimate of each signal (``find_length_rank``) as the maximum
buffer instead; pass ``max_buffer`` to do the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchbench.evaluation.metrics import _as_index, _as_intervals, _mask

__all__ = [
    "DEFAULT_BUFFER_STEP",
    "DEFAULT_MAX_BUFFER",
    "DEFAULT_THRESHOLDS",
    "SCORE_METRICS",
    "VolumeUnderSurface",
    "auc_pr",
    "auc_roc",
    "labels_from_intervals",
    "range_auc",
    "score_metrics",
    "vus",
]

DEFAULT_MAX_BUFFER = 100
"""The largest label buffer of the VUS sweep, in timesteps (TSB-AD's ``slidingWindow=100``)."""

DEFAULT_BUFFER_STEP = 1
"""The spacing of the buffers of the VUS sweep: every integer buffer, as the reference does."""

DEFAULT_THRESHOLDS = 250
"""The number of score thresholds of each range-based curve (the reference's ``thre=250``)."""

SCORE_METRICS = ("auc_roc", "auc_pr", "vus_roc", "vus_pr")
"""The keys of :func:`score_metrics`' result, in report order."""


# --------------------------------------------------------------------------------------------
# input handling


def _as_scores_labels(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"scores must be numeric: {exc}") from None
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {s.shape}")
    if s.size == 0:
        raise ValueError("scores is empty: no timestep to evaluate")
    if not np.isfinite(s).all():
        bad = int(np.flatnonzero(~np.isfinite(s))[0])
        raise ValueError(f"scores must be finite, got {s[bad]!r} at position {bad}")
    raw = np.asarray(labels)
    if raw.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {raw.shape}")
    if raw.shape != s.shape:
        raise ValueError(f"labels has {raw.size} timesteps but scores has {s.size}")
    if raw.dtype != np.bool_:
        try:
            numeric = raw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"labels must be 0/1 or booleans: {exc}") from None
        outside = ~np.isin(numeric, (0.0, 1.0))
        if outside.any():
            bad = int(np.flatnonzero(outside)[0])
            raise ValueError(f"labels must be 0/1 or booleans, got {raw[bad]!r} at position {bad}")
        raw = numeric == 1.0
    return s, raw


def _check_int(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def labels_from_intervals(expected: Sequence[Sequence[float]], index: np.ndarray) -> np.ndarray:
    """Per-timestep labels of ``index``: ``True`` where the timestamp lies in at least one closed
    labelled interval ``[start, end]`` of ``expected`` (in ``index`` units), as the
    ``pointwise`` interval metric counts them. Invalid intervals or an unsorted ``index`` raise
    :class:`ValueError` (see :mod:`benchbench.evaluation.metrics`)."""
    return _mask(_as_intervals(expected, "expected"), _as_index(index))


# --------------------------------------------------------------------------------------------
# point-wise AUCs (scikit-learn)


def _chance(labels: np.ndarray) -> tuple[float, float] | None:
    """``(roc, pr)`` of a signal with one class only, else ``None``."""
    if labels.all() or not labels.any():
        return 0.5, float(labels.all())
    return None


def auc_roc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the point-wise ROC curve: ``sklearn.metrics.roc_auc_score``.

    Every distinct score is a threshold (a timestep is predicted anomalous when its score is
    ``>=`` it); the curve of (false positive rate, true positive rate) through them, from (0, 0)
    to (1, 1), is integrated with the trapezoidal rule. Equivalently, the probability that an
    anomalous timestep scores above a normal one, ties counting one half: a constant score gives
    0.5, a perfect ranking 1. One class only gives 0.5 (see the module docstring).
    """
    from sklearn.metrics import roc_auc_score

    s, y = _as_scores_labels(scores, labels)
    chance = _chance(y)
    if chance is not None:
        return chance[0]
    return float(roc_auc_score(y, s))


def auc_pr(scores: np.ndarray, labels: np.ndarray) -> float:
    """Average precision: ``sklearn.metrics.average_precision_score``.

    With the distinct scores as thresholds in decreasing order (ties form one threshold) and
    ``P_k``, ``R_k`` the precision and recall of predicting the timesteps scoring ``>=`` the k-th,
    ``AP = sum_k (R_k - R_{k-1}) * P_k`` with ``R_0 = 0``: the precision-recall curve as a step
    function, without interpolation. A constant score gives the anomaly rate (its single
    threshold has precision = rate, recall = 1), a perfect ranking 1. One class only gives the
    anomaly rate, 0.0 or 1.0 (see the module docstring).
    """
    from sklearn.metrics import average_precision_score

    s, y = _as_scores_labels(scores, labels)
    chance = _chance(y)
    if chance is not None:
        return chance[1]
    return float(average_precision_score(y, s))


# --------------------------------------------------------------------------------------------
# range-based curves and VUS


@dataclass(frozen=True)
class VolumeUnderSurface:
    """The result of :func:`vus`: the volumes and the range-based areas at each buffer.

    ``roc`` (VUS-ROC) and ``pr`` (VUS-PR) are the means of ``roc_by_buffer`` and
    ``pr_by_buffer``; ``buffers`` holds the buffer lengths swept, in timesteps.
    """

    roc: float
    pr: float
    buffers: tuple[int, ...]
    roc_by_buffer: tuple[float, ...]
    pr_by_buffer: tuple[float, ...]


def _first_predicted(scores: np.ndarray, n_thresholds: int) -> np.ndarray:
    """For each timestep, the index ``k`` of the first of the sampled thresholds (in decreasing
    order) at which it is predicted anomalous (``score >= threshold_k``); it stays predicted at
    every later one."""
    n = scores.size
    thresholds = np.sort(scores)[::-1][np.linspace(0, n - 1, n_thresholds).astype(int)]
    return n_thresholds - np.searchsorted(thresholds[::-1], scores, side="right")


def _cumulative(first: np.ndarray, n_thresholds: int, weights: np.ndarray | None = None):
    """``out[k]``: the number (or the summed ``weights``) of entries with ``first <= k``."""
    return np.cumsum(np.bincount(first, weights=weights, minlength=n_thresholds))


class _RangeCurves:
    """The range-based ROC and PR areas of one signal, for any buffer (see :func:`vus`).

    Built once per signal in ``O(n log n)``; :meth:`areas` then costs ``O(n_near + n_ranges +
    n_thresholds)`` per buffer, ``n_near`` being the number of normal timesteps within that
    buffer's reach of a range (at most ``n``), plus ``O(n_ranges)`` per timestep of buffer
    growth.
    """

    def __init__(self, scores: np.ndarray, labels: np.ndarray, n_thresholds: int,
                 max_half: int) -> None:
        n, t = scores.size, n_thresholds
        self.n, self.t = n, t
        self.first = _first_predicted(scores, t)
        self.n_pos = int(np.count_nonzero(labels))
        self.n_pred = _cumulative(self.first, t).astype(np.float64)
        self.tp_anomalous = _cumulative(self.first[labels], t).astype(np.float64)
        edges = np.diff(np.concatenate([[0], labels.astype(np.int8), [0]]))
        self.starts = np.flatnonzero(edges == 1)
        self.ends = np.flatnonzero(edges == -1) - 1
        # earliest threshold index at which each range (its anomalous timesteps) is hit
        bounds = np.column_stack([self.starts, self.ends + 1]).ravel()
        self.range_first = np.minimum.reduceat(np.append(self.first, t), bounds)[::2]
        # the normal timesteps within max_half of a range, with their distances to the nearest
        # and second-nearest range end on their left and range start on their right
        normal = np.flatnonzero(~labels)
        big = n + 2 * max_half + 2  # farther than any buffer reaches
        left = np.searchsorted(self.ends, normal) - 1
        right = np.searchsorted(self.starts, normal)

        def gap(positions: np.ndarray, at: np.ndarray, sign: int) -> np.ndarray:
            ok = (at >= 0) & (at < positions.size)
            out = np.full(at.shape, big, dtype=np.int64)
            out[ok] = sign * (normal[ok] - positions[at[ok]])
            return out

        d_left, d_right = gap(self.ends, left, 1), gap(self.starts, right, -1)
        nearest = np.minimum(d_left, d_right)
        near = np.flatnonzero(nearest <= max_half)
        near = near[np.argsort(nearest[near], kind="stable")]  # by distance to a range
        self.near_distance = nearest[near]
        self.near_first = self.first[normal[near]]
        self.d_left, self.d_right = d_left[near], d_right[near]
        self.d_left2 = gap(self.ends, left - 1, 1)[near]
        self.d_right2 = gap(self.starts, right + 1, -1)[near]
        # running minima of `first` over the left / right buffers of each range
        self._pad = max_half
        self._padded = np.concatenate([np.full(max_half, t), self.first, np.full(max_half, t)])
        self._half = 0
        self._left_first = np.full(self.starts.size, t)
        self._right_first = np.full(self.starts.size, t)

    def _buffer_credit(self, buffer: int) -> np.ndarray:
        """``credit[k]``: the summed label weights of the normal timesteps predicted at
        threshold ``k`` under ``buffer``. A normal timestep at distance ``d`` in ``1..buffer //
        2`` after a range end or before a range start has the reference's weight ``sqrt(1 - d /
        buffer)``, the contributions of several ranges summed and capped at 1 (two contributions
        always reach the cap, each being >= sqrt(1/2))."""
        half = buffer // 2
        m = int(np.searchsorted(self.near_distance, half, side="right"))  # those within reach
        d_left, d_right = self.d_left[:m], self.d_right[:m]
        count = ((d_left <= half).astype(np.int8) + (self.d_left2[:m] <= half)
                 + (d_right <= half) + (self.d_right2[:m] <= half))
        single = np.where(d_left <= half, d_left, d_right)
        weights = np.where(count >= 2, 1.0, np.sqrt(1 - single / buffer) if m else single)
        return _cumulative(self.near_first[:m], self.t, weights)

    def _existence(self, half: int) -> tuple[np.ndarray, int]:
        """``(hit, n_groups)``: the ranges widened by ``half`` timesteps on each side and merged
        where they meet (``start_next - end <= 2 * half``); ``hit[k]`` is the number of such
        groups holding a timestep predicted at threshold ``k``."""
        if half < self._half:
            raise AssertionError("buffers must be swept in increasing order")
        for d in range(self._half + 1, half + 1):
            np.minimum(self._left_first, self._padded[self.starts - d + self._pad],
                       out=self._left_first)
            np.minimum(self._right_first, self._padded[self.ends + d + self._pad],
                       out=self._right_first)
        self._half = half
        first = np.minimum(self.range_first, np.minimum(self._left_first, self._right_first))
        separate = (self.starts[1:] - self.ends[:-1]) > 2 * half
        group_starts = np.concatenate([[0], np.flatnonzero(separate) + 1])
        group_first = np.minimum.reduceat(first, group_starts)
        return _cumulative(group_first, self.t).astype(np.float64), group_starts.size

    def areas(self, buffer: int) -> tuple[float, float]:
        """``(roc_area, pr_area)`` of the range-based curves under label buffer ``buffer``."""
        credit = self._buffer_credit(buffer)
        hit, n_groups = self._existence(buffer // 2)
        tp = self.tp_anomalous + credit
        positives = self.n_pos + credit / 2
        recall = np.minimum(tp / positives, 1.0)
        tpr = recall * hit / n_groups
        fpr = (self.n_pred - tp) / (self.n - positives)
        precision = tp / self.n_pred
        x = np.concatenate([[0.0], fpr, [1.0]])
        y = np.concatenate([[0.0], tpr, [1.0]])
        roc = float(np.dot(np.diff(x), (y[1:] + y[:-1]) / 2))
        pr = float(np.dot(np.diff(np.concatenate([[0.0], tpr])), precision))
        return roc, pr


def vus(scores: np.ndarray, labels: np.ndarray, *, max_buffer: int = DEFAULT_MAX_BUFFER,
        buffer_step: int = DEFAULT_BUFFER_STEP,
        n_thresholds: int = DEFAULT_THRESHOLDS) -> VolumeUnderSurface:
    """VUS-ROC and VUS-PR (Paparrizos et al., VLDB 2022), as TSB-AD 1.5 computes them.

    **Buffers.** The buffers swept are ``ell = 0, buffer_step, 2 * buffer_step, ...`` up to
    ``max_buffer`` (defaults 0..100, every integer). A range is a maximal run of anomalous
    timesteps. Under buffer ``ell`` each normal timestep at distance ``d`` in ``1..ell // 2``
    after the end or before the start of a range gets the label weight ``sqrt(1 - d / ell)``
    (weights from several ranges are summed, then capped at 1); buffers 0 and 1 add nothing.

    **Thresholds.** The scores sorted in decreasing order are sampled at the positions
    ``numpy.linspace(0, n - 1, n_thresholds).astype(int)`` (default 250; a short signal repeats
    positions). At threshold ``tau`` the timesteps with ``score >= tau`` are predicted: tied
    scores are predicted together, and the last threshold predicts everything.

    **One curve.** At each threshold, with ``P`` the number of anomalous timesteps, ``B`` the
    summed weights of the predicted buffer timesteps and ``TP`` = (predicted anomalous
    timesteps) + ``B``:

    * recall = ``min(1, TP / (P + B / 2))``, times the existence ratio: the fraction of the
      groups (each range widened by ``ell // 2`` timesteps on each side, clipped to the signal,
      merged where they meet) holding at least one predicted timestep — this product is the TPR;
    * FPR = ``(predicted - TP) / (n - P - B / 2)``;
    * precision = ``TP / predicted``.

    The ROC area integrates TPR over FPR by the trapezoidal rule through (0, 0), the
    thresholds' points and (1, 1); the PR area is ``sum_k (TPR_k - TPR_{k-1}) * precision_k``
    over the thresholds, with ``TPR_0 = 0`` (a step function, as average precision is).

    **Volumes.** VUS-ROC and VUS-PR are the means of the ROC and PR areas over the buffers.
    With ``max_buffer=0`` they are the plain range-based areas of :func:`range_auc` with buffer 0
    (point-wise counts times the existence ratio).

    **Quirks kept from the reference.** A perfect score (every anomalous timestep sharing one
    value above every normal one, e.g. the labels themselves) gives 1 at every buffer, but a
    perfect ranking whose anomalous scores differ can give less (the thresholds are sampled). A
    constant score gives VUS-ROC above 0.5 once buffers are non-zero (its one curve point has FPR
    below 1 because buffer timesteps count as partly positive) and VUS-PR above the anomaly rate
    (each buffer's PR area is ``(P + B) / n``, ``B`` the weight of all its buffer timesteps).
    One class only: see the module docstring (the reference fails without anomalies and divides
    0 by 0 with only anomalies).

    Cost: ``O(n log n)`` once, then ``O(n + n_thresholds)`` per buffer at most (vectorised).
    ``max_buffer`` and ``buffer_step`` must be integers >= 0 and >= 1, ``n_thresholds`` >= 1;
    anything else raises :class:`ValueError`.
    """
    max_buffer = _check_int(max_buffer, "max_buffer", 0)
    buffer_step = _check_int(buffer_step, "buffer_step", 1)
    n_thresholds = _check_int(n_thresholds, "n_thresholds", 1)
    s, y = _as_scores_labels(scores, labels)
    buffers = tuple(range(0, max_buffer + 1, buffer_step))
    chance = _chance(y)
    if chance is not None:
        roc_areas, pr_areas = [chance[0]] * len(buffers), [chance[1]] * len(buffers)
    else:
        curves = _RangeCurves(s, y, n_thresholds, max_buffer // 2)
        roc_areas, pr_areas = zip(*(curves.areas(ell) for ell in buffers))
    return VolumeUnderSurface(
        roc=math.fsum(roc_areas) / len(buffers),
        pr=math.fsum(pr_areas) / len(buffers),
        buffers=buffers,
        roc_by_buffer=tuple(float(a) for a in roc_areas),
        pr_by_buffer=tuple(float(a) for a in pr_areas),
    )


def range_auc(scores: np.ndarray, labels: np.ndarray, *, buffer: int = 0,
              n_thresholds: int = DEFAULT_THRESHOLDS) -> tuple[float, float]:
    """``(roc_area, pr_area)``: the range-based ROC and PR areas under one label ``buffer``,
    defined as in :func:`vus` (one slice of its surface). Buffer 0 gives the reference's
    ``RangeAUC(window=0)``: point-wise TPR times the existence ratio of the ranges, over the
    sampled thresholds."""
    result = vus(scores, labels, max_buffer=buffer, buffer_step=max(buffer, 1),
                 n_thresholds=n_thresholds)
    return result.roc_by_buffer[-1], result.pr_by_buffer[-1]


def score_metrics(scores: np.ndarray, labels: np.ndarray, *,
                  max_buffer: int = DEFAULT_MAX_BUFFER, buffer_step: int = DEFAULT_BUFFER_STEP,
                  n_thresholds: int = DEFAULT_THRESHOLDS) -> dict[str, float]:
    """All four score-based metrics of one signal, keyed as :data:`SCORE_METRICS`: ``auc_roc``,
    ``auc_pr`` (:func:`auc_roc`, :func:`auc_pr`), ``vus_roc`` and ``vus_pr`` (:func:`vus` with
    the given parameters). Every value is a float in ``[0, 1]``, never NaN."""
    volume = vus(scores, labels, max_buffer=max_buffer, buffer_step=buffer_step,
                 n_thresholds=n_thresholds)
    return {"auc_roc": auc_roc(scores, labels), "auc_pr": auc_pr(scores, labels),
            "vus_roc": volume.roc, "vus_pr": volume.pr}
