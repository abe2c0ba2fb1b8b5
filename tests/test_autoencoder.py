"""The ``autoencoder`` detector and the torch helpers it shares (benchbench.torchkit)."""

from __future__ import annotations

import numpy as np
import pytest
from benchbench_plugins import autoencoder
from benchbench_plugins.autoencoder import QUICK_PARAMS, LSTMAutoencoder
from helpers import assert_imports_without_torch, assert_registers, sine

from benchbench.detector import DetectorInputError, NotFittedError, epoch_progress

torch = pytest.importorskip("torch")
from benchbench import torchkit  # noqa: E402  (needs torch)

FAST = dict(window_size=30, hidden_size=16, epochs=15, batch_size=32, train_step=3, device="cpu")


@pytest.fixture(scope="module")
def fitted() -> LSTMAutoencoder:
    return LSTMAutoencoder(**FAST).fit(sine(600))


# -- import and registration ------------------------------------------------------------------
def test_importing_the_plugin_does_not_import_torch():
    assert_imports_without_torch("benchbench_plugins", "benchbench_plugins.autoencoder",
                                 "benchbench_plugins.autoencoder.detector",
                                 "benchbench_plugins.zscore", "benchbench.testing")


def test_registration_and_quick_params():
    assert_registers(autoencoder, "autoencoder", LSTMAutoencoder, QUICK_PARAMS)


# -- learning and scoring ---------------------------------------------------------------------
def test_learns_a_sine(fitted):
    losses = fitted.history_["reconstruction"]
    assert len(losses) == FAST["epochs"]
    assert losses[-1] < 0.25 * losses[0]
    X = sine(600)
    assert np.abs(fitted.reconstruct(X) - X).mean() < 0.15


def test_fitted_state(fitted):
    assert fitted.device_ == "cpu"
    assert fitted.n_channels_ == 1
    assert fitted.n_train_windows_ == len(range(0, 600 - 30 + 1, 3))  # 571 is a multiple of 3
    assert not fitted.model_.training


def test_score_peaks_at_a_spike(fitted):
    T = sine(500, seed=3)
    T[300:303] += 1.0
    scores = fitted.score(T)
    assert scores.shape == (500,)
    assert np.all(np.isfinite(scores)) and np.all(scores >= 0)
    assert abs(int(scores.argmax()) - 301) <= 6
    assert scores[299:304].mean() > 3 * np.median(scores)


def test_score_step_covers_the_tail(fitted):
    T = sine(503, seed=4)
    dense = fitted.score(T)
    params = fitted.get_params()
    sparse_det = LSTMAutoencoder(**{**params, "score_step": 7})
    sparse_det.model_, sparse_det.device_, sparse_det.n_channels_ = (
        fitted.model_,
        fitted.device_,
        fitted.n_channels_,
    )
    sparse = sparse_det.score(T)
    assert sparse.shape == dense.shape and np.all(np.isfinite(sparse))
    assert np.corrcoef(dense, sparse)[0, 1] > 0.8
    # the last timesteps come from the window ending at the last step, not a filled-in value
    rec = sparse_det.reconstruct(T)
    assert np.abs(rec[-5:] - T[-5:]).mean() < 0.3


def test_smoothing_window_fraction_and_steps():
    from benchbench.data.preprocessing import moving_average, smoothing_steps

    assert smoothing_steps(0.01, 3000, "x") == 30
    assert smoothing_steps(0.0001, 3000, "x") == 1
    assert smoothing_steps(5, 3000, "x") == 5
    assert smoothing_steps(None, 3000, "x") == 1
    with pytest.raises(ValueError):
        smoothing_steps(-1, 10, "x")
    values = np.array([0.0, 0.0, 3.0, 0.0, 0.0])
    np.testing.assert_allclose(moving_average(values, 3), [0, 1, 1, 1, 0])
    np.testing.assert_allclose(moving_average(values, 1), values)


def test_multichannel_and_epoch_callback():
    X = np.hstack([sine(200), sine(200, seed=1, period=25)])
    seen = []
    with epoch_progress(lambda epoch, n, losses: seen.append((epoch, n, set(losses)))):
        det = LSTMAutoencoder(**{**FAST, "epochs": 3, "window_size": 20}).fit(X)
    assert seen == [(e, 3, {"reconstruction"}) for e in range(3)]
    assert det.score(X).shape == (200,)
    with pytest.raises(DetectorInputError, match="channels"):
        det.score(X[:, :1])


# -- determinism and errors -------------------------------------------------------------------
def test_cpu_determinism():
    params = {**FAST, "epochs": 3}
    X, T = sine(300), sine(300, seed=1)
    a = LSTMAutoencoder(**params, random_state=7).fit(X).score(T)
    b = LSTMAutoencoder(**params, random_state=7).fit(X).score(T)
    c = LSTMAutoencoder(**params, random_state=8).fit(X).score(T)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fit_leaves_global_torch_rng_and_threads_alone():
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    LSTMAutoencoder(**{**FAST, "epochs": 1}).fit(sine(100))
    np.testing.assert_array_equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_short_input_and_other_errors(fitted):
    with pytest.raises(DetectorInputError, match="29 timesteps.*30"):
        LSTMAutoencoder(**FAST).fit(sine(29))
    with pytest.raises(DetectorInputError, match="10 timesteps"):
        fitted.score(sine(10))
    with pytest.raises(NotFittedError):
        LSTMAutoencoder(**FAST).score(sine(100))
    with pytest.raises(ValueError, match="window_size"):
        LSTMAutoencoder(window_size=1).fit(sine(100))
    with pytest.raises(ValueError, match="score_step"):
        LSTMAutoencoder(window_size=10, score_step=11).fit(sine(100))
    with pytest.raises(ValueError, match="learning_rate"):
        LSTMAutoencoder(window_size=10, learning_rate=0).fit(sine(100))


def test_diverging_training_raises():
    det = LSTMAutoencoder(**{**FAST, "epochs": 2, "learning_rate": float("inf")})
    with pytest.raises(FloatingPointError, match="LSTMAutoencoder.*epoch"):
        det.fit(sine(100))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        LSTMAutoencoder(**{**FAST, "device": "cuda"}).fit(sine(100))


# -- torchkit ---------------------------------------------------------------------------------
def test_resolve_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert torchkit.resolve_device("auto").type == expected
    assert torchkit.resolve_device("cpu") == torch.device("cpu")
    assert torchkit.resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="not a device|not supported"):
        torchkit.resolve_device("gpu0")
    if not torch.cuda.is_available():
        for name in ("cuda", "cuda:1"):
            with pytest.raises(RuntimeError, match="device='cpu'"):
                torchkit.resolve_device(name)


def test_seeded_is_reproducible_and_restores_state():
    torch.manual_seed(5)
    before = torch.rand(2)
    torch.manual_seed(5)
    with torchkit.seeded(1) as a:
        xa, pa, na = torch.rand(4), torch.randperm(10, generator=a.torch), a.numpy.random(3)
    with torchkit.seeded(1) as b:
        xb, pb, nb = torch.rand(4), torch.randperm(10, generator=b.torch), b.numpy.random(3)
    assert torch.equal(xa, xb) and torch.equal(pa, pb) and np.array_equal(na, nb)
    assert a.seed == 1
    assert torch.equal(torch.rand(2), before)  # the caller's stream continues untouched
    with torchkit.seeded(None) as c:
        assert isinstance(c.seed, int)
    with pytest.raises(TypeError):
        with torchkit.seeded("0"):
            pass


def test_window_view_is_a_view():
    x = torch.arange(20.0).reshape(10, 2)
    w = torchkit.window_view(x, 4, step=3)
    assert w.shape == (3, 4, 2)
    assert torch.equal(w[1], x[3:7])
    assert w.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()


class _Recorder:
    def __init__(self):
        self.history_ = {}
        self.calls = []

    def _log_epoch(self, epoch, n_epochs, losses):
        self.calls.append((epoch, n_epochs, dict(losses)))


def test_train_windows_averages_per_epoch_and_shuffles_reproducibly():
    windows = torch.arange(10.0).reshape(10, 1, 1)
    batches = []

    def step(batch):
        batches.append(batch.flatten().tolist())
        return {"mean": batch.mean(), "const": 2.0}

    rec = _Recorder()
    last = torchkit.train_windows(
        rec, windows, step, epochs=2, batch_size=4, generator=torch.Generator().manual_seed(0)
    )
    assert [len(b) for b in batches] == [4, 4, 2] * 2
    assert sorted(sum(batches[:3], [])) == list(range(10))  # every window once per epoch
    assert [c[:2] for c in rec.calls] == [(0, 2), (1, 2)]
    assert rec.calls[0][2] == pytest.approx({"mean": 4.5, "const": 2.0})
    assert last == pytest.approx({"mean": 4.5, "const": 2.0})

    again = []
    torchkit.train_windows(
        _Recorder(),
        windows,
        lambda b: again.append(b.flatten().tolist()) or {"x": 0.0},
        epochs=2,
        batch_size=4,
        generator=torch.Generator().manual_seed(0),
    )
    assert again == batches


def test_set_forget_bias_sets_the_forget_gate_of_every_layer():
    lstm = torch.nn.LSTM(3, 4, num_layers=2)
    cell_bias = lstm.bias_ih_l1[8:12].detach().clone()
    torchkit.set_forget_bias(2.5, lstm)
    for layer in (0, 1):
        ih, hh = getattr(lstm, f"bias_ih_l{layer}"), getattr(lstm, f"bias_hh_l{layer}")
        assert torch.all(ih[4:8] == 2.5) and torch.all(hh[4:8] == 0)  # the forget gate's slice
        assert ih.requires_grad
    assert torch.equal(lstm.bias_ih_l1[8:12], cell_bias)  # the other gates are left alone


def test_optimiser_step_clips_the_global_gradient_norm():
    weight = torch.nn.Parameter(torch.zeros(3))
    optimiser = torch.optim.SGD([weight], lr=1.0)
    target = torch.tensor([30.0, 40.0, 0.0])  # gradient of -<w, target> is -target, norm 50
    torchkit.optimiser_step(optimiser, -(weight * target).sum(), clip=5.0)
    torch.testing.assert_close(weight.detach(), target / 10)  # SGD step of the clipped gradient
    torchkit.optimiser_step(optimiser, -(weight * target).sum())  # no clip: the full gradient
    torch.testing.assert_close(weight.detach(), target / 10 + target)


def test_train_windows_stops_on_nan():
    rec = _Recorder()
    with pytest.raises(FloatingPointError, match=r"_Recorder.*epoch 1 of 3.*loss=nan"):
        torchkit.train_windows(
            rec,
            torch.zeros(5, 2, 1),
            lambda b: {"loss": torch.tensor(float("nan"))},
            epochs=3,
            batch_size=2,
            generator=torch.Generator(),
        )
    assert rec.calls == []


def test_predict_windows_batches():
    windows = torch.arange(12.0).reshape(6, 2, 1)
    out = torchkit.predict_windows(lambda b: b * 2, windows, batch_size=4)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, windows.numpy() * 2)


# -- slow: default settings on benchmark-sized signals --------------------------------------
# Speed is measured by benchmarks/bench_autoencoder.py, never asserted here.
@pytest.mark.slow
def test_default_settings_on_a_3000_step_signal():
    from benchbench.data.preprocessing import fit_scaler
    from benchbench.data.synthetic import SyntheticDataset

    signal = SyntheticDataset().load_signal("mixed_1")  # 3,000 steps: a spike and a level shift
    scaler = fit_scaler(signal.train)
    X, T = scaler.transform(signal.train), scaler.transform(signal.test)
    det = LSTMAutoencoder(device="cpu").fit(X)
    scores = det.score(T)
    losses = det.history_["reconstruction"]
    assert losses[-1] < 0.02 and losses[-1] < 0.2 * losses[0]
    labels = np.zeros(len(T), dtype=bool)
    for start_, end in signal.anomalies:
        labels[int(start_) : int(end) + 1] = True
    assert scores[labels].mean() > 1.5 * np.median(scores)


@pytest.mark.slow
@pytest.mark.parametrize("signal", ["spikes_1", "mixed_1", "level_shift_1"])
def test_full_pipeline_finds_every_labelled_anomaly(signal, tmp_path):
    from benchbench.plugins import load_registries
    from benchbench.run.jobs import Job, derive_random_state
    from benchbench.run.pipeline import run_job

    registries = load_registries(load_entry_points=False)
    job = Job("synthetic", signal, "autoencoder", 0,
              derive_random_state(0, "synthetic", signal, "autoencoder"), device="cpu",
              data_dir=str(tmp_path))
    record = run_job(job, registries).record
    assert record["status"] == "ok", record["error"]
    assert record["metrics"]["overlap"]["recall"] == 1.0, record["detected"]


def test_quick_params_still_learn():
    X = sine(3000)
    det = LSTMAutoencoder(**QUICK_PARAMS, device="cpu").fit(X)
    losses = det.history_["reconstruction"]
    assert losses[-1] < 0.5 * losses[0]
    assert np.all(np.isfinite(det.score(X)))
