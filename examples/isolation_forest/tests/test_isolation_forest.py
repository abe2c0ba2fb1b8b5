"""Tests of the isolation_forest plugin: the benchbench conformance kit, registration, detection.

Run from this folder after installing the plugin (``pip install -e .`` then ``pytest``).
"""

import benchbench_isolation_forest
import numpy as np
import pytest
from benchbench_isolation_forest import QUICK_PARAMS, WindowIsolationForest
from benchbench_isolation_forest.detector import spread_window_scores, windows

from benchbench.testing import make_signal, parametrize_checks

FAST = {"window_size": 16, "n_estimators": 30}


# Every contract check of benchbench.testing (one test id each); a failure names the rule
# that broke and how to fix it.
@parametrize_checks(WindowIsolationForest, **FAST)
def test_conformance(check):
    check()


@parametrize_checks(WindowIsolationForest, **FAST, aggregate="max", train_step=3)
def test_conformance_max_aggregate(check):
    check()


def test_registers_isolation_forest_with_quick_params():
    registered = {}

    def register(name, factory, **options):
        registered[name] = (factory, options)

    benchbench_isolation_forest.register_detectors(register=register)
    factory, options = registered["isolation_forest"]
    assert factory is WindowIsolationForest
    assert options["quick_params"] == QUICK_PARAMS
    WindowIsolationForest().set_params(**QUICK_PARAMS)  # the quick params are real parameters


def test_windows_are_time_major_and_strided():
    X = np.arange(12, dtype=float).reshape(6, 2)  # x[t] = (2t, 2t + 1)
    w = windows(X, 3, step=2)
    assert w.shape == (2, 6)
    np.testing.assert_array_equal(w[0], [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(w[1], [4, 5, 6, 7, 8, 9])


@pytest.mark.parametrize("how", ["mean", "max"])
def test_spread_window_scores_matches_a_loop(how):
    rng = np.random.default_rng(0)
    scores, w = rng.standard_normal(30), 5
    got = spread_window_scores(scores, w, how)
    n = len(scores) + w - 1
    reduce = np.mean if how == "mean" else np.max
    want = [reduce(scores[max(0, t - w + 1): t + 1]) for t in range(n)]
    np.testing.assert_allclose(got, want)


def test_finds_a_level_shift_and_a_spike():
    train = make_signal(1000, seed=0)
    test = make_signal(1000, seed=1)
    test[300:304] += 1.5
    test[700:760] += 0.8
    scores = WindowIsolationForest(n_estimators=50, random_state=1).fit(train).score(test)
    outside = np.ones(len(scores), dtype=bool)
    outside[280:324] = outside[680:780] = False
    typical = np.quantile(scores[outside], 0.95)  # stranger than 95 % of the normal timesteps
    assert scores[300:304].mean() > typical
    assert scores[700:760].mean() > typical
    assert 280 <= int(np.argmax(scores)) <= 780


def test_invalid_aggregate_is_rejected_in_fit():
    detector = WindowIsolationForest(aggregate="median")  # __init__ does not validate
    with pytest.raises(ValueError, match="aggregate"):
        detector.fit(make_signal())
