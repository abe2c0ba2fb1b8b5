"""The shared fit/score skeleton of the torch detectors that learn from rolling windows.

:class:`WindowedDetector` is the base of the ``autoencoder``, ``vae`` and ``lstm_ar`` detectors
(template methods): it owns the steps they have in common, and a subclass supplies what is its
own:

* :meth:`~WindowedDetector._check_params`: the hyperparameters' range rules (``fit`` first calls
  :meth:`~benchbench.detector.BaseDetector.check_params`, which checks their kinds, then this);
* :meth:`~WindowedDetector._build_network`: the network for ``n_channels`` channels;
* :meth:`~WindowedDetector._batch_loss`: for one batch of training windows, the loss to minimise
  and the losses to record in ``history_``;
* :meth:`~WindowedDetector._timestep_scores`: the unsmoothed score of each timestep.

``fit``: check the hyperparameters (``check_params``), drop the previous fit's state, validate
the input, start ``history_``; then, seeded from ``random_state``
(:func:`benchbench.torchkit.seeded`) on the ``device``: build the network, an Adam optimiser
with ``learning_rate``, the training windows (``_window_length()`` steps every ``train_step``
steps, plus the window ending at the last step), train for ``epochs`` shuffled passes in batches
of ``batch_size`` (:func:`benchbench.torchkit.train_windows`), put the network in eval mode and call
:meth:`~WindowedDetector._after_training`. It sets ``model_``, ``device_`` and
``n_train_windows_``. ``score``: validate the input, score each timestep, smooth with a centred
moving average of ``smoothing_window`` steps. :meth:`~WindowedDetector._per_timestep` is the
scoring helper of window models: it runs a function over the windows every ``score_step`` steps
(plus the one ending at the last step) and takes, for each timestep, the median over the windows
covering it.

The order of the steps, and so of the random draws (weights first, then shuffling, then whatever
:meth:`~WindowedDetector._after_training` draws), is part of the reproducibility guarantee of
:mod:`benchbench.torchkit`: keep it when changing this class.

Importing this module does not import torch (the CLI imports every plugin at start-up); ``fit``
and ``score`` do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from benchbench.data.preprocessing import (
    moving_average,
    smoothing_steps,
    unroll_windows,
    window_starts,
)
from benchbench.detector import BaseDetector, NotFittedError

if TYPE_CHECKING:
    import torch

    from benchbench.torchkit import Seeds

__all__ = ["WindowedDetector"]


class WindowedDetector(BaseDetector):
    """Base of the torch detectors trained on rolling windows (see the module docstring).

    The skeleton reads the hyperparameters ``epochs``, ``batch_size``, ``learning_rate``,
    ``train_step``, ``smoothing_window``, ``device`` and ``random_state``; the default hooks also
    read ``window_size``, ``score_step`` and ``grad_clip``.
    """

    #: Attributes ``fit`` sets; a new fit first drops them, so a failed refit leaves no mix of
    #: old and new state. Subclasses add their own.
    _fitted_state: tuple[str, ...] = ("model_", "device_", "n_train_windows_")
    #: Largest magnitude accepted in the input (``None``: no limit); see
    #: :meth:`~benchbench.detector.BaseDetector._check_magnitude`.
    _max_abs_input: float | None = None
    #: Windows per forward pass when scoring (inference only, so larger than a training batch).
    _score_batch = 1024

    # -- what a subclass supplies -------------------------------------------------------------
    def _check_params(self) -> None:
        """Raise ``ValueError`` for a bad hyperparameter value (``check_params`` calls it, and
        ``fit`` calls ``check_params`` first)."""
        raise NotImplementedError

    def _build_network(self, n_channels: int) -> torch.nn.Module:
        """The untrained network for ``n_channels`` channels (built inside the seeded block, so
        its initial weights come from ``random_state``)."""
        raise NotImplementedError

    def _batch_loss(
        self, model: torch.nn.Module, batch: torch.Tensor, step: int, n_steps: int
    ) -> tuple[torch.Tensor, Mapping[str, torch.Tensor]]:
        """``(objective, losses)`` for one batch of training windows.

        Args:
            model: the network, in training mode.
            batch: windows of the training series, ``(batch, window, columns)``.
            step: the optimiser step, counted from 0 over the whole training.
            n_steps: optimiser steps in all (``epochs`` x batches per epoch).

        Returns:
            The scalar loss to minimise (one Adam step on it follows) and the scalar losses to
            record in ``history_`` by name (averaged per epoch over the windows).
        """
        raise NotImplementedError

    def _timestep_scores(self, arr: np.ndarray) -> np.ndarray:
        """The unsmoothed score of each timestep of ``arr`` (validated, ``(n, n_channels)``):
        shape ``(n,)``, higher = more anomalous."""
        raise NotImplementedError

    # -- hooks with defaults ------------------------------------------------------------------
    def _window_length(self) -> int:
        """Timesteps per training window: ``window_size``."""
        return int(self.window_size)

    def min_length(self) -> int:
        """The fewest timesteps accepted: one window."""
        return self._window_length()

    def _training_series(self, arr: np.ndarray) -> np.ndarray:
        """The values the training windows are cut from, ``(n, columns)``: the input itself."""
        return arr

    def _gradient_clip(self) -> float | None:
        """The gradient-norm clip of every Adam step: ``grad_clip`` (``None``/0: none)."""
        return float(self.grad_clip) if self.grad_clip else None

    def _after_training(self, model: torch.nn.Module, windows: torch.Tensor, rng: Seeds) -> None:
        """Called once training is done, in the seeded block, with the network in eval mode, the
        training windows and the block's random sources (e.g. to calibrate the network)."""

    def _check_score_params(self) -> None:
        """Raise ``ValueError`` for a bad scoring hyperparameter (called first by ``score``:
        ``set_params`` may change them after ``fit``)."""

    def _smoothing_length(self, n_timesteps: int) -> int:
        """Moving-average length of the score of ``n_timesteps`` steps, from ``smoothing_window``
        (see :func:`benchbench.data.preprocessing.smoothing_steps`)."""
        return smoothing_steps(self.smoothing_window, n_timesteps, type(self).__name__)

    # -- the skeleton -------------------------------------------------------------------------
    def _input(self, X: Any, *, fitting: bool) -> np.ndarray:
        """``X`` validated (see ``_validate``; and ``_max_abs_input``); scoring before ``fit``
        raises :class:`~benchbench.detector.NotFittedError`."""
        if not fitting and not hasattr(self, "model_"):
            raise NotFittedError(f"{type(self).__name__}: call fit before score")
        arr = self._validate(X, fitting=fitting)
        if self._max_abs_input is not None:
            arr = self._check_magnitude(arr, self._max_abs_input)
        return arr

    def fit(self, X: Any, y: Any = None) -> WindowedDetector:
        """Train on ``X`` ``(n_timesteps, n_channels)`` (scaled to [-1, 1]); return ``self``."""
        self.check_params()
        for stale in self._fitted_state:
            self.__dict__.pop(stale, None)
        arr = self._input(X, fitting=True)
        self._start_history()

        import torch

        from benchbench import torchkit

        device = torchkit.resolve_device(self.device)
        window = self._window_length()
        with torchkit.seeded(self.random_state, device) as rng:
            model = self._build_network(arr.shape[1]).to(device)
            optimiser = torch.optim.Adam(model.parameters(), lr=float(self.learning_rate))
            x = torch.as_tensor(self._training_series(arr), dtype=torch.float32, device=device)
            starts = window_starts(len(arr), window, int(self.train_step))
            windows = torchkit.window_view(x, window)[torch.as_tensor(starts, device=device)]
            clip = self._gradient_clip()
            epochs, batch_size = int(self.epochs), int(self.batch_size)
            n_steps = epochs * math.ceil(len(starts) / batch_size)
            steps_done = 0

            def step(batch: torch.Tensor) -> Mapping[str, torch.Tensor]:
                nonlocal steps_done
                objective, losses = self._batch_loss(model, batch, steps_done, n_steps)
                steps_done += 1
                torchkit.optimiser_step(optimiser, objective, clip)
                return losses

            model.train()
            torchkit.train_windows(
                self, windows, step, epochs=epochs, batch_size=batch_size, generator=rng.torch
            )
            model.eval()
            self._after_training(model, windows, rng)
        self.model_ = model
        self.device_ = str(device)
        self.n_train_windows_ = len(starts)
        return self

    def score(self, X: Any) -> np.ndarray:
        """Anomaly score per timestep of ``X``: shape ``(n_timesteps,)``, finite, higher = more
        anomalous; smoothed by ``smoothing_window``."""
        self._check_score_params()
        arr = self._input(X, fitting=False)
        return moving_average(self._timestep_scores(arr), self._smoothing_length(len(arr)))

    def _per_timestep(
        self, arr: np.ndarray, fn: Callable[[Any], Any], batch_size: int | None = None
    ) -> np.ndarray:
        """Apply ``fn`` (windows ``(B, W, C)`` -> ``(B, W, ...)``) to the scored windows of ``arr``
        (every ``score_step`` steps, plus the one ending at the last step, in batches of
        ``batch_size``, default ``_score_batch``) and take the median over the windows covering
        each timestep: ``(n_timesteps, ...)``."""
        import torch

        from benchbench import torchkit

        window = self._window_length()
        x = torch.as_tensor(arr, dtype=torch.float32, device=torch.device(self.device_))
        step = int(self.score_step)
        n = len(arr)
        per_window = torchkit.predict_windows(
            fn, torchkit.window_view(x, window, step), batch_size or self._score_batch
        )
        out = unroll_windows(per_window, n, step, reducer="median")
        covered = (len(per_window) - 1) * step + window  # timesteps covered by the strided windows
        if covered < n:  # the trailing timesteps: the window ending at the last step
            tail = torchkit.predict_windows(fn, x[None, n - window :], 1)[0]
            out[covered:] = tail[covered - n :]
        return out
