"""The adversarial training loop shared by ``tadgan`` (WGAN-GP) and ``gan`` (BCE).

One epoch follows the reference: the shuffled windows are cut into minibatches of
``batch_size * n_critic`` windows; for each, ``n_critic`` critic iterations update Cx and Cz on
consecutive batches of ``batch_size``, then one encoder/generator step uses the last batch.

Engineering of the step (same mathematics as the reference, fewer and larger kernels):

* E(x) and G(z) for the critics' fake samples of all ``n_critic`` iterations are computed in one
  batched forward pass per minibatch, without autograd and with the LSTMs' inference kernels (E and
  G do not change during the critic iterations, so this equals computing them per iteration;
  dropout stays in training mode, as in Keras' ``train_on_batch``).
* The critic's real and fake samples go through it as one concatenated batch.
* In the encoder/generator step, G(z) and G(E(x)) are one batched generator pass, and the critics'
  parameters are frozen (no weight gradients computed for them).
* Losses stay on the device and are copied to the host once per epoch: no per-step host
  synchronisation on a GPU.
* Every critic pass runs the LeakyReLUs as products with constant slopes
  (:func:`.network.run_layers`): bit-identical values and gradients to the layers, a double
  backward that stops at the slopes, and float kernels instead of torch's slow bool ones.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from benchbench.torchkit import end_epoch

from .network import (
    TadGANNets,
    bce_critic_losses,
    gradient_penalty,
    wasserstein_critic_losses,
)

LOSSES = ("wasserstein", "bce")
#: How every critic pass of the training runs its LeakyReLUs (:func:`.network.run_layers`).
_ACTIVATIONS = "constant_slopes"


@contextlib.contextmanager
def _lstms_in_inference_mode(nets: torch.nn.Module):
    """Run the LSTMs with their inference kernels (no training workspace; about 10-20 % faster on
    the CPU) while dropout layers stay in training mode. Only for forward passes without autograd:
    the LSTMs here are single-layer, so their mode changes nothing else."""
    lstms = [m for m in nets.modules() if isinstance(m, torch.nn.LSTM) and m.training]
    for m in lstms:
        m.training = False
    try:
        yield
    finally:
        for m in lstms:
            m.training = True


def _adversarial_generator_loss(loss: str, score: torch.Tensor) -> torch.Tensor:
    """The encoder/generator's adversarial term for one critic's scores of its samples."""
    if loss == "wasserstein":
        return -score.mean()
    # non-saturating generator loss: -log D(fake)
    return F.binary_cross_entropy_with_logits(score, torch.ones_like(score))


class AdversarialTrainer:
    """Optimisers and one training step of the four networks.

    Args:
        nets: the four networks, on the training device.
        loss: ``"wasserstein"`` (critics with gradient penalty, TadGAN) or ``"bce"`` (standard GAN
            discriminators on logits, non-saturating generator loss, no penalty).
        learning_rate: Adam's learning rate for all three optimisers (critic x, critic z,
            encoder + generator), Keras' Adam otherwise (betas 0.9, 0.999, eps 1e-7).
        n_critic: critic iterations per encoder/generator step.
        gp_weight: weight of the gradient penalty (``wasserstein`` only).
        rec_weight: weight of the cycle-consistency (reconstruction MSE) term.
        autocast: a context manager factory for mixed precision (``contextlib.nullcontext`` off).
    """

    def __init__(self, nets: TadGANNets, *, loss: str, learning_rate: float, n_critic: int,
                 gp_weight: float, rec_weight: float,
                 autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
                 ) -> None:
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        self.nets = nets
        self.loss = loss
        self.n_critic = int(n_critic)
        self.gp_weight = float(gp_weight)
        self.rec_weight = float(rec_weight)
        self.autocast = autocast

        def adam(*modules: torch.nn.Module) -> torch.optim.Adam:
            params = [p for m in modules for p in m.parameters()]
            return torch.optim.Adam(params, lr=learning_rate, betas=(0.9, 0.999), eps=1e-7)

        self.opt_cx = adam(nets.critic_x)
        self.opt_cz = adam(nets.critic_z)
        self.opt_eg = adam(nets.encoder, nets.generator)

    def _critic_step(self, critic: torch.nn.Module, optimiser: torch.optim.Optimizer,
                     real: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimiser step of ``critic`` on ``real`` and ``fake``; return its loss terms."""
        with self.autocast():
            scores = critic(torch.cat((real, fake)), _ACTIVATIONS).float()
        real_score, fake_score = scores[: len(real)], scores[len(real):]
        if self.loss == "wasserstein":
            l_real, l_fake = wasserstein_critic_losses(real_score, fake_score)
            with self.autocast():
                penalty = gradient_penalty(
                    functools.partial(critic, activations=_ACTIVATIONS), real, fake).float()
            total = l_real + l_fake + self.gp_weight * penalty
            terms = {"real": l_real, "fake": l_fake, "penalty": penalty}
        else:
            l_real, l_fake = bce_critic_losses(real_score, fake_score)
            total = l_real + l_fake
            terms = {"real": l_real, "fake": l_fake}
        _step(optimiser, total)
        return {key: value.detach() for key, value in terms.items()}

    def _critic_steps(self, x: torch.Tensor, gz: torch.Tensor, z: torch.Tensor,
                      ex: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """One critic iteration: Cx on ``(x, G(z))``, then Cz on ``(z, E(x))``. Returns the Cx
        and the Cz loss terms."""
        nets = self.nets
        return (self._critic_step(nets.critic_x, self.opt_cx, x, gz),
                self._critic_step(nets.critic_z, self.opt_cz, z, ex))

    def minibatch(self, x_all: torch.Tensor) -> dict[str, torch.Tensor]:
        """Train on one minibatch of ``n_critic * batch`` windows; return the losses (detached,
        critic terms averaged over the critic iterations)."""
        nets = self.nets
        batches = x_all.tensor_split(self.n_critic)  # n_critic parts even when not divisible
        latent = nets.critic_z.net[0].in_features
        z_all = torch.randn(x_all.shape[0], latent, device=x_all.device)
        with _lstms_in_inference_mode(nets), torch.no_grad(), self.autocast():
            ex_all, gz_all = nets.encoder(x_all).float(), nets.generator(z_all).float()
        sums: dict[str, torch.Tensor] = {}
        start = 0
        for x in batches:
            stop = start + len(x)
            z = z_all[start:stop]
            cx, cz = self._critic_steps(x, gz_all[start:stop], z, ex_all[start:stop])
            for key, value in cx.items():
                sums[f"cx_{key}"] = sums.get(f"cx_{key}", 0.0) + value
            for key, value in cz.items():
                sums[f"cz_{key}"] = sums.get(f"cz_{key}", 0.0) + value
            start = stop
        losses = {key: value / len(batches) for key, value in sums.items()}
        losses.update(self._encoder_generator_step(x, z))
        return losses

    def _encoder_generator_step(self, x: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimiser step of E and G, the critics frozen (no weight gradients for them)."""
        nets = self.nets
        critics = (nets.critic_x, nets.critic_z)
        for critic in critics:
            critic.requires_grad_(False)
        try:
            with self.autocast():
                ex = nets.encoder(x)
                generated = nets.generator(torch.cat((z, ex)))
                gz, x_rec = generated[: len(z)], generated[len(z):]
                adv_x = _adversarial_generator_loss(
                    self.loss, nets.critic_x(gz, _ACTIVATIONS).float())
                adv_z = _adversarial_generator_loss(
                    self.loss, nets.critic_z(ex, _ACTIVATIONS).float())
                rec = F.mse_loss(x_rec.float(), x)
            _step(self.opt_eg, adv_x + adv_z + self.rec_weight * rec)
        finally:
            for critic in critics:
                critic.requires_grad_(True)
        terms = {"eg_adv_x": adv_x, "eg_adv_z": adv_z, "eg_reconstruction": rec}
        return {key: value.detach() for key, value in terms.items()}


def _step(optimiser: torch.optim.Optimizer, total: torch.Tensor) -> None:
    """Set the gradient of ``total`` in each of ``optimiser``'s parameters (``None`` where it
    does not depend on one) and take the optimiser's step."""
    params = [p for group in optimiser.param_groups for p in group["params"]]
    for p, grad in zip(params, torch.autograd.grad(total, params, allow_unused=True)):
        p.grad = grad
    optimiser.step()


def minibatch_plan(n_windows: int, batch_size: int, n_critic: int) -> tuple[int, int]:
    """``(minibatches per epoch, windows per minibatch)``.

    The reference runs ``n_windows // (batch_size * n_critic)`` minibatches and so skips training
    entirely when there are fewer windows than one minibatch; here such a signal still gets one
    minibatch per epoch, made of all its windows (at least one per critic iteration).
    """
    size = batch_size * n_critic
    if n_windows >= size:
        return n_windows // size, size
    return 1, max(n_windows, n_critic)


def train(detector, trainer: AdversarialTrainer, windows: torch.Tensor, *, epochs: int,
          batch_size: int, generator: torch.Generator) -> None:
    """Run ``epochs`` epochs and record each epoch's mean losses in ``detector.history_``.

    Raises :class:`FloatingPointError` naming the loss and the epoch when a loss turns NaN or
    infinite (a diverging run, see :func:`benchbench.torchkit.end_epoch`), so the job fails with
    that message instead of scoring NaN.
    """
    n = int(windows.shape[0])
    device = windows.device
    n_minibatches, size = minibatch_plan(n, batch_size, trainer.n_critic)
    trainer.nets.train()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        if size > n:  # fewer windows than one minibatch: repeat the permutation
            order = order.repeat(math.ceil(size / n))[:size]
        order = order.to(device)
        sums: dict[str, torch.Tensor] = {}
        for i in range(n_minibatches):
            losses = trainer.minibatch(windows[order[i * size : (i + 1) * size]])
            for key, value in losses.items():
                sums[key] = sums.get(key, 0.0) + value
        end_epoch(detector, epoch, epochs, sums, n_minibatches)
