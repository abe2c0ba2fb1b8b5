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
``sklearn.base.clone(detector)`` works), :meth:`BaseDetector.check_params`, the validation step
of the hyperparameter values (their kinds from the ``__init__`` annotations or defaults, then the
detector's own rules in ``_check_params``; ``bench run`` calls it before any job, where a detector
has it), input validation that raises :class:`DetectorInputError` with a clear message, and
:meth:`BaseDetector._log_epoch` which records losses and reports training progress to the runner.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

#: The largest magnitude :meth:`BaseDetector._check_magnitude` accepts by default; the runner's
#: preprocessing rejects a signal whose scaled values go beyond it (a :class:`DataError` naming
#: the file and line), so a detector never sees such values from the runner.
MAX_INPUT_MAGNITUDE = 1e6


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


# -- hyperparameter values ---------------------------------------------------------------------
#: The kinds of value a hyperparameter may accept, as :func:`param_kinds` names them, and how a
#: message says each.
_KIND_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false",
               "str": "a string", "None": "None"}
_KIND_OF_NAME = {"int": "int", "float": "float", "bool": "bool", "str": "str", "None": "None",
                 "NoneType": "None"}
_KIND_OF_TYPE = {int: "int", float: "float", bool: "bool", str: "str", type(None): "None"}


def _kind_of_value(value: Any) -> str | None:
    for kind in ("bool", "int", "float", "str", "None"):
        if _is_kind(value, kind):
            return kind
    return None


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "None":
        return value is None
    if isinstance(value, (bool, np.bool_)):
        return kind == "bool"
    if kind == "int":
        return isinstance(value, (int, np.integer))
    if kind == "float":
        return isinstance(value, (int, float, np.integer, np.floating))
    return kind == "str" and isinstance(value, str)


def param_kinds(parameter: inspect.Parameter) -> tuple[str, ...] | None:
    """The kinds of value the ``__init__`` parameter ``parameter`` accepts; ``None``: any value.

    Kinds are ``"int"`` (an integer, not a bool), ``"float"`` (an integer or a float, not a
    bool), ``"bool"``, ``"str"`` and ``"None"``. They come from the annotation when it is made
    only of ``int``, ``float``, ``bool``, ``str`` and ``None`` joined by ``|`` (or
    ``Optional[...]``); another annotation (``list[int]``, ``Any``, a class) accepts any value.
    Without an annotation they come from the default: ``5`` -> int, ``0.5`` -> float, ``True``
    -> bool, ``"x"`` -> str; a default of ``None`` (or no default) accepts any value. The
    default itself is always accepted (``window: int = None`` accepts an integer or None).
    """
    annotation, default = parameter.annotation, parameter.default
    if annotation is inspect.Parameter.empty:
        kind = None if default is None else _kind_of_value(default)
        return (kind,) if kind else None
    if isinstance(annotation, str):
        text = annotation.strip()
        if text.startswith("Optional[") and text.endswith("]"):
            text = f"{text[len('Optional['):-1]} | None"
        kinds = [_KIND_OF_NAME.get(part.strip()) for part in text.split("|")]
    else:
        union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
        kinds = [_KIND_OF_TYPE.get(a) if isinstance(a, type) else ("None" if a is None else None)
                 for a in (typing.get_args(annotation) if union else (annotation,))]
    if None in kinds:
        return None
    if default is not inspect.Parameter.empty and not any(_is_kind(default, k) for k in kinds):
        extra = _kind_of_value(default)
        if extra is None:  # a default of another kind altogether: any value
            return None
        kinds.append(extra)
    return tuple(dict.fromkeys(kinds))


def check_param_value(owner: str, parameter: inspect.Parameter, value: Any) -> None:
    """Raise ``ValueError`` naming ``owner``, the parameter, what it accepts and ``value`` when
    ``value`` is not of a kind the parameter accepts (see :func:`param_kinds`)."""
    kinds = param_kinds(parameter)
    if kinds is not None and not any(_is_kind(value, k) for k in kinds):
        words = " or ".join(_KIND_WORDS[k] for k in kinds)
        raise ValueError(f"{owner}: {parameter.name} must be {words}, got {value!r}")


@functools.cache
def _init_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """The ``__init__`` hyperparameters of ``cls`` by name (``*args``/``**kwargs`` left out)."""
    return {p.name: p for p in inspect.signature(cls.__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


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
        return list(_init_parameters(cls))

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
    def check_params(self) -> None:
        """Raise ``ValueError`` naming the parameter, the value and what it accepts when a
        hyperparameter value cannot be used; train nothing, import nothing heavy.

        Two steps: the kind of each value (see :func:`param_kinds`: from the ``__init__``
        annotation, else the default; ``epochs: int = 30`` rejects ``1.5``, ``"abc"`` and
        ``True``), then the detector's own rules (ranges, combinations) in :meth:`_check_params`.
        When a value is of the wrong kind and :meth:`_check_params` also rejects it in its own
        words, naming the parameter, its message is raised. ``bench run`` calls this for every
        detector with the run's parameters before it creates the run folder; the built-in
        detectors call it first thing in ``fit``.
        """
        owner = type(self).__name__
        mistyped: tuple[str, ValueError] | None = None
        for name, parameter in _init_parameters(type(self)).items():
            try:
                check_param_value(owner, parameter, getattr(self, name, parameter.default))
            except ValueError as exc:
                mistyped = (name, exc)
                break
        try:
            self._check_params()
        except Exception as exc:
            if mistyped is None or isinstance(exc, ValueError) and re.search(
                rf"\b{re.escape(mistyped[0])}\b", str(exc)
            ):
                raise
        if mistyped is not None:
            raise mistyped[1]

    def _check_params(self) -> None:
        """The detector's own rules on its hyperparameter values (ranges, combinations): raise
        ``ValueError`` naming the parameter. There are none here; :meth:`check_params` calls it."""

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

    def _check_magnitude(
        self, arr: np.ndarray, max_abs: float = MAX_INPUT_MAGNITUDE
    ) -> np.ndarray:
        """Return ``arr``, or raise :class:`DetectorInputError` when a value exceeds ``max_abs``
        in magnitude (a float32 network fed unscaled data overflows into NaN losses).

        A constant input passes (the runner scales a constant train part to 0): only the
        magnitude is checked, never the spread."""
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
