"""The adversarial training loop shared by ``tadgan`` (WGAN-GP) and ``gan`` (BCE).

One epoch follows the reference: the shuffled windows are cut into minibatches of
``batch_size * n_critic`` windows; for each, ``n_critic`` critic iterations update Cx and Cz on
consecutive batches of ``batch_size``, then one encoder/generator step uses the last batch.

Engineering of the step (same mathematics as the reference, fewer and larger kernels):

* E(x) and G(z) for the critics' fake samples of all ``n_critic`` iterations are computed in one
  batched forward pass per minibatch, without autograd and with the LSTMs' inference kernels (E and
  G do not change during the critic iterations, so this equals computing them per iteration;
  dropout stays in training mode, as in Keras' ``train_on_batch``).
* The critic's real and fake samples go through it as one concatenated batch, and each critic
  iteration computes both critics' gradients in one call (they are independent; Cx's optimiser
  step does not change Cz's loss), then takes both optimiser steps.
* In the encoder/generator step, G(z) and G(E(x)) are one batched generator pass, and the critics'
  parameters are frozen (no weight gradients computed for them).
* Losses stay on the device and are copied to the host once per epoch: no per-step host
  synchronisation on a GPU.
* Every critic pass runs the LeakyReLUs as products with constant slopes
  (:func:`.network.run_layers`): bit-identical values and gradients to the layers, a double
  backward that stops at the slopes, and float kernels instead of torch's slow bool ones.
* On the CPU with two or more threads, each batch is cut into shards (``shards``) whose gradients
  are computed in parallel threads (torch's threads divided among them) and summed: the LSTMs' and
  convolutions' small matrix products scale poorly over threads within one operation, two
  independent halves scale well. Each shard draws its dropout masks and penalty interpolates
  from its own numpy generator (:func:`.network.random_source`), so a sharded run is
  deterministic, and runs the critics' LeakyReLU and dropout as one product (``"fused"``
  activations: the same mathematics, rounded differently).
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import torch
from torch.nn import functional as F

from benchbench.torchkit import end_epoch

from .network import (
    TadGANNets,
    bce_critic_losses,
    gradient_penalty,
    random_source,
    wasserstein_critic_losses,
)

_T = TypeVar("_T")

LOSSES = ("wasserstein", "bce")


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
        shards: parts each batch is cut into, their gradients computed in parallel threads and
            summed (weighted by their share of the batch: every loss term is a mean over
            samples, so the sum is the whole batch's gradient). For the CPU: two shards at one
            thread each train faster than one batch on two threads, because the networks' small
            matrix products scale poorly across threads. 1 (the default) runs every step on the
            calling thread with torch's global random generator, as an unsharded trainer does.
            With more, the critics run with fused activations (:func:`.network.run_layers`).
    """

    def __init__(self, nets: TadGANNets, *, loss: str, learning_rate: float, n_critic: int,
                 gp_weight: float, rec_weight: float,
                 autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
                 shards: int = 1) -> None:
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        if int(shards) < 1:
            raise ValueError(f"shards must be >= 1, got {shards!r}")
        self.nets = nets
        self.loss = loss
        self.n_critic = int(n_critic)
        self.gp_weight = float(gp_weight)
        self.rec_weight = float(rec_weight)
        self.autocast = autocast
        self.shards = int(shards)
        self._pool: ThreadPoolExecutor | None = None
        self._rngs: list[np.random.Generator] = []  # one per shard, inside running()
        # one shard computes exactly what the layers do (and so reproduces earlier runs bit for
        # bit); the sharded CPU path fuses each LeakyReLU with its dropout
        self._activations = "fused" if self.shards > 1 else "constant_slopes"

        def adam(*modules: torch.nn.Module) -> torch.optim.Adam:
            params = [p for m in modules for p in m.parameters()]
            return torch.optim.Adam(params, lr=learning_rate, betas=(0.9, 0.999), eps=1e-7)

        self.opt_cx = adam(nets.critic_x)
        self.opt_cz = adam(nets.critic_z)
        self.opt_eg = adam(nets.encoder, nets.generator)

    @contextlib.contextmanager
    def running(self) -> Iterator[AdversarialTrainer]:
        """The block in which :meth:`minibatch` runs: with ``shards > 1``, one worker thread per
        extra shard, torch's threads divided among the shards (restored on exit) and one random
        numpy generator (SFC64) per shard, seeded from torch's global generator."""
        if self.shards == 1:
            yield self
            return
        threads = torch.get_num_threads()
        per_shard = max(1, threads // self.shards)
        seeds = torch.randint(0, 2**62, (self.shards,)).tolist()
        self._rngs = [np.random.Generator(np.random.SFC64(seed)) for seed in seeds]
        torch.set_num_threads(per_shard)
        self._pool = ThreadPoolExecutor(self.shards - 1, thread_name_prefix="tadgan-shard",
                                        initializer=torch.set_num_threads,
                                        initargs=(per_shard,))
        try:
            yield self
        finally:
            self._pool.shutdown()
            self._pool = None
            self._rngs = []
            torch.set_num_threads(threads)

    def _sharded(self, task: Callable[..., _T], *tensors: torch.Tensor) -> list[_T]:
        """``task(*parts, weight=share)`` for each shard's parts of ``tensors`` (cut along the
        batch), the shards after the first in the worker threads; results in shard order."""
        if self._pool is None:
            return [task(*tensors, weight=1.0)]
        n = tensors[0].shape[0]
        parts = [t.tensor_split(self.shards) for t in tensors]
        calls = [[p[k] for p in parts] for k in range(self.shards) if len(parts[0][k])]

        def call(k: int) -> _T:
            with random_source(self._rngs[k]):
                return task(*calls[k], weight=calls[k][0].shape[0] / n)

        futures = [self._pool.submit(call, k) for k in range(1, len(calls))]
        first = call(0)
        return [first, *(f.result() for f in futures)]

    def _apply(self, optimiser: torch.optim.Optimizer, params: list[torch.nn.Parameter],
               results: list[tuple[tuple[torch.Tensor | None, ...], dict[str, torch.Tensor]]]
               ) -> dict[str, torch.Tensor]:
        """Sum the shards' gradients (in shard order), take the optimiser step, return the
        shards' loss terms summed (each already weighted by its shard's share)."""
        for i, p in enumerate(params):
            grads = [g[i] for g, _ in results if g[i] is not None]
            p.grad = functools.reduce(torch.add, grads) if grads else None
        optimiser.step()
        terms = results[0][1]
        for _, more in results[1:]:
            terms = {key: value + more[key] for key, value in terms.items()}
        return terms

    def _critic_grads(self, critic: torch.nn.Module, params: list[torch.nn.Parameter],
                      real: torch.Tensor, fake: torch.Tensor, *, weight: float):
        """Gradient of one shard's critic loss (times ``weight``) and its weighted terms."""
        with self.autocast():
            scores = critic(torch.cat((real, fake)), self._activations).float()
        real_score, fake_score = scores[: len(real)], scores[len(real):]
        if self.loss == "wasserstein":
            l_real, l_fake = wasserstein_critic_losses(real_score, fake_score)
            with self.autocast():
                penalty = gradient_penalty(
                    functools.partial(critic, activations=self._activations),
                    real, fake).float()
            total = l_real + l_fake + self.gp_weight * penalty
            terms = {"real": l_real, "fake": l_fake, "penalty": penalty}
        else:
            l_real, l_fake = bce_critic_losses(real_score, fake_score)
            total = l_real + l_fake
            terms = {"real": l_real, "fake": l_fake}
        return _weighted_grads(total, params, terms, weight)

    def _critics_grads(self, x_params: list[torch.nn.Parameter],
                       z_params: list[torch.nn.Parameter], x: torch.Tensor, gz: torch.Tensor,
                       z: torch.Tensor, ex: torch.Tensor, *, weight: float):
        """One shard's gradients of both critics' losses, Cx on ``(x, G(z))`` then Cz on
        ``(z, E(x))``: they do not depend on each other, and in this order the shard's random
        draws are those of two separate steps."""
        nets = self.nets
        return (self._critic_grads(nets.critic_x, x_params, x, gz, weight=weight),
                self._critic_grads(nets.critic_z, z_params, z, ex, weight=weight))

    def _critic_steps(self, x: torch.Tensor, gz: torch.Tensor, z: torch.Tensor,
                      ex: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """One critic iteration: both critics' gradients in one sharded call (one hand-off to
        the worker threads, and Cz's small operations run beside the other shard's Cx), then
        each critic's optimiser step. Returns the Cx and the Cz loss terms."""
        nets = self.nets
        x_params, z_params = list(nets.critic_x.parameters()), list(nets.critic_z.parameters())
        results = self._sharded(functools.partial(self._critics_grads, x_params, z_params),
                                x, gz, z, ex)
        return (self._apply(self.opt_cx, x_params, [r[0] for r in results]),
                self._apply(self.opt_cz, z_params, [r[1] for r in results]))

    def _fakes(self, x: torch.Tensor, z: torch.Tensor, *, weight: float):
        with torch.no_grad(), self.autocast():
            return self.nets.encoder(x).float(), self.nets.generator(z).float()

    def minibatch(self, x_all: torch.Tensor) -> dict[str, torch.Tensor]:
        """Train on one minibatch of ``n_critic * batch`` windows; return the losses (detached,
        critic terms averaged over the critic iterations). Call it inside :meth:`running`
        when ``shards > 1`` (outside, it runs unsharded)."""
        nets = self.nets
        batches = x_all.tensor_split(self.n_critic)  # n_critic parts even when not divisible
        latent = nets.critic_z.net[0].in_features
        z_all = torch.randn(x_all.shape[0], latent, device=x_all.device)
        with _lstms_in_inference_mode(nets):
            fakes = self._sharded(self._fakes, x_all, z_all)
        # the shards' E(x) and G(z), back in batch order (one shard: its tensors as they are)
        ex_all, gz_all = (torch.cat(parts) if len(parts) > 1 else parts[0]
                          for parts in zip(*fakes))
        sums: dict[str, torch.Tensor] = {}
        start = 0
        for x in batches:
            stop = start + len(x)
            z = z_all[start:stop]
            cx, cz = self._critic_steps(x, gz_all[start:stop], z, ex_all[start:stop])
            for key, value in cx.items():
                sums[f"cx_{key}"] = sums.get(f"cx_{key}", 0.0) + value.detach()
            for key, value in cz.items():
                sums[f"cz_{key}"] = sums.get(f"cz_{key}", 0.0) + value.detach()
            start = stop
        losses = {key: value / len(batches) for key, value in sums.items()}
        losses.update(self._encoder_generator_step(x, z))
        return losses

    def _encoder_generator_grads(self, params: list[torch.nn.Parameter], x: torch.Tensor,
                                 z: torch.Tensor, *, weight: float):
        nets = self.nets
        with self.autocast():
            ex = nets.encoder(x)
            generated = nets.generator(torch.cat((z, ex)))
            gz, x_rec = generated[: len(z)], generated[len(z):]
            adv_x = _adversarial_generator_loss(
                self.loss, nets.critic_x(gz, self._activations).float())
            adv_z = _adversarial_generator_loss(
                self.loss, nets.critic_z(ex, self._activations).float())
            rec = F.mse_loss(x_rec.float(), x)
        total = adv_x + adv_z + self.rec_weight * rec
        terms = {"eg_adv_x": adv_x, "eg_adv_z": adv_z, "eg_reconstruction": rec}
        return _weighted_grads(total, params, terms, weight)

    def _encoder_generator_step(self, x: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
        nets = self.nets
        critics = (nets.critic_x, nets.critic_z)
        params = [p for m in (nets.encoder, nets.generator) for p in m.parameters()]
        for critic in critics:  # no weight gradients for the critics in this step
            critic.requires_grad_(False)
        try:
            results = self._sharded(functools.partial(self._encoder_generator_grads, params), x, z)
        finally:
            for critic in critics:
                critic.requires_grad_(True)
        return self._apply(self.opt_eg, params, results)


def _weighted_grads(total: torch.Tensor, params: list[torch.nn.Parameter],
                    terms: dict[str, torch.Tensor], weight: float):
    """``(d(weight * total)/d params, {name: weight * term})``, terms detached; ``weight`` 1
    multiplies nothing (an unsharded step computes exactly what ``total.backward()`` would)."""
    if weight != 1.0:
        total = total * weight
        terms = {key: value * weight for key, value in terms.items()}
    grads = torch.autograd.grad(total, params, allow_unused=True)
    return grads, {key: value.detach() for key, value in terms.items()}


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
    with trainer.running():
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
