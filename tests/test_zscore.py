"""The ``zscore`` baseline: formula, edges, registration."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from benchbench_plugins import zscore
from benchbench_plugins.zscore import RollingZScore

from benchbench.detector import DetectorInputError, NotFittedError


def naive(X: np.ndarray, window: int, min_periods: int, eps: float) -> np.ndarray:
    """The documented formula with a Python loop."""
    out = np.zeros(len(X))
    for t in range(len(X)):
        prev = X[max(0, t - window) : t]
        if len(prev) < min_periods:
            continue
        z = np.abs(X[t] - prev.mean(axis=0)) / (prev.std(axis=0) + eps)
        out[t] = z.max()
    return out


@pytest.mark.parametrize("n_channels", [1, 3])
def test_matches_the_formula(n_channels):
    rng = np.random.default_rng(0)
    X = np.cumsum(rng.standard_normal((300, n_channels)), axis=0) * 0.05
    det = RollingZScore(window=30, min_periods=4, eps=1e-3).fit(X)
    np.testing.assert_allclose(det.score(X), naive(X, 30, 4, 1e-3), rtol=1e-7, atol=1e-9)


def test_expanding_start_and_zero_before_min_periods():
    X = np.sin(np.arange(200) / 5.0)[:, None]
    scores = RollingZScore(window=50, min_periods=5).fit(X).score(X)
    assert scores.shape == (200,)
    assert np.all(np.isfinite(scores))
    assert np.all(scores[:5] == 0.0)
    assert np.all(scores[5:50] > 0)  # expanding window in use before 50 values exist


def test_flat_signal_is_finite():
    X = np.zeros((100, 2))
    X[60, 1] = 1.0
    scores = RollingZScore(window=20).fit(X).score(X)
    assert np.all(np.isfinite(scores))
    assert scores.argmax() == 60
    assert scores[59] == 0.0


def test_spike_gives_the_highest_score():
    t = np.arange(1000)
    X = np.sin(2 * np.pi * t / 60) + 0.05 * np.random.default_rng(1).standard_normal(1000)
    X = X[:, None]
    T = X.copy()
    T[700:703] += 4.0
    scores = RollingZScore().fit(X).score(T)
    # (the expanding start, on less than one period, is noisier: compare after it)
    assert 700 <= 100 + scores[100:].argmax() <= 702


def test_scores_depend_only_on_the_scored_signal():
    rng = np.random.default_rng(2)
    A, B, T = (rng.standard_normal((120, 1)) for _ in range(3))
    np.testing.assert_array_equal(RollingZScore().fit(A).score(T), RollingZScore().fit(B).score(T))


def test_history_is_empty_and_params_unused():
    det = RollingZScore(random_state=123, device="cuda").fit(np.zeros((10, 1)))
    assert det.history_ == {}
    assert det.n_channels_ == 1


def test_errors():
    with pytest.raises(NotFittedError):
        RollingZScore().score(np.zeros((10, 1)))
    with pytest.raises(DetectorInputError, match="1 timesteps"):
        RollingZScore().fit(np.zeros((1, 1)))
    with pytest.raises(ValueError, match="window"):
        RollingZScore(window=0).fit(np.zeros((10, 1)))
    with pytest.raises(ValueError, match="min_periods"):
        RollingZScore(window=3, min_periods=5).fit(np.zeros((10, 1)))


def test_registers_with_a_description():
    calls = []
    zscore.register_detectors(
        register=lambda name, factory, **kw: calls.append((name, factory, kw))
    )
    [(name, factory, kw)] = calls
    assert name == "zscore" and factory is RollingZScore
    assert "baseline" in kw["description"]


def test_import_is_light():
    code = (
        "import sys, benchbench_plugins.zscore; "
        "assert 'torch' not in sys.modules; assert 'pandas' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
