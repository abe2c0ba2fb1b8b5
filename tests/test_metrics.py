"""Tests of benchbench.evaluation.metrics: every expected figure below is worked out by hand
in a comment."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchbench.evaluation.metrics import (
    BUILTIN_METRICS,
    HEADLINE,
    MetricResult,
    combine,
    macro_f1,
    overlap_segment,
    point_adjusted,
    pointwise,
    range_based,
    weighted_segment,
)

ALL_METRICS = sorted(BUILTIN_METRICS.items())


def components(result: MetricResult) -> tuple[float, float, float, float]:
    return (result.precision_num, result.precision_den, result.recall_num, result.recall_den)


def assert_components(result: MetricResult, expected: tuple[float, float, float, float]) -> None:
    assert components(result) == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------------------------
# MetricResult


def test_metric_result_properties_and_to_dict():
    # P = 3/4, R = 3/6 = 1/2, F1 = 2 * 3/4 * 1/2 / (3/4 + 1/2) = (3/4) / (5/4) = 3/5
    r = MetricResult(3, 4, 3, 6)
    assert r.precision == 0.75
    assert r.recall == 0.5
    assert r.f1 == pytest.approx(0.6)
    d = r.to_dict()
    assert set(d) == {
        "precision_num",
        "precision_den",
        "recall_num",
        "recall_den",
        "precision",
        "recall",
        "f1",
    }
    assert d["precision_num"] == 3.0 and d["recall_den"] == 6.0
    assert d["f1"] == pytest.approx(0.6)
    assert all(type(v) is float for v in d.values())


def test_from_counts_and_counts_round_trip():
    # tp=2 fp=1 fn=3 -> precision 2/(2+1), recall 2/(2+3)
    r = MetricResult.from_counts(2, 1, 3)
    assert components(r) == (2.0, 3.0, 2.0, 5.0)
    assert r.counts() == (2.0, 1.0, 3.0)
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == pytest.approx(2 / 5)


def test_components_are_coerced_to_float():
    r = MetricResult.from_counts(np.int64(1), np.int64(2), np.int64(0))
    assert all(type(v) is float for v in components(r))


def test_metric_result_is_frozen():
    r = MetricResult(1, 1, 1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.precision_num = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    "args",
    [(-1, 1, 0, 0), (0, 0, 0, float("nan")), (0, math.inf, 0, 0), (2, 1, 0, 0), (0, 0, 3, 2)],
)
def test_metric_result_rejects_bad_components(args):
    with pytest.raises(ValueError):
        MetricResult(*args)


def test_zero_division_conventions_on_metric_result():
    # nothing expected, nothing detected: P = R = F1 = 1
    none = MetricResult.from_counts(0, 0, 0)
    assert (none.precision, none.recall, none.f1) == (1.0, 1.0, 1.0)
    # nothing expected, 2 false alarms: P = 0/2 = 0, R = 1 (den 0), F1 = 0
    alarms = MetricResult.from_counts(0, 2, 0)
    assert (alarms.precision, alarms.recall, alarms.f1) == (0.0, 1.0, 0.0)
    # 3 missed anomalies, no detection: P = 1 (den 0), R = 0/3 = 0, F1 = 0
    missed = MetricResult.from_counts(0, 0, 3)
    assert (missed.precision, missed.recall, missed.f1) == (1.0, 0.0, 0.0)
    # detections and anomalies, all wrong: P = R = 0, F1 = 0 (not NaN)
    wrong = MetricResult.from_counts(0, 1, 1)
    assert (wrong.precision, wrong.recall, wrong.f1) == (0.0, 0.0, 0.0)


# --------------------------------------------------------------------------------------------
# the worked example of the brief
#
# index 0..19, expected [2,4] and [10,12], detected [3,3] and [15,16]
#   true timestamps:     {2,3,4} u {10,11,12}  (6)
#   detected timestamps: {3} u {15,16}         (3)

INDEX20 = np.arange(20)
EXP_A = [(2, 4), (10, 12)]
DET_A = [(3, 3), (15, 16)]


def test_example_overlap_segment():
    # [2,4] is hit by [3,3] -> tp 1; [10,12] is hit by nothing -> fn 1;
    # [15,16] hits no true interval -> fp 1.  P = 1/2, R = 1/2
    r = overlap_segment(EXP_A, DET_A, INDEX20)
    assert r.counts() == (1, 1, 1)
    assert_components(r, (1, 2, 1, 2))
    assert (r.precision, r.recall, r.f1) == (0.5, 0.5, 0.5)


def test_example_pointwise():
    # tp = {3} = 1; fp = {15,16} = 2; fn = {2,4,10,11,12} = 5
    # P = 1/3, R = 1/6, F1 = 2 * (1/18) / (1/2) = 2/9
    r = pointwise(EXP_A, DET_A, INDEX20)
    assert r.counts() == (1, 2, 5)
    assert_components(r, (1, 3, 1, 6))
    assert r.f1 == pytest.approx(2 / 9)


def test_example_point_adjusted():
    # [2,4] has a detected timestamp (3) -> {2,3,4} all count as detected; [10,12] has none.
    # tp = {2,3,4} = 3; fp = {15,16} = 2; fn = {10,11,12} = 3.  P = 3/5, R = 1/2
    r = point_adjusted(EXP_A, DET_A, INDEX20)
    assert r.counts() == (3, 2, 3)
    assert_components(r, (3, 5, 3, 6))


def test_example_weighted_segment():
    # step = 1: true covers [2,5) u [10,13), detections cover [3,4) u [15,17); timeline [0,20)
    # segments: [2,3) T, [3,4) TD, [4,5) T, [10,13) T, [15,17) D, the rest neither
    # tp = 1, fp = 2, fn = 1 + 1 + 3 = 5 (as pointwise, since the index is regular integers)
    r = weighted_segment(EXP_A, DET_A, INDEX20)
    assert r.counts() == (1.0, 2.0, 5.0)
    assert_components(r, (1, 3, 1, 6))


def test_example_range_based():
    # |[2,4]| = 3, |[10,12]| = 3, |[3,3]| = 1, |[15,16]| = 2 (timestamps)
    # recall:    [2,4] -> |{3}| / 3 = 1/3; [10,12] -> 0        => num 1/3, den 2
    # precision: [3,3] -> |{3}| / 1 = 1;   [15,16] -> 0        => num 1,   den 2
    r = range_based(EXP_A, DET_A, INDEX20)
    assert_components(r, (1, 2, 1 / 3, 2))
    assert r.recall == pytest.approx(1 / 6)
    assert r.precision == 0.5


def test_example_range_based_with_existence_reward():
    # alpha = 0.5: [2,4] -> 0.5 * 1 + 0.5 * 1/3 = 2/3; [10,12] -> 0.5 * 0 + 0 = 0
    # precision unchanged (no existence term): 1 + 0
    r = range_based(EXP_A, DET_A, INDEX20, alpha=0.5)
    assert_components(r, (1, 2, 2 / 3, 2))


# --------------------------------------------------------------------------------------------
# a float index with step 10
#
# index 0, 10, ..., 90; expected [20,40]; detected [35,60]
#   true timestamps {20,30,40}; detected timestamps {40,50,60}

INDEX_F = np.arange(0.0, 100.0, 10.0)
EXP_F = [(20.0, 40.0)]
DET_F = [(35.0, 60.0)]


def test_float_index_overlap_and_pointwise():
    # overlap: [20,40] meets [35,60] -> tp 1, fp 0, fn 0
    assert overlap_segment(EXP_F, DET_F, INDEX_F).counts() == (1, 0, 0)
    # pointwise: tp {40} = 1, fp {50,60} = 2, fn {20,30} = 2
    assert pointwise(EXP_F, DET_F, INDEX_F).counts() == (1, 2, 2)
    # point-adjusted: 40 is detected, so {20,30,40} all count: tp 3, fp 2, fn 0
    assert point_adjusted(EXP_F, DET_F, INDEX_F).counts() == (3, 2, 0)


def test_float_index_weighted_segment_uses_median_step():
    # step = 10: true covers [20,50), detection covers [35,70)
    # tp = [35,50) = 15, fp = [50,70) = 20, fn = [20,35) = 15.  P = 15/35 = 3/7, R = 1/2
    r = weighted_segment(EXP_F, DET_F, INDEX_F)
    assert r.counts() == pytest.approx((15.0, 20.0, 15.0))
    assert r.precision == pytest.approx(3 / 7)
    assert r.recall == pytest.approx(0.5)


def test_float_index_range_based():
    # |R| = |{20,30,40}| = 3, |P| = |{40,50,60}| = 3, |R n P| = |{40}| = 1
    # (35 is not a timestamp: overlap is measured in timestamps) -> recall 1/3, precision 1/3
    r = range_based(EXP_F, DET_F, INDEX_F)
    assert_components(r, (1 / 3, 1, 1 / 3, 1))


def test_weighted_segment_irregular_index_and_last_point():
    # index 0,1,2,4,8: gaps 1,1,2,4 -> median step 1.5; timeline [0, 9.5)
    # expected [8,8] covers [8,9.5) -> 1.5 (the last timestamp's cell counts)
    # detected [4,4] covers [4,5.5) -> 1.5;  no overlap: tp 0, fp 1.5, fn 1.5
    r = weighted_segment([(8, 8)], [(4, 4)], np.array([0, 1, 2, 4, 8]))
    assert r.counts() == pytest.approx((0.0, 1.5, 1.5))


def test_weighted_segment_clips_to_timeline():
    # index 0..9 (step 1): timeline [0,10)
    # expected [-5,0] covers [-5,1) -> clipped [0,1) -> fn 1
    # detected [8,20] covers [8,21) -> clipped [8,10) -> fp 2
    r = weighted_segment([(-5, 0)], [(8, 20)], np.arange(10))
    assert r.counts() == pytest.approx((0.0, 2.0, 1.0))


def test_weighted_segment_single_timestamp_index_uses_unit_step():
    # one timestamp 5 -> step 1, timeline [5,6); [5,5] covers [5,6) in both -> tp 1
    r = weighted_segment([(5, 5)], [(5, 5)], np.array([5]))
    assert r.counts() == (1.0, 0.0, 0.0)


# --------------------------------------------------------------------------------------------
# zero-division cases, for every metric


@pytest.mark.parametrize(("name", "metric"), ALL_METRICS)
def test_no_anomaly_no_detection_is_perfect(name, metric):
    r = metric([], [], np.arange(10))
    assert components(r) == (0.0, 0.0, 0.0, 0.0)
    assert (r.precision, r.recall, r.f1) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(("name", "metric"), ALL_METRICS)
def test_no_anomaly_but_detection(name, metric):
    # detection [3,5] on index 0..9 covers 3 timestamps, all false alarms
    r = metric([], [(3, 5)], np.arange(10))
    assert (r.precision, r.recall, r.f1) == (0.0, 1.0, 0.0)


@pytest.mark.parametrize(("name", "metric"), ALL_METRICS)
def test_anomaly_but_no_detection(name, metric):
    r = metric([(3, 5)], [], np.arange(10))
    assert (r.precision, r.recall, r.f1) == (1.0, 0.0, 0.0)


@pytest.mark.parametrize(("name", "metric"), ALL_METRICS)
def test_empty_index_gives_no_nan(name, metric):
    r = metric([(3, 5)], [(4, 6)], np.array([], dtype=float))
    for value in r.to_dict().values():
        assert not math.isnan(value)


def test_zero_division_counts():
    index = np.arange(10)
    # pointwise: nothing expected, [3,5] detected -> fp = |{3,4,5}| = 3
    assert pointwise([], [(3, 5)], index).counts() == (0, 3, 0)
    # pointwise: [3,5] expected, nothing detected -> fn = 3
    assert pointwise([(3, 5)], [], index).counts() == (0, 0, 3)
    # overlap: one unmatched detection -> fp 1; one unmatched true interval -> fn 1
    assert overlap_segment([], [(3, 5)], index).counts() == (0, 1, 0)
    assert overlap_segment([(3, 5)], [], index).counts() == (0, 0, 1)
    # range_based: one detection scoring 0 -> precision 0/1; no true range -> recall den 0
    assert_components(range_based([], [(3, 5)], index), (0, 1, 0, 0))


# --------------------------------------------------------------------------------------------
# overlap-segment counting rules


def test_many_detections_on_one_true_interval_are_one_tp():
    # [10,20] is hit by [10,11], [15,15] and [19,25] -> tp 1 (once); every detection overlaps
    # it -> fp 0; fn 0
    r = overlap_segment([(10, 20)], [(10, 11), (15, 15), (19, 25)], np.arange(30))
    assert r.counts() == (1, 0, 0)
    assert_components(r, (1, 1, 1, 1))


def test_one_detection_spanning_two_true_intervals_is_two_tp():
    # [3,7] meets [2,4] and [6,8] -> tp 2, fp 0, fn 0
    r = overlap_segment([(2, 4), (6, 8)], [(3, 7)], np.arange(10))
    assert r.counts() == (2, 0, 0)
    assert_components(r, (2, 2, 2, 2))


@pytest.mark.parametrize(
    ("expected", "detected"),
    [
        ([(2, 4)], [(4, 6)]),  # detection starts where the true interval ends
        ([(2, 4)], [(0, 2)]),  # detection ends where the true interval starts
        ([(2.0, 4.5)], [(4.5, 7.0)]),  # float endpoints, touching at 4.5
        ([(5, 5)], [(5, 5)]),  # two one-point intervals at the same point
    ],
)
def test_touching_endpoints_overlap(expected, detected):
    assert overlap_segment(expected, detected, np.arange(10)).counts() == (1, 0, 0)


def test_disjoint_intervals_do_not_overlap():
    # [4.6,7] starts after [2,4.5] ends -> fp 1, fn 1
    r = overlap_segment([(2.0, 4.5)], [(4.6, 7.0)], np.arange(10))
    assert r.counts() == (0, 1, 1)


def test_touching_endpoints_pointwise_share_one_timestamp():
    # [2,4] and [4,6] share timestamp 4: tp {4} = 1, fp {5,6} = 2, fn {2,3} = 2
    assert pointwise([(2, 4)], [(4, 6)], np.arange(10)).counts() == (1, 2, 2)


def test_overlap_segment_ignores_index_positions():
    # [2.2,2.8] holds no timestamp of 0..9 but still meets the detection [2.5,2.5] -> tp 1
    assert overlap_segment([(2.2, 2.8)], [(2.5, 2.5)], np.arange(10)).counts() == (1, 0, 0)


# --------------------------------------------------------------------------------------------
# spanning / multiple detections in the other metrics


def test_spanning_detection_pointwise_and_range_based():
    # expected [2,4], [6,8] -> {2,3,4,6,7,8}; detected [3,7] -> {3,4,5,6,7}
    # pointwise: tp {3,4,6,7} = 4, fp {5} = 1, fn {2,8} = 2
    index = np.arange(10)
    assert pointwise([(2, 4), (6, 8)], [(3, 7)], index).counts() == (4, 1, 2)
    # range_based: recall [2,4] -> 2/3, [6,8] -> 2/3 => num 4/3, den 2
    #              precision [3,7] -> (2 + 2) / 5 = 4/5  => num 4/5, den 1
    assert_components(range_based([(2, 4), (6, 8)], [(3, 7)], index), (0.8, 1, 4 / 3, 2))


def test_range_based_several_detections_on_one_range():
    # |[10,20]| = 11; overlaps: [10,11] -> 2, [15,15] -> 1, [19,25] -> |{19,20}| = 2
    # recall = (2 + 1 + 2) / 11 = 5/11
    # precision: [10,11] -> 2/2 = 1, [15,15] -> 1/1 = 1, [19,25] -> 2/7; num 16/7, den 3
    r = range_based([(10, 20)], [(10, 11), (15, 15), (19, 25)], np.arange(30))
    assert_components(r, (16 / 7, 3, 5 / 11, 1))


def test_range_based_partial_overlap_fractions():
    # index 0..19; R = [0,9] (10 points), P = [5,14] (10 points), R n P = {5..9} (5 points)
    # recall 5/10, precision 5/10
    index = np.arange(20)
    assert_components(range_based([(0, 9)], [(5, 14)], index), (0.5, 1, 0.5, 1))
    # alpha = 0.5: recall = 0.5 * 1 + 0.5 * 0.5 = 0.75; precision still 0.5
    assert_components(range_based([(0, 9)], [(5, 14)], index, alpha=0.5), (0.5, 1, 0.75, 1))


def test_range_based_existence_reward_alone():
    # R = [0,9] (10 points), P = [9,9]: overlap 1 point
    # alpha = 0 -> recall 1/10; alpha = 1 -> recall = existence = 1; precision 1/1 either way
    index = np.arange(10)
    assert_components(range_based([(0, 9)], [(9, 9)], index), (1, 1, 0.1, 1))
    assert_components(range_based([(0, 9)], [(9, 9)], index, alpha=1.0), (1, 1, 1, 1))


def test_range_based_caps_scores_at_one():
    # R = [0,9] hit twice by [0,9]: (10 + 10) / 10 = 2 -> capped to 1
    # each detection: 10/10 = 1 -> precision num 2, den 2
    r = range_based([(0, 9)], [(0, 9), (0, 9)], np.arange(10))
    assert_components(r, (2, 2, 1, 1))


def test_range_based_empty_ranges_score_zero():
    index = np.arange(10)
    # true range [2.2,2.8] holds no timestamp: its recall is 0 (even with the existence reward);
    # the detection [0,9] (10 points) overlaps it in 0 timestamps -> precision 0
    assert_components(range_based([(2.2, 2.8)], [(0, 9)], index), (0, 1, 0, 1))
    assert_components(range_based([(2.2, 2.8)], [(0, 9)], index, alpha=1.0), (0, 1, 0, 1))
    # detection [3.5,3.6] holds no timestamp: precision 0; [0,9] gets overlap 0 -> recall 0
    assert_components(range_based([(0, 9)], [(3.5, 3.6)], index), (0, 1, 0, 1))


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_range_based_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        range_based([(0, 1)], [(0, 1)], np.arange(5), alpha=alpha)


# --------------------------------------------------------------------------------------------
# point-adjust


def test_point_adjusted_recall_at_least_pointwise():
    # worked example: point-adjusted R = 3/6 = 1/2 >= pointwise R = 1/6
    pa = point_adjusted(EXP_A, DET_A, INDEX20)
    pw = pointwise(EXP_A, DET_A, INDEX20)
    assert pa.recall == 0.5 and pw.recall == pytest.approx(1 / 6)
    assert pa.recall >= pw.recall


def test_point_adjusted_adjusts_each_true_interval_separately():
    # adjacent true intervals [2,4], [5,7]; detection [3,3] adjusts only [2,4]:
    # tp {2,3,4} = 3, fp 0, fn {5,6,7} = 3
    r = point_adjusted([(2, 4), (5, 7)], [(3, 3)], np.arange(10))
    assert r.counts() == (3, 0, 3)


intervals = st.lists(
    st.tuples(st.integers(0, 39), st.integers(0, 6)).map(lambda t: (t[0], min(t[0] + t[1], 39))),
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(expected=intervals, detected=intervals)
def test_point_adjust_never_lowers_recall(expected, detected):
    index = np.arange(40)
    pa = point_adjusted(expected, detected, index)
    pw = pointwise(expected, detected, index)
    assert pa.counts()[0] >= pw.counts()[0]  # tp
    assert pa.counts()[1] == pw.counts()[1]  # fp unchanged
    assert pa.recall >= pw.recall


@settings(max_examples=60, deadline=None)
@given(expected=intervals, detected=intervals)
def test_weighted_segment_matches_pointwise_on_integer_grid(expected, detected):
    # on a regular integer index with integer bounds, each timestamp's cell has length 1
    index = np.arange(40)
    assert weighted_segment(expected, detected, index).counts() == pytest.approx(
        pointwise(expected, detected, index).counts()
    )


@settings(max_examples=60, deadline=None)
@given(expected=intervals, detected=intervals)
def test_scores_are_bounded_and_never_nan(expected, detected):
    index = np.arange(40)
    for _, metric in ALL_METRICS:
        r = metric(expected, detected, index)
        for value in (r.precision, r.recall, r.f1):
            assert 0.0 <= value <= 1.0


# --------------------------------------------------------------------------------------------
# severity scores, input forms


@pytest.mark.parametrize(("name", "metric"), ALL_METRICS)
def test_severity_third_element_is_ignored(name, metric):
    with_scores = [(3, 3, 0.9), (15, 16, 0.1)]
    as_array = np.array(with_scores)
    baseline = metric(EXP_A, DET_A, INDEX20)
    assert metric(EXP_A, with_scores, INDEX20) == baseline
    assert metric(EXP_A, as_array, INDEX20) == baseline
    assert metric(np.array(EXP_A), [list(d) for d in DET_A], list(INDEX20)) == baseline


# --------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize(("name", "metric"), ALL_METRICS)
def test_reversed_expected_interval_raises_naming_it(name, metric):
    with pytest.raises(ValueError, match=r"expected\[0\] = \(5\.0, 3\.0\): start > end"):
        metric([(5, 3)], [], np.arange(10))


@pytest.mark.parametrize(("name", "metric"), ALL_METRICS)
def test_reversed_detected_interval_raises_naming_it(name, metric):
    with pytest.raises(ValueError, match=r"detected\[1\] = \(9\.0, 8\.0\): start > end"):
        metric([], [(1, 2), (9, 8, 0.5)], np.arange(10))


@pytest.mark.parametrize(
    ("expected", "index", "match"),
    [
        ([(1,)], np.arange(10), "start and an end"),
        ([(float("nan"), 2)], np.arange(10), "NaN"),
        ([(1, 2)], np.array([0, 2, 1]), "sorted"),
        ([(1, 2)], np.zeros((2, 2)), "1-D"),
        ([(1, 2)], np.array([0.0, np.nan]), "NaN"),
    ],
)
def test_invalid_inputs_raise(expected, index, match):
    with pytest.raises(ValueError, match=match):
        pointwise(expected, [], index)


# --------------------------------------------------------------------------------------------
# aggregation


def test_combine_micro_differs_from_macro():
    # signal A (index 0..9): expected [0,1], detected [0,1] -> overlap tp 1 -> F1 1
    a = overlap_segment([(0, 1)], [(0, 1)], np.arange(10))
    # signal B (index 0..29): expected [0,1], [5,6], [10,11]; detected [20,21]
    #   -> tp 0, fp 1, fn 3 -> F1 0
    b = overlap_segment([(0, 1), (5, 6), (10, 11)], [(20, 21)], np.arange(30))
    assert a.counts() == (1, 0, 0) and b.counts() == (0, 1, 3)
    # micro: tp 1, fp 1, fn 3 -> P 1/2, R 1/4, F1 = 2 * (1/8) / (3/4) = 1/3
    micro = combine([a, b])
    assert_components(micro, (1, 2, 1, 4))
    assert micro.f1 == pytest.approx(1 / 3)
    # macro: (1 + 0) / 2 = 1/2
    assert macro_f1([a, b]) == 0.5
    assert macro_f1(iter([a, b])) == 0.5


def test_combine_sums_range_based_components():
    # two results (1, 2, 1/3, 2) and (1/3, 1, 1/3, 1) -> (4/3, 3, 2/3, 3)
    r = combine([MetricResult(1, 2, 1 / 3, 2), MetricResult(1 / 3, 1, 1 / 3, 1)])
    assert_components(r, (4 / 3, 3, 2 / 3, 3))


def test_combine_and_macro_f1_reject_empty():
    with pytest.raises(ValueError):
        combine([])
    with pytest.raises(ValueError):
        macro_f1([])


# --------------------------------------------------------------------------------------------
# registry


def test_builtin_metrics_registry():
    assert BUILTIN_METRICS == {
        "overlap": overlap_segment,
        "pointwise": pointwise,
        "weighted_segment": weighted_segment,
        "point_adjusted": point_adjusted,
        "range_based": range_based,
    }
    assert HEADLINE == "overlap"
    assert BUILTIN_METRICS[HEADLINE] is overlap_segment
