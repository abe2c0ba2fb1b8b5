"""Every conformance check of benchbench.testing on the built-in detectors (fast parameters), and
scikit-learn's estimator API on them (``sklearn.base.clone``, ``get_params``, ``repr``)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from benchbench_plugins.autoencoder import LSTMAutoencoder
from benchbench_plugins.zscore import RollingZScore

from benchbench.testing import check_constant_train, make_signal, parametrize_checks
from benchbench.windowed import WindowedDetector

AUTOENCODER_FAST = dict(window_size=16, hidden_size=8, epochs=2, batch_size=32, train_step=4)


@parametrize_checks(LSTMAutoencoder, **AUTOENCODER_FAST)
def test_autoencoder_conformance(check):
    check()


@parametrize_checks(RollingZScore, window=20)
def test_zscore_conformance(check):
    check()


# -- scikit-learn's estimator API (BaseDetector borrows BaseEstimator's methods) --------------
def _registered_detectors():
    from benchbench.plugins import load_registries

    return load_registries(load_entry_points=False).detectors.entries()


@pytest.mark.parametrize("entry", _registered_detectors(), ids=lambda entry: entry.name)
def test_sklearn_clone_works_on_every_built_in_detector(entry):
    clone = pytest.importorskip("sklearn.base").clone
    params = dict(entry.options.get("quick_params") or {}, random_state=3)
    det = entry.obj(**params)
    det.n_channels_ = 1  # as if fitted: clone keeps the parameters only
    copy = clone(det)
    assert type(copy) is type(det) and copy is not det
    assert copy.get_params() == det.get_params()
    assert not hasattr(copy, "n_channels_")


@pytest.mark.slow
@pytest.mark.parametrize("entry", _registered_detectors(), ids=lambda entry: entry.name)
def test_constant_train_with_the_quick_params_of_every_built_in_detector(entry):
    """The check also holds with the ``--quick`` parameters (the fast ones above already run it
    for every detector through the conformance tests of each plugin)."""
    pytest.importorskip("torch")
    check_constant_train(entry.obj, entry.options.get("quick_params") or {})


def test_sklearn_clone_works_on_the_example_plugin():
    clone = pytest.importorskip("sklearn.base").clone
    example = pytest.importorskip("benchbench_isolation_forest")
    det = example.WindowIsolationForest(window_size=12)
    assert clone(det).get_params() == det.get_params()


def test_clone_of_a_fitted_detector_scores_like_a_fresh_one():
    clone = pytest.importorskip("sklearn.base").clone
    X = make_signal()
    fitted = LSTMAutoencoder(**AUTOENCODER_FAST, device="cpu").fit(X)
    copy = clone(fitted)
    assert not hasattr(copy, "model_")
    np.testing.assert_array_equal(copy.fit(X).score(X), fitted.score(X))


def test_params_repr_and_unknown_names():
    det = RollingZScore(window=30)
    assert list(det.get_params()) == ["window", "min_periods", "eps", "random_state", "device"]
    assert repr(det) == "RollingZScore(window=30)"  # scikit-learn's: the non-default values
    assert repr(RollingZScore()) == "RollingZScore()"
    assert det.set_params(eps=0.5) is det and det.eps == 0.5
    with pytest.raises(ValueError, match="RollingZScore has no parameter 'windw'; valid "
                                         "parameters: device, eps, min_periods"):
        det.set_params(min_periods=2, windw=3)
    assert det.min_periods == 5  # nothing was set


def test_importing_the_detectors_imports_neither_sklearn_nor_torch():
    code = (
        "import sys\n"
        "from benchbench.plugins import load_registries\n"
        "for entry in load_registries(load_entry_points=False).detectors.entries():\n"
        "    entry.obj()\n"
        "heavy = sorted({'sklearn', 'torch'} & set(sys.modules))\n"
        "assert not heavy, f'building the detectors imported {heavy}'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- WindowedDetector: a new window detector supplies four methods ----------------------------
class LinearWindowAutoencoder(WindowedDetector):
    """The smallest WindowedDetector: a linear autoencoder of whole windows (4-value code)."""

    def __init__(self, window_size=16, epochs=20, batch_size=16, learning_rate=1e-2,
                 train_step=2, score_step=1, smoothing_window=None, grad_clip=None,
                 device="auto", random_state=0):
        self._store(locals())

    def _check_params(self):
        self._check_positive_ints("window_size", "epochs", "batch_size", "train_step")
        self._check_score_step("reconstruction")

    def _build_network(self, n_channels):
        from torch import nn

        size = int(self.window_size) * n_channels
        return nn.Sequential(nn.Flatten(), nn.Linear(size, 4), nn.Linear(4, size),
                             nn.Unflatten(1, (int(self.window_size), n_channels)))

    def _batch_loss(self, model, batch, step, n_steps):
        loss = (model(batch) - batch).square().mean()
        return loss, {"mse": loss}

    def _timestep_scores(self, arr):
        return np.abs(arr - self._per_timestep(arr, self.model_)).mean(axis=1)


@parametrize_checks(LinearWindowAutoencoder)
def test_a_minimal_windowed_detector_passes_every_check(check):
    pytest.importorskip("torch")
    check()


def test_windowed_detector_counts_optimiser_steps():
    pytest.importorskip("torch")
    seen = []

    class Recording(LinearWindowAutoencoder):
        def _batch_loss(self, model, batch, step, n_steps):
            seen.append((step, n_steps, len(batch)))
            return super()._batch_loss(model, batch, step, n_steps)

    det = Recording(epochs=3, batch_size=16, train_step=8, device="cpu").fit(make_signal(200))
    assert det.n_train_windows_ == 24  # starts 0, 8, ..., 184
    assert [s for s, _, _ in seen] == list(range(6)) and {n for _, n, _ in seen} == {6}
    assert [b for _, _, b in seen] == [16, 8] * 3
    assert len(det.history_["mse"]) == 3 and not det.model_.training
