"""The ``lstm_ar`` detector: quantisation, learning, scoring, conformance and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from benchbench_plugins import lstm_ar
from benchbench_plugins.lstm_ar import (
    QUICK_PARAMS,
    LSTMAutoregressive,
    dequantise,
    quantise,
)
from benchbench_plugins.lstm_ar.detector import _burn_in, _scoring_plan
from helpers import assert_imports_without_torch, assert_registers

from benchbench.data.preprocessing import fit_scaler, moving_average
from benchbench.data.synthetic import sine_with_spike
from benchbench.detector import DetectorInputError, NotFittedError, epoch_progress
from benchbench.testing import make_signal, parametrize_checks

torch = pytest.importorskip("torch")

# Small but learning: about 0.5 s per fit of 1,500 steps on one CPU thread.
FAST = dict(
    hidden_size=32, num_layers=1, seq_len=32, train_step=8, epochs=15, batch_size=32, device="cpu"
)
# Tiny: for the conformance kit and the error paths.
TINY = dict(hidden_size=8, num_layers=1, seq_len=16, train_step=8, epochs=3, batch_size=32)
SPIKE_AT = 800


def spiked_sine() -> tuple[np.ndarray, np.ndarray]:
    """``sine_with_spike`` of 1,500 steps (spike on 799-801), scaled like the runner does:
    train = test (the spike is in the training data too), min-max scaled to [-1, 1]."""
    signal = sine_with_spike(1500, SPIKE_AT)
    scaler = fit_scaler(signal.train)
    return scaler.transform(signal.train), scaler.transform(signal.test)


@pytest.fixture(scope="module")
def categorical() -> LSTMAutoregressive:
    return LSTMAutoregressive(**FAST).fit(spiked_sine()[0])


@pytest.fixture(scope="module")
def mog() -> LSTMAutoregressive:
    return LSTMAutoregressive(**FAST, head="mog", n_components=3).fit(spiked_sine()[0])


# -- import and registration ------------------------------------------------------------------
def test_importing_the_plugin_does_not_import_torch():
    # quantising (numpy only) works without it too
    assert_imports_without_torch(
        "benchbench_plugins.lstm_ar", "benchbench_plugins.lstm_ar.detector",
        then="from benchbench_plugins.lstm_ar import quantise, dequantise\n"
             "dequantise(quantise([0.5], -1.0, 1.0), -1.0, 1.0)",
    )


def test_registration_and_quick_params():
    assert_registers(lstm_ar, "lstm_ar", LSTMAutoregressive, QUICK_PARAMS)


# -- quantisation -----------------------------------------------------------------------------
@pytest.mark.parametrize("levels", [2, 3, 16, 256, 1000])
@pytest.mark.parametrize(("lo", "hi"), [(-1.0, 1.0), (-0.37, 2.5), (4.0, 4.001)])
def test_quantise_round_trip_within_half_a_level(levels, lo, hi):
    values = np.linspace(lo, hi, 20_011)
    codes = quantise(values, lo, hi, levels)
    assert codes.dtype == np.int64
    assert codes.min() == 0 and codes.max() == levels - 1
    assert np.all(np.diff(codes) >= 0)  # monotonic
    half = (hi - lo) / (2 * levels)
    back = dequantise(codes, lo, hi, levels)
    assert np.max(np.abs(back - values)) <= half * (1 + 1e-9)
    # bin centres map to their own level
    centres = dequantise(np.arange(levels), lo, hi, levels)
    np.testing.assert_array_equal(quantise(centres, lo, hi, levels), np.arange(levels))


def test_quantise_round_trip_property():
    hypothesis = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(
        lo=st.floats(-1e3, 1e3),
        width=st.floats(1e-3, 1e3),
        frac=st.floats(0.0, 1.0),
        levels=st.integers(2, 4096),
    )
    def check(lo, width, frac, levels):
        hi = lo + width
        value = min(lo + frac * width, hi)
        code = quantise(value, lo, hi, levels)
        assert 0 <= code <= levels - 1
        assert abs(dequantise(code, lo, hi, levels) - value) <= width / (2 * levels) * (1 + 1e-6)

    check()


def test_quantise_clips_outside_the_range_and_broadcasts_per_channel():
    lo, hi = np.array([-1.0, 0.0]), np.array([1.0, 10.0])
    values = np.array([[-5.0, -1.0], [0.0, 5.0], [7.0, 1e9]])
    codes = quantise(values, lo, hi, 256)
    np.testing.assert_array_equal(codes, [[0, 0], [128, 128], [255, 255]])
    assert codes.shape == (3, 2)
    back = dequantise(codes, lo, hi, 256)
    np.testing.assert_allclose(back[0], lo + (hi - lo) / 512)  # the lowest bin's centre
    np.testing.assert_allclose(back[2], hi - (hi - lo) / 512)  # the highest bin's centre


def test_quantise_errors():
    with pytest.raises(ValueError, match="levels"):
        quantise([0.0], -1, 1, levels=1)
    with pytest.raises(ValueError, match="levels"):
        quantise([0.0], -1, 1, levels=2.5)
    with pytest.raises(ValueError, match="hi must exceed lo"):
        quantise([0.0], 1, 1)
    with pytest.raises(ValueError, match="NaN"):
        quantise([0.0, np.nan], -1, 1)
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        dequantise([256], -1, 1, 256)
    with pytest.raises(ValueError, match="integers"):
        dequantise([0.5], -1, 1, 256)
    np.testing.assert_allclose(dequantise([3.0], 0, 4, 4), [3.5])  # integral floats are fine


# -- learning and scoring ---------------------------------------------------------------------
def test_categorical_learns_below_the_uniform_nll(categorical):
    X, _ = spiked_sine()
    losses = categorical.history_["nll"]
    assert len(losses) == FAST["epochs"]
    assert losses[-1] < losses[0] - 1.0
    nll = categorical.step_nll(X)
    assert nll.shape == (len(X), 1) and np.all(nll >= 0)
    assert nll.mean() < math.log(256) - 1.0  # far better than the uniform distribution


def test_mog_nll_decreases_over_epochs(mog):
    losses = mog.history_["nll"]
    assert len(losses) == FAST["epochs"]
    assert losses[-1] < losses[0] - 1.0
    assert min(losses[-3:]) < min(losses[:3])
    X, _ = spiked_sine()
    assert mog.step_nll(X).mean() < losses[0] - 1.0


@pytest.mark.parametrize("head", ["categorical", "mog"])
def test_score_peaks_at_the_spike(head, categorical, mog):
    det = categorical if head == "categorical" else mog
    _, T = spiked_sine()
    scores = det.score(T)
    assert scores.shape == (len(T),) and np.all(np.isfinite(scores))
    assert abs(int(scores.argmax()) - SPIKE_AT) <= 3


def test_fitted_state(categorical):
    assert categorical.device_ == "cpu"
    assert categorical.n_channels_ == 1
    X, _ = spiked_sine()
    assert categorical.lo_[0] == X.min() and categorical.hi_[0] == X.max()
    expected = len(range(0, 1500 - 32 + 1, 8)) + 1  # plus the window ending at the last step
    assert categorical.n_train_windows_ == expected
    assert not categorical.model_.training


def test_scoring_plan_gives_every_step_context():
    for n, seq_len in [(32, 32), (33, 32), (100, 32), (1000, 64), (1001, 7), (50, 2)]:
        starts, window = _scoring_plan(n, seq_len)
        t = np.arange(n)
        pos = t - starts[window]
        assert np.all((pos >= 0) & (pos < seq_len))
        assert np.all(starts + seq_len <= n) and starts[-1] == n - seq_len
        warmup = seq_len // 2
        assert np.all(pos >= np.minimum(t, warmup))  # at least warmup steps of context


def test_scores_are_causal_and_first_steps_get_the_typical_nll(categorical):
    _, T = spiked_sine()
    base = categorical.step_nll(T)
    changed = T.copy()
    changed[600] += 0.5
    after = categorical.step_nll(changed)
    burn = _burn_in(FAST["seq_len"])
    np.testing.assert_array_equal(after[burn:600], base[burn:600])  # no step sees the future
    assert after[600, 0] > base[600, 0]
    np.testing.assert_array_equal(base[:burn, 0], np.median(base[burn:, 0]))


def test_smoothing():
    values = np.array([0.0, 0.0, 3.0, 0.0, 0.0])
    np.testing.assert_allclose(moving_average(values, 3), [0, 1, 1, 1, 0])
    np.testing.assert_allclose(moving_average(values, 1), values)
    X = make_signal(200)
    raw = LSTMAutoregressive(**{**TINY, "smoothing_window": None}, device="cpu").fit(X)
    smooth = LSTMAutoregressive(**{**TINY, "smoothing_window": 7}, device="cpu").fit(X)
    np.testing.assert_allclose(raw.score(X), raw.step_nll(X)[:, 0])
    np.testing.assert_allclose(smooth.score(X), moving_average(raw.score(X), 7))


@pytest.mark.parametrize("head", ["categorical", "mog"])
def test_multichannel_sums_channels_and_reports_epochs(head):
    X = make_signal(200, n_channels=3)
    seen = []
    with epoch_progress(lambda epoch, n, losses: seen.append((epoch, n, set(losses)))):
        det = LSTMAutoregressive(**TINY, head=head, smoothing_window=1, device="cpu").fit(X)
    assert seen == [(e, 3, {"nll"}) for e in range(3)]
    nll = det.step_nll(X)
    assert nll.shape == (200, 3)
    np.testing.assert_allclose(det.score(X), nll.sum(axis=1))
    with pytest.raises(DetectorInputError, match="channels"):
        det.score(X[:, :2])


@pytest.mark.parametrize("head", ["categorical", "mog"])
def test_out_of_range_and_constant_channels_stay_finite(head):
    X = make_signal(200, n_channels=2)
    X[:, 1] = 0.25  # a channel constant in training
    det = LSTMAutoregressive(**TINY, head=head, device="cpu").fit(X)
    np.testing.assert_allclose([det.lo_[1], det.hi_[1]], [-0.75, 1.25])  # widened by +-1
    T = X.copy()
    T[100, 0] = 1e30  # far outside the training range
    T[150, 1] = -1e30
    nll = det.step_nll(T)
    assert np.all(np.isfinite(nll)) and np.all(np.isfinite(det.score(T)))
    if head == "mog":  # the continuous head keeps the magnitude: these are the worst steps
        assert int(nll[:, 0].argmax()) == 100 and int(nll[:, 1].argmax()) == 150


# -- determinism and errors -------------------------------------------------------------------
@pytest.mark.parametrize("head", ["categorical", "mog"])
def test_cpu_determinism(head):
    params = {**TINY, "head": head, "device": "cpu"}
    X, T = make_signal(300), make_signal(300, seed=1)
    a = LSTMAutoregressive(**params, random_state=7).fit(X).score(T)
    b = LSTMAutoregressive(**params, random_state=7).fit(X).score(T)
    c = LSTMAutoregressive(**params, random_state=8).fit(X).score(T)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fit_leaves_global_torch_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    LSTMAutoregressive(**TINY, device="cpu").fit(make_signal(100))
    np.testing.assert_array_equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"head": "softmax"}, "unknown head 'softmax'.*'categorical', 'mog'"),
        ({"levels": 1}, "levels must be an integer >= 2"),
        ({"levels": 256.0}, "levels must be an integer >= 2"),
        ({"head": "mog", "n_components": 0}, "n_components must be an integer >= 1"),
        ({"seq_len": 1}, "seq_len must be >= 2"),
        ({"num_layers": 0}, "num_layers"),
        ({"learning_rate": 0}, "learning_rate must be > 0"),
        ({"learning_rate": "fast"}, "learning_rate must be > 0"),
        ({"smoothing_window": -1}, "smoothing_window"),
        ({"smoothing_window": 2.5}, "smoothing_window"),
    ],
)
def test_bad_hyperparameters_are_clear_errors(params, match):
    det = LSTMAutoregressive(**{**TINY, **params})  # __init__ accepts anything
    with pytest.raises(ValueError, match=match):
        det.fit(make_signal(100))
    assert not hasattr(det, "model_")


def test_input_errors(categorical):
    with pytest.raises(DetectorInputError, match="31 timesteps.*32"):
        LSTMAutoregressive(**FAST).fit(make_signal(31))
    with pytest.raises(DetectorInputError, match="10 timesteps"):
        categorical.score(make_signal(10))
    bad = make_signal(100)
    bad[5, 0] = np.nan
    with pytest.raises(DetectorInputError, match="NaN"):
        categorical.score(bad)
    with pytest.raises(NotFittedError):
        LSTMAutoregressive(**FAST).score(make_signal(100))
    with pytest.raises(NotFittedError):
        LSTMAutoregressive(**FAST).step_nll(make_signal(100))


def test_diverging_training_raises():
    det = LSTMAutoregressive(**{**TINY, "learning_rate": float("inf")}, device="cpu")
    with pytest.raises(FloatingPointError, match="LSTMAutoregressive.*epoch"):
        det.fit(make_signal(100))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        LSTMAutoregressive(**{**TINY, "device": "cuda"}).fit(make_signal(100))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("head", ["categorical", "mog"])
def test_cuda_matches_cpu_closely(head):
    X = make_signal(300)
    cpu = LSTMAutoregressive(**TINY, head=head, device="cpu").fit(X)
    gpu = LSTMAutoregressive(**TINY, head=head, device="cuda").fit(X)
    assert gpu.device_.startswith("cuda")
    np.testing.assert_allclose(gpu.score(X), cpu.score(X), rtol=1e-2, atol=1e-2)


# -- conformance kit --------------------------------------------------------------------------
@parametrize_checks(LSTMAutoregressive, **TINY)
def test_categorical_conformance(check):
    check()


@parametrize_checks(LSTMAutoregressive, **TINY, head="mog", n_components=3)
def test_mog_conformance(check):
    check()


# -- slow: default settings on a benchmark-sized signal ---------------------------------------
# Speed is measured by benchmarks/bench_lstm_ar.py, never asserted here.
@pytest.mark.slow
def test_default_settings_on_a_3000_step_signal():
    from benchbench.data.synthetic import make_signal as make_synthetic

    signal = make_synthetic("point_spikes", 3000, 4)  # spikes on 1262-1264 and 1958-1961
    scaler = fit_scaler(signal.train)
    X, T = scaler.transform(signal.train), scaler.transform(signal.test)
    det = LSTMAutoregressive(device="cpu").fit(X)
    losses = det.history_["nll"]
    assert len(losses) == 30 and losses[-1] < losses[0] - 1.5
    assert det.step_nll(T).mean() < math.log(256) - 1.5
    scores = det.score(T)
    assert np.all(np.isfinite(scores))
    top = np.quantile(scores, 0.98)
    for start, end in signal.anomalies:
        assert scores[int(start) : int(end) + 1].max() > top, (start, end)
    assert min(abs(int(scores.argmax()) - int(s)) for s, _ in signal.anomalies) <= 6
