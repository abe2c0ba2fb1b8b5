"""The ``isolation_forest`` detector: scikit-learn's Isolation Forest on rolling windows.

Training: every ``train_step``-th window of ``window_size`` consecutive timesteps (all channels,
flattened to one vector of ``window_size * n_channels`` values) is a sample for an
:class:`sklearn.ensemble.IsolationForest`. Scoring: every window of the test signal (stride 1)
gets the forest's anomaly score ``-score_samples`` (higher = easier to isolate = more anomalous),
and each timestep gets the ``mean`` (or ``max``) of the scores of the windows that cover it. Both
steps are vectorised (a strided view for the windows, cumulative sums for the mean, a strided
maximum for the max); no Python loop runs over time.

This is the non-generative baseline the generative detectors are compared against: no training
loop, so ``history_`` stays empty and the report draws no loss curve for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchbench.detector import BaseDetector, NotFittedError

__all__ = ["WindowIsolationForest", "spread_window_scores", "windows"]

AGGREGATES = ("mean", "max")


def windows(X: np.ndarray, window_size: int, step: int = 1) -> np.ndarray:
    """Every ``step``-th window of ``X`` ``(n, c)``, flattened: ``(n_windows, window_size * c)``.

    Window ``i`` holds ``X[i * step : i * step + window_size]`` (time-major, then channel).
    """
    view = sliding_window_view(X, window_size, axis=0)[::step]  # (m, c, w)
    return view.transpose(0, 2, 1).reshape(len(view), -1)


def spread_window_scores(scores: np.ndarray, window_size: int, how: str = "mean") -> np.ndarray:
    """Per-timestep scores from per-window scores (stride 1): the mean or max over covering windows.

    ``scores`` has one value per window ``i`` covering timesteps ``i .. i + window_size - 1``;
    the result has ``len(scores) + window_size - 1`` values.
    """
    scores = np.asarray(scores, dtype=np.float64)
    w = int(window_size)
    if how == "mean":
        ones = np.ones(w)
        return np.convolve(scores, ones) / np.convolve(np.ones(len(scores)), ones)
    padded = np.concatenate([np.full(w - 1, -np.inf), scores, np.full(w - 1, -np.inf)])
    return sliding_window_view(padded, w).max(axis=1)


class WindowIsolationForest(BaseDetector):
    """Isolation Forest on rolling windows; a timestep's score aggregates its windows' scores.

    Args:
        window_size: timesteps per window (a window is one sample of the forest).
        train_step: stride between training windows (1 = every window; larger is faster).
        n_estimators: trees in the forest.
        max_samples: windows drawn to build each tree (``"auto"``: ``min(256, n_windows)``).
        max_features: fraction (float) or number (int) of window values each tree sees.
        aggregate: ``"mean"`` or ``"max"`` of the scores of the windows covering a timestep.
        random_state: seeds the forest (same seed, same data: same scores).
        n_jobs: scikit-learn's parallel jobs for fitting and scoring (1: no extra processes).
    """

    def __init__(
        self,
        window_size: int = 20,
        train_step: int = 1,
        n_estimators: int = 100,
        max_samples: int | float | str = "auto",
        max_features: int | float = 1.0,
        aggregate: str = "mean",
        random_state: int | None = 0,
        n_jobs: int | None = 1,
    ) -> None:
        self.window_size = window_size
        self.train_step = train_step
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.aggregate = aggregate
        self.random_state = random_state
        self.n_jobs = n_jobs

    def min_length(self) -> int:
        """The fewest timesteps accepted: one window."""
        return int(self.window_size) if isinstance(self.window_size, (int, np.integer)) else 2

    def _check_params(self) -> None:
        self._check_positive_ints("window_size", "train_step", "n_estimators")
        if self.aggregate not in AGGREGATES:
            raise ValueError(
                f"{type(self).__name__}: aggregate must be one of {AGGREGATES}, "
                f"got {self.aggregate!r}"
            )

    def fit(self, X: Any, y: Any = None) -> WindowIsolationForest:
        """Fit the forest on the windows of ``X`` ``(n_timesteps, n_channels)``; return ``self``."""
        from sklearn.ensemble import IsolationForest

        self._check_params()
        X = self._validate(X, fitting=True)
        self._start_history()  # no epochs: history_ stays {}
        self.forest_ = IsolationForest(
            n_estimators=int(self.n_estimators),
            max_samples=self.max_samples,
            max_features=self.max_features,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        ).fit(windows(X, int(self.window_size), int(self.train_step)))
        return self

    def score(self, X: Any) -> np.ndarray:
        """Anomaly score of each timestep of ``X``: shape ``(n_timesteps,)``, higher = stranger."""
        X = self._validate(X, fitting=False)
        if not hasattr(self, "forest_"):
            raise NotFittedError(f"{type(self).__name__}: call fit before score")
        per_window = -self.forest_.score_samples(windows(X, int(self.window_size)))
        return spread_window_scores(per_window, int(self.window_size), self.aggregate)
