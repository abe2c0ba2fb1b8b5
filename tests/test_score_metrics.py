"""Tests of benchbench.evaluation.score_metrics: hand-worked examples (worked out in comments)
and a cross-check against the published reference implementation.

Reference values: computed once with TSB-AD 1.5 (PyPI ``TSB-AD==1.5``, installed with
``--no-deps`` beside numpy 1.26.4 and scikit-learn 1.9.1, Python 3.11) on the arrays that
:func:`case` builds:

* VUS: ``TSB_AD.evaluation.basic_metrics.generate_curve(labels.astype(int), scores,
  slidingWindow=L, version="opt", thre=250)``, items 6 and 7 (``avg_auc_3d``, ``avg_ap_3d``) —
  the VUS-ROC / VUS-PR of ``TSB_AD.evaluation.metrics.get_metrics``. vus 0.0.6's
  ``vus.utils.metrics.metricor().RangeAUC_volume_opt(labels, scores, L, 250)`` gave the same
  numbers, bit for bit.
* per-buffer areas: the trapezoid / step sums of the ``tpr_3d``, ``fpr_3d``, ``prec_3d``
  surfaces of ``basic_metricor().RangeAUC_volume_opt(labels, scores, 10, 250)``, computed as
  ``RangeAUC_volume_opt`` itself does for each buffer.
* range-based AUC with buffer 0: ``basic_metricor().RangeAUC(labels, scores, window=0,
  plot_ROC=True)[:2]``.
* AUC-ROC / AUC-PR: ``basic_metricor().metric_ROC`` / ``metric_PR`` (scikit-learn's
  ``roc_auc_score`` / ``average_precision_score``).

Ours agree with all of them to within 6e-16; the tests allow 1e-9.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from benchbench.evaluation.score_metrics import (
    DEFAULT_BUFFER_STEP,
    DEFAULT_MAX_BUFFER,
    DEFAULT_THRESHOLDS,
    SCORE_METRICS,
    auc_pr,
    auc_roc,
    labels_from_intervals,
    range_auc,
    score_metrics,
    vus,
)

TOL = 1e-9


def noise(n: int, seed: int) -> np.ndarray:
    """``n`` floats in (0, 1) from the Park-Miller minimal standard generator: exact integer
    arithmetic, so the arrays are the same on every platform and numpy version."""
    out, x = [], seed
    for _ in range(n):
        x = (x * 48271) % 2147483647
        out.append(x / 2147483647)
    return np.array(out)


def labelled(n: int, ranges: list[tuple[int, int]]) -> np.ndarray:
    y = np.zeros(n, dtype=bool)
    for s, e in ranges:
        y[s:e + 1] = True
    return y


def case(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, labels)`` of a named fixed case."""
    if name == "spread":  # ranges at both edges, two ranges 2 apart, a one-step range
        ranges = [(3, 9), (120, 159), (300, 300), (303, 310), (470, 499)]
        n = 500
        s = noise(n, 17)
        s[115:120] += 0.4  # just before a range: buffer credit
        s[200:205] += 0.7  # a false alarm
    elif name == "ties":  # five score levels only
        ranges = [(50, 59), (200, 229)]
        n = 300
        s = np.floor(noise(n, 5) * 5) / 5
    elif name == "short":  # fewer timesteps than thresholds
        ranges = [(10, 12), (40, 40)]
        n = 60
        s = noise(n, 99)
    elif name == "dense":  # many short ranges whose buffers overlap
        ranges = [(i, i + 1) for i in range(10, 390, 20)]
        n = 400
        s = noise(n, 3)
    else:
        raise KeyError(name)
    y = labelled(n, ranges)
    s = s + 0.5 * y
    if name == "ties":
        s = np.round(s * 5) / 5
    return s, y


CASES = ["spread", "ties", "short", "dense"]

# (case, max buffer L) -> (VUS-ROC, VUS-PR): TSB-AD 1.5 generate_curve (see the module docstring)
VUS_REFERENCE = {
    ("spread", 0): (0.846680148297944, 0.5961631388751473),
    ("spread", 7): (0.8722656105143947, 0.633776904022268),
    ("spread", 100): (0.950934060311947, 0.796418667011615),
    ("ties", 0): (0.8559134615384616, 0.6218204552414004),
    ("ties", 7): (0.870234952345625, 0.6347130224913428),
    ("ties", 100): (0.9415570859591381, 0.7538418925786428),
    ("short", 0): (0.9040178571428572, 0.5208333333333333),
    ("short", 7): (0.9062640938270711, 0.5237546685670758),
    ("short", 100): (0.9865981200088126, 0.9158309597475279),
    ("dense", 0): (0.8016807976614988, 0.5260697527291702),
    ("dense", 7): (0.8659586664986582, 0.5865208092026273),
    ("dense", 100): (0.9852638537479447, 0.9438418573311281),
}

# case -> (range AUC-ROC, range AUC-PR) with buffer 0: TSB-AD 1.5 RangeAUC(window=0)
RANGE_AUC_0_REFERENCE = {
    "spread": (0.846680148297944, 0.5961631388751472),
    "ties": (0.8559134615384615, 0.6218204552414005),
    "short": (0.9040178571428572, 0.5208333333333333),
    "dense": (0.8016807976614989, 0.5260697527291702),
}

# case -> (AUC-ROC, AUC-PR): TSB-AD 1.5 metric_ROC / metric_PR (scikit-learn 1.9.1)
AUC_REFERENCE = {
    "spread": (0.8883271542523312, 0.6521380776901176),
    "ties": (0.8559134615384615, 0.6218204552414004),
    "short": (0.9508928571428572, 0.7083333333333333),
    "dense": (0.8340360569933121, 0.5841688740975962),
}

# "spread", buffers 0..10: per-buffer areas of TSB-AD 1.5 RangeAUC_volume_opt(..., 10, 250)
SPREAD_ROC_BY_BUFFER = (
    0.846680148297944, 0.846680148297944, 0.8490579630797156, 0.8494079587283676,
    0.8934095620406365, 0.8937084000905859, 0.8993438119974108, 0.8998368915825532,
    0.9068712497462236, 0.9074483526970587, 0.9095439505479337,
)
SPREAD_PR_BY_BUFFER = (
    0.5961631388751473, 0.5961631388751473, 0.5984167201413194, 0.5987593545636138,
    0.6613738883835188, 0.6617914041682733, 0.6781222909676394, 0.6794252962034847,
    0.6986003360006553, 0.7002850295873277, 0.7030928936500953,
)


# --------------------------------------------------------------------------------------------
# cross-check against the reference


@pytest.mark.parametrize(("name", "max_buffer"), sorted(VUS_REFERENCE))
def test_vus_matches_tsb_ad(name, max_buffer):
    scores, labels = case(name)
    result = vus(scores, labels, max_buffer=max_buffer)
    ref_roc, ref_pr = VUS_REFERENCE[name, max_buffer]
    assert result.roc == pytest.approx(ref_roc, abs=TOL)
    assert result.pr == pytest.approx(ref_pr, abs=TOL)
    assert result.buffers == tuple(range(max_buffer + 1))


def test_vus_areas_by_buffer_match_tsb_ad():
    result = vus(*case("spread"), max_buffer=10)
    assert result.roc_by_buffer == pytest.approx(SPREAD_ROC_BY_BUFFER, abs=TOL)
    assert result.pr_by_buffer == pytest.approx(SPREAD_PR_BY_BUFFER, abs=TOL)


def test_vus_buffer_step_averages_the_swept_buffers():
    result = vus(*case("spread"), max_buffer=10, buffer_step=3)
    assert result.buffers == (0, 3, 6, 9)
    assert result.roc == pytest.approx(np.mean([SPREAD_ROC_BY_BUFFER[b] for b in (0, 3, 6, 9)]),
                                       abs=TOL)
    assert result.pr == pytest.approx(np.mean([SPREAD_PR_BY_BUFFER[b] for b in (0, 3, 6, 9)]),
                                      abs=TOL)


@pytest.mark.parametrize("name", CASES)
def test_range_auc_zero_buffer_matches_tsb_ad(name):
    roc, pr = range_auc(*case(name), buffer=0)
    assert (roc, pr) == pytest.approx(RANGE_AUC_0_REFERENCE[name], abs=TOL)


@pytest.mark.parametrize("name", CASES)
def test_auc_matches_tsb_ad(name):
    scores, labels = case(name)
    ref_roc, ref_pr = AUC_REFERENCE[name]
    assert auc_roc(scores, labels) == pytest.approx(ref_roc, abs=TOL)
    assert auc_pr(scores, labels) == pytest.approx(ref_pr, abs=TOL)


def test_defaults_are_tsb_ads():
    assert (DEFAULT_MAX_BUFFER, DEFAULT_BUFFER_STEP, DEFAULT_THRESHOLDS) == (100, 1, 250)
    scores, labels = case("spread")
    assert vus(scores, labels).roc == pytest.approx(VUS_REFERENCE["spread", 100][0], abs=TOL)


# --------------------------------------------------------------------------------------------
# hand-worked examples

# Ten steps, ranges R1 = {2, 3} and R2 = {7} (P = 3, N = 7). In decreasing score order:
# 2 (A), 9 (N), 3 (A), 7 (A), then the six other normal steps.
TOY_LABELS = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
TOY_SCORES = np.array([0.1, 0.2, 0.9, 0.7, 0.3, 0.5, 0.0, 0.6, 0.4, 0.8])


def test_toy_point_wise_aucs():
    # ROC: each anomalous step against the 7 normal ones: 0.9 beats 7, 0.7 beats 6, 0.6 beats 6
    # -> 19 / 21. AP: recall steps of 1/3 at precisions 1, 2/3, 3/4 -> (1 + 2/3 + 3/4) / 3.
    assert auc_roc(TOY_SCORES, TOY_LABELS) == pytest.approx(19 / 21)
    assert auc_pr(TOY_SCORES, TOY_LABELS) == pytest.approx(29 / 36)


def test_toy_range_auc_zero_buffer():
    # n = 10 < 250: every sorted score is a threshold (repeats add nothing). TPR = point recall
    # times the share of ranges hit, FPR = FP / 7:
    #   {2}: TPR 1/3 * 1/2 = 1/6, FPR 0, precision 1
    #   +9:  TPR 1/6, FPR 1/7, precision 1/2
    #   +3:  TPR 2/3 * 1/2 = 1/3, FPR 1/7, precision 2/3
    #   +7:  TPR 1, FPR 1/7, precision 3/4; then FPR grows to 1 at TPR 1.
    # ROC area = 1/7 * 1/6 + 6/7 * 1 = 37/42; PR area = 1/6 * 1 + 1/6 * 2/3 + 2/3 * 3/4 = 7/9.
    roc, pr = range_auc(TOY_SCORES, TOY_LABELS, buffer=0)
    assert roc == pytest.approx(37 / 42)
    assert pr == pytest.approx(7 / 9)
    volume = vus(TOY_SCORES, TOY_LABELS, max_buffer=0)  # VUS with a zero buffer: the same
    assert (volume.roc, volume.pr) == pytest.approx((37 / 42, 7 / 9))


def test_toy_constant_score_with_buffer_4():
    # buffer 4: half-width 2, weights sqrt(1 - 1/4) at distance 1 and sqrt(1 - 2/4) at 2.
    # R1 = {2, 3}: steps 1, 4 at distance 1, steps 0, 5 at 2; R2 = {7}: steps 6, 8 at 1, 5, 9
    # at 2. Step 5 gets two contributions: capped at 1. B = 4 sqrt(3/4) + 2 sqrt(1/2) + 1.
    # A constant score predicts everything at each threshold: TP = 3 + B, TPR = min(1, (3 + B)
    # / (3 + B/2)) * 1 = 1, FPR f = (10 - 3 - B) / (10 - 3 - B/2), precision (3 + B) / 10.
    # ROC area = f/2 + (1 - f); PR area = (3 + B) / 10.
    b = 4 * math.sqrt(0.75) + 2 * math.sqrt(0.5) + 1
    f = (7 - b) / (7 - b / 2)
    roc, pr = range_auc(np.full(10, 0.3), TOY_LABELS, buffer=4)
    assert roc == pytest.approx(1 - f / 2)
    assert pr == pytest.approx((3 + b) / 10)


@pytest.mark.parametrize("name", CASES)
def test_perfect_score_gives_one(name):
    _, labels = case(name)
    for scores in (labels.astype(float), 3.0 * labels + 7.0):
        metrics = score_metrics(scores, labels)
        assert metrics == pytest.approx(dict.fromkeys(SCORE_METRICS, 1.0))
        assert vus(scores, labels).roc_by_buffer == pytest.approx([1.0] * 101)


@pytest.mark.parametrize("name", CASES)
def test_constant_score(name):
    _, labels = case(name)
    scores = np.full(labels.size, 0.25)
    assert auc_roc(scores, labels) == pytest.approx(0.5)
    assert auc_pr(scores, labels) == pytest.approx(labels.mean())  # scikit-learn: the rate
    # VUS with a zero buffer: one curve point (1, 1) -> ROC 0.5, PR the anomaly rate
    volume = vus(scores, labels, max_buffer=0)
    assert (volume.roc, volume.pr) == pytest.approx((0.5, labels.mean()))
    # with buffers, buffer steps count as partly positive: both rise (the reference's quirk)
    volume = vus(scores, labels)
    assert volume.roc > 0.5 and volume.pr > labels.mean()


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("transform", [lambda s: np.exp(3 * s), lambda s: s ** 3 + 2 * s - 5,
                                       lambda s: np.arctan(s) * 10])
def test_strictly_increasing_transform_changes_nothing(name, transform):
    scores, labels = case(name)
    moved = transform(scores)
    assert np.unique(moved).size == np.unique(scores).size  # no tie made or broken
    assert score_metrics(moved, labels) == score_metrics(scores, labels)
    assert vus(moved, labels, max_buffer=20) == vus(scores, labels, max_buffer=20)


def test_buffers_zero_and_one_are_the_same():
    # half-width 1 // 2 = 0: no buffer step
    result = vus(*case("dense"), max_buffer=1)
    assert result.roc_by_buffer[0] == result.roc_by_buffer[1]
    assert result.pr_by_buffer[0] == result.pr_by_buffer[1]


# --------------------------------------------------------------------------------------------
# one class only: defined values, no warning


@pytest.mark.parametrize(("fill", "pr"), [(False, 0.0), (True, 1.0)])
def test_one_class_only(fill, pr):
    labels = np.full(50, fill)
    scores = noise(50, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = score_metrics(scores, labels)
        volume = vus(scores, labels, max_buffer=4)
    assert metrics == {"auc_roc": 0.5, "auc_pr": pr, "vus_roc": 0.5, "vus_pr": pr}
    assert volume.roc_by_buffer == (0.5,) * 5 and volume.pr_by_buffer == (pr,) * 5


@pytest.mark.parametrize("name", CASES)
def test_score_metrics_values_are_finite(name):
    metrics = score_metrics(*case(name))
    assert tuple(metrics) == SCORE_METRICS
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in metrics.values())
    assert metrics["vus_roc"] == pytest.approx(VUS_REFERENCE[name, 100][0], abs=TOL)


# --------------------------------------------------------------------------------------------
# labels from intervals


def test_labels_from_intervals():
    index = np.arange(10)
    assert labels_from_intervals([[2, 3], [7, 7]], index).tolist() == TOY_LABELS.tolist()
    timestamps = 1_000 + 300 * np.arange(10)  # closed intervals in index units
    assert labels_from_intervals([[1_600, 1_900], [3_100, 3_100]], timestamps).tolist() == \
        TOY_LABELS.tolist()
    assert not labels_from_intervals([], index).any()


def test_labels_from_intervals_bad_interval():
    with pytest.raises(ValueError, match=r"expected\[0\].*start > end"):
        labels_from_intervals([[5, 2]], np.arange(10))


# --------------------------------------------------------------------------------------------
# bad input: one clear message naming the parameter


@pytest.mark.parametrize(("scores", "labels", "message"), [
    (np.zeros((3, 2)), np.zeros(3), "scores must be 1-D"),
    (np.array([]), np.array([]), "scores is empty"),
    (np.array([0.1, np.nan, 0.3]), np.array([0, 1, 0]), r"scores must be finite.*position 1"),
    (np.array([0.1, np.inf]), np.array([0, 1]), "scores must be finite"),
    (np.array(["a", "b"]), np.array([0, 1]), "scores must be numeric"),
    (np.zeros(3), np.zeros(4), "labels has 4 timesteps but scores has 3"),
    (np.zeros(3), np.array([0, 2, 1]), r"labels must be 0/1.*position 1"),
    (np.zeros(3), np.zeros((3, 1)), "labels must be 1-D"),
])
@pytest.mark.parametrize("metric", [auc_roc, auc_pr, vus, score_metrics])
def test_bad_input(metric, scores, labels, message):
    with pytest.raises(ValueError, match=message):
        metric(scores, labels)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_buffer": -1}, "max_buffer must be an integer >= 0"),
    ({"max_buffer": 2.5}, "max_buffer must be an integer >= 0"),
    ({"max_buffer": True}, "max_buffer must be an integer >= 0"),
    ({"buffer_step": 0}, "buffer_step must be an integer >= 1"),
    ({"n_thresholds": 0}, "n_thresholds must be an integer >= 1"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vus(TOY_SCORES, TOY_LABELS, **kwargs)


def test_integer_and_boolean_labels_agree():
    scores, labels = case("spread")
    assert score_metrics(scores, labels.astype(int)) == score_metrics(scores, labels)
    assert score_metrics(scores, labels.astype(float)) == score_metrics(scores, labels)
