"""Turning per-timestep anomaly scores into detected anomalous intervals.

Every rule here takes ``scores`` (shape ``(n,)``, finite floats, higher = more anomalous) and
``index`` (shape ``(n,)``, numeric timestamps sorted ascending) and returns
``[(start, end, severity), ...]``: closed intervals whose bounds are values of ``index``, sorted by
``start`` and non-overlapping, each with a float severity (larger = more confident).

``"window"`` (:func:`sliding_window_threshold`, the default) is the sliding-window rule of TadGAN
(A. Geiger, D. Liu, S. Alnegheimish, A. Cuesta-Infante, K. Veeramachaneni, "TadGAN: Time Series
Anomaly Detection Using Generative Adversarial Networks", IEEE Big Data 2020), as its reference
implementation (Orion's ``find_anomalies`` with a fixed threshold) applies it:

* windows of a third of the signal (``ceil(n * 0.33)`` scores) slide in steps of a tenth of the
  window; in each, scores above ``mean + 4 * std`` of the window are anomalous, and each
  anomalous point also marks the 50 points on each side of it (within the window);
* the marked runs of a window are pruned: their maxima, with the largest unmarked score as a
  floor, are sorted descending, and the runs after the last relative drop of more than 13%
  between consecutive maxima are discarded (this removes runs barely above the rest);
* a kept run's severity is ``(max score - threshold) / (mean + std)`` of its window; the runs of
  all windows are merged where they overlap or touch, keeping the largest severity (Orion takes
  a length-weighted mean instead).

``"quantile"`` (:func:`quantile_threshold`) is a simple global rule: scores strictly above a
quantile of all scores (0.99 by default), optionally padded, with contiguous runs as intervals
and severity ``max score in the run - threshold``.

:func:`apply_threshold` picks a rule by name from :data:`THRESHOLDS`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from benchbench.detector import check_param_value

__all__ = [
    "DEFAULT_THRESHOLD",
    "THRESHOLDS",
    "Detection",
    "apply_threshold",
    "check_threshold_params",
    "quantile_threshold",
    "sliding_window_threshold",
    "window_layout",
]

Detection = tuple[float, float, float]
"""``(start, end, severity)``: a closed interval in index units and its severity."""


def _check_inputs(scores: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    idx = np.asarray(index)
    if s.ndim != 1:
        raise ValueError(f"scores must have shape (n,), got shape {s.shape}")
    if idx.shape != s.shape:
        raise ValueError(f"index must have shape {s.shape} like scores, got shape {idx.shape}")
    if not np.all(np.isfinite(s)):
        bad = np.flatnonzero(~np.isfinite(s))
        raise ValueError(
            f"scores must be finite; {bad.size} value(s) are NaN or inf (first at position "
            f"{bad[0]})"
        )
    return s, idx


#: The range rule of each rule parameter that has one: (test, what it must be).
_RANGES: dict[str, tuple[Callable[[float], bool], str]] = {
    "window_size_portion": (lambda v: v > 0, "> 0"),
    "window_step_size_portion": (lambda v: v > 0, "> 0"),
    "anomaly_padding": (lambda v: v >= 0, ">= 0"),
    "quantile": (lambda v: 0 <= v <= 1, "in [0, 1]"),
}


def _check_range(name: str, value: Any) -> None:
    """Raise ``ValueError`` when ``value`` breaks the range rule of parameter ``name``."""
    test, what = _RANGES[name]
    if not test(value):
        raise ValueError(f"{name} must be {what}, got {value}")


def _pad(marked: np.ndarray, padding: int) -> np.ndarray:
    """Mark also the ``padding`` positions on each side of every marked one (clipped)."""
    if padding <= 0 or not marked.any():
        return marked
    n = len(marked)
    pos = np.flatnonzero(marked)
    delta = np.zeros(n + 1, dtype=np.int64)
    np.add.at(delta, np.maximum(pos - padding, 0), 1)
    np.add.at(delta, np.minimum(pos + padding + 1, n), -1)
    return np.cumsum(delta[:n]) > 0


def _runs(marked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (inclusive positions) of the contiguous True runs of ``marked``."""
    edges = np.diff(np.concatenate(([0], marked.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1


def _prune(maxima: np.ndarray, max_below: float, min_percent: float) -> np.ndarray:
    """Which candidate sequences survive pruning (boolean mask over ``maxima``).

    ``maxima`` and the sentinel ``max_below`` are sorted descending as ``m_0 >= m_1 >= ...``;
    ``d_i = (m_i - m_{i+1}) / |m_i|`` (``inf`` if ``m_i == 0 < m_i - m_{i+1}``, ``0`` if both are
    0). The sequences among ``m_0 .. m_i`` for the last ``i`` with ``d_i > min_percent`` are kept,
    none if there is no such ``i``. The sentinel is never kept (it is the smallest entry whenever
    ``max_below`` comes from points at or below the threshold).
    """
    k = len(maxima)
    if k == 0:
        return np.zeros(0, dtype=bool)
    values = np.concatenate((maxima, [max_below]))
    order = np.argsort(-values, kind="stable")
    m = values[order]
    diff = m[:-1] - m[1:]
    head = np.abs(m[:-1])
    flat = np.where(diff > 0, np.inf, 0.0)  # m_i == 0: any drop at all counts as infinite
    drop = np.where(head > 0, diff / np.where(head > 0, head, 1.0), flat)
    big = np.flatnonzero(drop > min_percent)
    keep = np.zeros(k + 1, dtype=bool)
    if big.size:
        keep[order[: big[-1] + 1]] = True
    return keep[:k]


def _window_sequences(
    window: np.ndarray, k: float, padding: int, min_percent: float
) -> list[tuple[int, int, float]]:
    """Kept ``(start, end, severity)`` sequences of one window, positions relative to it."""
    mean = float(window.mean())
    std = float(window.std())
    threshold = mean + k * std
    above = window > threshold
    if not above.any():
        return []
    marked = _pad(above, padding)
    starts, ends = _runs(marked)
    maxima = np.maximum.reduceat(window, starts)
    max_below = float(window[~marked].max()) if not marked.all() else 0.0
    keep = _prune(maxima, max_below, min_percent)
    denominator = abs(mean + std)
    if denominator == 0:
        denominator = 1.0
    return [
        (int(s), int(e), float((mx - threshold) / denominator))
        for s, e, mx in zip(starts[keep], ends[keep], maxima[keep])
    ]


def _merge(sequences: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Join overlapping or adjacent position ranges; the severity of a join is the maximum."""
    merged: list[tuple[int, int, float]] = []
    for start, end, severity in sorted(sequences):
        if merged and start <= merged[-1][1] + 1:
            prev_start, prev_end, prev_severity = merged[-1]
            merged[-1] = (prev_start, max(prev_end, end), max(prev_severity, severity))
        else:
            merged.append((start, end, severity))
    return merged


def _to_index(sequences: list[tuple[int, int, float]], index: np.ndarray) -> list[Detection]:
    return [(float(index[s]), float(index[e]), float(sev)) for s, e, sev in sequences]


def window_layout(
    n: int, window_size_portion: float = 0.33, window_step_size_portion: float = 0.1
) -> tuple[int, int, list[int]]:
    """The windows :func:`sliding_window_threshold` uses on ``n`` scores.

    ``window_size = ceil(n * window_size_portion)``, ``step = ceil(window_size *
    window_step_size_portion)``; windows start at ``0, step, 2 * step, ...`` for as long as the
    previous window ended before ``n`` (so the last window may be cut short at ``n``).

    Returns:
        ``(window_size, step, starts)`` in timesteps; e.g. ``n = 1000`` gives ``(330, 33,
        [0, 33, ..., 693])`` (22 windows).
    """
    _check_range("window_size_portion", window_size_portion)
    _check_range("window_step_size_portion", window_step_size_portion)
    if n <= 0:
        return 0, 0, []
    window_size = max(1, math.ceil(n * window_size_portion))
    step = max(1, math.ceil(window_size * window_step_size_portion))
    # starts s with s == 0 or (s - step) + window_size < n
    last = max(0, n - window_size + step - 1)
    return window_size, step, list(range(0, last + 1, step))


def sliding_window_threshold(
    scores: np.ndarray,
    index: np.ndarray,
    window_size_portion: float = 0.33,
    window_step_size_portion: float = 0.1,
    k: float = 4.0,
    anomaly_padding: int = 50,
    min_percent: float = 0.13,
) -> list[Detection]:
    """Detect anomalous intervals with TadGAN's sliding-window rule (see the module docstring).

    Args:
        scores: shape ``(n,)``, finite anomaly scores, higher = more anomalous.
        index: shape ``(n,)``, numeric timestamps of ``scores``.
        window_size_portion: window length as a fraction of ``n`` (rounded up).
        window_step_size_portion: step as a fraction of the window length (rounded up).
        k: a point is anomalous when its score is strictly above ``mean + k * std`` of its window
            (population std, ``ddof=0``).
        anomaly_padding: timesteps marked on each side of an anomalous point (within the window).
        min_percent: minimum relative drop between consecutive sorted sequence maxima for the
            sequences above it to be kept.

    Returns:
        ``[(start, end, severity), ...]`` in ``index`` units, sorted, non-overlapping; empty for
        ``n < 2``. Severity is ``(max - threshold) / |mean + std|`` of the window where the
        sequence was found (``max - threshold`` when ``mean + std`` is 0), the maximum over the
        windows and sequences merged into the interval.

    Raises:
        ValueError: non-finite scores, mismatched shapes, or bad parameters.
    """
    s, idx = _check_inputs(scores, index)
    _check_range("anomaly_padding", anomaly_padding)
    n = len(s)
    window_size, step, starts = window_layout(n, window_size_portion, window_step_size_portion)
    if n < 2:
        return []
    sequences: list[tuple[int, int, float]] = []
    for start in starts:  # one iteration per window (about 21 with the defaults), not per point
        window = s[start : start + window_size]
        sequences.extend(
            (start + a, start + b, sev)
            for a, b, sev in _window_sequences(window, k, int(anomaly_padding), min_percent)
        )
    return _to_index(_merge(sequences), idx)


def quantile_threshold(
    scores: np.ndarray,
    index: np.ndarray,
    quantile: float = 0.99,
    anomaly_padding: int = 0,
) -> list[Detection]:
    """Detect anomalous intervals as the scores strictly above a global quantile.

    Args:
        scores: shape ``(n,)``, finite anomaly scores, higher = more anomalous.
        index: shape ``(n,)``, numeric timestamps of ``scores``.
        quantile: in ``[0, 1]``; the threshold is ``np.quantile(scores, quantile)`` (linear).
        anomaly_padding: timesteps marked on each side of an anomalous point (clipped to the
            signal); overlapping or touching padded points form one interval.

    Returns:
        ``[(start, end, severity), ...]`` in ``index`` units, sorted, non-overlapping, with
        severity ``max score in the interval - threshold`` (> 0).

    Raises:
        ValueError: non-finite scores, mismatched shapes, or bad parameters.
    """
    s, idx = _check_inputs(scores, index)
    _check_range("quantile", quantile)
    _check_range("anomaly_padding", anomaly_padding)
    if len(s) == 0:
        return []
    threshold = float(np.quantile(s, quantile))
    above = s > threshold
    if not above.any():
        return []
    starts, ends = _runs(_pad(above, int(anomaly_padding)))
    maxima = np.maximum.reduceat(s, starts)
    return _to_index(
        [(int(a), int(b), float(m - threshold)) for a, b, m in zip(starts, ends, maxima)], idx
    )


THRESHOLDS: dict[str, Callable[..., list[Detection]]] = {
    "window": sliding_window_threshold,
    "quantile": quantile_threshold,
}
"""The thresholding rules by name."""

DEFAULT_THRESHOLD = "window"


def apply_threshold(
    name: str, scores: np.ndarray, index: np.ndarray, **params: Any
) -> list[Detection]:
    """Apply the rule ``THRESHOLDS[name]`` to ``scores`` / ``index`` with keyword ``params``.

    Raises:
        ValueError: an unknown ``name`` (the message lists the valid ones).
    """
    return _rule(name)(scores, index, **params)


def _rule(name: str) -> Callable[..., list[Detection]]:
    """``THRESHOLDS[name]``; ``ValueError`` listing the valid names for an unknown one."""
    try:
        return THRESHOLDS[name]
    except KeyError:
        raise ValueError(
            f"unknown threshold {name!r}; valid: {', '.join(sorted(THRESHOLDS))}"
        ) from None


def check_threshold_params(name: str, params: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the parameter when ``params`` cannot be given to the rule
    ``THRESHOLDS[name]``: an unknown name (the message lists the valid ones), a value of the
    wrong kind (from the rule's annotations, see :func:`benchbench.detector.param_kinds`) or out
    of the range the rule itself checks. ``bench run`` calls this before it creates the run
    folder.
    """
    # the parameters after scores and index
    accepted = dict(list(inspect.signature(_rule(name)).parameters.items())[2:])
    for key, value in params.items():
        if key not in accepted:
            raise ValueError(f"the {name!r} threshold has no parameter {key!r}; valid "
                             f"parameters: {', '.join(accepted)}")
        check_param_value(f"the {name!r} threshold", accepted[key], value)
        try:
            if key in _RANGES:
                _check_range(key, value)
        except ValueError as exc:
            raise ValueError(f"the {name!r} threshold: {exc}") from None
