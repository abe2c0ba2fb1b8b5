"""The ``vae`` detector (LSTM variational autoencoder) and its network's ELBO pieces."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from benchbench_plugins import vae
from benchbench_plugins.vae import LSTMVAE, QUICK_PARAMS
from helpers import assert_imports_without_torch, assert_registers, sine

from benchbench.detector import DetectorInputError, NotFittedError, epoch_progress
from benchbench.testing import parametrize_checks

torch = pytest.importorskip("torch")
from benchbench_plugins.vae import network  # noqa: E402  (needs torch)

FAST = dict(
    window_size=30, hidden_size=16, latent_size=8, epochs=15, batch_size=32, train_step=3,
    device="cpu",
)
#: Tiny settings for the conformance kit (it fits a few dozen times on 400-step signals).
CONFORMANCE_FAST = dict(
    window_size=16, hidden_size=8, latent_size=4, epochs=2, batch_size=32, train_step=4
)


@pytest.fixture(scope="module")
def fitted() -> LSTMVAE:
    return LSTMVAE(**FAST).fit(sine(600))


# -- the ELBO pieces --------------------------------------------------------------------------
def test_closed_form_kl_matches_a_monte_carlo_estimate():
    gen = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.0, 0.0, 0.0], [1.5, -0.7, 0.3], [-2.0, 0.5, 1.0]], dtype=torch.float64)
    logvar = torch.tensor(
        [[0.0, 0.0, 0.0], [-1.0, 0.5, -2.0], [1.0, -0.3, 0.2]], dtype=torch.float64
    )
    closed = network.gaussian_kl(mu, logvar)
    assert closed.shape == (3,)
    assert closed[0] == 0  # q = p
    # KL(q || p) = E_q[log q(z) - log p(z)], estimated from 200,000 draws of z ~ q
    eps = torch.randn((200_000, *mu.shape), generator=gen, dtype=torch.float64)
    z = network.reparameterise(mu, logvar, eps)
    log_q = (-0.5 * (eps.square() + logvar + math.log(2 * math.pi))).sum(-1)
    log_p = (-0.5 * (z.square() + math.log(2 * math.pi))).sum(-1)
    estimate = (log_q - log_p).mean(0)
    torch.testing.assert_close(estimate, closed, atol=0.03, rtol=0.02)
    assert torch.all(network.gaussian_kl(mu[1:], logvar[1:]) > 0)


def test_gradients_flow_through_the_reparameterised_sample():
    mu = torch.tensor([[0.3, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.2, -0.5]], requires_grad=True)
    z = network.reparameterise(mu, logvar)
    (z - 2.0).square().sum().backward()
    assert mu.grad is not None and torch.all(mu.grad != 0)
    assert logvar.grad is not None and torch.all(logvar.grad != 0)


def test_gaussian_nll_is_the_normal_density():
    x, mean, logvar = torch.tensor([0.5]), torch.tensor([0.1]), torch.tensor([math.log(0.3)])
    expected = -torch.distributions.Normal(mean, math.sqrt(0.3)).log_prob(x)
    torch.testing.assert_close(network.gaussian_nll(x, mean, logvar), expected)


def test_nll_contributions_add_up_to_the_negative_elbo():
    torch.manual_seed(0)
    net = network.LSTMVAENet(2, 8, 3, output_variance=0.1).eval()
    x = torch.randn(5, 12, 2)
    parts = net.nll_contributions(x, 4, torch.Generator().manual_seed(3))
    assert parts.shape == (5, 12)
    eps = torch.randn((4, 5, 3), generator=torch.Generator().manual_seed(3))
    mu, logvar = net.encode(x)
    nll = torch.stack(
        [
            network.gaussian_nll(x, net.decode(z, 12), net.output_logvar).sum(dim=(1, 2))
            for z in network.reparameterise(mu, logvar, eps)
        ]
    ).mean(0)
    torch.testing.assert_close(parts.sum(1), nll + network.gaussian_kl(mu, logvar))


def test_kl_weight_schedule():
    from benchbench_plugins.vae.detector import kl_weight

    weights = [kl_weight(step, 10, 2.0, 0.8) for step in range(10)]
    # 0 up to 40 % of the steps, then linear to beta = 2 at 80 %, then beta
    assert weights[:4] == [0.0] * 4
    assert weights[4:8] == pytest.approx([0.5, 1.0, 1.5, 2.0])
    assert weights[8:] == [2.0, 2.0]
    assert [kl_weight(step, 10, 1.0, 0.0) for step in range(3)] == [1.0, 1.0, 1.0]


# -- import and registration ------------------------------------------------------------------
def test_importing_the_plugin_does_not_import_torch():
    assert_imports_without_torch("benchbench_plugins.vae", "benchbench_plugins.vae.detector")


def test_registration_and_quick_params():
    assert_registers(vae, "vae", LSTMVAE, QUICK_PARAMS)


# -- conformance (both score modes) -----------------------------------------------------------
@parametrize_checks(LSTMVAE, **CONFORMANCE_FAST)
def test_conformance_reconstruction_score(check):
    check()


@parametrize_checks(LSTMVAE, **CONFORMANCE_FAST, score_mode="nll", samples=2)
def test_conformance_nll_score(check):
    check()


# -- learning and scoring ---------------------------------------------------------------------
def test_learns_a_sine(fitted):
    history = fitted.history_
    assert set(history) == {"reconstruction", "kl", "total"}
    assert all(len(v) == FAST["epochs"] for v in history.values())
    assert history["total"][-1] < history["total"][0]
    assert history["reconstruction"][-1] < history["reconstruction"][0]
    np.testing.assert_allclose(  # beta = 1: total = reconstruction + kl
        history["total"], np.add(history["reconstruction"], history["kl"]), rtol=1e-5, atol=1e-4
    )
    X = sine(600)
    assert np.abs(fitted.reconstruct(X) - X).mean() < 0.15


def test_fitted_state(fitted):
    assert fitted.device_ == "cpu"
    assert fitted.n_channels_ == 1
    assert fitted.n_train_windows_ == len(range(0, 600 - 30 + 1, 3))
    assert not fitted.model_.training
    assert isinstance(fitted.score_seed_, int)
    # the learned decoder variance is calibrated to the training residuals: well below 1
    assert float(fitted.model_.output_logvar.exp()) < 0.05


@pytest.mark.parametrize("mode", ["reconstruction", "nll"])
def test_score_peaks_at_a_spike(fitted, mode):
    from benchbench.data.synthetic import sine_with_spike

    signal = sine_with_spike(500, spike_at=300, seed=3)
    scale = lambda v: (v - 5.0) / 1.2  # noqa: E731  (the level-5 sine into about [-1, 1])
    det = LSTMVAE(**{**FAST, "score_mode": mode, "samples": 4}).fit(scale(signal.train))
    T = scale(signal.test)
    scores = det.score(T)
    assert scores.shape == (len(T),) and np.all(np.isfinite(scores))
    assert abs(int(scores.argmax()) - 300) <= 6
    assert scores[299:302].mean() > np.median(scores) + 5 * np.std(scores[:250])
    if mode == "reconstruction":
        assert np.all(scores >= 0)
    # the fixture's detector too, with a spike added to the sine it was trained on
    T2 = sine(500, seed=3)
    T2[300:303] += 1.0
    scores2 = copy.deepcopy(fitted).set_params(score_mode=mode).score(T2)
    assert abs(int(scores2.argmax()) - 301) <= 6


def test_nll_score_is_repeatable_and_uses_samples(fitted):
    T = sine(300, seed=4)
    det = copy.deepcopy(fitted).set_params(score_mode="nll", samples=3)
    a, b = det.score(T), det.score(T)
    np.testing.assert_array_equal(a, b)
    c = det.set_params(samples=8).score(T)
    assert not np.array_equal(a, c)
    assert np.all(np.isfinite(c))
    np.testing.assert_array_equal(det.set_params(samples=3).score(T), a)


def test_multichannel_fixed_variance_and_epoch_callback():
    X = np.hstack([sine(200), sine(200, seed=1, period=25)])
    seen = []
    params = {**FAST, "epochs": 3, "window_size": 20, "output_variance": 0.05, "beta": 0.5}
    with epoch_progress(lambda epoch, n, losses: seen.append((epoch, n, set(losses)))):
        det = LSTMVAE(**params).fit(X)
    assert seen == [(e, 3, {"reconstruction", "kl", "total"}) for e in range(3)]
    np.testing.assert_allclose(det.model_.output_logvar.exp().numpy(), [0.05, 0.05], rtol=1e-6)
    h = det.history_
    expected = np.add(h["reconstruction"], np.multiply(0.5, h["kl"]))
    np.testing.assert_allclose(h["total"], expected, rtol=1e-5, atol=1e-4)
    for mode in ("reconstruction", "nll"):
        assert det.set_params(score_mode=mode).score(X).shape == (200,)
    with pytest.raises(DetectorInputError, match="channels"):
        det.score(X[:, :1])


# -- determinism and errors -------------------------------------------------------------------
def test_cpu_determinism():
    params = {**FAST, "epochs": 3}
    X, T = sine(300), sine(300, seed=1)
    for mode in ("reconstruction", "nll"):
        a = LSTMVAE(**params, score_mode=mode, random_state=7).fit(X).score(T)
        b = LSTMVAE(**params, score_mode=mode, random_state=7).fit(X).score(T)
        c = LSTMVAE(**params, score_mode=mode, random_state=8).fit(X).score(T)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_fit_leaves_global_torch_rng_and_threads_alone():
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    det = LSTMVAE(**{**FAST, "epochs": 1, "score_mode": "nll", "samples": 2}).fit(sine(100))
    det.score(sine(100))
    np.testing.assert_array_equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"score_mode": "likelihood"}, r"score_mode must be one of 'reconstruction', 'nll'.*"),
        ({"samples": 0}, r"samples .* must be an integer >= 1, got 0"),
        ({"samples": 2.5}, r"samples .* integer >= 1, got 2.5"),
        ({"samples": True}, r"samples .* integer >= 1, got True"),
        ({"beta": -1.0}, r"beta must be a finite number >= 0"),
        ({"kl_warmup": 1.5}, r"kl_warmup is a fraction .* in \[0, 1\], got 1.5"),
        ({"kl_warmup": -0.1}, r"kl_warmup must be a finite number >= 0"),
        ({"output_variance": 0.0}, r"output_variance must be 'learned' or a finite number > 0"),
        ({"output_variance": "fixed"}, r"output_variance must be 'learned'"),
        ({"latent_size": 0}, r"latent_size must be an integer >= 1"),
        ({"window_size": 1}, r"window_size must be >= 2"),
        ({"score_step": 31}, r"score_step \(31\) must not exceed window_size \(30\)"),
        ({"learning_rate": 0}, r"learning_rate must be a finite number > 0"),
        ({"grad_clip": 0}, r"grad_clip must be a number > 0 or None, got 0"),
    ],
)
def test_bad_parameters_are_clear_errors_in_fit(params, match):
    with pytest.raises(ValueError, match=match):
        LSTMVAE(**{**FAST, **params}).fit(sine(100))


def test_score_parameters_are_checked_again_in_score(fitted):
    T = sine(100)
    for params, match in (
        ({"score_mode": "elbo"}, "score_mode must be one of"),
        ({"samples": 0}, "samples"),
        ({"samples": None}, "samples"),
        ({"smoothing_window": -1}, "smoothing_window"),
    ):
        det = copy.deepcopy(fitted).set_params(**params)
        with pytest.raises(ValueError, match=match):
            det.score(T)


def test_bad_input_is_a_clear_error(fitted):
    with pytest.raises(DetectorInputError, match="29 timesteps.*30"):
        LSTMVAE(**FAST).fit(sine(29))
    with pytest.raises(DetectorInputError, match="10 timesteps"):
        fitted.score(sine(10))
    with pytest.raises(NotFittedError):
        LSTMVAE(**FAST).score(sine(100))
    X = sine(100)
    X[5] = np.nan
    with pytest.raises(DetectorInputError, match="NaN"):
        fitted.score(X)
    with pytest.raises(DetectorInputError, match="scale the input"):
        fitted.score(sine(100) * 1e30)
    with pytest.raises(DetectorInputError, match="scale the input"):
        LSTMVAE(**FAST).fit(sine(100) * 1e30)


def test_diverging_training_raises():
    det = LSTMVAE(**{**FAST, "epochs": 2, "learning_rate": 1e30})
    with pytest.raises(FloatingPointError, match="LSTMVAE.*epoch"):
        det.fit(sine(100))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        LSTMVAE(**{**FAST, "device": "cuda"}).fit(sine(100))


def test_quick_params_still_learn():
    X = sine(3000)
    det = LSTMVAE(**QUICK_PARAMS, device="cpu").fit(X)
    losses = det.history_["total"]
    assert losses[-1] < losses[0] - 0.5 * abs(losses[0])
    assert np.all(np.isfinite(det.score(X)))


# -- slow: default settings on a benchmark-sized signal ----------------------------------------
# Speed is measured by benchmarks/bench_vae.py, never asserted here.
@pytest.mark.slow
def test_default_settings_on_a_3000_step_signal():
    from benchbench.data.preprocessing import fit_scaler
    from benchbench.data.synthetic import SyntheticDataset

    signal = SyntheticDataset().load_signal("mixed_1")  # 3,000 steps: a spike and a level shift
    scaler = fit_scaler(signal.train)
    X, T = scaler.transform(signal.train), scaler.transform(signal.test)
    det = LSTMVAE(device="cpu").fit(X)
    history = det.history_
    # nats per window; seeds 0-2 measured: total about 55 -> -70, reconstruction 30 -> -95
    assert history["total"][-1] < history["total"][0] - 50
    assert history["reconstruction"][-1] < history["reconstruction"][0] - 50
    labels = np.zeros(len(T), dtype=bool)
    for start_, end in signal.anomalies:
        labels[int(start_) : int(end) + 1] = True
    errors = det.score(T)  # reconstruction error, >= 0 (measured: labelled mean 2-3.4 x median)
    assert errors[labels].mean() > 1.5 * np.median(errors)
    nll = det.set_params(score_mode="nll").score(T)  # nats, any sign (measured: 10-40 MADs)
    typical = np.median(nll)
    assert nll[labels].mean() > typical + 5 * np.median(np.abs(nll - typical))
