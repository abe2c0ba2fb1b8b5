"""The ``lstm_ar`` detector: an autoregressive LSTM density model scored by the NLL of each step.

Importing this module does not import torch; ``fit`` and ``score`` import
:mod:`benchbench.torchkit` and the network (:mod:`benchbench_plugins.lstm_ar.network`) when they
run. :func:`quantise` and :func:`dequantise` are plain numpy. The fit/score skeleton is
:class:`benchbench.windowed.WindowedDetector`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchbench.data.preprocessing import window_starts
from benchbench.windowed import WindowedDetector

__all__ = ["HEADS", "LSTMAutoregressive", "dequantise", "quantise"]

#: The output heads :class:`LSTMAutoregressive` offers.
HEADS = ("categorical", "mog")

# Mog head: the LSTM input is the normalised previous value clipped to [-2, 2] (half a train
# range beyond each edge), the target is clipped to [-10, 10] so its NLL stays finite in float32
# for any finite input (an out-of-range value still scores far above anything seen in training).
_MOG_INPUT_CLIP = 2.0
_MOG_TARGET_CLIP = 10.0
# The first steps of a scored signal have too little context for a sharp prediction: on the
# synthetic suite the mean NLL by position in a window falls from the prior's (about log(levels))
# over the first 3 steps and settles after about 15.
_BURN_IN = 16
# A channel constant in the training data is quantised over its value +- this (in input units).
_CONSTANT_HALF_RANGE = 1.0


# -- quantisation -----------------------------------------------------------------------------
def _check_levels(levels: Any) -> int:
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2:
        raise ValueError(f"levels must be an integer >= 2, got {levels!r}")
    return int(levels)


def _check_range(lo: Any, hi: Any) -> tuple[np.ndarray, np.ndarray]:
    lo_arr = np.asarray(lo, dtype=np.float64)
    hi_arr = np.asarray(hi, dtype=np.float64)
    if not (np.all(np.isfinite(lo_arr)) and np.all(np.isfinite(hi_arr))):
        raise ValueError(f"lo and hi must be finite, got lo={lo!r}, hi={hi!r}")
    if not np.all(hi_arr > lo_arr):
        raise ValueError(f"hi must exceed lo (in every channel), got lo={lo!r}, hi={hi!r}")
    return lo_arr, hi_arr


def quantise(values: Any, lo: Any, hi: Any, levels: int = 256) -> np.ndarray:
    """Map values onto ``levels`` equal-width bins of ``[lo, hi]``; values outside are clipped.

    Bin ``k`` covers ``[lo + k w, lo + (k + 1) w)`` with ``w = (hi - lo) / levels`` (the last bin
    includes ``hi``). A value below ``lo`` gets level 0, a value above ``hi`` level
    ``levels - 1``: the detector fits ``lo``/``hi`` on the training data, so test values beyond
    the training range land on the edge levels.

    Args:
        values: float array of any shape, e.g. ``(n_timesteps, n_channels)``; must be finite.
        lo: lower edge, a scalar or an array broadcasting against ``values`` (e.g. one per
            channel, shape ``(n_channels,)``).
        hi: upper edge, same shape rules, ``hi > lo`` everywhere.
        levels: number of levels (>= 2).

    Returns:
        ``int64`` array of level codes in ``[0, levels - 1]``, the shape of ``values``.

    Raises:
        ValueError: ``levels < 2``, ``hi <= lo``, non-finite edges or non-finite values.
    """
    levels = _check_levels(levels)
    lo_arr, hi_arr = _check_range(lo, hi)
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("quantise: values hold NaN or infinite entries")
    unit = (np.clip(arr, lo_arr, hi_arr) - lo_arr) / (hi_arr - lo_arr)  # in [0, 1]
    return np.minimum(np.floor(unit * levels), levels - 1).astype(np.int64)


def dequantise(codes: Any, lo: Any, hi: Any, levels: int = 256) -> np.ndarray:
    """The centre of each level's bin: ``lo + (code + 0.5) (hi - lo) / levels``.

    For a value ``v`` in ``[lo, hi]``, ``|dequantise(quantise(v)) - v| <= (hi - lo) / (2 levels)``
    (half a level, up to float rounding).

    Args:
        codes: integer level codes in ``[0, levels - 1]``, any shape.
        lo, hi, levels: as given to :func:`quantise`.

    Returns:
        ``float64`` array of bin centres, the shape of ``codes`` (broadcast with ``lo``/``hi``).

    Raises:
        ValueError: codes that are not integers in ``[0, levels - 1]``, or bad ``lo``, ``hi``,
            ``levels``.
    """
    levels = _check_levels(levels)
    lo_arr, hi_arr = _check_range(lo, hi)
    arr = np.asarray(codes)
    if arr.dtype.kind not in "iu":
        as_float = arr.astype(np.float64)
        if not np.all(np.isfinite(as_float)) or not np.all(as_float == np.round(as_float)):
            raise ValueError("dequantise: codes must be integers")
        arr = as_float.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() > levels - 1):
        raise ValueError(
            f"dequantise: codes must lie in [0, {levels - 1}], got {arr.min()}..{arr.max()}"
        )
    return lo_arr + (arr + 0.5) * (hi_arr - lo_arr) / levels


# -- the detector -----------------------------------------------------------------------------
class LSTMAutoregressive(WindowedDetector):
    """Autoregressive LSTM density model of the signal; the score is the smoothed NLL per step.

    In the spirit of PixelRNN, applied to a signal as a sequence: a stacked LSTM reads the
    previous values and predicts the distribution of the next one.

    Scaling and quantisation: each channel's ``lo_``/``hi_`` are its min/max in the training data
    (a constant channel gets its value +- 1). Values are normalised to ``u = 2 (x - lo) /
    (hi - lo) - 1`` (the train range maps onto [-1, 1]).

    Heads (``head``):

    * ``"categorical"``: values are quantised to ``levels`` equal bins of ``[lo_, hi_]`` with
      :func:`quantise` (test values outside the training range are clipped to the edge levels);
      the model gives a softmax over the levels of each channel; loss = cross-entropy.
    * ``"mog"``: for signals where quantisation is too coarse: a mixture of ``n_components``
      Gaussians per channel over the continuous normalised value ``u`` (mixture logits, means and
      log-scales bounded to [-7, 2] by a sigmoid); loss = NLL of ``u`` (the target clipped to
      [-10, 10] so it stays finite).

    Input at step ``t`` (teacher forcing in training, the observed values in scoring): the
    previous step's normalised values -- for the categorical head the *dequantised* previous
    levels (the model conditions exactly on the quantised history), for the mog head ``u`` clipped
    to [-2, 2] -- plus a start flag. The first step of every sequence gets the start flag and zero
    values, so the model learns the context-free prior of a value and every step, including the
    first of the signal, has a finite NLL. Channels at one step are conditionally independent
    given the joint history (one LSTM reads all channels, one head per channel), so a step's NLL
    is the sum of its channels' NLLs.

    Training: subsequences of ``seq_len`` steps every ``train_step`` steps (plus the one ending
    at the last step), each from a zero LSTM state; Adam, ``epochs`` shuffled passes, gradient
    norm clipped at 1. ``history_["nll"]`` holds each epoch's mean NLL per step and channel in
    nats (categorical: compare with ``log(levels)``, the uniform distribution; mog: the NLL of
    the normalised value, a density, so it may be negative).

    Scoring: the signal is cut into windows of ``seq_len`` steps overlapping by ``seq_len // 2``
    (plus one ending at the last step); each window starts from a zero state with the start flag,
    and each step's NLL is taken from the window where it has at least ``seq_len // 2`` steps of
    context (see :func:`_scoring_plan`), so the model only runs on sequences as long as those it
    was trained on and every step is scored causally (from ``x_<t`` only). The first
    ``min(16, seq_len // 2)`` steps of the signal, which have too little context for a sharp
    prediction (their NLL falls from the prior's over the first 3 to 15 steps), get the median
    NLL of the other steps of their channel, so the edge does not look anomalous (an anomaly in
    those steps cannot be seen). The per-step NLL summed over channels is smoothed by a centred
    moving average of ``smoothing_window`` steps. Higher = more anomalous.

    Known limits: with the categorical head a test value beyond the training range is scored as
    its edge level (its magnitude is lost; the mog head keeps it); a likelihood score ranks a
    perfectly predictable stretch (a flatline) as *very* normal; and, trained on the very signal
    it scores (the benchmark's protocol), the model partly learns the anomalies it should flag,
    more so the longer it trains.

    Args:
        levels: quantisation levels of the categorical head (>= 2; checked for both heads).
        head: ``"categorical"`` or ``"mog"``.
        n_components: Gaussians per channel of the mog head (>= 1).
        hidden_size: hidden units per LSTM layer.
        num_layers: stacked LSTM layers.
        seq_len: steps per training subsequence and scoring window (>= 2); also
            :meth:`min_length`.
        train_step: stride between training subsequences, in steps.
        epochs: passes over the training subsequences.
        batch_size: subsequences per optimiser step.
        learning_rate: Adam learning rate.
        smoothing_window: length of the centred moving average over the per-step NLL, in steps
            (an int >= 1; ``0``, ``1`` or ``None``: no smoothing).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        random_state: seed of weight initialisation and shuffling; same seed + same data + CPU
            gives identical scores.
    """

    _fitted_state = (*WindowedDetector._fitted_state, "lo_", "hi_")
    _score_batch = 256

    def __init__(
        self,
        levels: int = 256,
        head: str = "categorical",
        n_components: int = 5,
        hidden_size: int = 32,
        num_layers: int = 2,
        seq_len: int = 64,
        train_step: int = 8,
        epochs: int = 30,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        smoothing_window: int | None = 5,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self._store(locals())

    def _window_length(self) -> int:
        """Steps per training subsequence: ``seq_len``."""
        return int(self.seq_len)

    def _check_params(self) -> None:
        name = type(self).__name__
        if self.head not in HEADS:
            raise ValueError(
                f"{name}: unknown head {self.head!r}; valid heads: {', '.join(map(repr, HEADS))}"
            )
        try:
            _check_levels(self.levels)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        self._check_positive_ints(
            "n_components",
            "hidden_size",
            "num_layers",
            "seq_len",
            "train_step",
            "epochs",
            "batch_size",
        )
        if self.seq_len < 2:
            raise ValueError(f"{name}: seq_len must be >= 2, got {self.seq_len}")
        try:
            rate = float(self.learning_rate)
        except (TypeError, ValueError):
            rate = float("nan")
        if not rate > 0:
            raise ValueError(f"{name}: learning_rate must be > 0, got {self.learning_rate!r}")
        self._smoothing_length(0)  # validates the value

    # -- data preparation ---------------------------------------------------------------------
    def _series(self, arr: np.ndarray) -> np.ndarray:
        """``(n, 2 c)`` float32: the LSTM input values (columns ``:c``) and targets (``c:``)."""
        lo, hi = self.lo_, self.hi_
        if self.head == "categorical":
            levels = int(self.levels)
            codes = quantise(arr, lo, hi, levels)
            inputs = (2.0 * codes + 1.0) / levels - 1.0  # dequantised, normalised to [-1, 1]
            targets = codes.astype(np.float64)
        else:
            u = 2.0 * (arr - lo) / (hi - lo) - 1.0
            inputs = np.clip(u, -_MOG_INPUT_CLIP, _MOG_INPUT_CLIP)
            targets = np.clip(u, -_MOG_TARGET_CLIP, _MOG_TARGET_CLIP)
        return np.concatenate([inputs, targets], axis=1).astype(np.float32)

    # -- training -----------------------------------------------------------------------------
    def _training_series(self, arr: np.ndarray) -> np.ndarray:
        """Fit ``lo_``/``hi_`` on ``arr``; the LSTM inputs and targets of every step."""
        lo, hi = arr.min(axis=0), arr.max(axis=0)
        constant = ~(hi > lo)
        self.lo_ = np.where(constant, lo - _CONSTANT_HALF_RANGE, lo)
        self.hi_ = np.where(constant, hi + _CONSTANT_HALF_RANGE, hi)
        return self._series(arr)

    def _build_network(self, n_channels: int) -> Any:
        from .network import LSTMARNet

        return LSTMARNet(
            n_channels,
            int(self.hidden_size),
            int(self.num_layers),
            str(self.head),
            levels=int(self.levels),
            n_components=int(self.n_components),
        )

    def _gradient_clip(self) -> float:
        return 1.0

    def _batch_loss(self, model: Any, batch: Any, step: int, n_steps: int) -> tuple[Any, dict]:
        c = batch.shape[-1] // 2  # the series holds the inputs, then the targets
        loss = model.step_nll(_inputs(batch[..., :c]), batch[..., c:]).mean()
        return loss, {"nll": loss}

    # -- scoring ------------------------------------------------------------------------------
    def step_nll(self, X: Any) -> np.ndarray:
        """Unsmoothed NLL of every value given the values before it (see the class docstring).

        Args:
            X: ``(n_timesteps, n_channels)``, scaled like the training data.

        Returns:
            ``float64`` array ``(n_timesteps, n_channels)`` in nats: ``-log p(level)`` for the
            categorical head, ``-log`` density of the normalised value for the mog head.
        """
        return self._step_nll(self._input(X, fitting=False))

    def _step_nll(self, arr: np.ndarray) -> np.ndarray:
        import torch

        n, c = arr.shape
        seq_len = int(self.seq_len)
        starts, window = _scoring_plan(n, seq_len)
        device = torch.device(self.device_)
        series = torch.as_tensor(self._series(arr), device=device)
        index = torch.as_tensor(starts, device=device)[:, None] + torch.arange(
            seq_len, device=device
        )
        parts = []
        with torch.inference_mode():
            for b in range(0, len(starts), self._score_batch):
                batch = series[index[b : b + self._score_batch]]  # (batch, seq_len, 2 c)
                parts.append(self.model_.step_nll(_inputs(batch[..., :c]), batch[..., c:]))
            nll = torch.cat(parts).double().cpu().numpy()  # (n_windows, seq_len, c)
        out = nll[window, np.arange(n) - starts[window]]
        burn_in = _burn_in(seq_len)
        if n > burn_in:  # too little context to predict from: the typical NLL of the rest
            out[:burn_in] = np.median(out[burn_in:], axis=0)
        if not np.all(np.isfinite(out)):
            bad = int(np.sum(~np.isfinite(out)))
            raise FloatingPointError(
                f"{type(self).__name__}: the model gave {bad} NaN or infinite NLL values; the "
                "fitted weights are broken (retrain with a smaller learning_rate)"
            )
        return out

    def _timestep_scores(self, arr: np.ndarray) -> np.ndarray:
        """The per-step NLL summed over channels."""
        return self._step_nll(arr).sum(axis=1)

    def _smoothing_length(self, n_timesteps: int) -> int:
        """``smoothing_window`` steps (1 = none); ``ValueError`` for a bad value."""
        smoothing_window, name = self.smoothing_window, type(self).__name__
        if smoothing_window is None:
            return 1
        if (
            isinstance(smoothing_window, bool)
            or not isinstance(smoothing_window, (int, np.integer))
            or smoothing_window < 0
        ):
            raise ValueError(
                f"{name}: smoothing_window must be an integer >= 0 (steps) or None, got "
                f"{smoothing_window!r}"
            )
        return max(1, int(smoothing_window))


def _burn_in(seq_len: int) -> int:
    """Leading steps of a scored signal whose NLL is replaced: ``min(16, seq_len // 2)``."""
    return min(_BURN_IN, seq_len // 2)


def _inputs(values: Any) -> Any:
    """LSTM inputs ``(batch, L, c + 1)`` from values ``(batch, L, c)``: shifted one step right,
    with zeros and the start flag at step 0 (so step ``t`` sees the values of ``t - 1``)."""
    import torch

    b, length, c = values.shape
    out = torch.zeros(b, length, c + 1, dtype=values.dtype, device=values.device)
    out[:, 1:, :c] = values[:, :-1]
    out[:, 0, c] = 1.0
    return out


def _scoring_plan(n_timesteps: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each step of an ``n_timesteps`` signal is scored.

    Windows of ``seq_len`` steps start every ``seq_len - seq_len // 2`` steps (plus one ending at
    the last step); step ``t`` is read from the last window in which it has at least
    ``seq_len // 2`` steps of context (the first ``seq_len // 2`` steps, which cannot have that
    much, from the first window).

    Returns:
        ``(starts, window)``: window start steps ``(n_windows,)`` and, per step, the index of the
        window it is read from ``(n_timesteps,)``; step ``t`` is position ``t - starts[window[t]]``
        of that window.
    """
    warmup = seq_len // 2
    starts = window_starts(n_timesteps, seq_len, seq_len - warmup)
    t = np.arange(n_timesteps)
    window = np.maximum(np.searchsorted(starts + warmup, t, side="right") - 1, 0)
    return starts, window
