"""Preprocessing of a signal before a detector sees it, and the window helpers detectors share.

The runner calls :func:`preprocess` on every signal: it aggregates each part into bins of a fixed
interval (:func:`aggregate`), fills missing values by linear interpolation (:func:`impute`) and
scales every channel with a min-max scaler fitted on the train part (:func:`fit_scaler`), so the
train part lies in ``feature_range`` (default ``[-1, 1]``; a channel constant in the train part
maps to its centre). Test values may fall outside that range: they are never clipped, since an
anomaly often *is* a value outside the training range. A value that cannot be scaled (the range
overflows float64, or it scales past what the detectors accept) is a :class:`DataError` naming its
line.

Window-based detectors cut a ``(n_timesteps, n_channels)`` array into overlapping windows with
:func:`rolling_windows` and turn per-window outputs back into one value per timestep with
:func:`unroll_windows` (median, or mean, over all windows covering a timestep).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchbench.data import DataError, Signal
from benchbench.detector import MAX_INPUT_MAGNITUDE, DetectorInputError

__all__ = [
    "AGGREGATIONS",
    "Prepared",
    "Scaler",
    "aggregate",
    "fit_scaler",
    "impute",
    "preprocess",
    "rolling_windows",
    "unroll_windows",
]

AGGREGATIONS = ("mean", "median", "sum", "min", "max")
"""Names accepted by :func:`aggregate` for ``method``."""

# Bin edges are computed as floor((t - t0) / interval); this slack keeps a timestamp that lies on
# an edge up to floating-point error (0.3 / 0.1 = 2.9999999999999996) in the bin that starts there.
_EDGE_SLACK = 1e-9


def _float_2d(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """``values`` as float64 ``(n, c)``, and whether the input was 1-D."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        return arr[:, None], True
    if arr.ndim != 2:
        raise ValueError(f"expected values of shape (n,) or (n, c), got shape {arr.shape}")
    return arr, False


def aggregate(
    values: np.ndarray,
    index: np.ndarray,
    interval: float | None,
    method: str = "mean",
) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate ``values`` into consecutive bins of width ``interval`` (index units).

    Bins start at ``index[0]``: bin ``b`` holds the rows with
    ``index[0] + b * interval <= t < index[0] + (b + 1) * interval``. One row is returned per bin
    from the first to the last, so a gap in the timestamps gives rows of NaN (empty bins) for
    :func:`impute` to fill. Non-finite values (NaN, inf) are skipped inside a bin. The mean of
    finite values is finite even where their sum would overflow float64 (such bins take the sum
    of each value divided by the count instead).

    Args:
        values: shape ``(n,)`` or ``(n, c)``, float.
        index: shape ``(n,)``, numeric timestamps sorted ascending (seconds, or step positions).
        interval: bin width in index units (> 0); ``None`` returns the inputs unchanged.
        method: how the rows of a bin are combined, one of :data:`AGGREGATIONS`.

    Returns:
        ``(values, index)``: aggregated values, float64, shape ``(n_bins,)`` or ``(n_bins, c)``
        like the input; and the start of each bin, shape ``(n_bins,)``, float64.

    Raises:
        ValueError: bad ``interval`` or ``method``, lengths that differ, or an unsorted index.
    """
    if interval is None:
        return np.asarray(values, dtype=np.float64), np.asarray(index)
    if not np.isfinite(interval) or interval <= 0:
        raise ValueError(f"interval must be a positive number, got {interval!r}")
    if method not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation method {method!r}; valid: {', '.join(AGGREGATIONS)}")
    arr, was_1d = _float_2d(values)
    idx = np.asarray(index, dtype=np.float64)
    if idx.ndim != 1 or len(idx) != len(arr):
        raise ValueError(
            f"index must have shape ({len(arr)},) like the values, got shape {idx.shape}"
        )
    n, c = arr.shape
    if n == 0:
        out = arr.copy()
        return (out[:, 0] if was_1d else out), idx.copy()
    if not np.all(np.isfinite(idx)):
        raise ValueError("index contains non-finite timestamps")
    if np.any(np.diff(idx) < 0):
        raise ValueError("index must be sorted ascending")

    bins = np.floor((idx - idx[0]) / interval + _EDGE_SLACK).astype(np.intp)
    n_bins = int(bins[-1]) + 1
    out_index = idx[0] + interval * np.arange(n_bins, dtype=np.float64)

    # One group per (bin, channel), numbered bin * c + channel; only finite values take part.
    groups = bins[:, None] * c + np.arange(c)[None, :]
    finite = np.isfinite(arr)
    g = groups[finite]
    v = arr[finite]
    size = n_bins * c
    counts = np.bincount(g, minlength=size)
    out = np.full(size, np.nan)
    has = counts > 0
    if method in ("mean", "sum"):
        sums = np.bincount(g, weights=v, minlength=size)
        out[has] = sums[has] / counts[has] if method == "mean" else sums[has]
        if method == "mean" and not np.all(np.isfinite(out[has])):
            # a sum past the float64 range (values near 1e308): the mean of the shares instead
            share = np.bincount(g, weights=v / counts[g], minlength=size)
            out = np.where(np.isinf(out), share, out)
    elif method == "min":
        np.fmin.at(out, g, v)
    elif method == "max":
        np.fmax.at(out, g, v)
    else:  # median: sort by (group, value), then pick the middle element(s) of each group
        order = np.lexsort((v, g))
        v_sorted = v[order]
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[has]
        cnt = counts[has]
        out[has] = 0.5 * (v_sorted[starts + (cnt - 1) // 2] + v_sorted[starts + cnt // 2])
    out = out.reshape(n_bins, c)
    return (out[:, 0] if was_1d else out), out_index


def impute(values: np.ndarray, where: str = "") -> np.ndarray:
    """Fill missing values per channel by linear interpolation over the timestep position.

    Non-finite values (NaN, inf) count as missing. Leading and trailing gaps take the nearest
    finite value of their channel.

    Args:
        values: shape ``(n,)`` or ``(n, c)``, float.
        where: names the file / signal for error messages (e.g. ``"synthetic/spikes"``).

    Returns:
        A new float64 array of the same shape with only finite values.

    Raises:
        DataError: a channel has no finite value at all (the message starts with ``where``).
    """
    arr, was_1d = _float_2d(values)
    arr = arr.copy()
    n, c = arr.shape
    ok = np.isfinite(arr)
    if n > 0:
        positions = np.arange(n, dtype=np.float64)
        for j in np.flatnonzero(~ok.all(axis=0)):
            valid = np.flatnonzero(ok[:, j])
            if valid.size == 0:
                prefix = f"{where}: " if where else ""
                raise DataError(f"{prefix}channel {j} has no finite value (all NaN or inf)")
            arr[:, j] = np.interp(positions, valid.astype(np.float64), arr[valid, j])
    return arr[:, 0] if was_1d else arr


@dataclass(frozen=True)
class Scaler:
    """A per-channel min-max scaler (see :func:`fit_scaler`).

    Attributes:
        data_min: per-channel minimum of the data it was fitted on, shape ``(c,)``.
        data_max: per-channel maximum, shape ``(c,)``.
        feature_range: ``(low, high)`` that ``data_min`` / ``data_max`` map onto.
    """

    data_min: np.ndarray
    data_max: np.ndarray
    feature_range: tuple[float, float] = (-1.0, 1.0)

    def _prepare(self, values: np.ndarray) -> tuple[np.ndarray, bool]:
        arr, was_1d = _float_2d(values)
        if arr.shape[1] != len(self.data_min):
            raise ValueError(
                f"scaler was fitted on {len(self.data_min)} channel(s), got {arr.shape[1]}"
            )
        return arr, was_1d

    def _scale(self) -> tuple[np.ndarray, np.ndarray]:
        span = self.data_max - self.data_min
        varying = span > 0
        low, high = self.feature_range
        # constant channel c: x -> centre + (x - c) * half / max(|c|, 1) (see fit_scaler)
        unit = np.where(varying, span, 2.0 * np.maximum(np.abs(self.data_min), 1.0))
        scale = (high - low) / unit
        offset = np.where(varying, low, 0.5 * (low + high))
        return scale, offset

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale ``values`` (shape ``(n, c)``, or ``(n,)`` for one channel); same shape out.

        Values outside the fitted min..max map outside ``feature_range`` (no clipping). A channel
        that was constant in the fitted data maps as :func:`fit_scaler` describes.
        """
        arr, was_1d = self._prepare(values)
        scale, offset = self._scale()
        out = offset + (arr - self.data_min) * scale
        return out[:, 0] if was_1d else out

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`: scaled values (shape ``(n, c)`` or ``(n,)``) to data units."""
        arr, was_1d = self._prepare(values)
        scale, offset = self._scale()
        out = (arr - offset) / scale + self.data_min
        return out[:, 0] if was_1d else out


def fit_scaler(train: np.ndarray, feature_range: tuple[float, float] = (-1.0, 1.0)) -> Scaler:
    """Fit a :class:`Scaler` mapping each channel's min..max in ``train`` onto ``feature_range``.

    A channel constant in ``train`` (min = max = ``c``) has no range to map, so it falls back to
    ``x -> centre + (x - c) * (high - low) / (2 * max(|c|, 1))``: the constant itself maps to the
    centre of ``feature_range`` (0 for ``[-1, 1]``) and a value ``max(|c|, 1)`` away from it to an
    edge. Where scikit-learn's ``MinMaxScaler`` takes a zero range as 1 (data units) and maps the
    constant to ``low``, this fallback puts the constant in the middle, so a departure either way
    from it scales alike, and measures departures relative to the level, so they stay visible
    and moderate whatever the data's units: a level of 8e9 bytes that moves by 1e8 scales to
    0.0125, not to 1e8 (which the float32 networks could not take); levels within ``[-1, 1]``
    (0 / 1 command channels, data already scaled) keep data units, so a level of 0 does not divide
    by zero. Test values are never clipped.

    Args:
        train: shape ``(n, c)`` or ``(n,)``, float; non-finite values are ignored.
        feature_range: ``(low, high)`` with ``low < high``.

    Raises:
        ValueError: empty ``train``, a channel with no finite value, or a bad ``feature_range``.
    """
    low, high = (float(x) for x in feature_range)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"feature_range must be (low, high) with low < high, got {feature_range}")
    arr, _ = _float_2d(train)
    if len(arr) == 0:
        raise ValueError("cannot fit a scaler on an empty array")
    finite = np.isfinite(arr)
    if not finite.any(axis=0).all():
        bad = np.flatnonzero(~finite.any(axis=0)).tolist()
        raise ValueError(f"cannot fit a scaler: channel(s) {bad} have no finite value")
    masked = np.where(finite, arr, np.nan)
    return Scaler(np.nanmin(masked, axis=0), np.nanmax(masked, axis=0), (low, high))


@dataclass
class Prepared:
    """A preprocessed signal, ready for a detector.

    Attributes:
        train: scaled train values, shape ``(n_train, c)``, float64, in ``feature_range``.
        test: scaled test values, shape ``(n_test, c)``, float64 (may leave ``feature_range``).
        train_index: timestamps of ``train`` (bin starts when aggregated), shape ``(n_train,)``.
        test_index: timestamps of ``test``, shape ``(n_test,)``, in the signal's index units.
        scaler: the scaler fitted on the (aggregated, imputed) train part.
    """

    train: np.ndarray
    test: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray
    scaler: Scaler


def preprocess(
    signal: Signal,
    interval: float | None = None,
    feature_range: tuple[float, float] = (-1.0, 1.0),
) -> Prepared:
    """Aggregate, impute and scale both parts of ``signal``.

    Each part is aggregated (mean) into bins of ``interval`` (``signal.interval`` when ``None``;
    no aggregation when both are ``None``) starting at its own first timestamp, imputed with
    :func:`impute` (non-finite values count as missing), then scaled with the scaler fitted on
    the train part. A train part constant in every channel is valid: :func:`fit_scaler` maps the
    constant to the centre of ``feature_range`` and a test departure from it away from the centre.

    Raises:
        DataError: naming ``signal.source``, ``signal.name`` and the problem, when the train or
            test part is empty, a channel of a part has no finite value, an index is unsorted,
            both parts are constant in every channel (nothing to learn or detect), or a value
            cannot be scaled: the train part's range overflows float64, or a value scales beyond
            ``±MAX_INPUT_MAGNITUDE`` (:mod:`benchbench.detector`, what the detectors accept).
            The last two also name the line of the value in ``source``
            (``signal.train_lines`` / ``test_lines``; the row of the part where none is known).
    """
    where = f"{signal.source}: signal {signal.name!r}"
    for part, values in (("train", signal.train), ("test", signal.test)):
        if len(values) == 0:
            raise DataError(f"{where}: the {part} part is empty")
    if signal.train.shape[1] != signal.test.shape[1]:
        raise DataError(
            f"{where}: train has {signal.train.shape[1]} channel(s) but test has "
            f"{signal.test.shape[1]}"
        )
    if interval is None:
        interval = signal.interval

    parts = {}
    for part, values, index in (
        ("train", signal.train, signal.train_index),
        ("test", signal.test, signal.test_index),
    ):
        idx = np.asarray(index)
        if np.any(np.diff(idx) < 0):
            raise DataError(f"{where}: the {part} index is not sorted ascending")
        try:
            agg_values, agg_index = aggregate(values, idx, interval)
        except ValueError as exc:
            raise DataError(f"{where}: {part} part: {exc}") from exc
        parts[part] = (impute(agg_values, where=f"{where}: {part} part"), agg_index)

    train, train_index = parts["train"]
    test, test_index = parts["test"]
    if np.all(train == train[0]) and np.all(test == test[0]):
        shown = {part: ", ".join(f"{x:g}" for x in values[0]) for part, values in
                 (("train", train), ("test", test))}
        raise DataError(
            f"{where}: both parts are constant (train {shown['train']}, test {shown['test']}); "
            "nothing to learn or detect"
        )
    scaler = fit_scaler(train, feature_range)
    _check_scaling(signal, scaler)
    return Prepared(
        train=scaler.transform(train),
        test=scaler.transform(test),
        train_index=train_index,
        test_index=test_index,
        scaler=scaler,
    )


def _check_scaling(signal: Signal, scaler: Scaler) -> None:
    """Raise :class:`DataError` naming the line of the first value of ``signal`` that ``scaler``
    cannot map to a finite value within ``±MAX_INPUT_MAGNITUDE``.

    The raw values are checked: the aggregated and imputed ones lie within the range of the raw
    values around them, so they scale within the same bounds.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        span = scaler.data_max - scaler.data_min
        if not np.all(np.isfinite(span)):
            j = int(np.flatnonzero(~np.isfinite(span))[0])
            values = np.where(np.isfinite(signal.train[:, j]), signal.train[:, j], np.nan)
            lo, hi = int(np.nanargmin(values)), int(np.nanargmax(values))
            raise DataError(
                f"{_place(signal, 'train', hi, j)}: the values span {values[lo]:.6g} "
                f"({_line(signal, 'train', lo)}) to {values[hi]:.6g}, a range past float64's "
                "largest number (about 1.8e308), so they cannot be scaled; check the file for "
                "corrupt values"
            )
        for part in ("train", "test"):
            raw = getattr(signal, part)
            scaled = scaler.transform(np.where(np.isfinite(raw), raw, scaler.data_min))
            bad = ~np.isfinite(scaled) | (np.abs(scaled) > MAX_INPUT_MAGNITUDE)
            if bad.any():
                row, j = (int(k) for k in np.argwhere(bad)[0])
                raise DataError(
                    f"{_place(signal, part, row, j)}: value {raw[row, j]:.6g} scales to "
                    f"{scaled[row, j]:.3g}, beyond the ±{MAX_INPUT_MAGNITUDE:g} the detectors "
                    f"accept (the train part spans {scaler.data_min[j]:.6g} to "
                    f"{scaler.data_max[j]:.6g}); check the file for a corrupt value"
                )


def _line(signal: Signal, part: str, row: int) -> str:
    """Where row ``row`` of ``part`` was read: ``line N`` of the source where the signal knows
    its lines, else ``row N (timestamp t)`` of the part."""
    lines = getattr(signal, f"{part}_lines")
    if lines is not None:
        return f"line {int(lines[row])}"
    return f"row {row + 1} (timestamp {getattr(signal, f'{part}_index')[row].item()})"


def _place(signal: Signal, part: str, row: int, channel: int) -> str:
    """The start of a message about one value: ``<source>: line N: signal 'x', <part> part,
    channel c`` (``<source>: signal 'x', <part> part, row N (timestamp t), channel c`` where the
    lines are not known)."""
    where = f"signal {signal.name!r}, {part} part"
    if getattr(signal, f"{part}_lines") is not None:
        return f"{signal.source}: {_line(signal, part, row)}: {where}, channel {channel}"
    return f"{signal.source}: {where}, {_line(signal, part, row)}, channel {channel}"


def rolling_windows(X: np.ndarray, window_size: int, step: int = 1) -> np.ndarray:
    """Cut ``X`` into overlapping windows, as a read-only view (no copy).

    Window ``i`` covers timesteps ``i * step .. i * step + window_size - 1``.

    Args:
        X: shape ``(n, c)`` (a 1-D ``(n,)`` array is taken as one channel).
        window_size: timesteps per window (>= 1).
        step: timesteps between the starts of consecutive windows (>= 1).

    Returns:
        Shape ``(n_windows, window_size, c)`` with ``n_windows = (n - window_size) // step + 1``;
        trailing timesteps that do not fill a whole window are left out.

    Raises:
        ValueError: ``n < window_size`` (naming both), or a size or step below 1.
    """
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"expected X of shape (n, c), got shape {arr.shape}")
    window_size, step = int(window_size), int(step)
    if window_size < 1 or step < 1:
        raise ValueError(f"window_size and step must be >= 1, got {window_size} and {step}")
    n = arr.shape[0]
    if n < window_size:
        raise ValueError(
            f"cannot cut windows of window_size={window_size} from n={n} timesteps "
            f"(need n >= window_size)"
        )
    view = sliding_window_view(arr, window_size, axis=0)  # (n - w + 1, c, w)
    return view.transpose(0, 2, 1)[::step]


def window_starts(n_timesteps: int, window_size: int, step: int) -> np.ndarray:
    """Start steps of windows every ``step`` steps plus the window that ends at the last step.

    Unlike :func:`rolling_windows`, the trailing timesteps are not left out: the last window is
    added when the stride does not land on it (so with ``step <= window_size`` every timestep is
    covered). Used with :func:`benchbench.torchkit.window_view` to pick
    training or scoring windows.

    Raises:
        DetectorInputError: ``n_timesteps < window_size`` (naming both).
    """
    if n_timesteps < window_size:
        raise DetectorInputError(
            f"input has {n_timesteps} timesteps, fewer than window_size={window_size}"
        )
    starts = np.arange(0, n_timesteps - window_size + 1, step)
    if starts[-1] != n_timesteps - window_size:
        starts = np.append(starts, n_timesteps - window_size)
    return starts


def smoothing_steps(smoothing_window: int | float | None, n_timesteps: int, name: str) -> int:
    """The moving-average length in steps for a detector's ``smoothing_window`` setting.

    ``None`` or 0 -> 1 (no smoothing); a fraction in (0, 1) -> that share of ``n_timesteps``
    (at least 1); a number >= 1 -> that many steps, rounded. ``name`` (the detector) starts the
    ``ValueError`` raised for anything else.
    """
    if smoothing_window is None:
        return 1
    if isinstance(smoothing_window, bool) or not isinstance(
        smoothing_window, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"{name}: smoothing_window must be a number, got {smoothing_window!r}")
    value = float(smoothing_window)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: smoothing_window must be >= 0, got {smoothing_window!r}")
    if 0 < value < 1:
        return max(1, int(round(value * n_timesteps)))
    return max(1, int(round(value)))


def unroll_windows(
    windows: np.ndarray,
    n_timesteps: int,
    step: int = 1,
    reducer: str = "median",
) -> np.ndarray:
    """Turn per-window values back into one value per timestep (inverse of rolling_windows).

    Window ``i`` covers timesteps ``i * step .. i * step + window_size - 1``; each timestep gets
    the median (or mean) over all windows covering it, ignoring NaN entries. Timesteps covered
    by no window (gaps when ``step > window_size``, and trailing timesteps past the last window)
    take the value of the nearest covered timestep (the earlier one on a tie), so trailing ones
    are filled forward. Parts of windows past ``n_timesteps`` are ignored. Vectorised: the values
    are scattered into a ``(n_timesteps, window_size, c)`` NaN array at ``[i * step + k, k]``
    (each cell is hit by at most one window) and reduced along axis 1.

    Args:
        windows: shape ``(n_windows, window_size, c)``, or ``(n_windows, window_size)``.
        n_timesteps: length of the series to rebuild (>= 0).
        step: the step the windows were cut with (>= 1).
        reducer: ``"median"`` or ``"mean"``.

    Returns:
        Shape ``(n_timesteps, c)``, float64 (``(n_timesteps,)`` for 2-D ``windows``).

    Raises:
        ValueError: bad shapes, ``step``, ``reducer``, or no windows for a non-empty series.
    """
    if reducer not in ("median", "mean"):
        raise ValueError(f"unknown reducer {reducer!r}; valid: median, mean")
    arr = np.asarray(windows, dtype=np.float64)
    squeeze = arr.ndim == 2
    if squeeze:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"expected windows of shape (n_windows, window_size, c), got {arr.shape}")
    step, n_timesteps = int(step), int(n_timesteps)
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    if n_timesteps < 0:
        raise ValueError(f"n_timesteps must be >= 0, got {n_timesteps}")
    n_windows, window_size, c = arr.shape
    if n_timesteps == 0:
        out = np.empty((0, c))
        return out[:, 0] if squeeze else out
    if n_windows == 0 or window_size == 0:
        raise ValueError(f"no windows to unroll into {n_timesteps} timesteps")

    rows = (np.arange(n_windows) * step)[:, None] + np.arange(window_size)[None, :]  # (n_w, w)
    cols = np.broadcast_to(np.arange(window_size)[None, :], rows.shape)
    inside = rows < n_timesteps
    buffer = np.full((n_timesteps, window_size, c), np.nan)
    buffer[rows[inside], cols[inside]] = arr[inside]

    coverage = np.bincount(rows[inside], minlength=n_timesteps)
    covered = np.flatnonzero(coverage > 0)  # never empty: window 0 covers timestep 0
    out = np.full((n_timesteps, c), np.nan)
    with warnings.catch_warnings():  # all-NaN cells inside given windows stay NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        reduce = np.nanmedian if reducer == "median" else np.nanmean
        out[covered] = reduce(buffer[covered], axis=1)

    if covered.size < n_timesteps:
        t = np.arange(n_timesteps)
        pos = np.searchsorted(covered, t)
        left = covered[np.clip(pos - 1, 0, covered.size - 1)]
        right = covered[np.clip(pos, 0, covered.size - 1)]
        nearest = np.where(np.abs(t - left) <= np.abs(right - t), left, right)
        nearest[covered] = covered
        out = out[nearest]
    return out[:, 0] if squeeze else out


def moving_average(values: np.ndarray, steps: int) -> np.ndarray:
    """Centred moving average of ``values`` ``(n,)`` over ``steps`` steps, shrinking at the edges.

    Vectorised with a cumulative sum: O(n) whatever ``steps``. ``steps <= 1`` returns a copy.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if steps <= 1 or n == 0:
        return values.copy()
    before = (steps - 1) // 2
    cumsum = np.concatenate(([0.0], np.cumsum(values)))
    idx = np.arange(n)
    lo = np.clip(idx - before, 0, n)
    hi = np.clip(idx - before + steps, 0, n)
    return (cumsum[hi] - cumsum[lo]) / (hi - lo)
