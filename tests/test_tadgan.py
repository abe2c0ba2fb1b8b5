"""The ``tadgan`` (WGAN-GP) and ``gan`` (BCE) detectors: networks, losses, training, scoring."""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pandas as pd
import pytest
from benchbench_plugins import tadgan
from benchbench_plugins.tadgan import GAN, QUICK_PARAMS, TadGAN, paper_params, scoring
from helpers import assert_imports_without_torch, sine

from benchbench.detector import DetectorInputError, NotFittedError
from benchbench.testing import parametrize_checks

torch = pytest.importorskip("torch")
from benchbench_plugins.tadgan import network, training  # noqa: E402  (needs torch)

#: Small networks for fast tests (the architecture is the reference's, narrower).
FAST = dict(window_size=32, latent_size=8, encoder_hidden=16, generator_hidden=16, epochs=3,
            batch_size=16, n_critic=2, train_step=2, device="cpu")
CONFORMANCE_FAST = dict(window_size=20, latent_size=4, encoder_hidden=8, generator_hidden=8,
                        epochs=1, batch_size=16, n_critic=2, train_step=4, error_type="point")
DETECTORS = [TadGAN, GAN]


# -- networks and losses ------------------------------------------------------------------------

def test_network_shapes_follow_the_reference():
    nets = network.TadGANNets(100, 1)
    x = torch.zeros(3, 100, 1)
    z = torch.zeros(3, 20)
    assert nets.encoder(x).shape == (3, 20)
    assert nets.generator(z).shape == (3, 100, 1)
    assert nets.critic_x(x).shape == (3,)
    assert nets.critic_z(z).shape == (3,)
    assert nets.encoder.lstm.hidden_size == 100 and nets.encoder.lstm.bidirectional
    assert nets.generator.lstm1.hidden_size == 64 and nets.generator.lstm2.hidden_size == 64
    convs = [m for m in nets.critic_x.convs if isinstance(m, torch.nn.Conv1d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(64, (5,))] * 4
    assert nets.critic_x.dense.in_features == 64 * 84  # 100 - 4 x 4 steps left after the convs
    # an odd window: the generator's upsampled sequence is cropped to the window
    assert network.TadGANNets(33, 2).generator(torch.zeros(2, 20)).shape == (2, 33, 2)


def test_gradient_penalty_on_a_linear_critic_is_analytic():
    # C(u) = <w, u>: the gradient is w everywhere, so the penalty is (||w|| - 1)^2
    w = torch.tensor([[0.5], [2.0], [-1.0]])  # (W=3, C=1), ||w|| = sqrt(5.25)

    def critic(u):
        return (u * w).sum(dim=(1, 2))

    real, fake = torch.randn(8, 3, 1), torch.randn(8, 3, 1)
    penalty = network.gradient_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx((5.25**0.5 - 1.0) ** 2, rel=1e-6)


def test_gradient_penalty_on_a_quadratic_critic_uses_the_interpolates():
    # C(u) = ||u||^2 / 2: the gradient at u is u, so the penalty is mean((||u|| - 1)^2) with
    # u = a * real + (1 - a) * fake
    def critic(u):
        return 0.5 * u.square().flatten(1).sum(dim=1)

    real, fake = torch.randn(6, 4, 2), torch.randn(6, 4, 2)
    alpha = torch.rand(6)
    mixed = alpha[:, None, None] * real + (1 - alpha[:, None, None]) * fake
    expected = (mixed.flatten(1).norm(dim=1) - 1).square().mean()
    penalty = network.gradient_penalty(critic, real, fake, alpha)
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-6)


def test_gradient_penalty_is_differentiable_in_the_critic_weights():
    critic = network.CriticX(20, 1, filters=4)
    penalty = network.gradient_penalty(critic, torch.randn(5, 20, 1), torch.randn(5, 20, 1))
    penalty.backward()
    # every weight matrix gets a gradient (biases of the last layer cannot: they do not change
    # the critic's gradient in its input)
    weights = [p for p in critic.parameters() if p.ndim > 1]
    assert len(weights) == 5
    assert all(p.grad is not None and torch.any(p.grad != 0) for p in weights)


@pytest.mark.parametrize("loss", training.LOSSES)
def test_one_training_step_changes_all_four_networks(loss):
    torch.manual_seed(0)
    nets = network.TadGANNets(24, 1, latent=4, encoder_hidden=8, generator_hidden=8)
    before = {name: [p.detach().clone() for p in getattr(nets, name).parameters()]
              for name in ("encoder", "generator", "critic_x", "critic_z")}
    trainer = training.AdversarialTrainer(nets, loss=loss, learning_rate=1e-3, n_critic=2,
                                          gp_weight=10.0, rec_weight=10.0)
    nets.train()
    losses = trainer.minibatch(torch.rand(8, 24, 1) * 2 - 1)
    for name, old in before.items():
        new = list(getattr(nets, name).parameters())
        # every weight matrix (a Wasserstein critic's output bias has gradient -1 + 1 = 0)
        changed = [not torch.equal(a, b) for a, b in zip(old, new) if a.ndim > 1]
        assert changed and all(changed), f"{loss}: {name} has weights a step did not change"
    expected = {"cx_real", "cx_fake", "cz_real", "cz_fake", "eg_adv_x", "eg_adv_z",
                "eg_reconstruction"}
    if loss == "wasserstein":
        expected |= {"cx_penalty", "cz_penalty"}
    assert set(losses) == expected
    assert all(torch.isfinite(v) for v in losses.values())


def _critic_outputs(critic, real, fake, activations, seed):
    """Scores of real and fake, the penalty, and the gradients of a critic loss plus the penalty,
    with every random draw (dropout masks, interpolates) from torch's generator seeded ``seed``."""
    torch.manual_seed(seed)
    scores = critic(torch.cat((real, fake)), activations)
    penalty = network.gradient_penalty(
        functools.partial(critic, activations=activations), real, fake)
    loss = scores[: len(real)].mean() - scores[len(real):].mean() + 10.0 * penalty
    grads = torch.autograd.grad(loss, list(critic.parameters()), allow_unused=True)
    return scores, penalty, grads


def _critics():
    torch.manual_seed(0)
    nets = network.TadGANNets(24, 1, latent=4, critic_x_filters=8).train()  # with dropout
    return ((nets.critic_x, (6, 24, 1)), (nets.critic_z, (6, 4)))


def test_constant_slopes_give_leaky_relu_values_and_penalty_gradients_bit_for_bit():
    for critic, shape in _critics():
        real, fake = torch.randn(shape), torch.randn(shape)
        plain = _critic_outputs(critic, real, fake, "layers", seed=1)
        constant = _critic_outputs(critic, real, fake, "constant_slopes", seed=1)
        assert torch.equal(plain[0], constant[0]) and torch.equal(plain[1], constant[1])
        for a, b in zip(plain[2], constant[2]):
            # biases: autograd sends zeros back through the forward pass to the hidden layers'
            # biases, constant slopes leave them out of the penalty's graph (None); no gradient
            # reaches the output bias either way
            if b is None:
                assert a is None or not torch.any(a)
            else:
                assert torch.equal(a, b)
    with pytest.raises(ValueError, match="activations must be one of"):
        network.run_layers(torch.nn.Sequential(), torch.zeros(1), "leaky")


@pytest.mark.parametrize("slope", [0.2, 0.0, 1.0, 1.5, -0.3])
def test_slopes_equal_where_bit_for_bit(slope):
    h = torch.tensor([-2.0, -0.0, 0.0, 1e-30, -1e-30, 3.0, float("inf"), -float("inf")])
    h = torch.cat((h, torch.randn(1000)))
    expected = torch.where(h > 0, 1.0, slope)
    assert torch.equal(network.slopes(h, slope), expected)
    finite = h[torch.isfinite(h)]  # (inf * a slope of 0 is NaN, LeakyReLU's is 0)
    assert torch.equal(finite * network.slopes(finite, slope), torch.nn.LeakyReLU(slope)(finite))


def test_dropout_mask_is_the_comparison_of_its_random_bits():
    torch.manual_seed(4)
    like = torch.zeros(1)
    mask = network.keep_mask((300, 7), 0.25, like)
    torch.manual_seed(4)
    bits = network.random_bits((300, 7), like)
    keep = bits >= round(0.25 * 65536) - 32768
    assert torch.equal(mask, keep.float() * (1 / 0.75))


def test_small_minibatch_still_runs_every_critic_iteration():
    torch.manual_seed(0)
    nets = network.TadGANNets(24, 1, latent=4, encoder_hidden=8, generator_hidden=8)
    trainer = training.AdversarialTrainer(nets, loss="wasserstein", learning_rate=1e-3, n_critic=5,
                                          gp_weight=10.0, rec_weight=10.0)
    steps = []
    original = trainer._critic_step

    def counted(critic, *args, **kwargs):
        steps.append("x" if critic is nets.critic_x else "z")
        return original(critic, *args, **kwargs)

    trainer._critic_step = counted
    trainer.minibatch(torch.rand(7, 24, 1))  # 7 windows, 5 critic iterations: parts of 2 or 1
    assert steps == ["x", "z"] * 5  # critic x and critic z, 5 times each


def test_minibatch_plan():
    assert training.minibatch_plan(1917, 64, 5) == (5, 320)  # the reference's 5 per epoch
    assert training.minibatch_plan(100, 64, 5) == (1, 100)  # fewer windows: one of all of them
    assert training.minibatch_plan(3, 64, 5) == (1, 5)


@pytest.mark.parametrize("rate", [0.2, 0.25])
def test_dropout_mask_has_the_dropout_distribution(rate):
    torch.manual_seed(0)
    like = torch.zeros(1)
    mask = network.keep_mask((400, 501), rate, like)  # an odd element count
    assert mask.shape == (400, 501) and mask.dtype == like.dtype
    assert torch.unique(mask).tolist() == pytest.approx([0.0, 1 / (1 - rate)])
    assert (mask == 0).float().mean().item() == pytest.approx(rate, abs=0.005)
    assert mask.mean().item() == pytest.approx(1.0, abs=0.01)  # inverted dropout keeps the mean
    layer = network.FastDropout(rate).eval()
    x = torch.randn(3, 4)
    assert layer(x) is x  # identity when not training


def test_keras_initialisation():
    nets = network.TadGANNets(24, 1, latent=4, encoder_hidden=8, generator_hidden=8)
    lstm = nets.encoder.lstm
    hidden = lstm.hidden_size
    assert torch.all(lstm.bias_ih_l0[hidden : 2 * hidden] == 1.0)  # forget gate
    assert torch.all(lstm.bias_hh_l0 == 0.0)
    gate = lstm.weight_hh_l0[:hidden]
    assert torch.allclose(gate @ gate.T, torch.eye(hidden), atol=1e-5)  # orthogonal


# -- scoring ------------------------------------------------------------------------------------

def brute_force_dtw(a, b):
    """Plain O(L^2) dynamic time warping with |a_i - b_j| costs, one pair at a time."""
    n, m = len(a), len(b)
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            acc[i, j] = abs(a[i - 1] - b[j - 1]) + min(acc[i - 1, j], acc[i, j - 1],
                                                       acc[i - 1, j - 1])
    return acc[n, m]


def test_dtw_matches_a_brute_force_dtw():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(20, 7)), rng.normal(size=(20, 7))
    got = scoring.dtw_distances(a, b)
    assert got == pytest.approx([brute_force_dtw(x, y) for x, y in zip(a, b)])
    assert scoring.dtw_distances(a, a) == pytest.approx(np.zeros(20))
    # a shifted copy costs less under DTW than point-wise
    x = np.sin(np.arange(11) / 2.0)
    y = np.roll(x, 1)
    assert scoring.dtw_distances(x[None], y[None])[0] < np.abs(x - y).sum()


def test_dtw_errors_are_centred_windows():
    rng = np.random.default_rng(1)
    y, y_hat = rng.normal(size=40), rng.normal(size=40)
    errors = scoring.dtw_errors(y, y_hat, score_window=4)  # 5-step windows
    yp, hp = np.pad(y, 2), np.pad(y_hat, 2)
    expected = [brute_force_dtw(yp[t : t + 5], hp[t : t + 5]) for t in range(40)]
    assert errors == pytest.approx(expected)


def test_area_errors_match_pandas_rolling_trapezoids():
    rng = np.random.default_rng(2)
    y, y_hat = rng.normal(size=50), rng.normal(size=50)
    trapz = getattr(np, "trapezoid", None) or np.trapz
    for window in (10, 7):
        def area(v, window=window):
            return pd.Series(v).rolling(window, center=True, min_periods=1).apply(trapz, raw=True)
        expected = np.abs(area(y) - area(y_hat)).to_numpy()
        assert scoring.area_errors(y, y_hat, window) == pytest.approx(expected)


def reference_critic_kde(critic, window):
    """The reference's loop: per timestep, the gaussian_kde mode of the covering windows."""
    from scipy import stats

    n_steps = len(critic) + window - 1
    out = []
    for i in range(n_steps):
        values = [critic[i - j] for j in range(max(0, i - len(critic) + 1), min(i + 1, window))]
        values = np.asarray(values)
        if len(values) > 1:
            try:
                out.append(values[np.argmax(stats.gaussian_kde(values)(values))])
            except np.linalg.LinAlgError:
                out.append(np.median(values))
        else:
            out.append(np.median(values))
    return np.asarray(out)


def test_critic_per_timestep_matches_the_reference_kde_loop():
    rng = np.random.default_rng(3)
    critic = rng.normal(size=60)
    critic[20] = 5.0  # a window the critic finds unusual
    got = scoring.critic_per_timestep(critic, 8)
    assert got.shape == (67,)
    assert got == pytest.approx(reference_critic_kde(critic, 8))


def test_critic_per_timestep_without_spread_is_the_median():
    assert scoring.critic_per_timestep(np.full(30, 2.0), 5) == pytest.approx(np.full(34, 2.0))


def test_combinations_and_constant_inputs_stay_finite():
    critic = scoring.critic_zscore(np.array([0.0, 0.1, 0.0, 3.0, 0.1]))
    errors = np.array([0.1, 0.1, 0.2, 1.0, 0.1])
    assert np.argmax(scoring.combine_scores(critic, errors, "mult")) == 3
    assert np.argmax(scoring.combine_scores(critic, errors, "sum", 0.5)) == 3
    assert np.argmax(scoring.combine_scores(critic, errors, "rec")) == 3
    flat = scoring.combine_scores(scoring.critic_zscore(np.zeros(5)), np.zeros(5), "mult")
    assert np.all(flat == 1.0)
    with pytest.raises(ValueError, match="combination"):
        scoring.combine_scores(critic, errors, "max")
    with pytest.raises(ValueError, match="error_type"):
        scoring.reconstruction_errors(errors, errors, "cosine")


# -- the detectors ------------------------------------------------------------------------------

def test_importing_the_plugin_does_not_import_torch():
    assert_imports_without_torch("benchbench_plugins.tadgan", "benchbench_plugins.tadgan.detector")


def test_registration_paper_and_fast_profiles_and_quick_params():
    from benchbench.plugins import load_registries

    registries = load_registries(load_entry_points=False)
    for name, cls in (("tadgan", TadGAN), ("gan", GAN)):
        entry = registries.detectors[name]
        assert entry.obj is cls
        assert entry.options["quick_params"] == QUICK_PARAMS
        assert entry.options["profiles"]["paper"] is paper_params
        assert entry.options["profiles"]["fast"] is tadgan.fast_params
        assert entry.options["profiles"]["default"]("synthetic", "spikes_1") == tadgan.CPU_PARAMS
    art = paper_params("nab", "artificialWithAnomaly/art_daily_jumpsup")
    assert art["epochs"] == 35 and art["combination"] == "mult" and art["error_type"] == "dtw"
    assert art["encoder_hidden"] == 100 and art["train_step"] == 1  # the reference's sizes
    assert paper_params("nab", "realTweets/Twitter_volume_AAPL")["combination"] == "sum"
    assert paper_params("nasa", "SMAP/A-1")["epochs"] == 70
    for dataset, signal in (("nab", "realTweets/Twitter_volume_AAPL"), ("nasa", "SMAP/A-1")):
        fast = tadgan.fast_params(dataset, signal)  # the paper's, with the CPU-sized layers
        assert fast == {**paper_params(dataset, signal), "encoder_hidden": 32,
                        "generator_hidden": 32, "critic_x_filters": 16, "train_step": 5}
    assert tadgan.TadGAN().get_params()["gp_weight"] == 10.0


#: TadGAN's hyperparameters and defaults in signature order (GAN's: the same without gp_weight);
#: the architecture's and the schedule's are the reference's.
TADGAN_DEFAULTS = dict(
    window_size=100, latent_size=20, encoder_hidden=100, generator_hidden=64,
    critic_x_filters=64, epochs=10, batch_size=64, n_critic=5, learning_rate=5e-4,
    gp_weight=10.0, rec_weight=10.0, train_step=1, error_type="dtw", combination="mult",
    lambda_rec=0.5, score_window=10, smoothing_window=0.01, mixed_precision=False,
    device="auto", random_state=0,
)


@pytest.mark.parametrize("cls", DETECTORS)
def test_reference_defaults(cls):
    expected = {k: v for k, v in TADGAN_DEFAULTS.items() if cls is TadGAN or k != "gp_weight"}
    params = cls().get_params()
    assert params == expected and list(params) == list(expected)  # names, defaults and order
    assert list(inspect.signature(cls).parameters) == list(expected)
    with pytest.raises(TypeError):
        cls(cpu_shards=1)


def test_gan_shares_the_constructor_without_gp_weight():
    with pytest.raises(TypeError, match="gp_weight"):
        GAN(gp_weight=1.0)
    # positional arguments follow GAN's own signature: the 10th is rec_weight
    gan = GAN(*list(TADGAN_DEFAULTS.values())[:9], 7.0)
    assert gan.rec_weight == 7.0 and not hasattr(gan, "gp_weight")
    assert TadGAN(*list(TADGAN_DEFAULTS.values())[:9], 7.0).gp_weight == 7.0


@parametrize_checks(TadGAN, **CONFORMANCE_FAST)
def test_conformance_tadgan(check):
    check()


@parametrize_checks(GAN, **CONFORMANCE_FAST)
def test_conformance_gan(check):
    check()


@pytest.fixture(scope="module", params=DETECTORS, ids=["tadgan", "gan"])
def fitted(request):
    return request.param(**FAST).fit(sine(400))


def test_history_records_every_loss_term(fitted):
    keys = {"cx_real", "cx_fake", "cz_real", "cz_fake", "eg_adv_x", "eg_adv_z",
            "eg_reconstruction"}
    if isinstance(fitted, TadGAN):
        keys |= {"cx_penalty", "cz_penalty"}
    assert set(fitted.history_) == keys
    assert all(len(v) == FAST["epochs"] for v in fitted.history_.values())


def test_reconstruct_returns_windows_and_critic_values(fitted):
    recon, critic = fitted.reconstruct(sine(100))
    assert recon.shape == (100 - 32 + 1, 32, 1) and critic.shape == (69,)
    assert np.all(np.abs(recon) <= 1.0)  # tanh output


@pytest.mark.parametrize("error_type", scoring.ERROR_TYPES)
@pytest.mark.parametrize("combination", scoring.COMBINATIONS)
def test_every_scoring_choice_gives_finite_scores(fitted, error_type, combination):
    det = fitted.set_params(error_type=error_type, combination=combination)
    try:
        scores = det.score(sine(150, seed=1))
    finally:
        det.set_params(error_type="dtw", combination="mult")
    assert scores.shape == (150,) and np.all(np.isfinite(scores))


@pytest.mark.parametrize("cls", DETECTORS)
def test_same_seed_same_scores_on_cpu(cls):
    X = sine(200)
    a = cls(**FAST, random_state=3).fit(X).score(X)
    b = cls(**FAST, random_state=3).fit(X).score(X)
    c = cls(**FAST, random_state=4).fit(X).score(X)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_window_larger_than_the_signal_is_a_clear_error():
    with pytest.raises(DetectorInputError, match="fewer than the 32"):
        TadGAN(**FAST).fit(sine(20))
    with pytest.raises(NotFittedError):
        TadGAN(**FAST).score(sine(100))


@pytest.mark.parametrize("params, match", [
    ({"window_size": 10}, "window_size must be >= 17"),
    ({"error_type": "cosine"}, "error_type must be one of"),
    ({"combination": "max"}, "combination must be one of"),
    ({"lambda_rec": 2.0}, "lambda_rec"),
    ({"smoothing_window": 5}, "smoothing_window"),
    ({"n_critic": 0}, "n_critic must be an integer"),
    ({"gp_weight": -1.0}, "gp_weight"),
])
def test_bad_parameters_are_clear_errors(params, match):
    with pytest.raises(ValueError, match=match):
        TadGAN(**{**FAST, **params}).fit(sine(100))


def test_unscaled_input_is_a_clear_error():
    with pytest.raises(DetectorInputError, match="scale the input"):
        TadGAN(**FAST).fit(sine(100) * 1e30)


def test_constant_signal_gives_finite_flat_scores():
    X = np.zeros((120, 1))
    scores = TadGAN(**FAST).fit(X).score(X)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("cls", DETECTORS)
def test_diverging_training_is_a_clear_error(cls):
    det = cls(**{**FAST, "learning_rate": 1e30})
    with pytest.raises(FloatingPointError, match=f"{cls.__name__}: training diverged in epoch"):
        det.fit(sine(200))


def test_mixed_precision_on_the_cpu_is_a_clear_error():
    with pytest.raises(ValueError, match="mixed_precision=True needs a CUDA device"):
        TadGAN(**{**FAST, "mixed_precision": True, "device": "cpu"}).fit(sine(120))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        TadGAN(**{**FAST, "device": "cuda"}).fit(sine(100))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("cls", DETECTORS)
def test_cuda_fit_and_score(cls):
    X = sine(300)
    det = cls(**{**FAST, "device": "cuda"}).fit(X)
    assert det.device_.startswith("cuda")
    assert next(det.nets_.parameters()).is_cuda
    assert np.all(np.isfinite(det.score(X)))
    mixed = cls(**{**FAST, "device": "cuda", "mixed_precision": True}).fit(X)
    assert np.all(np.isfinite(mixed.score(X)))


# -- slow: the reference settings on a benchmark-sized signal -----------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("cls", DETECTORS)
def test_detects_a_spike_with_reference_settings(cls):
    X = sine(1200, period=50.0)
    T = sine(1200, seed=1, period=50.0)
    T[700:705, 0] += 1.5
    det = cls(epochs=5, device="cpu").fit(X)
    scores = det.score(T)
    assert 650 <= int(np.argmax(scores)) <= 760
