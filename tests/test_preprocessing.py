from __future__ import annotations

import numpy as np
import pytest

from benchbench.data import DataError, Signal
from benchbench.data.preprocessing import (
    Prepared,
    aggregate,
    fit_scaler,
    impute,
    preprocess,
    rolling_windows,
    unroll_windows,
    window_starts,
)
from benchbench.detector import DetectorInputError

nan = np.nan


def make_signal(train, test=None, name="spikes", source="synthetic", interval=None) -> Signal:
    train = np.asarray(train, dtype=float)
    test = train if test is None else np.asarray(test, dtype=float)
    return Signal(
        name=name,
        train=train,
        test=test,
        train_index=np.arange(len(train)),
        test_index=np.arange(len(test)),
        interval=interval,
        source=source,
    )


# --- aggregate / impute ----------------------------------------------------------------------


def test_aggregate_with_gap_then_impute():
    index = np.array([0, 1, 2, 5, 6, 11])
    values = np.array([[1, 10], [3, 30], [5, 50], [7, 70], [9, 90], [11, 110]], dtype=float)
    out, out_index = aggregate(values, index, 2)
    # bins [0,2) [2,4) [4,6) [6,8) [8,10) [10,12)
    assert out_index.tolist() == [0, 2, 4, 6, 8, 10]
    expected = [[2, 20], [5, 50], [7, 70], [9, 90], [nan, nan], [11, 110]]
    np.testing.assert_array_equal(out, expected)
    filled = impute(out)
    np.testing.assert_array_equal(filled[4], [10, 100])
    assert np.isfinite(filled).all()


def test_aggregate_methods_and_non_integer_interval():
    index = 100.0 + np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    values = np.array([1.0, 5.0, 2.0, nan, 4.0, np.inf])
    # interval 0.3: bins [100, 100.3) -> 1, 5, 2; [100.3, 100.6) -> (nan), 4, (inf skipped)
    for method, expected in [
        ("mean", [8 / 3, 4]),
        ("median", [2, 4]),
        ("sum", [8, 4]),
        ("min", [1, 4]),
        ("max", [5, 4]),
    ]:
        out, out_index = aggregate(values, index, 0.3, method=method)
        np.testing.assert_allclose(out, expected)
        np.testing.assert_allclose(out_index, [100.0, 100.3])


def test_aggregate_median_even_count():
    out, _ = aggregate(np.array([[4.0], [1.0], [3.0], [2.0], [9.0]]), np.arange(5), 4, "median")
    np.testing.assert_array_equal(out, [[2.5], [9.0]])


def test_aggregate_none_and_errors():
    values, index = np.ones((3, 2)), np.arange(3)
    out, out_index = aggregate(values, index, None)
    np.testing.assert_array_equal(out, values)
    np.testing.assert_array_equal(out_index, index)
    with pytest.raises(ValueError, match="interval"):
        aggregate(values, index, 0)
    with pytest.raises(ValueError, match="method"):
        aggregate(values, index, 1, method="mode")
    with pytest.raises(ValueError, match="sorted"):
        aggregate(values, np.array([0, 2, 1]), 1)


def test_impute_interior_and_edges():
    values = np.array([[nan, 1.0], [1.0, nan], [nan, nan], [3.0, 4.0], [np.inf, nan]])
    out = impute(values)
    np.testing.assert_allclose(out, [[1, 1], [1, 2], [2, 3], [3, 4], [3, 4]])
    assert np.isnan(values[0, 0])  # input untouched


def test_impute_all_nan_channel_raises_with_where():
    with pytest.raises(DataError, match=r"synthetic/spikes: channel 1 has no finite value"):
        impute(np.array([[1.0, nan], [2.0, nan]]), where="synthetic/spikes")


# --- scaler ----------------------------------------------------------------------------------


def test_scaler_maps_min_max_and_does_not_clip():
    train = np.array([[0.0, -5.0], [10.0, 5.0], [5.0, 0.0]])
    scaler = fit_scaler(train)
    np.testing.assert_allclose(scaler.transform(train), [[-1, -1], [1, 1], [0, 0]])
    np.testing.assert_allclose(scaler.transform(np.array([[20.0, -10.0]])), [[3, -2]])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(train)), train)
    other = fit_scaler(train, feature_range=(0, 1))
    np.testing.assert_allclose(other.transform(train)[:, 0], [0, 1, 0.5])


def test_scaler_constant_channel_maps_to_the_centre_in_units_of_its_level():
    train = np.array([[7.0, 0.0], [7.0, 1.0]])
    scaler = fit_scaler(train)
    np.testing.assert_allclose(scaler.transform(train), [[0, -1], [0, 1]])
    # 7 -> 0; a departure of max(|7|, 1) = 7 reaches an edge of [-1, 1]
    np.testing.assert_allclose(scaler.transform(np.array([[14.0, 0.5], [0.0, 0.5]])),
                               [[1, 0], [-1, 0]])
    test = np.array([[9.0, 0.5], [-3.0, 2.0]])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)


@pytest.mark.parametrize("level, departure, expected", [
    (0.0, 0.5, 0.5),  # |level| <= 1: data units
    (-0.4, 1.0, 1.0),
    (8e9, 1e8, 0.0125),  # large levels: relative to the level
    (-250.0, -25.0, -0.1),
])
def test_scaler_constant_fallback_units(level, departure, expected):
    scaler = fit_scaler(np.full(5, level))
    np.testing.assert_allclose(scaler.transform(np.array([level, level + departure])),
                               [0, expected])
    other = fit_scaler(np.full(5, level), feature_range=(0, 1))
    np.testing.assert_allclose(other.transform(np.array([level, level + departure])),
                               [0.5, 0.5 + expected / 2])


# --- preprocess ------------------------------------------------------------------------------


def test_preprocess_scales_with_train_scaler():
    train = np.array([0.0, 2.0, 4.0, nan, 8.0])
    test = np.array([4.0, 16.0, np.inf])
    prepared = preprocess(make_signal(train, test))
    assert isinstance(prepared, Prepared)
    assert prepared.train.shape == (5, 1) and prepared.test.shape == (3, 1)
    np.testing.assert_allclose(prepared.train[:, 0], [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_allclose(prepared.test[:, 0], [0, 3, 3])


def test_preprocess_uses_signal_interval_and_argument():
    sig = make_signal(np.arange(8.0), interval=2)
    prepared = preprocess(sig)
    assert prepared.train_index.tolist() == [0, 2, 4, 6]
    assert len(preprocess(sig, interval=4).train) == 2


@pytest.mark.parametrize(
    "train, test, problem",
    [
        (np.full(10, 3.0), None, r"both parts are constant \(train 3, test 3\); nothing to "),
        (np.full(10, 3.0), np.full(4, 5.0), r"both parts are constant \(train 3, test 5\)"),
        (np.full(10, nan), None, "no finite value"),
        (np.zeros(0), np.ones(3), "train part is empty"),
        (np.arange(4.0), np.zeros(0), "test part is empty"),
        (np.arange(4.0), np.full(3, np.inf), "test part: channel 0 has no finite value"),
    ],
)
def test_preprocess_errors_name_the_signal(train, test, problem):
    sig = make_signal(train, test, name="spikes", source="synthetic/suite.csv")
    with pytest.raises(DataError, match=problem) as info:
        preprocess(sig)
    assert "synthetic/suite.csv" in str(info.value)
    assert "'spikes'" in str(info.value)


def test_preprocess_constant_in_one_channel_only_is_fine():
    train = np.column_stack([np.full(5, 2.0), np.arange(5.0)])
    prepared = preprocess(make_signal(train))
    np.testing.assert_allclose(prepared.train[:, 0], 0)
    np.testing.assert_allclose(prepared.train[:, 1], [-1, -0.5, 0, 0.5, 1])


# --- windows ---------------------------------------------------------------------------------


def test_rolling_windows_shape_and_view():
    X = np.arange(20.0).reshape(10, 2)
    w = rolling_windows(X, 4, step=3)
    assert w.shape == ((10 - 4) // 3 + 1, 4, 2)
    np.testing.assert_array_equal(w[1], X[3:7])
    np.testing.assert_array_equal(w[2], X[6:10])
    assert np.shares_memory(w, X)
    assert rolling_windows(X, 10).shape == (1, 10, 2)


def test_rolling_windows_too_short():
    with pytest.raises(ValueError, match=r"window_size=5.*n=3"):
        rolling_windows(np.zeros((3, 1)), 5)


@pytest.mark.parametrize("n, window, step", [(10, 4, 3), (10, 4, 2), (4, 4, 1), (100, 10, 7)])
def test_window_starts_cover_every_timestep(n, window, step):
    # (with step <= window; the last window always ends at the last step)
    starts = window_starts(n, window, step)
    assert starts[0] == 0 and starts[-1] == n - window
    assert np.all(np.diff(starts) <= step) and np.all(np.diff(starts) > 0)
    covered = np.zeros(n, bool)
    for s in starts:
        covered[s : s + window] = True
    assert covered.all()


def test_window_starts_too_short():
    with pytest.raises(DetectorInputError, match="3 timesteps, fewer than window_size=5"):
        window_starts(3, 5, 1)


def brute_unroll(windows, n_timesteps, step, reducer):
    """One timestep at a time: reduce over the covering windows, then fill uncovered ones."""
    n_windows, size, c = windows.shape
    out = np.full((n_timesteps, c), nan)
    covered = []
    for t in range(n_timesteps):
        vals = [windows[i, t - i * step] for i in range(n_windows) if 0 <= t - i * step < size]
        if vals:
            out[t] = np.median(vals, axis=0) if reducer == "median" else np.mean(vals, axis=0)
            covered.append(t)
    for t in range(n_timesteps):
        if t not in covered:
            nearest = min(covered, key=lambda u: (abs(u - t), u))
            out[t] = out[nearest]
    return out


@pytest.mark.parametrize("reducer", ["median", "mean"])
@pytest.mark.parametrize(
    "n_windows, size, step, n_timesteps",
    [
        (5, 4, 1, 8),
        (7, 5, 2, 20),
        (6, 3, 3, 18),
        (4, 2, 5, 20),
        (3, 3, 4, 10),
        (9, 6, 1, 12),
        (1, 5, 1, 5),
    ],
)
def test_unroll_matches_brute_force(reducer, n_windows, size, step, n_timesteps):
    rng = np.random.default_rng(n_windows * 100 + size * 10 + step)
    windows = rng.normal(size=(n_windows, size, 2))
    fast = unroll_windows(windows, n_timesteps, step=step, reducer=reducer)
    assert fast.shape == (n_timesteps, 2)
    np.testing.assert_allclose(fast, brute_unroll(windows, n_timesteps, step, reducer))


def test_unroll_inverts_rolling_windows():
    X = np.random.default_rng(0).normal(size=(31, 3))
    for step in (1, 2, 3, 5):
        w = rolling_windows(X, 6, step)
        covered = (len(w) - 1) * step + 6
        np.testing.assert_allclose(unroll_windows(w, 31, step)[:covered], X[:covered])
    one = unroll_windows(rolling_windows(X[:, 0], 4)[:, :, 0], 31, reducer="mean")
    np.testing.assert_allclose(one, X[:, 0])


def test_unroll_errors():
    with pytest.raises(ValueError, match="reducer"):
        unroll_windows(np.zeros((2, 3, 1)), 4, reducer="max")
    with pytest.raises(ValueError, match="no windows"):
        unroll_windows(np.zeros((0, 3, 1)), 4)


# --- values too large to scale ---------------------------------------------------------------


def test_aggregate_mean_of_huge_values_does_not_overflow():
    values, _ = aggregate(np.array([1e308, 1e308, 1.0, 3.0]), np.array([0, 1, 2, 3]), 2)
    np.testing.assert_allclose(values, [1e308, 2.0])
    sums, _ = aggregate(np.array([1e308, 1e308]), np.array([0, 1]), 2, method="sum")
    assert np.isinf(sums[0])  # a sum may overflow; preprocess aggregates with the mean


def huge_signal(train, test, **lines) -> Signal:
    return Signal("big", np.asarray(train, float), np.asarray(test, float),
                  np.arange(len(train)) * 10, np.arange(len(test)) * 10, source="data/big.csv",
                  **lines)


def test_preprocess_names_the_line_of_a_test_value_too_large_to_scale():
    sig = huge_signal([0.0, 1.0, 0.5, 0.2], [0.0, 0.5, 3e6, 1.0],
                      train_lines=[2, 3, 4, 5], test_lines=[9, 10, 11, 12])
    with pytest.raises(DataError) as info:
        preprocess(sig)
    assert str(info.value).startswith(
        "data/big.csv: line 11: signal 'big', test part, channel 0: value 3e+06 scales to 6e+06, "
        "beyond the ±1e+06 the detectors accept (the train part spans 0 to 1)"
    )


def test_preprocess_names_the_row_where_lines_are_unknown_and_sees_through_aggregation():
    sig = huge_signal([0.0, 1.0, 0.5, 0.2], [0.0, 0.5, 0.2, 1e308], interval=20)
    with pytest.raises(DataError, match=r"test part, row 4 \(timestamp 30\), channel 0: value "
                                        r"1e\+308 scales to inf"):
        preprocess(sig)


def test_preprocess_names_both_lines_of_a_range_that_overflows():
    sig = huge_signal([1.0, 1e308, 0.0, -1e308], [0.0, 1.0], train_lines=[2, 3, 4, 5],
                      test_lines=[2, 3])
    with pytest.raises(DataError) as info:
        preprocess(sig)
    message = str(info.value)
    assert message.startswith("data/big.csv: line 3: signal 'big', train part, channel 0: the "
                              "values span -1e+308 (line 5) to 1e+308")


def test_preprocess_constant_train_part_and_moving_test_part():
    prepared = preprocess(make_signal(np.full(6, 250.0), [250.0, 275.0, 250.0, 200.0]))
    np.testing.assert_allclose(prepared.train[:, 0], 0)
    np.testing.assert_allclose(prepared.test[:, 0], [0, 0.1, 0, -0.2])
