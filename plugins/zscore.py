"""The ``zscore`` detector: a rolling z-score, the non-learned baseline.

For each timestep ``t`` and channel ``c``::

    z[t, c] = |x[t, c] - mean(x[t-window:t, c])| / (std(x[t-window:t, c]) + eps)

over the ``window`` values *before* ``t`` (population std, ``ddof=0``), and the score is the
maximum of ``z[t, c]`` over the channels. Near the start, where fewer than ``window`` previous
values exist, the mean and std are taken over all previous values (an expanding window); the first
``min_periods`` steps, with fewer than ``min_periods`` previous values, score 0. The output is
finite everywhere. Computed vectorised with pandas' rolling mean and std (no Python loop over
time); a 3,000-step signal scores in a few milliseconds.

Nothing is learned: ``fit`` only validates the input and records ``n_channels_`` and an empty
``history_``; the scores of ``X`` depend on ``X`` alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchbench.detector import BaseDetector, NotFittedError
from benchbench.hookspecs import hookimpl

__all__ = ["RollingZScore", "register_detectors"]


class RollingZScore(BaseDetector):
    """Rolling z-score baseline (see the module docstring for the formula).

    Args:
        window: number of previous timesteps whose mean and std define "normal" (50: about half
            a period of the slow seasonal patterns the synthetic suite holds, long enough for a
            stable std yet short enough to follow trends and level changes).
        min_periods: the fewest previous values a score is computed from; earlier steps score 0
            (a std of one or two values is meaningless).
        eps: added to the std, in input units (the runner scales to [-1, 1]), so a flat stretch
            gives a large but finite score instead of a division by zero.
        random_state: accepted for the detector contract; unused (nothing is random).
        device: accepted for the detector contract; unused (numpy/pandas on the CPU).
    """

    def __init__(
        self,
        window: int = 50,
        min_periods: int = 5,
        eps: float = 1e-3,
        random_state: int | None = 0,
        device: str = "auto",
    ) -> None:
        self._store(locals())

    def min_length(self) -> int:
        """The fewest timesteps accepted (2: the score needs at least one previous value)."""
        return 2

    def _check_params(self) -> None:
        name = type(self).__name__
        for key in ("window", "min_periods"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: {key} must be an integer >= 1, got {value!r}")
        if self.min_periods > self.window:
            raise ValueError(
                f"{name}: min_periods ({self.min_periods}) must not exceed window ({self.window})"
            )
        if not float(self.eps) > 0:
            raise ValueError(f"{name}: eps must be > 0, got {self.eps!r}")

    def fit(self, X: Any, y: Any = None) -> RollingZScore:
        """Validate ``X`` ``(n_timesteps, n_channels)`` and record its channel count; ``self``."""
        self.check_params()
        self._validate(X, fitting=True)
        self._start_history()
        return self

    def score(self, X: Any) -> np.ndarray:
        """Rolling z-score of ``X`` ``(n_timesteps, n_channels)``: shape ``(n_timesteps,)``."""
        if not hasattr(self, "n_channels_"):
            raise NotFittedError(f"{type(self).__name__}: call fit before score")
        self.check_params()
        arr = self._validate(X, fitting=False)
        import pandas as pd

        previous = pd.DataFrame(arr).shift(1)  # row t holds x[t-1]: stats over values before t
        rolling = previous.rolling(int(self.window), min_periods=int(self.min_periods))
        mean = rolling.mean().to_numpy()
        std = rolling.std(ddof=0).to_numpy()
        z = np.abs(arr - mean) / (np.clip(std, 0.0, None) + float(self.eps))
        z = np.where(np.isfinite(z), z, 0.0)  # steps before min_periods: NaN -> 0
        return z.max(axis=1)


@hookimpl
def register_detectors(register):
    """Register the ``zscore`` detector."""
    register(
        "zscore",
        RollingZScore,
        description="Rolling z-score: the non-learned baseline (|x - rolling mean| / rolling std)",
    )
