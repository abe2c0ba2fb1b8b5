"""The conformance kit: checks that a detector follows the contract of :mod:`benchbench.detector`.

Every check is a function ``check_xxx(factory, params=None)``: ``factory`` is the detector class,
``params`` a dict of *fast* hyperparameters (small windows, one or two epochs). A check builds
fresh instances itself, runs them on small deterministic signals (a 400-step sine plus noise; a
constant one for :func:`check_constant_train`) and raises :class:`AssertionError` whose message
names the contract rule that broke and how to fix it.

It is used by import (there is no pytest plugin to enable; docs/plugins.md shows it in a plugin's
own test suite). In a plugin's test file::

    from benchbench.testing import parametrize_checks

    @parametrize_checks(MyDetector, window_size=20, epochs=1)
    def test_conformance(check):
        check()

Each parametrized ``check`` is a zero-argument callable (the check bound to the factory and the
parameters with :func:`functools.partial`), with the check's name as the test id. Outside pytest,
``run_checks(MyDetector, {"window_size": 20, "epochs": 1})`` runs them all and raises one
:class:`AssertionError` listing every failure. :data:`CHECKS` maps the names to the functions.

Where the detector has a ``device`` hyperparameter the checks run on ``"cpu"`` unless ``params``
names a device; the reproducibility check always runs on the CPU. This module imports neither
torch nor pytest.
"""

from __future__ import annotations

import functools
import inspect
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from benchbench.detector import DetectorInputError, NotFittedError, ScoreError, check_scores

__all__ = [
    "CHECKS",
    "check_constant_train",
    "check_does_not_mutate_input",
    "check_fit_returns_self",
    "check_higher_score_on_anomaly",
    "check_history_recorded",
    "check_init_stores_params",
    "check_multi_channel",
    "check_nan_input_raises",
    "check_no_fitted_attributes_in_init",
    "check_params_reject_wrong_type",
    "check_refit_replaces_state",
    "check_same_seed_same_scores",
    "check_score_before_fit_raises",
    "check_scores_shape_and_finite",
    "check_set_params",
    "check_short_input_raises",
    "check_single_channel",
    "make_signal",
    "parametrize_checks",
    "run_checks",
]

Factory = Callable[..., Any]
Params = Mapping[str, Any] | None

_N = 400  # timesteps of the default test signals


# -- signals ----------------------------------------------------------------------------------
def make_signal(
    n_timesteps: int = _N,
    n_channels: int = 1,
    seed: int = 0,
    period: float = 40.0,
    noise: float = 0.05,
) -> np.ndarray:
    """A deterministic sine-plus-noise test signal, roughly within [-1, 1].

    Channel ``c`` is ``0.8 * sin(2 pi t / (period + 7 c) + c)`` plus Gaussian noise of std
    ``noise`` drawn from ``numpy.random.default_rng(seed)``.

    Returns:
        float64 array ``(n_timesteps, n_channels)``.
    """
    t = np.arange(n_timesteps, dtype=np.float64)[:, None]
    c = np.arange(n_channels, dtype=np.float64)[None, :]
    clean = 0.8 * np.sin(2.0 * np.pi * t / (period + 7.0 * c) + c)
    rng = np.random.default_rng(seed)
    return clean + noise * rng.standard_normal((n_timesteps, n_channels))


def _spiked(n_timesteps: int = _N, at: int = 250, width: int = 4, height: float = 1.5):
    """``make_signal(seed=1)`` with ``height`` added on ``width`` steps from ``at``; (X, mask)."""
    x = make_signal(n_timesteps, seed=1)
    mask = np.zeros(n_timesteps, dtype=bool)
    mask[at : at + width] = True
    x[mask] += height
    return x, mask


def _departure(n_timesteps: int = 300, at: int = 200, width: int = 20, height: float = 0.5):
    """Zeros with ``height`` added on ``width`` steps from ``at`` (a constant level that moves and
    comes back); ``(X, mask)``."""
    x = np.zeros((n_timesteps, 1))
    mask = np.zeros(n_timesteps, dtype=bool)
    mask[at : at + width] = True
    x[mask] += height
    return x, mask


# -- helpers ----------------------------------------------------------------------------------
def _name(factory: Factory) -> str:
    return getattr(factory, "__name__", repr(factory))


def _init_params(factory: Factory) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(factory.__init__ if inspect.isclass(factory) else factory)
    return {
        p.name: p
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _params(factory: Factory, params: Params, *, cpu: str = "default") -> dict:
    """The fast params; where the detector has a ``device`` parameter, ``cpu="default"`` uses
    ``"cpu"`` unless ``params`` names a device, ``"force"`` always uses ``"cpu"``, ``"no"``
    leaves it alone."""
    out = dict(params or {})
    if cpu != "no" and "device" in _init_params(factory):
        if cpu == "force":
            out["device"] = "cpu"
        else:
            out.setdefault("device", "cpu")
    return out


def _build(factory: Factory, params: Mapping[str, Any]) -> Any:
    try:
        return factory(**params)
    except Exception as exc:
        raise AssertionError(
            f"{_name(factory)}({_fmt(params)}) raised {type(exc).__name__}: {exc}. Rule: "
            "__init__ takes keyword hyperparameters only and stores them; fix: move validation "
            "and set-up into fit"
        ) from exc


def _fmt(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        result = a == b
        if isinstance(result, np.ndarray):
            return bool(result.all()) and np.shape(a) == np.shape(b)
        return bool(result)
    except Exception:  # noqa: BLE001 - incomparable values are different
        return False


def _scores(detector: Any, X: np.ndarray, what: str) -> np.ndarray:
    """``detector.score(X)`` validated with :func:`benchbench.detector.check_scores`."""
    try:
        return check_scores(detector.score(X), len(X), f"{type(detector).__name__} ({what})")
    except ScoreError as exc:
        raise AssertionError(
            f"{exc}. Rule: score(X) returns one finite score per timestep, shape "
            "(n_timesteps,); fix: reduce over channels and windows back to one value per "
            "timestep (e.g. benchbench.data.preprocessing.unroll_windows) and replace NaN at "
            "the edges"
        ) from exc


def _fit(detector: Any, X: np.ndarray) -> Any:
    result = detector.fit(X)
    if result is not detector:
        raise AssertionError(
            f"{type(detector).__name__}.fit returned {type(result).__name__}, not self. Rule: "
            "fit(X) returns the detector itself; fix: end fit with `return self`"
        )
    return detector


def _fitted_attributes(detector: Any) -> list[str]:
    return sorted(k for k in vars(detector) if k.endswith("_") and not k.startswith("__"))


def _expect_input_error(call: Callable[[], Any], what: str, rule: str, fix: str) -> str:
    try:
        call()
    except DetectorInputError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(
            f"{what} raised {type(exc).__name__}: {exc}, not benchbench.detector."
            f"DetectorInputError. Rule: {rule}; fix: {fix}"
        ) from exc
    raise AssertionError(f"{what} raised nothing. Rule: {rule}; fix: {fix}")


# -- checks -----------------------------------------------------------------------------------
def check_init_stores_params(factory: Factory, params: Params = None) -> None:
    """Every ``__init__`` parameter is stored unchanged under its own name; nothing else is set.

    Also: ``__init__`` takes no ``*args``/``**kwargs``, accepts any value without validating it
    (tried with placeholder objects), and ``get_params`` round-trips through the constructor.
    """
    name = _name(factory)
    sig = inspect.signature(factory.__init__)
    varargs = [
        p.name for p in sig.parameters.values() if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if varargs:
        raise AssertionError(
            f"{name}.__init__ takes *{'/*'.join(varargs)}. Rule: __init__ lists every "
            "hyperparameter explicitly (get_params reads the signature); fix: name each one"
        )
    names = _init_params(factory)
    missing_default = [n for n, p in names.items() if p.default is inspect.Parameter.empty]
    if missing_default:
        raise AssertionError(
            f"{name}.__init__ parameters {missing_default} have no default. Rule: every "
            "hyperparameter has a default so the runner can build the detector with no "
            "arguments; fix: give each a default"
        )
    given = _params(factory, params, cpu="no")
    det = _build(factory, given)
    for pname, p in names.items():
        expected = given.get(pname, p.default)
        if not hasattr(det, pname):
            raise AssertionError(
                f"{name}: parameter {pname!r} is not stored as self.{pname}. Rule: __init__ "
                f"stores each parameter under its own name; fix: add `self.{pname} = {pname}`"
            )
        if getattr(det, pname) is not expected:
            raise AssertionError(
                f"{name}: self.{pname} is {getattr(det, pname)!r}, not the object passed "
                f"({expected!r}). Rule: __init__ stores parameters unchanged; fix: convert or "
                "validate them in fit instead"
            )
    extra = sorted(k for k in vars(det) if k not in names and not k.startswith("_"))
    if extra:
        raise AssertionError(
            f"{name}.__init__ sets attributes that are not parameters: {extra}. Rule: __init__ "
            "only stores its hyperparameters; fix: create them in fit (ending in '_' when "
            "learned)"
        )
    # Placeholders: an __init__ that validates, converts or computes with its arguments fails.
    placeholders = {pname: _Placeholder(pname) for pname in names}
    try:
        det2 = factory(**placeholders)
    except Exception as exc:
        raise AssertionError(
            f"{name}.__init__ failed on placeholder values ({type(exc).__name__}: {exc}). Rule: "
            "__init__ does no logic (no validation, conversion or set-up); fix: move it to fit"
        ) from exc
    changed = [p for p in names if getattr(det2, p, None) is not placeholders[p]]
    if changed:
        raise AssertionError(
            f"{name}.__init__ does not store {changed} as given. Rule: __init__ stores "
            "parameters unchanged; fix: move conversions into fit"
        )
    got = det.get_params()
    if set(got) != set(names):
        raise AssertionError(
            f"{name}.get_params() returned keys {sorted(got)}, expected the __init__ parameters "
            f"{sorted(names)}. Rule: get_params lists exactly the hyperparameters; fix: inherit "
            "BaseDetector.get_params"
        )
    again = factory(**got).get_params()
    diff = [k for k in names if not _same(again[k], got[k])]
    if diff:
        raise AssertionError(
            f"{name}: get_params does not round-trip for {diff}. Rule: "
            "factory(**d.get_params()) has the same parameters as d; fix: store parameters "
            "unchanged"
        )


class _Placeholder:
    """A unique stand-in value for one parameter (used by check_init_stores_params)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<placeholder for {self.name}>"


def check_no_fitted_attributes_in_init(factory: Factory, params: Params = None) -> None:
    """No attribute ending in ``_`` exists before ``fit``."""
    det = _build(factory, _params(factory, params))
    found = _fitted_attributes(det)
    if found:
        raise AssertionError(
            f"{_name(factory)} has fitted attributes {found} before fit. Rule: attributes ending "
            "in '_' are created by fit only (the runner and checks use them to tell a fitted "
            "detector); fix: create them in fit"
        )


def check_set_params(factory: Factory, params: Params = None) -> None:
    """``set_params`` returns self, changes ``get_params``, and rejects unknown names."""
    name = _name(factory)
    given = _params(factory, params)
    fresh = _build(factory, {})
    result = fresh.set_params(**given)
    if result is not fresh:
        raise AssertionError(
            f"{name}.set_params returned {type(result).__name__}, not self. Rule: set_params "
            "returns the detector; fix: inherit BaseDetector.set_params"
        )
    direct = _build(factory, given).get_params()
    via_set = fresh.get_params()
    diff = [k for k in direct if not _same(direct[k], via_set.get(k))]
    if diff:
        raise AssertionError(
            f"{name}: after set_params(**params), get_params differs from {name}(**params) for "
            f"{diff}. Rule: set_params sets the hyperparameters by name; fix: inherit "
            "BaseDetector.set_params and keep no derived copies of parameters"
        )
    try:
        fresh.set_params(no_such_parameter_xyz=1)
    except ValueError:
        pass
    else:
        raise AssertionError(
            f"{name}.set_params accepted an unknown name. Rule: unknown parameters raise "
            "ValueError; fix: inherit BaseDetector.set_params"
        )
    if hasattr(fresh, "no_such_parameter_xyz"):
        raise AssertionError(
            f"{name}.set_params stored an unknown parameter after raising. Rule: unknown "
            "parameters are rejected before anything is set; fix: inherit "
            "BaseDetector.set_params"
        )


def check_params_reject_wrong_type(factory: Factory, params: Params = None) -> None:
    """``check_params`` rejects a string where a number is due, naming the parameter."""
    from benchbench.detector import param_kinds

    det = _build(factory, _params(factory, params))
    typed = [n for n, p in _init_params(factory).items()
             if param_kinds(p) in (("int",), ("float",))]
    if not callable(getattr(det, "check_params", None)) or not typed:
        return  # no validation step (not a BaseDetector), or no parameter of a number kind
    det.set_params(**{typed[0]: "not-a-number"})
    try:
        det.check_params()
    except (ValueError, TypeError) as exc:
        if typed[0] in str(exc):
            return
        raise AssertionError(
            f"{_name(factory)}.check_params rejected {typed[0]}='not-a-number' without naming "
            f"the parameter: {exc}. Rule: the message names the parameter, the value and what "
            "it accepts; fix: raise ValueError(f'{name}: {param} must be ..., got {value!r}')"
        ) from exc
    raise AssertionError(
        f"{_name(factory)}.check_params accepted {typed[0]}='not-a-number' (a number is "
        "due). Rule: check_params rejects values a run cannot use, before any training; fix: "
        "call BaseDetector.check_params from yours (it checks the kinds from __init__)"
    )


def check_fit_returns_self(factory: Factory, params: Params = None) -> None:
    """``fit(X)`` returns the detector itself."""
    det = _build(factory, _params(factory, params))
    _fit(det, make_signal())


def check_score_before_fit_raises(factory: Factory, params: Params = None) -> None:
    """``score`` before ``fit`` raises :class:`benchbench.detector.NotFittedError`."""
    det = _build(factory, _params(factory, params))
    try:
        det.score(make_signal())
    except NotFittedError:
        return
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(
            f"{_name(factory)}.score before fit raised {type(exc).__name__}: {exc}, not "
            "NotFittedError. Rule: scoring an unfitted detector raises "
            "benchbench.detector.NotFittedError; fix: call self._validate(X, fitting=False) first "
            "in score (it raises NotFittedError)"
        ) from exc
    raise AssertionError(
        f"{_name(factory)}.score before fit returned scores. Rule: scoring an unfitted detector "
        "raises NotFittedError; fix: call self._validate(X, fitting=False) first in score"
    )


def check_scores_shape_and_finite(factory: Factory, params: Params = None) -> None:
    """Scores of a signal of another length than the training one: ``(n,)`` and finite."""
    det = _fit(_build(factory, _params(factory, params)), make_signal())
    _scores(det, make_signal(300, seed=3), "300-step test signal after a 400-step fit")
    _scores(det, make_signal(), "the training signal")


def check_same_seed_same_scores(factory: Factory, params: Params = None) -> None:
    """Two fresh instances with the same ``random_state`` give identical scores on the CPU."""
    name = _name(factory)
    given = _params(factory, params, cpu="force")
    if "random_state" in _init_params(factory):
        given.setdefault("random_state", 0)
    X, T = make_signal(), make_signal(seed=2)
    a = _scores(_fit(_build(factory, given), X), T, "run 1")
    b = _scores(_fit(_build(factory, given), X), T, "run 2")
    if not np.array_equal(a, b):
        worst = float(np.max(np.abs(a - b)))
        raise AssertionError(
            f"{name}: two fits with the same random_state give different scores (largest "
            f"difference {worst:.3g}). Rule: same seed + same data + CPU => identical scores; "
            "fix: draw all randomness from random_state (e.g. inside "
            "benchbench.torchkit.seeded(self.random_state)), not from global or unseeded state"
        )


def check_refit_replaces_state(factory: Factory, params: Params = None) -> None:
    """Fitting on A then on B gives the same scores and history as a fresh fit on B."""
    name = _name(factory)
    given = _params(factory, params)
    A = make_signal(350, seed=5, period=25.0, noise=0.2) * 0.5 + 0.3
    B, T = make_signal(seed=6), make_signal(seed=7)
    refit = _build(factory, given)
    _fit(refit, A)
    _fit(refit, B)
    fresh = _fit(_build(factory, given), B)
    a, b = _scores(refit, T, "refitted"), _scores(fresh, T, "fresh")
    if not np.allclose(a, b, rtol=1e-6, atol=1e-9):
        worst = float(np.max(np.abs(a - b)))
        raise AssertionError(
            f"{name}: fit(A) then fit(B) scores differ from a fresh fit(B) (largest difference "
            f"{worst:.3g}). Rule: fit replaces every learned attribute; fix: rebuild models, "
            "optimisers and statistics from scratch in fit (no warm start, no caching on self)"
        )
    ha, hb = getattr(refit, "history_", None), getattr(fresh, "history_", None)
    if isinstance(ha, dict) and isinstance(hb, dict):
        la = {k: len(v) for k, v in ha.items()}
        lb = {k: len(v) for k, v in hb.items()}
        if la != lb:
            raise AssertionError(
                f"{name}: after a refit history_ holds {la} values, a fresh fit {lb}. Rule: "
                "history_ covers the last fit only; fix: call self._start_history() in fit"
            )


def _check_channels(factory: Factory, params: Params, n_channels: int) -> None:
    name = _name(factory)
    X = make_signal(n_channels=n_channels)
    T = make_signal(n_channels=n_channels, seed=4)
    try:
        det = _fit(_build(factory, _params(factory, params)), X)
        _scores(det, T, f"{n_channels}-channel signal")
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(
            f"{name} fails on a {n_channels}-channel signal: {type(exc).__name__}: {exc}. Rule: "
            "detectors take X shaped (n_timesteps, n_channels) for any n_channels >= 1; fix: "
            "size the model's input and output from X.shape[1] in fit"
        ) from exc
    if getattr(det, "n_channels_", n_channels) != n_channels:
        raise AssertionError(
            f"{name}: n_channels_ is {det.n_channels_} after fitting {n_channels} channels. "
            "Rule: n_channels_ records the fitted channel count; fix: use self._validate(X, "
            "fitting=True)"
        )
    other = make_signal(n_channels=n_channels + 1, seed=4)
    _expect_input_error(
        lambda: det.score(other),
        f"{name}.score with {n_channels + 1} channels after fitting {n_channels}",
        "scoring another channel count than fitted raises DetectorInputError",
        "use self._validate(X, fitting=False) in score",
    )


def check_single_channel(factory: Factory, params: Params = None) -> None:
    """Fits and scores a 1-channel signal ``(n, 1)``."""
    _check_channels(factory, params, 1)


def check_multi_channel(factory: Factory, params: Params = None) -> None:
    """Fits and scores a 3-channel signal ``(n, 3)``."""
    _check_channels(factory, params, 3)


def check_short_input_raises(factory: Factory, params: Params = None) -> None:
    """Input shorter than ``min_length()`` raises DetectorInputError mentioning the length."""
    name = _name(factory)
    det = _build(factory, _params(factory, params))
    need = int(det.min_length())
    n = max(need - 1, 1)
    if n >= need:
        return  # a detector accepting a single timestep has nothing too short
    rule = f"fit/score of fewer than min_length() = {need} timesteps raise DetectorInputError"
    fix = "call self._validate(X, ...) first and make min_length() return the real minimum"
    message = _expect_input_error(
        lambda: det.fit(make_signal(n)), f"{name}.fit on {n} timesteps", rule, fix
    )
    if str(n) not in message:
        raise AssertionError(
            f"{name}.fit on {n} timesteps raised DetectorInputError({message!r}), which does not "
            f"mention the length {n}. Rule: the message says how long the input is and how long "
            "it must be; fix: use self._validate"
        )
    det = _fit(_build(factory, _params(factory, params)), make_signal())
    message = _expect_input_error(
        lambda: det.score(make_signal(n)), f"{name}.score on {n} timesteps", rule, fix
    )
    if str(n) not in message:
        raise AssertionError(
            f"{name}.score on {n} timesteps raised DetectorInputError({message!r}), which does "
            f"not mention the length {n}; fix: use self._validate"
        )


def check_nan_input_raises(factory: Factory, params: Params = None) -> None:
    """NaN in the input of ``fit`` or ``score`` raises DetectorInputError."""
    name = _name(factory)
    X = make_signal()
    X[123, 0] = np.nan
    rule = "NaN or infinite input raises DetectorInputError (the runner imputes first)"
    fix = "call self._validate(X, ...) at the start of fit and score"
    _expect_input_error(
        lambda: _build(factory, _params(factory, params)).fit(X),
        f"{name}.fit with a NaN",
        rule,
        fix,
    )
    det = _fit(_build(factory, _params(factory, params)), make_signal())
    T = make_signal(seed=2)
    T[50, 0] = np.inf
    _expect_input_error(lambda: det.score(T), f"{name}.score with an inf", rule, fix)


def check_history_recorded(factory: Factory, params: Params = None) -> None:
    """After ``fit``, ``history_`` is a dict of lists of finite floats (may be empty)."""
    name = _name(factory)
    det = _fit(_build(factory, _params(factory, params)), make_signal())
    fix = "call self._start_history() in fit and self._log_epoch(...) once per epoch"
    history = getattr(det, "history_", None)
    if not isinstance(history, dict):
        raise AssertionError(
            f"{name}: history_ after fit is {type(history).__name__}, not a dict. Rule: fit "
            f"records per-epoch losses in history_ = {{loss_name: [value per epoch]}}; fix: {fix}"
        )
    for key, values in history.items():
        if not isinstance(key, str) or not isinstance(values, list):
            raise AssertionError(
                f"{name}: history_[{key!r}] is {type(values).__name__}; Rule: history_ maps "
                f"loss names (str) to lists; fix: {fix}"
            )
        bad = [
            v
            for v in values
            if isinstance(v, bool)
            or not isinstance(v, (int, float, np.floating, np.integer))
            or not np.isfinite(v)
        ]
        if bad:
            raise AssertionError(
                f"{name}: history_[{key!r}] holds {bad[:3]!r}. Rule: losses are finite floats "
                f"(convert tensors with .item()); fix: {fix}, and stop on a diverging loss"
            )


def check_does_not_mutate_input(factory: Factory, params: Params = None) -> None:
    """``fit`` and ``score`` leave their input arrays unchanged."""
    name = _name(factory)
    X, T = make_signal(), make_signal(seed=2)
    X0, T0 = X.copy(), T.copy()
    det = _fit(_build(factory, _params(factory, params)), X)
    det.score(T)
    for arr, orig, what in ((X, X0, "fit"), (T, T0, "score")):
        if not np.array_equal(arr, orig):
            raise AssertionError(
                f"{name}.{what} changed its input array. Rule: detectors never modify their "
                "input in place; fix: work on a copy (np.array(X, dtype=float) copies)"
            )


def check_higher_score_on_anomaly(factory: Factory, params: Params = None) -> None:
    """On a sine with an injected spike, the mean score inside the spike exceeds the median."""
    name = _name(factory)
    X = make_signal()
    T, mask = _spiked()
    scores = _scores(_fit(_build(factory, _params(factory, params)), X), T, "spiked signal")
    inside, typical = float(scores[mask].mean()), float(np.median(scores))
    if not inside > typical:
        raise AssertionError(
            f"{name}: mean score on an injected spike ({inside:.4g}) is not above the median "
            f"score ({typical:.4g}). Rule: higher score = more anomalous; fix: return the "
            "anomaly score, not its negation (e.g. reconstruction error, not likelihood)"
        )


def check_constant_train(factory: Factory, params: Params = None) -> None:
    """A constant training signal fits, and a departure from its level scores highest.

    The training signal is 400 steps of 0 (what the runner's preprocessing makes of a train part
    that sits at one level); the test signal is 0 but for a 20-step move to 0.5 at steps
    200..219. The scores must be finite, and no step outside the move may score above the highest
    score inside it. Ties pass: a detector that gives every step one score after a constant fit
    (an isolation forest cannot split identical samples) ranks nothing above the move.
    """
    name = _name(factory)
    rule = ("a training part that sits at one level is valid input (real telemetry has such "
            "channels) and a departure from that level is the most anomalous thing in the test "
            "part")
    guard = ("do not divide by the training spread (std, range) unguarded: add an epsilon, or "
             "fall back to a unit scale when it is 0")
    T, mask = _departure()
    det = _build(factory, _params(factory, params))
    what = "fit on a constant signal"
    try:
        _fit(det, np.zeros((_N, 1)))
        what = "score after a fit on a constant signal"
        scores = check_scores(det.score(T), len(T),
                              f"{name} (departure from a constant training level)")
    except AssertionError:
        raise
    except ScoreError as exc:
        raise AssertionError(f"{exc}. Rule: {rule}; fix: {guard}") from exc
    except Exception as exc:
        raise AssertionError(
            f"{name}.{what} raised {type(exc).__name__}: {exc}. Rule: {rule}; fix: {guard}"
        ) from exc
    inside, outside = float(scores[mask].max()), float(scores[~mask].max())
    if not inside >= outside:
        top = int(np.flatnonzero(~mask)[np.argmax(scores[~mask])])
        first, last = np.flatnonzero(mask)[[0, -1]]
        raise AssertionError(
            f"{name}: after fitting a constant signal, step {top} scores {outside:.4g}, above "
            f"every step of the departure from that level (steps {first}..{last}, highest "
            f"there {inside:.4g}). Rule: {rule}; fix: score the distance from what training saw "
            "(reconstruction error, likelihood), and keep a zero training spread from "
            "flattening or overflowing the scores"
        )


#: The checks in the order :func:`run_checks` runs them.
CHECKS: dict[str, Callable[[Factory, Params], None]] = {
    "init_stores_params": check_init_stores_params,
    "no_fitted_attributes_in_init": check_no_fitted_attributes_in_init,
    "set_params": check_set_params,
    "params_reject_wrong_type": check_params_reject_wrong_type,
    "fit_returns_self": check_fit_returns_self,
    "score_before_fit_raises": check_score_before_fit_raises,
    "scores_shape_and_finite": check_scores_shape_and_finite,
    "same_seed_same_scores": check_same_seed_same_scores,
    "refit_replaces_state": check_refit_replaces_state,
    "single_channel": check_single_channel,
    "multi_channel": check_multi_channel,
    "short_input_raises": check_short_input_raises,
    "nan_input_raises": check_nan_input_raises,
    "history_recorded": check_history_recorded,
    "does_not_mutate_input": check_does_not_mutate_input,
    "higher_score_on_anomaly": check_higher_score_on_anomaly,
    "constant_train": check_constant_train,
}


def _guarded(check_name: str, check: Callable[[Factory, Params], None]):
    """``check``, with any exception other than AssertionError (the detector crashed inside the
    check) turned into an AssertionError naming the check, its rule, the crash and where."""

    @functools.wraps(check)
    def guarded(factory: Factory, params: Params = None) -> None:
        try:
            check(factory, params)
        except AssertionError:
            raise
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            rule = (check.__doc__ or "").strip().splitlines()[0].rstrip(".")
            raise AssertionError(
                f"{_name(factory)} crashed in check {check_name} with {type(exc).__name__}: "
                f"{exc} (at {frame.filename}:{frame.lineno}, in {frame.name}). Rule checked: "
                f"{rule}; fix: make fit and score work on the kit's signals "
                "(benchbench.testing.make_signal: 300 to 400 float64 steps, 1 or 3 channels, "
                "about [-1, 1]) with the params given to the kit"
            ) from exc

    return guarded


def run_checks(factory: Factory, params: Params = None) -> None:
    """Run every check of :data:`CHECKS` on ``factory``.

    Raises:
        AssertionError: one or more checks failed; the message lists each failure (a check
            that crashed with another exception counts as failed, with where it crashed).
    """
    failures = []
    for check_name, check in CHECKS.items():
        try:
            _guarded(check_name, check)(factory, params)
        except AssertionError as exc:
            failures.append(f"- {check_name}: {exc}")
    if failures:
        raise AssertionError(
            f"{_name(factory)} failed {len(failures)} of {len(CHECKS)} conformance checks:\n"
            + "\n".join(failures)
        )


def parametrize_checks(factory: Factory, **params: Any):
    """A ``pytest.mark.parametrize("check", ...)`` decorator over every check of :data:`CHECKS`.

    Each value is the check bound to ``factory`` and ``params`` (a zero-argument callable) and
    its test id is the check's name, e.g. ``test_conformance[same_seed_same_scores]``. A check
    fails with an AssertionError naming the rule and the fix; a detector that crashes inside a
    check fails it the same way, with the crash and where it happened.
    """
    import pytest  # lazily: benchbench.testing imports without pytest installed

    cases = [
        pytest.param(functools.partial(_guarded(check_name, check), factory, dict(params)),
                     id=check_name)
        for check_name, check in CHECKS.items()
    ]
    return pytest.mark.parametrize("check", cases)
