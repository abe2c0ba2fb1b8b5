"""The detector contract, in scikit-learn's conventions.

A detector is a class whose ``__init__`` takes only hyperparameters (keyword arguments with
defaults), stores each unchanged under its own name and does nothing else. Then:

* ``fit(X, y=None) -> self`` trains on ``X`` shaped ``(n_timesteps, n_channels)`` (already
  preprocessed: imputed and scaled to [-1, 1] by the runner);
* ``score(X) -> ndarray`` returns one finite anomaly score per timestep of ``X``, shape
  ``(n_timesteps,)``, **higher = more anomalous**;
* everything learned in ``fit`` is stored in attributes ending in ``_`` (``history_`` holds the
  per-epoch losses as ``{loss_name: [value per epoch]}``);
* randomness comes only from the ``random_state`` hyperparameter; the compute device from a
  ``device`` hyperparameter where the detector uses torch (``"auto"`` = CUDA when present).

:class:`BaseDetector` gives ``get_params`` / ``set_params`` / ``repr`` from the ``__init__``
signature (scikit-learn's own :class:`sklearn.base.BaseEstimator` implementations, so
``sklearn.base.clone(detector)`` works), input validation that raises :class:`DetectorInputError`
with a clear message, and :meth:`BaseDetector._log_epoch` which records losses and reports
training progress to the runner.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np


class DetectorInputError(ValueError):
    """The input given to ``fit`` or ``score`` cannot be used (too short, NaN, wrong shape)."""


class NotFittedError(RuntimeError):
    """``score`` was called before ``fit``."""


class ScoreError(RuntimeError):
    """A detector returned scores that break the contract (wrong shape, non-finite values)."""


# Progress of the epoch loop inside the current job: the runner installs a callback
# ``callback(epoch, n_epochs, losses)``; detectors report through ``_log_epoch``.
_epoch_callback: contextvars.ContextVar[Callable[[int, int, dict[str, float]], None] | None] = (
    contextvars.ContextVar("benchbench_epoch_callback", default=None)
)


@contextlib.contextmanager
def epoch_progress(callback: Callable[[int, int, dict[str, float]], None]) -> Iterator[None]:
    """Route the per-epoch reports of detectors trained inside this block to ``callback``."""
    token = _epoch_callback.set(callback)
    try:
        yield
    finally:
        _epoch_callback.reset(token)


def _sklearn_estimator() -> type:
    """:class:`sklearn.base.BaseEstimator`, imported when first needed.

    Importing ``sklearn.base`` takes 1.5-2.5 s (it imports scipy.stats and pandas), against about
    0.5 s for the whole ``bench list`` (the CLI imports every detector plugin, and so this
    module, at start-up). So :class:`BaseDetector` does not inherit from ``BaseEstimator``: its
    parameter methods call ``BaseEstimator``'s own, importing scikit-learn on the first call.
    """
    from sklearn.base import BaseEstimator

    return BaseEstimator


@functools.cache
def _estimator_twin(cls: type) -> type:
    """A ``BaseEstimator`` subclass with the name and ``__init__`` of ``cls``, for ``repr``
    (scikit-learn's pretty printer formats only ``BaseEstimator`` subclasses)."""
    return type(cls.__name__, (_sklearn_estimator(),), {
        "__init__": cls.__init__, "__module__": cls.__module__, "__qualname__": cls.__qualname__,
    })


class BaseDetector:
    """Base class for detectors: parameters, validation and history helpers.

    Subclasses define ``__init__`` with keyword hyperparameters (stored unchanged, e.g. by
    ``self._store(locals())``), and implement ``fit`` and ``score``. ``min_length`` (a method so it
    may depend on hyperparameters such as the window size) is the fewest timesteps ``fit`` and
    ``score`` accept.

    ``get_params``, ``set_params`` and ``repr`` are scikit-learn's (see
    :class:`sklearn.base.BaseEstimator`), so ``sklearn.base.clone`` and parameter searches work;
    scikit-learn is imported on their first call, not with this module.
    """

    def min_length(self) -> int:
        """The fewest timesteps this detector can fit or score."""
        return 2

    # -- parameters ---------------------------------------------------------------------------
    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The ``__init__`` hyperparameters, in signature order (``*args``/``**kwargs`` left out).

        scikit-learn's ``get_params`` reads the names from here; this one does not import it.
        """
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    _param_names = _get_param_names  # the name earlier plugins call

    def _store(self, given: Mapping[str, Any]) -> None:
        """Store each ``__init__`` argument unchanged under its own name: the whole body of an
        ``__init__`` is ``self._store(locals())``."""
        for name in self._get_param_names():
            setattr(self, name, given[name])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters, as given to ``__init__`` (scikit-learn's ``get_params``)."""
        return _sklearn_estimator().get_params(self, deep=deep)

    def set_params(self, **params: Any) -> BaseDetector:
        """Set hyperparameters by name (scikit-learn's ``set_params``) and return ``self``.

        Unknown names raise ``ValueError`` naming the detector and the parameter, before any
        parameter is set.
        """
        valid = self._get_param_names()
        for name in params:
            if name.partition("__")[0] not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"valid parameters: {', '.join(sorted(valid))}"
                )
        return _sklearn_estimator().set_params(self, **params)

    def __repr__(self) -> str:
        """scikit-learn's repr: the class name and the hyperparameters that differ from their
        defaults, e.g. ``LSTMAutoencoder(epochs=3)``."""
        twin = object.__new__(_estimator_twin(type(self)))
        twin.__dict__.update(self.get_params(deep=False))
        return repr(twin)

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's default estimator tags (read by ``sklearn.utils.get_tags``)."""
        return _sklearn_estimator().__sklearn_tags__(self)

    # -- validation ---------------------------------------------------------------------------
    def _check_positive_ints(self, *names: str) -> None:
        """Raise ``ValueError`` unless each named hyperparameter is an integer >= 1."""
        for key in names:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(
                    f"{type(self).__name__}: {key} must be an integer >= 1, got {value!r}"
                )

    def _check_score_step(self, what: str) -> None:
        """For window detectors with ``window_size`` and ``score_step``: raise ``ValueError``
        unless ``window_size >= 2`` and ``score_step <= window_size`` (else some timesteps would
        get no ``what`` from any window)."""
        name = type(self).__name__
        if self.window_size < 2:
            raise ValueError(f"{name}: window_size must be >= 2, got {self.window_size}")
        if self.score_step > self.window_size:
            raise ValueError(
                f"{name}: score_step ({self.score_step}) must not exceed window_size "
                f"({self.window_size}), else some timesteps get no {what}"
            )

    def _validate(self, X: Any, *, fitting: bool) -> np.ndarray:
        """Return ``X`` as a float64 array ``(n_timesteps, n_channels)`` or raise a clear error."""
        name = type(self).__name__
        try:
            arr = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DetectorInputError(f"{name}: input is not numeric: {exc}") from exc
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise DetectorInputError(
                f"{name}: input must be shaped (n_timesteps, n_channels), got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            bad = int(np.sum(~np.isfinite(arr)))
            raise DetectorInputError(
                f"{name}: input holds {bad} NaN or infinite values; impute them first"
            )
        need = self.min_length()
        if arr.shape[0] < need:
            raise DetectorInputError(
                f"{name}: input has {arr.shape[0]} timesteps, fewer than the {need} this "
                f"detector needs (window_size and friends); use a longer signal or a smaller window"
            )
        if fitting:
            self.n_channels_ = arr.shape[1]
        else:
            if not hasattr(self, "n_channels_"):
                raise NotFittedError(f"{name}: call fit before score")
            if arr.shape[1] != self.n_channels_:
                raise DetectorInputError(
                    f"{name}: fitted on {self.n_channels_} channels, scoring {arr.shape[1]}"
                )
        return arr

    def _check_magnitude(self, arr: np.ndarray, max_abs: float = 1e6) -> np.ndarray:
        """Return ``arr``, or raise :class:`DetectorInputError` when a value exceeds ``max_abs``
        in magnitude (a float32 network fed unscaled data overflows into NaN losses)."""
        big = float(np.max(np.abs(arr))) if arr.size else 0.0
        if big > max_abs:
            raise DetectorInputError(
                f"{type(self).__name__}: input values reach {big:.3g} in magnitude; the network "
                f"computes in float32 and expects data scaled to about [-1, 1] (the runner "
                f"scales it); scale the input first"
            )
        return arr

    # -- history ------------------------------------------------------------------------------
    def _start_history(self) -> None:
        self.history_: dict[str, list[float]] = {}

    def _log_epoch(self, epoch: int, n_epochs: int, losses: dict[str, float]) -> None:
        """Append this epoch's losses to ``history_`` and report progress to the runner."""
        for key, value in losses.items():
            self.history_.setdefault(key, []).append(float(value))
        callback = _epoch_callback.get()
        if callback is not None:
            callback(epoch, n_epochs, losses)


def check_scores(scores: Any, n_timesteps: int, where: str) -> np.ndarray:
    """Validate a detector's scores: shape ``(n_timesteps,)`` and finite, else :class:`ScoreError`.

    ``where`` names the detector and signal for the message.
    """
    arr = np.asarray(scores, dtype=np.float64)
    if arr.shape != (n_timesteps,):
        raise ScoreError(
            f"{where}: score() returned shape {arr.shape}, expected ({n_timesteps},): "
            "one score per timestep"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ScoreError(f"{where}: score() returned {bad} NaN or infinite values")
    return arr
