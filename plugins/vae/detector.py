"""The ``vae`` detector: an LSTM variational autoencoder over rolling windows.

Importing this module does not import torch; ``fit`` imports :mod:`benchbench.torchkit` and the
network (:mod:`benchbench_plugins.vae.network`) when it runs. The fit/score skeleton is
:class:`benchbench.windowed.WindowedDetector`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchbench.data.preprocessing import smoothing_steps
from benchbench.windowed import WindowedDetector

#: The values of the ``score_mode`` hyperparameter.
SCORE_MODES = ("reconstruction", "nll")


def kl_weight(step: int, total_steps: int, beta: float, warmup: float) -> float:
    """The KL weight of optimiser step ``step`` (counted from 0) of ``total_steps``.

    KL annealing: with ``progress = (step + 1) / total_steps``, the weight is 0 while ``progress
    <= warmup / 2``, rises linearly to ``beta`` at ``progress = warmup`` and stays there;
    ``warmup = 0`` gives ``beta`` from the first step.
    """
    if warmup <= 0:
        return beta
    progress = (step + 1) / total_steps
    return beta * min(1.0, max(0.0, 2.0 * progress / warmup - 1.0))


class LSTMVAE(WindowedDetector):
    """LSTM variational autoencoder over rolling windows (Kingma & Welling's VAE, LSTM layers).

    Model (see :class:`~benchbench_plugins.vae.network.LSTMVAENet`): an encoder LSTM reads a
    window ``(window_size, n_channels)``; a linear layer maps its last hidden state to the mean
    ``mu`` and log-variance ``log sigma^2`` of a diagonal Gaussian posterior ``q(z|x)`` over
    ``latent_size`` dimensions; ``z = mu + sigma * eps`` (reparameterised, ``eps ~ N(0, I)``) is
    repeated over the window as the decoder LSTM's input and, with ``init_decoder_state``, also
    sets the decoder's initial ``(h, c)`` through a linear layer (only ``z`` passes from encoder
    to decoder); a linear layer maps the decoder's outputs to the mean of a Gaussian ``p(x|z)``,
    independent per timestep and channel. Its variance ``sigma_x^2`` is either fixed
    (``output_variance=<float>``) or learned (``"learned"``, the default): one value per channel,
    in training the maximum-likelihood value for the current batch (its mean squared residual, in
    closed form, as in the "sigma-VAE" of Rybkin et al. 2021), and after training the mean squared
    residual over the training windows (stored in the network); floored at ``1e-4``. With
    ``sigma_x^2`` near 1 on data scaled to [-1, 1] the reconstruction term weighs little against
    the KL term and the posterior tends to collapse (measured with a variance learned by gradient
    from 1: KL about 2 nats, reconstructions 3x worse); the closed-form variance keeps the two
    terms in balance.

    Training: windows every ``train_step`` steps (plus the window ending at the last step),
    shuffled batches, Adam on the negative ELBO with a ``beta`` weight,
    ``-log p(x|z) + beta * KL(q(z|x) || N(0, I))``: one sample of ``z`` per window, the KL
    divergence in closed form, both summed over the window (nats per window). KL annealing: the
    KL weight is 0 for the first ``kl_warmup / 2`` of the optimiser steps (the network first
    learns to pass the window through ``z``, as an autoencoder), then rises linearly to ``beta``
    at ``kl_warmup`` of the steps and stays there (see :func:`kl_weight`); with ``beta`` from the
    first step the posterior collapses onto the prior on some signals (the decoder then outputs
    the mean of the data). ``history_`` holds, per epoch and averaged over the training windows,
    ``"reconstruction"`` (``-log p(x|z)``), ``"kl"`` and ``"total"`` (``reconstruction + beta *
    kl``: the negative ELBO when ``beta = 1``, whatever the annealing weight of the epoch). With a
    learned decoder variance the reconstruction term (a negative log-density) falls below zero
    once the residuals are smaller than ``1 / sqrt(2 pi e) = 0.24``, so the losses may be negative.

    Scoring (``score_mode``), on windows every ``score_step`` steps plus the one ending at the
    last step, then a centred moving average of ``smoothing_window`` steps; higher = more
    anomalous:

    * ``"reconstruction"`` (default): each window is reconstructed deterministically (decoder mean
      at ``z = mu``); each timestep's reconstruction is the median over the windows covering it;
      the score is the mean absolute error over channels (as the ``autoencoder`` detector).
      ``samples`` is not used.
    * ``"nll"``: a Monte Carlo estimate of the negative ELBO of each window (an upper bound on
      ``-log p(x)``, not the importance-weighted estimate): ``samples`` draws ``z_l ~ q(z|x)``
      give timestep ``t`` of the window the share ``mean_l sum_c -log p(x_tc | z_l) + KL /
      window_size`` (nats); each timestep's score is the median of its shares over the windows
      covering it. Costs ``samples`` decoder passes per window. The noise comes from a generator
      seeded in ``fit`` (attribute ``score_seed_``), so scoring is repeatable.

    Args:
        window_size: timesteps per window; also :meth:`min_length`.
        hidden_size: hidden units of the encoder and decoder LSTMs.
        latent_size: dimensions of the latent ``z``.
        epochs: passes over the training windows.
        batch_size: training windows per optimiser step.
        learning_rate: Adam learning rate.
        beta: weight of the KL term (1 = the ELBO; > 1 a beta-VAE; >= 0).
        kl_warmup: fraction of the optimiser steps, in [0, 1], after which the KL weight reaches
            ``beta`` (0 for the first half of it, then linear); ``0``: ``beta`` throughout.
        output_variance: ``"learned"`` (one maximum-likelihood variance per channel, see above)
            or a fixed variance ``sigma_x^2 > 0`` of ``p(x|z)`` in squared input units.
        score_mode: ``"reconstruction"`` or ``"nll"`` (see above).
        samples: Monte Carlo samples ``L >= 1`` of ``z`` per window in the ``"nll"`` mode.
        train_step: stride between training windows, in timesteps (>= 1).
        score_step: stride between scored windows (1 <= score_step <= window_size).
        smoothing_window: moving-average length of the score: an ``int`` >= 1 in timesteps, a
            ``float`` in (0, 1) as a fraction of the scored length; ``0``/``None``/``1``: off.
        forget_bias: initial forget-gate bias of both LSTMs (torch's default is 0).
        init_decoder_state: start the decoder LSTM from a linear map of ``z`` (``False``: zeros;
            ``z`` then reaches the decoder only as its input).
        grad_clip: clip the gradient norm to this value before each Adam step (``None``: off);
            the gradient is that of the loss per timestep and channel (the per-window loss
            divided by ``window_size * n_channels``).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        random_state: seed of weight initialisation, shuffling, the training samples of ``z`` and
            the scoring noise; same seed + same data + CPU gives identical scores.
    """

    _fitted_state = (*WindowedDetector._fitted_state, "score_seed_")
    _max_abs_input = 1e6  # the network computes in float32

    def __init__(
        self,
        window_size: int = 100,
        hidden_size: int = 32,
        latent_size: int = 16,
        epochs: int = 30,
        batch_size: int = 32,
        learning_rate: float = 5e-3,
        beta: float = 1.0,
        kl_warmup: float = 0.8,
        output_variance: str | float = "learned",
        score_mode: str = "reconstruction",
        samples: int = 10,
        train_step: int = 6,
        score_step: int = 1,
        smoothing_window: int | float | None = 0.01,
        forget_bias: float = 2.0,
        init_decoder_state: bool = True,
        grad_clip: float | None = 1.0,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self._store(locals())

    # -- validation ---------------------------------------------------------------------------
    def _check_score_params(self) -> None:
        """Validate ``score_mode`` and ``samples`` (``score`` checks again: set_params may
        change them after fit)."""
        name = type(self).__name__
        if not isinstance(self.score_mode, str) or self.score_mode not in SCORE_MODES:
            raise ValueError(
                f"{name}: score_mode must be one of {', '.join(map(repr, SCORE_MODES))}, "
                f"got {self.score_mode!r}"
            )
        samples = self.samples
        if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
            raise ValueError(
                f"{name}: samples (Monte Carlo draws of z per window for score_mode='nll') must "
                f"be an integer >= 1, got {samples!r}"
            )
        smoothing_steps(self.smoothing_window, 100, name)  # validates the value

    def _check_params(self) -> None:
        name = type(self).__name__
        self._check_positive_ints(
            "window_size",
            "hidden_size",
            "latent_size",
            "epochs",
            "batch_size",
            "train_step",
            "score_step",
        )
        self._check_score_step("score")
        for key, low, strict in (
            ("learning_rate", 0.0, True),
            ("beta", 0.0, False),
            ("kl_warmup", 0.0, False),
        ):
            value = getattr(self, key)
            ok = (
                not isinstance(value, bool)
                and isinstance(value, (int, float, np.integer, np.floating))
                and np.isfinite(value)
                and (value > low if strict else value >= low)
            )
            if not ok:
                raise ValueError(
                    f"{name}: {key} must be a finite number {'>' if strict else '>='} {low:g}, "
                    f"got {value!r}"
                )
        if self.kl_warmup > 1:
            raise ValueError(
                f"{name}: kl_warmup is a fraction of the training steps, in [0, 1], got "
                f"{self.kl_warmup!r}"
            )
        clip = self.grad_clip
        if clip is not None and (
            isinstance(clip, bool)
            or not isinstance(clip, (int, float, np.integer, np.floating))
            or not clip > 0
        ):
            raise ValueError(f"{name}: grad_clip must be a number > 0 or None, got {clip!r}")
        self._output_variance()
        self._check_score_params()

    def _output_variance(self) -> float | None:
        """The fixed decoder variance, or ``None`` when it is learned; raises on a bad value."""
        value = self.output_variance
        if isinstance(value, str) and value == "learned":
            return None
        if (
            not isinstance(value, bool)
            and isinstance(value, (int, float, np.integer, np.floating))
            and np.isfinite(value)
            and value > 0
        ):
            return float(value)
        raise ValueError(
            f"{type(self).__name__}: output_variance must be 'learned' or a finite number > 0 "
            f"(the fixed variance of p(x|z)), got {value!r}"
        )

    # -- training -----------------------------------------------------------------------------
    def _build_network(self, n_channels: int) -> Any:
        from .network import LSTMVAENet

        return LSTMVAENet(
            n_channels,
            int(self.hidden_size),
            int(self.latent_size),
            forget_bias=float(self.forget_bias or 0.0),
            init_decoder_state=bool(self.init_decoder_state),
            output_variance=self._output_variance(),
        )

    def _batch_loss(self, model: Any, batch: Any, step: int, n_steps: int) -> tuple[Any, dict]:
        """The negative ELBO per timestep and channel, with the annealed KL weight of ``step``;
        records the terms in nats per window."""
        beta = float(self.beta)
        reconstruction, kl = model.elbo_terms(batch)
        reconstruction, kl = reconstruction.mean(), kl.mean()
        weight = kl_weight(step, n_steps, beta, float(self.kl_warmup))
        objective = (reconstruction + weight * kl) / (batch.shape[1] * batch.shape[2])
        total = reconstruction.detach() + beta * kl.detach()
        return objective, {"reconstruction": reconstruction, "kl": kl, "total": total}

    def _after_training(self, model: Any, windows: Any, rng: Any) -> None:
        """Store the learned decoder variance; draw the seed of the scoring noise."""
        model.calibrate_variance(windows)
        self.score_seed_ = int(rng.numpy.integers(2**63 - 1))

    # -- scoring ------------------------------------------------------------------------------
    def reconstruct(self, X: Any) -> np.ndarray:
        """Per-timestep reconstruction of ``X`` (median over covering windows of the decoder mean
        at ``z = mu``): shape ``(n_timesteps, n_channels)``."""
        return self._per_timestep(self._input(X, fitting=False), self.model_)

    def _timestep_scores(self, arr: np.ndarray) -> np.ndarray:
        """``score_mode="reconstruction"``: mean absolute reconstruction error over channels (>= 0,
        input units); ``"nll"``: the median per-timestep share of the windows' negative ELBO
        (nats, may be negative).

        Raises:
            FloatingPointError: the scores came out non-finite (never returned silently).
        """
        if self.score_mode == "reconstruction":
            error = np.abs(arr - self._per_timestep(arr, self.model_)).mean(axis=1)
        else:
            import torch

            samples = int(self.samples)
            generator = torch.Generator(device=torch.device(self.device_))
            generator.manual_seed(self.score_seed_)

            def contributions(batch: torch.Tensor) -> torch.Tensor:
                return self.model_.nll_contributions(batch, samples, generator)

            error = self._per_timestep(arr, contributions, max(1, self._score_batch // samples))
        if not np.all(np.isfinite(error)):
            raise FloatingPointError(
                f"{type(self).__name__}: {int(np.sum(~np.isfinite(error)))} scores are NaN or "
                f"infinite (score_mode={self.score_mode!r}); the input (max |x| = "
                f"{float(np.max(np.abs(arr))):.3g}) is far outside the training range, or the "
                "model diverged; check the input scaling"
            )
        return error
