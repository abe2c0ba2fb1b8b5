from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchbench.evaluation.thresholding import (
    DEFAULT_THRESHOLD,
    THRESHOLDS,
    _prune,
    apply_threshold,
    quantile_threshold,
    sliding_window_threshold,
    window_layout,
)


def noisy(n: int, seed: int = 0) -> np.ndarray:
    """Uniform noise in [0, 0.1): bounded, so never above mean + 4 std on its own."""
    return np.random.default_rng(seed).uniform(0.0, 0.1, n)


# --- window layout ---------------------------------------------------------------------------


def test_layout_n1000():
    size, step, starts = window_layout(1000)
    assert (size, step) == (330, 33)
    # windows run while the previous one ended before n: 660 + 330 = 990 < 1000 -> 693 runs,
    # 693 + 330 = 1023 >= 1000 -> stop
    assert starts == list(range(0, 694, 33))
    assert len(starts) == 22


@pytest.mark.parametrize("n", [1, 2, 3, 10, 99, 100, 101, 333, 1000, 1234])
def test_layout_matches_reference_loop(n):
    size, step, starts = window_layout(n)
    expected, start, end = [], 0, 0
    while end < n:  # the reference implementation's loop
        end = start + size
        expected.append(start)
        start += step
    assert starts == expected


# --- sliding window rule ---------------------------------------------------------------------


def test_single_spike_gives_one_padded_interval():
    s = noisy(1000)
    s[500] = 10.0
    result = sliding_window_threshold(s, np.arange(1000))
    assert len(result) == 1
    start, end, severity = result[0]
    assert (start, end) == (450.0, 550.0)
    assert severity > 0


@pytest.mark.parametrize("pos, expected", [(20, (0.0, 70.0)), (990, (940.0, 999.0))])
def test_spike_padding_is_clipped(pos, expected):
    s = noisy(1000, seed=1)
    s[pos] = 10.0
    result = sliding_window_threshold(s, np.arange(1000))
    assert [(a, b) for a, b, _ in result] == [expected]


def test_non_integer_index_mapping():
    n = 1000
    index = 1000.0 + 600.0 * np.arange(n)
    s = noisy(n, seed=2)
    s[500] = 10.0
    result = sliding_window_threshold(s, index)
    assert [(a, b) for a, b, _ in result] == [(1000.0 + 600 * 450, 1000.0 + 600 * 550)]
    assert result[0][0] in index and result[0][1] in index


def two_spikes() -> np.ndarray:
    # n = 450 zeros, a big spike 10 at 100, a small one 2.1 at 300, and a lone 1.95 at 200
    # (outside the +-50 padding of both). One window (window_size_portion=1):
    #   mean = (10 + 2.1 + 1.95) / 450 = 0.031222
    #   E[x^2] = (100 + 4.41 + 3.8025) / 450 = 0.240472 -> var = 0.239497, std = 0.489384
    #   threshold = mean + 4 std = 1.98876, so 10 and 2.1 are above it, 1.95 is not.
    # Sorted maxima: 10 (seq 50..150), 2.1 (seq 250..350), 1.95 (max_below sentinel);
    #   d0 = (10 - 2.1) / 10 = 0.79 > 0.13, d1 = (2.1 - 1.95) / 2.1 = 0.0714 < 0.13
    # -> the last drop above 13% is d0: keep only the big spike's sequence.
    s = np.zeros(450)
    s[100], s[200], s[300] = 10.0, 1.95, 2.1
    return s


def test_pruning_removes_small_spike():
    s = two_spikes()
    result = sliding_window_threshold(s, np.arange(450), window_size_portion=1.0)
    assert len(result) == 1
    start, end, severity = result[0]
    assert (start, end) == (50.0, 150.0)
    mean, std = s.mean(), s.std()
    assert severity == pytest.approx((10.0 - (mean + 4 * std)) / (mean + std))


def test_lower_min_percent_keeps_both_spikes():
    # with min_percent = 0.05, d1 = 0.0714 > 0.05 is the last big drop -> both kept
    result = sliding_window_threshold(
        two_spikes(), np.arange(450), window_size_portion=1.0, min_percent=0.05
    )
    assert [(a, b) for a, b, _ in result] == [(50.0, 150.0), (250.0, 350.0)]
    assert result[0][2] > result[1][2]


def test_prune_by_hand():
    # sorted: 10, 9.5, 2, 1.9(sentinel); drops 0.05, 0.789, 0.05 -> last > 0.13 is i=1
    keep = _prune(np.array([2.0, 10.0, 9.5]), 1.9, 0.13)
    assert keep.tolist() == [False, True, True]
    # a single sequence 2.0 vs sentinel 1.9: drop 0.05 -> nothing kept
    assert _prune(np.array([2.0]), 1.9, 0.13).tolist() == [False]
    # sentinel 0 (everything marked): drop 1.0 -> kept
    assert _prune(np.array([2.0]), 0.0, 0.13).tolist() == [True]


def test_constant_scores_give_nothing():
    assert sliding_window_threshold(np.full(500, 3.0), np.arange(500)) == []
    assert sliding_window_threshold(np.zeros(500), np.arange(500)) == []


def test_short_inputs_give_nothing():
    assert sliding_window_threshold(np.array([]), np.array([])) == []
    assert sliding_window_threshold(np.array([5.0]), np.array([0])) == []


def test_nan_scores_raise():
    s = noisy(100)
    s[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sliding_window_threshold(s, np.arange(100))


def test_mismatched_index_raises():
    with pytest.raises(ValueError, match="index"):
        sliding_window_threshold(noisy(100), np.arange(99))


def test_merge_of_overlapping_windows_keeps_max_severity():
    # the spike is found in many overlapping windows; the merged severity is the largest
    s = noisy(1000, seed=3)
    s[500] = 10.0
    ((_, _, severity),) = sliding_window_threshold(s, np.arange(1000))
    size, _, starts = window_layout(1000)
    best = 0.0
    for st_ in starts:
        w = s[st_ : st_ + size]
        if st_ <= 500 < st_ + size:
            best = max(best, (10.0 - (w.mean() + 4 * w.std())) / (w.mean() + w.std()))
    assert severity == pytest.approx(best)


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=0, max_size=300
    ),
    padding=st.integers(min_value=0, max_value=60),
    data=st.data(),
)
def test_property_sorted_non_overlapping(scores, padding, data):
    n = len(scores)
    steps = data.draw(st.lists(st.floats(min_value=0.5, max_value=100.0), min_size=n, max_size=n))
    index = 7.0 + np.cumsum(steps) if n else np.array([])
    for result in (
        sliding_window_threshold(np.array(scores), index, anomaly_padding=padding),
        quantile_threshold(np.array(scores), index, quantile=0.9, anomaly_padding=padding),
    ):
        for start, end, severity in result:
            assert start in index and end in index
            assert start <= end
            assert np.isfinite(severity)
        for (_, end, _), (start, _, _) in zip(result, result[1:]):
            assert end < start


# --- quantile rule ---------------------------------------------------------------------------


def test_quantile_by_hand():
    s = np.array([0, 0, 0, 0, 5, 0, 0, 0, 0, 1], dtype=float)
    # sorted: eight 0s, 1, 5; quantile 0.8 sits at position 0.8 * 9 = 7.2 -> 0 + 0.2 * (1 - 0)
    # = 0.2; points above: 4 (5.0) and 9 (1.0)
    result = quantile_threshold(s, np.arange(10), quantile=0.8)
    assert [(a, b) for a, b, _ in result] == [(4.0, 4.0), (9.0, 9.0)]
    assert [sev for _, _, sev in result] == pytest.approx([4.8, 0.8])
    padded = quantile_threshold(s, np.arange(10) * 2.5, quantile=0.8, anomaly_padding=1)
    assert [(a, b) for a, b, _ in padded] == [(7.5, 12.5), (20.0, 22.5)]


def test_quantile_constant_gives_nothing():
    assert quantile_threshold(np.ones(50), np.arange(50)) == []


# --- registry --------------------------------------------------------------------------------


def test_registry_and_apply():
    assert DEFAULT_THRESHOLD == "window"
    assert THRESHOLDS["window"] is sliding_window_threshold
    assert THRESHOLDS["quantile"] is quantile_threshold
    s = noisy(1000)
    s[500] = 10.0
    assert apply_threshold("window", s, np.arange(1000)) == sliding_window_threshold(
        s, np.arange(1000)
    )
    assert apply_threshold("quantile", s, np.arange(1000), quantile=0.999)[0][:2] == (
        500.0,
        500.0,
    )


def test_apply_unknown_name_lists_valid():
    with pytest.raises(ValueError, match="quantile.*window"):
        apply_threshold("nope", np.zeros(3), np.arange(3))
