"""TadGAN's anomaly scores, as the paper and the reference implementation compute them.

Pure numpy, vectorised over timesteps: every function here costs O(n) in the signal length ``n``
(the per-timestep loops of the reference are replaced by array operations over sliding windows).

* :func:`reconstruction_errors`: per-timestep error between the signal and its reconstruction
  (``point`` |x - x^|, ``area`` difference of rolling trapezoid integrals, ``dtw`` dynamic time
  warping distance of the windows centred on each step), smoothed.
* :func:`critic_per_timestep`: the critic values of the windows covering a timestep reduced to one
  value, the mode of their Gaussian kernel density estimate (the reference's ``gaussian_kde``
  maximum, Scott's bandwidth), and :func:`critic_zscore` its robust z-score.
* :func:`combine_scores`: ``mult`` (critic x reconstruction), ``sum`` ((1-l)(critic-1) +
  l(rec-1)) or ``rec`` (reconstruction only).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchbench.data.preprocessing import moving_average

ERROR_TYPES = ("point", "area", "dtw")
COMBINATIONS = ("mult", "sum", "rec")
# Rows of the (rows, k, k) kernel-density blocks per chunk: about 60 MB of temporaries for k = 100.
_KDE_CHUNK = 256


def dtw_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dynamic time warping distance of each row of ``a`` to the same row of ``b``.

    Cost ``|a_i - b_j|``, steps (1, 0), (0, 1), (1, 1), no window constraint (exact DTW; the
    reference uses the ``fastdtw`` approximation, equal on such short windows up to its radius).
    Vectorised over rows: the loop runs over the ``L x L`` cells of the recurrence, so a batch of
    ``n`` pairs of length ``L`` costs ``O(n L^2)`` array work in ``L^2`` numpy calls.

    Args:
        a, b: shape ``(n, L)`` (equal shapes).

    Returns:
        Shape ``(n,)``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"dtw_distances expects two (n, L) arrays, got {a.shape} and {b.shape}")
    n, length = a.shape
    cost = np.abs(a[:, :, None] - b[:, None, :])  # (n, L, L)
    acc = np.full((n, length + 1, length + 1), np.inf)
    acc[:, 0, 0] = 0.0
    for i in range(1, length + 1):
        for j in range(1, length + 1):
            best = np.minimum(np.minimum(acc[:, i - 1, j], acc[:, i, j - 1]), acc[:, i - 1, j - 1])
            acc[:, i, j] = cost[:, i - 1, j - 1] + best
    return acc[:, length, length]


def _centred_windows(x: np.ndarray, length: int) -> np.ndarray:
    """Windows of ``length`` (odd) steps centred on each step of ``x``, zero-padded at the ends."""
    half = length // 2
    return sliding_window_view(np.pad(x, (half, half)), length)


def dtw_errors(y: np.ndarray, y_hat: np.ndarray, score_window: int = 10) -> np.ndarray:
    """DTW distance between the ``2 * (score_window // 2) + 1``-step windows centred on each step.

    The reference pads both series with zeros and compares the 11-step windows (for
    ``score_window=10``); it then writes window ``i``'s distance at step ``i + 5`` and zeros at the
    last steps, a shift of half a window. Here each step gets the distance of the windows centred
    on it, at every step.
    """
    length = (score_window // 2) * 2 + 1
    return dtw_distances(_centred_windows(y, length), _centred_windows(y_hat, length))


def _rolling_trapezoid(x: np.ndarray, window: int) -> np.ndarray:
    """Trapezoid integral (``dx=1``) of a centred rolling window that shrinks at the ends.

    Matches ``pd.Series(x).rolling(window, center=True, min_periods=1).apply(np.trapz)``:
    the integral of values ``v_0..v_m`` is ``sum(v) - (v_0 + v_m) / 2``.
    """
    n = len(x)
    t = np.arange(n)
    # pandas' centred window for label t covers [t - window // 2, t + (window - 1) // 2]
    lo = np.clip(t - window // 2, 0, n - 1)
    hi = np.clip(t + (window - 1) // 2, 0, n - 1)
    cumsum = np.concatenate(([0.0], np.cumsum(x)))
    return cumsum[hi + 1] - cumsum[lo] - 0.5 * (x[lo] + x[hi])


def area_errors(y: np.ndarray, y_hat: np.ndarray, score_window: int = 10) -> np.ndarray:
    """|area under y - area under y^| over centred rolling windows of ``score_window`` steps."""
    return np.abs(_rolling_trapezoid(y, score_window) - _rolling_trapezoid(y_hat, score_window))


def reconstruction_errors(y: np.ndarray, y_hat: np.ndarray, error_type: str = "point",
                          score_window: int = 10, smooth: int = 1) -> np.ndarray:
    """Per-timestep reconstruction error, averaged over channels, then smoothed.

    Args:
        y, y_hat: signal and its reconstruction, shape ``(n,)`` or ``(n, C)``.
        error_type: ``point``, ``area`` or ``dtw``.
        score_window: window of the ``area`` and ``dtw`` errors, in steps.
        smooth: length of the centred moving average applied last (1 = none).
    """
    if error_type not in ERROR_TYPES:
        raise ValueError(f"error_type must be one of {', '.join(ERROR_TYPES)}, got {error_type!r}")
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    y_hat = np.asarray(y_hat, dtype=np.float64).reshape(len(y_hat), -1)
    if error_type == "point":
        errors = np.abs(y - y_hat).mean(axis=1)
    else:
        fn = area_errors if error_type == "area" else dtw_errors
        errors = np.mean([fn(y[:, c], y_hat[:, c], score_window) for c in range(y.shape[1])],
                         axis=0)
    return moving_average(errors, smooth)


def critic_per_timestep(critic: np.ndarray, window: int) -> np.ndarray:
    """One critic value per timestep from the values of the windows covering it.

    Window ``i`` (of ``len(critic)``) covers steps ``i .. i + window - 1``. For each step the
    values of its covering windows are reduced to the mode of their Gaussian kernel density
    estimate (Scott's bandwidth ``std * k^(-1/5)`` for ``k`` values, the value with the highest
    density wins, the first on a tie in the reference's order: latest window first); a single value,
    or values without spread, reduce to their median, as in the reference.
    Vectorised over timesteps in chunks: ``O(n * window^2)`` array work.
    """
    critic = np.asarray(critic, dtype=np.float64).ravel()
    n_steps = len(critic) + window - 1
    # Row t, column j = critic of window t - j (latest first), NaN where no such window.
    padded = np.concatenate((np.full(window - 1, np.nan), critic, np.full(window - 1, np.nan)))
    rows = sliding_window_view(padded, window)[:n_steps, ::-1]
    out = np.empty(n_steps)
    for start in range(0, n_steps, _KDE_CHUNK):
        out[start : start + _KDE_CHUNK] = _kde_modes(rows[start : start + _KDE_CHUNK])
    return out


def _kde_modes(values: np.ndarray) -> np.ndarray:
    """Row-wise KDE mode of ``values`` ``(rows, k)`` with NaN for missing entries."""
    valid = ~np.isnan(values)
    count = valid.sum(axis=1)
    filled = np.where(valid, values, 0.0)
    mean = filled.sum(axis=1) / count
    var = np.where(valid, (values - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(count - 1, 1)
    bandwidth2 = var * count ** (-2.0 / 5.0)
    usable = (count > 1) & (bandwidth2 > 0)
    diff = filled[:, :, None] - filled[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        kernel = np.exp(-0.5 * diff**2 / np.where(usable, bandwidth2, 1.0)[:, None, None])
    density = np.where(valid[:, None, :], kernel, 0.0).sum(axis=2)
    density = np.where(valid, density, -np.inf)
    modes = filled[np.arange(len(values)), np.argmax(density, axis=1)]
    medians = np.nanmedian(values, axis=1)
    return np.where(usable, modes, medians)


def critic_zscore(values: np.ndarray, smooth: int = 1) -> np.ndarray:
    """``|c - m| / s + 1``, ``m`` the mean of the inter-quartile values, ``s`` the std; smoothed.

    A critic without spread (``s = 0``) carries no information: every step gets 1.
    """
    values = np.asarray(values, dtype=np.float64)
    low, high = np.quantile(values, [0.25, 0.75])
    middle = values[(values >= low) & (values <= high)]
    std = values.std()
    if not std > 0:
        return np.ones_like(values)
    return moving_average(np.abs(values - middle.mean()) / std + 1.0, smooth)


def _zscore_plus_one(values: np.ndarray) -> np.ndarray:
    """Reconstruction score as the reference: z-score clipped at 0, plus 1 (1 without spread)."""
    std = values.std()
    if not std > 0:
        return np.ones_like(values)
    return np.clip((values - values.mean()) / std, 0.0, None) + 1.0


def combine_scores(critic: np.ndarray, rec_errors: np.ndarray, combination: str = "mult",
                   lambda_rec: float = 0.5) -> np.ndarray:
    """Final anomaly score from a critic z-score (:func:`critic_zscore`) and raw errors.

    ``mult``: critic x rec; ``sum``: ``(1 - lambda_rec)(critic - 1) + lambda_rec (rec - 1)``;
    ``rec``: rec alone; where rec is the z-scored error clipped at 0, plus 1.
    """
    if combination not in COMBINATIONS:
        raise ValueError(
            f"combination must be one of {', '.join(COMBINATIONS)}, got {combination!r}"
        )
    rec = _zscore_plus_one(np.asarray(rec_errors, dtype=np.float64))
    if combination == "mult":
        return critic * rec
    if combination == "sum":
        return (1.0 - lambda_rec) * (critic - 1.0) + lambda_rec * (rec - 1.0)
    return rec
