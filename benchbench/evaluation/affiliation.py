"""Affiliation precision and recall (Huet, Navarro and Rossi, "Local Evaluation of Time Series
Anomaly Detection Algorithms", KDD 2022), on labelled and detected intervals.

The definition is that of the authors' reference code (``affiliation-metrics-py``, vendored as
``TSB_AD.evaluation.affiliation`` in TSB-AD 1.5 and ``vus.affiliation`` in vus 0.0.6), written
here from the definition in closed form. Events are half-open ``[start, stop)`` of positive
length on a time range ``[T0, T1)``; the labelled events ``J_1 < ... < J_m`` are disjoint.

* **Zones.** The range is cut at the midpoints between consecutive labelled events: the
  affiliation zone ``E_j`` of ``J_j`` runs from the midpoint with ``J_{j-1}`` (or ``T0``) to the
  midpoint with ``J_{j+1}`` (or ``T1``). Each detection is cut into its pieces in the zones.
* **Precision of zone j** (defined when some detection lies in ``E_j``): the mean, over the
  detected time ``x`` in ``E_j``, of ``Fbar_j(dist(x, J_j))``, where ``Fbar_j(d)`` is the
  probability that a time drawn uniformly in ``E_j`` lies at distance ``>= d`` from ``J_j`` (1
  inside ``J_j``). A detection far from the event inside its zone scores near 0, one on it 1.
* **Recall of zone j**: the mean, over ``y`` in ``J_j``, of the probability that a time drawn
  uniformly in ``E_j`` lies at distance ``>=`` ``dist(y, detections in E_j)`` from ``y``; 0 when
  no detection lies in ``E_j``.
* **Precision** is the mean of the defined zone precisions, **recall** the mean of all zone
  recalls. Detections in one zone do not count for another.

Both are probabilities in ``[0, 1]``: 0.5 is roughly what a random detection in the zone gets,
so the scores do not reward long detections the way point-adjusted ones do.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchbench.evaluation.metrics import MetricResult, _prepare, _step

__all__ = ["AffiliationScores", "affiliation", "affiliation_events", "affiliation_zones"]

Event = tuple[float, float]


@dataclass(frozen=True)
class AffiliationScores:
    """Per labelled event ``j``: its zone, its precision (``None`` when no detection lies in the
    zone) and its recall. ``precision`` and ``recall`` are the means defined in the module
    docstring; ``precision`` is ``None`` when no zone has a defined precision."""

    zones: tuple[Event, ...]
    precision_by_event: tuple[float | None, ...]
    recall_by_event: tuple[float, ...]

    @property
    def precision(self) -> float | None:
        defined = [p for p in self.precision_by_event if p is not None]
        return math.fsum(defined) / len(defined) if defined else None

    @property
    def recall(self) -> float:
        return math.fsum(self.recall_by_event) / len(self.recall_by_event)


def _check_events(events: Sequence[Sequence[float]], what: str, trange: Event,
                  ordered: bool) -> list[Event]:
    out: list[Event] = []
    for i, event in enumerate(events):
        if len(event) != 2:
            raise ValueError(f"{what}[{i}] = {event!r}: an event is a (start, stop) pair")
        start, stop = float(event[0]), float(event[1])
        if not (math.isfinite(start) and math.isfinite(stop)) or start >= stop:
            raise ValueError(f"{what}[{i}] = ({start!r}, {stop!r}): an event needs finite "
                             "bounds with start < stop")
        if start < trange[0] or stop > trange[1]:
            raise ValueError(f"{what}[{i}] = ({start!r}, {stop!r}) lies outside the time range "
                             f"{trange!r}")
        if ordered and out and start <= out[-1][1]:
            raise ValueError(f"{what}[{i}] = ({start!r}, {stop!r}) does not start after "
                             f"{what}[{i - 1}] ends: labelled events must be disjoint and sorted")
        out.append((start, stop))
    return out


def _merge(events: list[Event]) -> list[Event]:
    """The union of ``events`` as sorted disjoint events (touching ones joined)."""
    merged: list[Event] = []
    for start, stop in sorted(events):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def affiliation_zones(expected: Sequence[Event], trange: Event) -> tuple[Event, ...]:
    """The affiliation zones of the sorted disjoint labelled events ``expected`` in
    ``trange``: cuts at ``trange`` and at the midpoints between consecutive events."""
    cuts = [trange[0]]
    cuts += [(a[1] + b[0]) / 2 for a, b in zip(expected[:-1], expected[1:])]
    cuts.append(trange[1])
    return tuple(zip(cuts[:-1], cuts[1:]))


def _ramp(length: float, d0: float, d1: float) -> float:
    """``integral_{d0}^{d1} max(length - d, 0) dd``."""
    return (max(length - d0, 0.0) ** 2 - max(length - d1, 0.0) ** 2) / 2


def _precision_integral(piece: Event, event: Event, zone: Event) -> float:
    """``integral over x in piece of Fbar(dist(x, event))``, with ``Fbar(d) = ((L1 - d)+ + (L2 -
    d)+) / |zone|`` for ``d > 0`` (``L1``, ``L2`` the zone's lengths before and after the event)
    and 1 inside the event."""
    (u, v), (a, b), (z0, z1) = piece, event, zone
    left, right, width = a - z0, z1 - b, z1 - z0
    total = max(0.0, min(v, b) - max(u, a))  # inside the event
    sides = []
    if u < a:  # before the event: distances a - min(v, a) .. a - u
        sides.append((a - min(v, a), a - u))
    if v > b:  # after it: distances max(u, b) - b .. v - b
        sides.append((max(u, b) - b, v - b))
    for d0, d1 in sides:
        total += (_ramp(left, d0, d1) + _ramp(right, d0, d1)) / width
    return total


def _pos_sq(x: float) -> float:
    return max(x, 0.0) ** 2


def _recall_integral(pieces: list[Event], event: Event, zone: Event) -> float:
    """``integral over y in event of Fbar_y(dist(y, pieces))``, with ``Fbar_y(d) = ((y - d -
    z0)+ + (z1 - y - d)+) / |zone|`` (the chance that a uniform time of the zone is ``>= d``
    away from ``y``; 1 at ``d = 0``). ``pieces`` are sorted, disjoint and inside the zone."""
    (a, b), (z0, z1) = event, zone
    width = z1 - z0
    # the stretches of the event nearest each piece's start (distance c - y, y <= c), inside a
    # piece (distance 0), or nearest a piece's stop (distance y - c, y >= c)
    stretches: list[tuple[str, float, float, float]] = []
    lo = -math.inf
    for k, (start, stop) in enumerate(pieces):
        stretches.append(("before", lo, start, start))
        stretches.append(("inside", start, stop, 0.0))
        hi = (stop + pieces[k + 1][0]) / 2 if k + 1 < len(pieces) else math.inf
        stretches.append(("after", stop, hi, stop))
        lo = hi
    total = 0.0
    for kind, s0, s1, c in stretches:
        u, v = max(s0, a), min(s1, b)
        if u >= v:
            continue
        if kind == "inside":
            total += v - u
        elif kind == "before":  # integrand ((2y - c - z0)+ + (z1 - c)) / width
            beta = c + z0
            total += ((z1 - c) * (v - u) + (_pos_sq(2 * v - beta) - _pos_sq(2 * u - beta)) / 4
                      ) / width
        else:  # after: integrand ((c - z0) + (z1 + c - 2y)+) / width
            alpha = z1 + c
            total += ((c - z0) * (v - u) + (_pos_sq(alpha - 2 * u) - _pos_sq(alpha - 2 * v)) / 4
                      ) / width
    return total


def affiliation_events(expected: Sequence[Sequence[float]], detected: Sequence[Sequence[float]],
                       trange: Sequence[float]) -> AffiliationScores:
    """Affiliation scores of half-open events, as the reference's ``pr_from_events``.

    ``expected``: the labelled events ``(start, stop)``, sorted and disjoint (not touching);
    ``detected``: the detected events ``(start, stop)``, in any order (overlapping ones are
    merged); ``trange``: the time range ``(T0, T1)`` holding them all. An event must have
    ``start < stop`` (the reference cannot place a zero-length event either); bad events, an
    event outside ``trange`` or an empty ``expected`` raise :class:`ValueError`.
    """
    if len(trange) != 2 or not float(trange[0]) < float(trange[1]):
        raise ValueError(f"trange = {trange!r}: the time range needs a start < stop")
    t_range = (float(trange[0]), float(trange[1]))
    gt = _check_events(expected, "expected", t_range, ordered=True)
    if not gt:
        raise ValueError("expected has no event: affiliation zones need at least one")
    det = _merge(_check_events(detected, "detected", t_range, ordered=False))
    zones = affiliation_zones(gt, t_range)
    det_starts, det_stops = [s for s, _ in det], [e for _, e in det]
    precisions: list[float | None] = []
    recalls: list[float] = []
    for event, zone in zip(gt, zones):
        # the detections overlapping the zone: stop > zone start and start < zone stop
        lo, hi = bisect_right(det_stops, zone[0]), bisect_left(det_starts, zone[1])
        pieces = [(max(s, zone[0]), min(e, zone[1])) for s, e in det[lo:hi]]
        pieces = [(s, e) for s, e in pieces if s < e]
        if not pieces:
            precisions.append(None)
            recalls.append(0.0)
            continue
        detected_time = math.fsum(e - s for s, e in pieces)
        precisions.append(math.fsum(_precision_integral(p, event, zone) for p in pieces)
                          / detected_time)
        recalls.append(_recall_integral(pieces, event, zone) / (event[1] - event[0]))
    return AffiliationScores(zones, tuple(precisions), tuple(recalls))


def _as_events(intervals: np.ndarray, start: float, stop: float, step: float) -> list[Event]:
    """Closed intervals ``[s, e]`` as covered events ``[s, e + step)``, clipped to ``[start,
    stop)``, the empty ones dropped, the rest merged."""
    events = [(max(s, start), min(e + step, stop)) for s, e in intervals.tolist()]
    return _merge([(s, e) for s, e in events if s < e])


def affiliation(expected: Sequence[Sequence[float]], detected: Sequence[Sequence[float]],
                index: np.ndarray) -> MetricResult:
    """Affiliation precision and recall of one signal, as a :class:`MetricResult`.

    Takes the interval-metric arguments of :mod:`benchbench.evaluation.metrics`. As in
    ``weighted_segment``, each timestamp ``t`` of ``index`` owns ``[t, t + step)`` (``step``
    the median spacing of ``index``), so the closed interval ``[s, e]`` becomes the event ``[s,
    e + step)`` and the time range is ``[index[0], index[-1] + step)``. Events are clipped to the
    range (an interval outside it is dropped) and overlapping or touching ones merged, so two
    adjacent labelled intervals are one event. With ``index = arange(n)`` this is the reference
    applied to 0/1 vectors (``convert_vector_to_events``, time range ``(0, n)``), as TSB-AD does.

    ``precision_num`` / ``precision_den`` is the sum / number of the defined zone precisions and
    ``recall_num`` / ``recall_den`` the sum / number of the zone recalls, so :func:`combine`
    pools zones over signals. The module's zero-division conventions then apply where the
    reference has no value: nothing detected gives precision 1.0 (the reference: NaN), recall 0
    (F1 0); no labelled event gives recall 1.0 and, with ``k > 0`` detected events, precision 0
    over ``k`` (the reference refuses both); neither gives P = R = F1 = 1. An empty ``index``
    gives all-zero counts. F1 is their harmonic mean (TSB-AD adds 1e-15 to its denominator).
    """
    exp, det, idx = _prepare(expected, detected, index)
    if idx.size == 0:
        return MetricResult(0.0, 0.0, 0.0, 0.0)
    step = _step(idx)
    start, stop = float(idx[0]), float(idx[-1]) + step
    gt = _as_events(exp, start, stop, step)
    found = _as_events(det, start, stop, step)
    if not gt:
        return MetricResult(0.0, float(len(found)), 0.0, 0.0)
    scores = affiliation_events(gt, found, (start, stop))
    defined = [p for p in scores.precision_by_event if p is not None]
    return MetricResult(
        precision_num=min(math.fsum(defined), len(defined)),
        precision_den=len(defined),
        recall_num=min(math.fsum(scores.recall_by_event), len(scores.recall_by_event)),
        recall_den=len(scores.recall_by_event),
    )
