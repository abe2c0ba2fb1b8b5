"""Tests of benchbench.evaluation.affiliation: the paper's worked example, hand-worked cases
(worked out in comments) and a cross-check against the reference implementation.

Reference values: computed once with TSB-AD 1.5 (PyPI ``TSB-AD==1.5``, ``--no-deps``, numpy
1.26.4, Python 3.11), whose ``TSB_AD.evaluation.affiliation`` is the authors' reference code
(also vendored as ``vus.affiliation`` in vus 0.0.6):

* ``TSB_AD.evaluation.affiliation.metrics.pr_from_events(events_pred, events_gt, Trange)``:
  ``Affiliation_Precision``, ``Affiliation_Recall`` and the ``individual_precision_probabilities``
  / ``individual_recall_probabilities`` per labelled event;
* for the 0/1-vector cases, the events come from ``TSB_AD.evaluation.affiliation.generics.
  convert_vector_to_events`` with ``Trange = (0, n)`` (as TSB-AD calls it), and the F1 from
  ``TSB_AD.evaluation.basic_metrics.basic_metricor().metric_Affiliation(labels, None,
  preds=preds)``.

Ours agree to within 6e-16; the tests allow 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchbench.evaluation.affiliation import affiliation, affiliation_events, affiliation_zones
from benchbench.evaluation.metrics import combine

TOL = 1e-9

# The worked example of Huet et al. (KDD 2022), in minutes (the reference's test_paper uses
# seconds: probabilities do not depend on the unit).
PAPER_GT = [(0, 10), (50, 70), (170, 175)]
PAPER_PRED = [(5, 6), (7, 10), (11, 12), (40, 60), (115, 130), (135, 140), (165, 170)]
PAPER_RANGE = (0, 180)
PAPER_REFERENCE = {
    "precision": 0.6394907407407407,
    "recall": 0.9323148148148147,
    "p": (0.9233333333333335, 0.6722222222222222, 0.3229166666666667),
    "r": (0.9358333333333333, 0.9444444444444444, 0.9166666666666666),
}

# name -> (n, labelled closed ranges, detected closed ranges) on positions 0..n-1
VECTOR_CASES = {
    "spread": (500, [(3, 9), (120, 159), (300, 300), (303, 310), (470, 499)],
               [(0, 4), (100, 130), (250, 260), (305, 308), (480, 499)]),
    # nothing in the last zone; (60, 75) spans the first two zones (cut at 65)
    "far": (200, [(20, 29), (100, 109), (180, 184)], [(40, 44), (60, 75)]),
    "inside": (100, [(10, 49)], [(20, 24), (30, 31), (45, 60)]),
}
VECTOR_REFERENCE = {
    "spread": {
        "precision": 0.8054509737574254, "recall": 0.8413597060396457, "f1": 0.8230138446678037,
        "p": (0.9076923076923077, 0.7653958944281525, 0.35416666666666674, 1.0, 1.0),
        "r": (0.945054945054945, 0.8725757575757577, 0.4305555555555556, 0.9890536723163841,
              0.9695585996955861),
    },
    "far": {
        "precision": 0.19374999999999992, "recall": 0.27115384615384613,
        "f1": 0.2260082730093066,
        "p": (0.24999999999999992, 0.13749999999999993, None),
        "r": (0.5384615384615384, 0.275, 0.0),
    },
    "inside": {
        "precision": 0.7563043478260869, "recall": 0.95075, "f1": 0.8424528013549906,
        "p": (0.7563043478260869,), "r": (0.95075,),
    },
}


def _approx_optional(values):
    return [None if v is None else pytest.approx(v, abs=TOL) for v in values]


# --------------------------------------------------------------------------------------------
# the paper's worked example


def test_paper_example_zones():
    # cuts at (10 + 50) / 2 = 30 and (70 + 170) / 2 = 120
    assert affiliation_zones(PAPER_GT, PAPER_RANGE) == ((0, 30), (30, 120), (120, 180))


def test_paper_example_second_event_by_hand():
    # Event J = [50, 70) in zone E = [30, 120), |E| = 90, 20 before J and 50 after it.
    # Precision: pieces [40, 60) and [115, 120) (of [115, 130)), 25 detected minutes.
    #   [40, 50): d = 50 - x in (0, 10], Fbar = ((20 - d) + (50 - d)) / 90;
    #             integral = (20^2 - 10^2) / 2 / 90 + (50^2 - 40^2) / 2 / 90 = 600 / 90
    #   [50, 60): inside J, 10
    #   [115, 120): d in [45, 50], Fbar = (50 - d) / 90; integral = 12.5 / 90
    #   precision = (600 / 90 + 10 + 12.5 / 90) / 25 = 0.67222...
    # Recall: J is nearer [40, 60) than [115, 120) all along (the cut is at 87.5).
    #   [50, 60): distance 0, 1;  [60, 70): d = y - 60, Fbar = 1 - 2d / 90 (both sides of y
    #   reach beyond d), integral = 10 - 100 / 90;  recall = (10 + 10 - 100 / 90) / 20 = 0.9444
    scores = affiliation_events(PAPER_GT, PAPER_PRED, PAPER_RANGE)
    assert scores.precision_by_event[1] == pytest.approx((600 / 90 + 10 + 12.5 / 90) / 25)
    assert scores.precision_by_event[1] == pytest.approx(0.672222222)  # as the paper prints it
    assert scores.recall_by_event[1] == pytest.approx((20 - 100 / 90) / 20)
    assert scores.recall_by_event[1] == pytest.approx(0.944444444)


def test_paper_example_third_event_precision_by_hand():
    # Event [170, 175) in zone [120, 180), |E| = 60, 50 before it and 5 after.
    # [120, 130): d in [40, 50]: (50 - d) only, integral (10^2 - 0) / 2 = 50
    # [135, 140): d in [30, 35]: (20^2 - 15^2) / 2 = 87.5
    # [165, 170): d in [0, 5]: (50^2 - 45^2) / 2 + (5^2 - 0) / 2 = 250
    # precision = (50 + 87.5 + 250) / 60 / 20 detected minutes
    scores = affiliation_events(PAPER_GT, PAPER_PRED, PAPER_RANGE)
    assert scores.precision_by_event[2] == pytest.approx(387.5 / 60 / 20)


def test_paper_example_matches_reference():
    scores = affiliation_events(PAPER_GT, PAPER_PRED, PAPER_RANGE)
    assert scores.precision_by_event == pytest.approx(PAPER_REFERENCE["p"], abs=TOL)
    assert scores.recall_by_event == pytest.approx(PAPER_REFERENCE["r"], abs=TOL)
    assert scores.precision == pytest.approx(PAPER_REFERENCE["precision"], abs=TOL)
    assert scores.recall == pytest.approx(PAPER_REFERENCE["recall"], abs=TOL)


def test_paper_example_as_closed_intervals_on_an_index():
    # one timestamp a minute: [s, e) is the closed interval [s, e - 1] of the index
    closed = [(s, e - 1) for s, e in PAPER_GT]
    found = [(s, e - 1) for s, e in PAPER_PRED]
    result = affiliation(closed, found, np.arange(180))
    assert result.precision == pytest.approx(PAPER_REFERENCE["precision"], abs=TOL)
    assert result.recall == pytest.approx(PAPER_REFERENCE["recall"], abs=TOL)
    assert (result.precision_den, result.recall_den) == (3, 3)


# --------------------------------------------------------------------------------------------
# cross-check on 0/1 vectors, as TSB-AD calls the reference


@pytest.mark.parametrize("name", sorted(VECTOR_CASES))
def test_matches_reference_on_vectors(name):
    n, expected, detected = VECTOR_CASES[name]
    ref = VECTOR_REFERENCE[name]
    result = affiliation(expected, detected, np.arange(n))
    assert result.precision == pytest.approx(ref["precision"], abs=TOL)
    assert result.recall == pytest.approx(ref["recall"], abs=TOL)
    assert result.f1 == pytest.approx(ref["f1"], abs=TOL)
    events = affiliation_events([(s, e + 1) for s, e in expected],
                                [(s, e + 1) for s, e in detected], (0, n))
    assert list(events.precision_by_event) == _approx_optional(ref["p"])
    assert events.recall_by_event == pytest.approx(ref["r"], abs=TOL)


@pytest.mark.parametrize("name", sorted(VECTOR_CASES))
def test_unit_and_origin_of_the_index_change_nothing(name):
    n, expected, detected = VECTOR_CASES[name]

    def moved(ranges):
        return [(1_000 + 300 * s, 1_000 + 300 * e, 0.5) for s, e in ranges]  # severity ignored

    shifted = affiliation(moved(expected), moved(detected), 1_000 + 300 * np.arange(n))
    plain = affiliation(expected, detected, np.arange(n))
    assert shifted.to_dict() == pytest.approx(plain.to_dict(), abs=TOL)


# --------------------------------------------------------------------------------------------
# hand-worked


def test_single_event_by_hand():
    # J = [2, 4) in zone [0, 10); detection [0, 1).
    # Precision: d = dist(x, J) in [1, 2]; Fbar(d) = P(X <= 2 - d or X >= 4 + d) = (8 - 2d) / 10,
    #   mean over d in [1, 2]: (8 - 3) / 10 = 0.5.
    # Recall: y in [2, 4), D = y - 1; P(|X - y| >= D) = (1 + (10 - y - D)) / 10 = (12 - 2y) / 10,
    #   from 0.8 at y = 2 to 0.4 at y = 4: mean 0.6.
    scores = affiliation_events([(2, 4)], [(0, 1)], (0, 10))
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(0.6)
    # the same as closed intervals on the index 0..9: [2, 3] and [0, 0]
    result = affiliation([[2, 3]], [[0, 0]], np.arange(10))
    assert (result.precision, result.recall) == pytest.approx((0.5, 0.6))
    assert result.f1 == pytest.approx(2 * 0.5 * 0.6 / 1.1)


def test_perfect_detection_gives_one():
    n, expected, _ = VECTOR_CASES["spread"]
    result = affiliation(expected, expected, np.arange(n))
    assert (result.precision, result.recall, result.f1) == pytest.approx((1.0, 1.0, 1.0))


def test_touching_and_overlapping_detections_are_merged():
    index = np.arange(100)
    apart = affiliation([[10, 49]], [[20, 24], [25, 30], [28, 33]], index)
    joined = affiliation([[10, 49]], [[20, 33]], index)
    assert apart == joined


def test_adjacent_labelled_intervals_make_one_event():
    result = affiliation([[10, 19], [20, 29]], [[15, 25]], np.arange(100))
    assert result.recall_den == 1
    assert result == affiliation([[10, 29]], [[15, 25]], np.arange(100))


def test_intervals_are_clipped_to_the_time_range():
    index = np.arange(100)
    # the time range is [0, 100): [-20, 5] is clipped to [0, 5], [200, 300] dropped
    clipped = affiliation([[-20, 5]], [[3, 8], [200, 300]], index)
    assert clipped == affiliation([[0, 5]], [[3, 8]], index)


def test_far_detection_scores_low_and_near_one_high():
    index = np.arange(1_000)
    near = affiliation([[500, 509]], [[512, 515]], index)
    far = affiliation([[500, 509]], [[950, 953]], index)
    assert near.precision > 0.95 and far.precision < 0.15


# --------------------------------------------------------------------------------------------
# zero-division conventions and aggregation


def test_nothing_detected():
    # the reference: precision NaN, recall 0; here precision 1.0 (nothing detected), F1 0
    result = affiliation([[10, 19], [50, 59]], [], np.arange(100))
    assert (result.precision, result.recall, result.f1) == (1.0, 0.0, 0.0)
    assert (result.precision_den, result.recall_den) == (0, 2)


def test_no_labelled_event():
    result = affiliation([], [[10, 19], [50, 59]], np.arange(100))
    assert (result.precision, result.recall, result.f1) == (0.0, 1.0, 0.0)
    assert (result.precision_den, result.recall_den) == (2, 0)
    nothing = affiliation([], [], np.arange(100))
    assert (nothing.precision, nothing.recall, nothing.f1) == (1.0, 1.0, 1.0)


def test_empty_index():
    result = affiliation([], [], np.array([]))
    assert result.to_dict()["precision_den"] == 0 and result.recall_den == 0


def test_zone_without_detection_counts_in_recall_only():
    n, expected, detected = VECTOR_CASES["far"]
    result = affiliation(expected, detected, np.arange(n))
    assert (result.precision_den, result.recall_den) == (2, 3)


def test_combine_pools_zones_over_signals():
    a = affiliation(*VECTOR_CASES["far"][1:], np.arange(200))
    b = affiliation(*VECTOR_CASES["inside"][1:], np.arange(100))
    pooled = combine([a, b])
    assert pooled.recall == pytest.approx((a.recall_num + b.recall_num) / 4)
    assert pooled.precision == pytest.approx((a.precision_num + b.precision_num) / 3)


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(("expected", "detected", "trange", "message"), [
    ([(5, 8), (1, 3)], [], (0, 10), r"expected\[1\].*disjoint and sorted"),
    ([(1, 3), (3, 5)], [], (0, 10), r"expected\[1\].*disjoint and sorted"),
    ([(4, 4)], [], (0, 10), r"expected\[0\].*start < stop"),
    ([(1, 3)], [(2, math.nan)], (0, 10), r"detected\[0\].*finite"),
    ([(1, 3)], [(8, 12)], (0, 10), r"detected\[0\].*outside the time range"),
    ([(1, 3, 4)], [], (0, 10), r"expected\[0\].*\(start, stop\) pair"),
    ([], [(1, 2)], (0, 10), "expected has no event"),
    ([(1, 3)], [], (5, 5), "trange.*start < stop"),
])
def test_affiliation_events_bad_input(expected, detected, trange, message):
    with pytest.raises(ValueError, match=message):
        affiliation_events(expected, detected, trange)


def test_affiliation_bad_interval_names_it():
    with pytest.raises(ValueError, match=r"detected\[1\].*start > end"):
        affiliation([[1, 3]], [[4, 5], [9, 6]], np.arange(10))
