"""The conformance kit catches broken detectors, with messages that say what to fix."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from benchbench import testing
from benchbench.detector import BaseDetector
from benchbench.testing import CHECKS, parametrize_checks, run_checks


class Good(BaseDetector):
    """A minimal detector that follows every rule: deviation from the (jittered) training median."""

    def __init__(self, jitter=1e-3, random_state=0):
        self.jitter = jitter
        self.random_state = random_state

    def fit(self, X, y=None):
        X = self._validate(X, fitting=True)
        self._start_history()
        rng = np.random.default_rng(self.random_state)
        self.center_ = np.median(X, axis=0) + self.jitter * rng.standard_normal(X.shape[1])
        self._log_epoch(0, 1, {"loss": float(np.abs(X - self.center_).mean())})
        return self

    def score(self, X):
        X = self._validate(X, fitting=False)
        return np.abs(X - self.center_).max(axis=1)


class LogicInInit(Good):
    def __init__(self, jitter=1e-3, random_state=0):
        self.jitter = float(jitter)
        self.random_state = random_state


class ExtraAttributeInInit(Good):
    def __init__(self, jitter=1e-3, random_state=0):
        self.jitter = jitter
        self.random_state = random_state
        self.rng = np.random.default_rng(random_state)


class FittedAttributeInInit(Good):
    def __init__(self, jitter=1e-3, random_state=0):
        self.jitter = jitter
        self.random_state = random_state
        self.center_ = None


class NaNScores(Good):
    def score(self, X):
        s = super().score(X)
        s[7] = np.nan
        return s


class WrongShape(Good):
    def score(self, X):
        return super().score(X)[:-3]


class IgnoresRandomState(Good):
    def fit(self, X, y=None):
        X = self._validate(X, fitting=True)
        self._start_history()
        rng = np.random.default_rng()  # unseeded: a new draw every fit
        self.center_ = np.median(X, axis=0) + self.jitter * rng.standard_normal(X.shape[1])
        return self


class KeepsStateAcrossRefits(Good):
    def fit(self, X, y=None):
        X = self._validate(X, fitting=True)
        if not hasattr(self, "history_"):
            self._start_history()
        previous = getattr(self, "center_", 0.0)
        self.center_ = 0.5 * (np.median(X, axis=0) + previous)  # "warm start"
        self._log_epoch(0, 1, {"loss": 1.0})
        return self


class AccumulatesHistory(Good):
    def fit(self, X, y=None):
        if not hasattr(self, "history_"):
            self._start_history()
        X = self._validate(X, fitting=True)
        self.center_ = np.median(X, axis=0)
        self._log_epoch(0, 1, {"loss": 1.0})
        return self


class ReturnsNone(Good):
    def fit(self, X, y=None):
        super().fit(X)


class NoValidation(Good):
    """Skips _validate: accepts NaN, short inputs, and scores before fit with an AttributeError."""

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self._start_history()
        self.center_ = np.nanmedian(X, axis=0)
        return self

    def score(self, X):
        return np.abs(np.asarray(X) - self.center_).max(axis=1)


class MutatesInput(Good):
    def fit(self, X, y=None):
        X -= 0.0  # harmless on values...
        X[0, 0] = 99.0  # ...but this writes into the caller's array
        return super().fit(X)


class NegatedScores(Good):
    def score(self, X):
        return -super().score(X)


class NaNHistory(Good):
    def fit(self, X, y=None):
        super().fit(X)
        self.history_["loss"].append(float("nan"))
        return self


class SilentShortInput(Good):
    def min_length(self):
        return 50

    def fit(self, X, y=None):
        if len(X) < self.min_length():
            raise ValueError("too short")
        return super().fit(X)


class UnhelpfulShortMessage(Good):
    def min_length(self):
        return 50

    def _validate(self, X, *, fitting):
        from benchbench.detector import DetectorInputError

        if len(X) < self.min_length():
            raise DetectorInputError("bad input")
        return super()._validate(X, fitting=fitting)


class StarKwargs(Good):
    def __init__(self, jitter=1e-3, random_state=0, **kwargs):
        self.jitter = jitter
        self.random_state = random_state


class OnlyOneChannel(Good):
    def fit(self, X, y=None):
        X = self._validate(X, fitting=True)
        if X.shape[1] != 1:
            raise ValueError("only univariate")
        return super().fit(X)


class DividesBySpread(Good):
    """Standardises by the training std, unguarded: a constant training signal gives inf."""

    def fit(self, X, y=None):
        super().fit(X)
        self.spread_ = np.asarray(X, dtype=float).std(axis=0)
        return self

    def score(self, X):
        with np.errstate(divide="ignore", invalid="ignore"):
            return super().score(X) / self.spread_.max()


class RejectsConstant(Good):
    def fit(self, X, y=None):
        if np.ptp(np.asarray(X), axis=0).max() == 0:
            raise ValueError("nothing to learn from a constant signal")
        return super().fit(X)


BROKEN = [
    (LogicInInit, "init_stores_params", "no logic"),
    (ExtraAttributeInInit, "init_stores_params", "not parameters: ['rng']"),
    (StarKwargs, "init_stores_params", "*"),
    (FittedAttributeInInit, "no_fitted_attributes_in_init", "['center_']"),
    (ReturnsNone, "fit_returns_self", "return self"),
    (NoValidation, "score_before_fit_raises", "NotFittedError"),
    (NaNScores, "scores_shape_and_finite", "NaN or infinite"),
    (WrongShape, "scores_shape_and_finite", "expected (300,)"),
    (IgnoresRandomState, "same_seed_same_scores", "random_state"),
    (KeepsStateAcrossRefits, "refit_replaces_state", "fit replaces every learned attribute"),
    (AccumulatesHistory, "refit_replaces_state", "_start_history"),
    (OnlyOneChannel, "multi_channel", "ValueError"),
    (SilentShortInput, "short_input_raises", "DetectorInputError"),
    (UnhelpfulShortMessage, "short_input_raises", "does not mention the length 49"),
    (NoValidation, "nan_input_raises", "raised nothing"),
    (NaNHistory, "history_recorded", "finite floats"),
    (MutatesInput, "does_not_mutate_input", "changed its input"),
    (NegatedScores, "higher_score_on_anomaly", "higher score = more anomalous"),
    (NegatedScores, "constant_train", "above every step of the departure"),
    (DividesBySpread, "constant_train", "returned 300 NaN or infinite values. Rule: a training"),
    (RejectsConstant, "constant_train", "fit on a constant signal raised ValueError"),
]


@pytest.mark.parametrize(
    ("factory", "check_name", "fragment"),
    BROKEN,
    ids=[f"{f.__name__}-{c}" for f, c, _ in BROKEN],
)
def test_broken_detector_fails_its_check(factory, check_name, fragment):
    with pytest.raises(AssertionError) as info:
        CHECKS[check_name](factory, {})
    message = str(info.value)
    assert fragment in message
    assert "Rule" in message or "rule" in message.lower()
    assert "fix" in message


@parametrize_checks(Good, jitter=1e-3)
def test_good_detector_passes(check):
    check()


def test_run_checks_passes_a_good_detector():
    run_checks(Good, {"jitter": 1e-3})


def test_run_checks_lists_every_failure():
    with pytest.raises(AssertionError) as info:
        run_checks(NaNScores)
    message = str(info.value)
    assert "NaNScores failed" in message
    assert "- scores_shape_and_finite:" in message
    assert "- same_seed_same_scores:" in message  # also sees the NaN scores
    assert "- init_stores_params" not in message


def test_run_checks_reports_crashes():
    class Crashes(Good):
        def fit(self, X, y=None):
            raise RuntimeError("boom")

    with pytest.raises(AssertionError, match="boom"):
        run_checks(Crashes)


def test_a_crash_inside_a_parametrized_check_names_check_rule_and_place():
    class TypeErrorInFit(Good):
        def fit(self, X, y=None):
            return super().fit(X) + "oops"

    values = parametrize_checks(TypeErrorInFit).mark.args[1]
    bound = {p.id: p.values[0] for p in values}["fit_returns_self"]
    with pytest.raises(AssertionError) as info:
        bound()
    message = str(info.value)
    assert "crashed in check fit_returns_self with TypeError" in message
    assert "Rule checked: ``fit(X)`` returns the detector itself; fix:" in message
    assert "test_testing_kit.py" in message and "fix:" in message


def test_parametrize_checks_ids_and_callables():
    decorator = parametrize_checks(Good, jitter=0.5)
    mark = decorator.mark
    assert mark.name == "parametrize"
    argnames, values = mark.args[0], mark.args[1]
    assert argnames == "check"
    assert [p.id for p in values] == list(CHECKS)
    bound = values[0].values[0]
    assert bound.args == (Good, {"jitter": 0.5})
    bound()  # zero-argument callable


def test_make_signal_is_deterministic():
    a = testing.make_signal(100, n_channels=3, seed=4)
    assert a.shape == (100, 3)
    np.testing.assert_array_equal(a, testing.make_signal(100, n_channels=3, seed=4))
    assert np.abs(a).max() < 1.2


def test_testing_imports_without_pytest_or_torch():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["pytest"] = None  # any `import pytest` now fails
        import benchbench.testing as t
        assert "torch" not in sys.modules, "benchbench.testing imported torch"
        t.run_checks  # usable
        try:
            t.parametrize_checks(object)
        except ImportError:
            pass
        else:
            raise SystemExit("parametrize_checks should need pytest")
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
