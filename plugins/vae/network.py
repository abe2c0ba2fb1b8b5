"""The torch network of the ``vae`` detector (imported inside ``fit`` only).

Notation: ``B`` windows per batch, ``W`` timesteps per window, ``C`` channels, ``H`` LSTM hidden
units, ``Z`` latent dimensions. All log-densities are natural logarithms (nats).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from benchbench.torchkit import set_forget_bias

#: Bounds of the encoder's log-variance, so ``exp`` can neither overflow nor underflow in float32.
LOGVAR_BOUNDS = (-10.0, 10.0)
#: Lower bound of the decoder's log-variance (sigma >= 0.01 on data scaled to [-1, 1]).
MIN_OUTPUT_LOGVAR = math.log(1e-4)
_LOG_2PI = math.log(2.0 * math.pi)
#: Initial bias of the encoder's log-variance output: the posterior starts narrow (sigma about
#: 0.14), so z carries the window's information from the first step; starting at sigma = 1 drowns
#: it in noise and the KL term then collapses the posterior onto the prior on some signals.
INITIAL_POSTERIOR_LOGVAR = -4.0


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Closed-form ``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per row, in nats.

    ``KL = 0.5 * sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1)`` with ``sigma_j^2 =
    exp(logvar_j)``.

    Args:
        mu: posterior means, shape ``(..., Z)``.
        logvar: posterior log-variances ``log sigma^2``, shape ``(..., Z)``.

    Returns:
        Shape ``(...)``: the divergence of each row (>= 0).
    """
    return 0.5 * (mu.square() + logvar.exp() - logvar - 1.0).sum(dim=-1)


def reparameterise(
    mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None
) -> torch.Tensor:
    """Sample ``z = mu + sigma * eps`` with ``eps ~ N(0, I)``, differentiable in ``mu``, ``logvar``.

    Args:
        mu: shape ``(..., Z)``.
        logvar: shape ``(..., Z)``.
        eps: standard normal noise of the same shape (drawn from torch's global generator when
            ``None``).

    Returns:
        ``z``, shape ``(..., Z)``.
    """
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise ``-log N(x | mean, exp(logvar))`` in nats (``logvar`` broadcasts).

    Args:
        x: observations, shape ``(B, W, C)``.
        mean: decoder means, same shape.
        logvar: decoder log-variances, broadcastable to ``x`` (e.g. ``(C,)``).

    Returns:
        Shape ``(B, W, C)``.
    """
    return 0.5 * ((x - mean).square() * torch.exp(-logvar) + logvar + _LOG_2PI)


class LSTMVAENet(nn.Module):
    """LSTM variational autoencoder for windows.

    * Encoder: an LSTM reads the window ``(B, W, C)``; a linear layer maps its last hidden state
      ``(B, H)`` to the posterior ``q(z|x) = N(mu, diag(sigma^2))``: ``mu`` and
      ``logvar = log sigma^2``, each ``(B, Z)`` (``logvar`` clamped to :data:`LOGVAR_BOUNDS`; its
      bias starts at :data:`INITIAL_POSTERIOR_LOGVAR`).
    * Decoder: ``z`` is repeated over the ``W`` timesteps as the decoder LSTM's input; with
      ``init_decoder_state`` the decoder also starts from ``(h0, c0) = (tanh(A z), B z)`` (two
      linear maps of ``z``), so the phase of the window reaches it at the first step. Nothing but
      ``z`` passes from encoder to decoder (the encoder's own state would bypass the latent
      bottleneck and its KL cost). A linear layer maps the decoder's outputs to the mean of
      ``p(x|z)``, ``(B, W, C)``.
    * Likelihood: ``p(x|z) = N(mean, sigma_x^2)`` independently per timestep and channel.
      ``sigma_x^2`` is the fixed value given, or, with ``output_variance=None``, learned in closed
      form: in training mode the maximum-likelihood value for the batch (the mean squared
      residual per channel, see :meth:`decoder_logvar`), and in eval mode the buffer
      ``output_logvar`` that :meth:`calibrate_variance` sets from the training windows after
      training; bounded below by :data:`MIN_OUTPUT_LOGVAR`.

    Args:
        n_channels: channels per timestep ``C``.
        hidden_size: hidden units ``H`` of both LSTMs.
        latent_size: latent dimensions ``Z``.
        forget_bias: initial forget-gate bias of both LSTMs (``0`` keeps torch's init).
        init_decoder_state: start the decoder from a linear map of ``z`` (else from zeros).
        output_variance: fixed decoder variance ``sigma_x^2`` (> 0), or ``None`` to learn it
            (the buffer starts at 1 until :meth:`calibrate_variance`).
    """

    def __init__(
        self,
        n_channels: int,
        hidden_size: int,
        latent_size: int,
        forget_bias: float = 2.0,
        init_decoder_state: bool = True,
        output_variance: float | None = None,
    ) -> None:
        super().__init__()
        self.encoder = nn.LSTM(n_channels, hidden_size, batch_first=True)
        self.posterior = nn.Linear(hidden_size, 2 * latent_size)
        self.decoder = nn.LSTM(latent_size, hidden_size, batch_first=True)
        self.output = nn.Linear(hidden_size, n_channels)
        self.init_state = nn.Linear(latent_size, 2 * hidden_size) if init_decoder_state else None
        self.learn_variance = output_variance is None
        start = 1.0 if output_variance is None else float(output_variance)
        self.register_buffer("output_logvar", torch.full((n_channels,), math.log(start)))
        with torch.no_grad():
            self.posterior.bias[latent_size:].fill_(INITIAL_POSTERIOR_LOGVAR)
        if forget_bias:
            set_forget_bias(forget_bias, self.encoder, self.decoder)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior of windows ``x`` ``(B, W, C)``: ``(mu, logvar)``, each ``(B, Z)``."""
        _, (h, _) = self.encoder(x)
        mu, logvar = self.posterior(h[-1]).chunk(2, dim=-1)
        return mu, logvar.clamp(*LOGVAR_BOUNDS)

    def decode(self, z: torch.Tensor, window_size: int) -> torch.Tensor:
        """Mean of ``p(x|z)``: latents ``(B, Z)`` -> windows ``(B, window_size, C)``."""
        repeated = z.unsqueeze(1).expand(-1, window_size, -1)
        if self.init_state is None:
            decoded, _ = self.decoder(repeated)
        else:
            h0, c0 = self.init_state(z).chunk(2, dim=-1)
            decoded, _ = self.decoder(repeated, (torch.tanh(h0)[None], c0[None].contiguous()))
        return self.output(decoded)

    def decoder_logvar(self, x: torch.Tensor | None = None, mean: torch.Tensor | None = None):
        """``log sigma_x^2`` per channel, shape ``(C,)``.

        In training mode with a learned variance, the maximum-likelihood value for the batch:
        ``log mean_{b,t} (x - mean)^2`` per channel (bounded below by :data:`MIN_OUTPUT_LOGVAR`);
        otherwise the stored buffer ``output_logvar`` (see :meth:`calibrate_variance`).
        """
        if self.learn_variance and self.training and x is not None and mean is not None:
            mse = (x - mean).square().mean(dim=(0, 1))
            return torch.log(mse).clamp(min=MIN_OUTPUT_LOGVAR)
        return self.output_logvar

    @torch.no_grad()
    def calibrate_variance(self, windows: torch.Tensor, batch_size: int = 1024) -> None:
        """Store the learned decoder variance: per channel, the mean squared error of one-sample
        reconstructions (``z ~ q(z|x)``, global torch generator) over ``windows`` ``(N, W, C)``.
        Does nothing when the variance is fixed."""
        if not self.learn_variance:
            return
        total = torch.zeros_like(self.output_logvar)
        for start in range(0, int(windows.shape[0]), batch_size):
            x = windows[start : start + batch_size]
            mu, logvar = self.encode(x)
            mean = self.decode(reparameterise(mu, logvar), x.shape[1])
            total += (x - mean).square().sum(dim=(0, 1))
        mse = total / (windows.shape[0] * windows.shape[1])
        self.output_logvar.copy_(torch.log(mse).clamp(min=MIN_OUTPUT_LOGVAR))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic reconstruction ``(B, W, C) -> (B, W, C)``: decoder mean at ``z = mu``."""
        mu, _ = self.encode(x)
        return self.decode(mu, x.shape[1])

    def elbo_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One-sample ELBO terms of windows ``x`` ``(B, W, C)``, in nats per window.

        Returns:
            ``(reconstruction, kl)``, each ``(B,)``: ``-log p(x|z)`` summed over the window's
            timesteps and channels for one reparameterised ``z ~ q(z|x)``, and the closed-form
            ``KL(q(z|x) || N(0, I))``. The negative ELBO of a window is ``reconstruction + kl``.
        """
        mu, logvar = self.encode(x)
        z = reparameterise(mu, logvar)
        mean = self.decode(z, x.shape[1])
        nll = gaussian_nll(x, mean, self.decoder_logvar(x, mean)).sum(dim=(1, 2))
        return nll, gaussian_kl(mu, logvar)

    def nll_contributions(
        self, x: torch.Tensor, samples: int, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Per-timestep share of the Monte Carlo negative ELBO of each window.

        With ``z_1..z_L ~ q(z|x)`` (``L = samples``), timestep ``t`` of a window gets
        ``(1/L) sum_l sum_c -log p(x_tc | z_l) + KL(q(z|x) || N(0, I)) / W``; summed over the
        window's timesteps this is the window's estimate of ``-ELBO >= -log p(x)``.

        Args:
            x: windows ``(B, W, C)``.
            samples: ``L >= 1``.
            generator: source of the noise (on ``x``'s device); torch's global one when ``None``.

        Returns:
            Shape ``(B, W)``, nats.
        """
        n, window, _ = x.shape
        mu, logvar = self.encode(x)
        eps = torch.randn(
            (samples, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype
        )
        z = reparameterise(mu, logvar, eps).reshape(samples * n, -1)  # sample-major
        mean = self.decode(z, window).reshape(samples, n, window, -1)
        nll = gaussian_nll(x.unsqueeze(0), mean, self.decoder_logvar()).sum(dim=-1).mean(dim=0)
        return nll + (gaussian_kl(mu, logvar) / window).unsqueeze(1)
