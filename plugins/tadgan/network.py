"""The four networks of TadGAN and of the plain GAN (imported inside ``fit`` only).

Shapes follow the reference implementation (Orion's Keras TadGAN, sintel-dev/Orion); ``B`` windows
per batch, ``W`` timesteps per window (100), ``C`` channels, ``Z`` latent size (20):

* :class:`Encoder` E: ``(B, W, C)`` -> BiLSTM(100, sequences) -> flatten -> dense -> ``(B, Z)``.
* :class:`Generator` G: ``(B, Z)`` -> dense(W/2) -> ``(B, W/2, 1)`` -> BiLSTM(64) -> upsample x2 ->
  BiLSTM(64) -> per-step dense(C) -> tanh -> ``(B, W, C)``.
* :class:`CriticX` Cx: ``(B, W, C)`` -> 4 x [conv1d(64, kernel 5) -> LeakyReLU(0.2) -> dropout 0.25]
  -> flatten -> dense(1) -> ``(B,)``.
* :class:`CriticZ` Cz: ``(B, Z)`` -> dense(20) -> LeakyReLU(0.2) -> dropout 0.2 -> dense(20) ->
  LeakyReLU(0.2) -> dropout 0.2 -> dense(1) -> ``(B,)``.

The generator's LSTMs take Keras-style input dropout (one mask per sequence, rate 0.2) and no
recurrent dropout, as the reference's GPU variant does, so torch's fused (cuDNN on CUDA) LSTM
kernels apply. Weights are initialised as Keras does (Glorot-uniform kernels, orthogonal recurrent
matrices, zero biases with forget-gate bias 1), so the reference's learning rate and schedule carry
over.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F


def random_bits(shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """16 random bits per element: an int16 tensor of ``shape`` on ``like``'s device, from
    torch's generator."""
    numel = math.prod(shape)
    bits = torch.randint(-(2**31), 2**31 - 1, ((numel + 1) // 2,), dtype=torch.int32,
                         device=like.device)
    return bits.view(torch.int16)[:numel].view(shape)


def keep_mask(shape: tuple[int, ...], rate: float, like: torch.Tensor) -> torch.Tensor:
    """Inverted-dropout mask: 0 with probability ``rate``, ``1 / (1 - rate)`` otherwise, in
    ``like``'s dtype and device.

    Drawn from 16 random bits per element (:func:`random_bits`; ``rate`` rounded to a multiple
    of 1/65536), which is about 2.5x faster on the CPU than ``torch.rand`` and 4x faster than
    ``bernoulli_`` (dropout's mask was a fifth of the critic's training time with ``bernoulli_``,
    torch.profiler), and turned into the mask by float arithmetic only: the comparison
    ``bits >= threshold`` as ``clamp(bits - threshold + 1, 0, 1)``, since torch's CPU kernels
    producing or reading bool tensors are several times slower than float ones.
    """
    bits = random_bits(shape, like)
    threshold = round(rate * 65536) - 32768  # P(bits >= threshold) = 1 - rate
    # float32 holds every int16 exactly (bfloat16 would not)
    keep = bits.to(torch.float32).sub_(threshold - 1).clamp_(0, 1)
    return keep.mul_(1.0 / (1.0 - rate)).to(like.dtype)


class FastDropout(nn.Module):
    """:class:`torch.nn.Dropout` with :func:`keep_mask` (same distribution, a faster draw)."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = float(rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        return x * keep_mask(tuple(x.shape), self.rate, x)


class SequenceDropout(nn.Module):
    """Dropout with one mask per sequence, shared over time (Keras' LSTM ``dropout``)."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = float(rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, F)
        if not self.training or self.rate == 0.0:
            return x
        return x * keep_mask((x.shape[0], 1, x.shape[2]), self.rate, x)


class Encoder(nn.Module):
    """E: window ``(B, W, C)`` -> latent ``(B, Z)``."""

    def __init__(self, window: int, channels: int, latent: int = 20, hidden: int = 100) -> None:
        super().__init__()
        self.lstm = nn.LSTM(channels, hidden, batch_first=True, bidirectional=True)
        self.dense = nn.Linear(window * 2 * hidden, latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(x)
        return self.dense(h.flatten(1))


class Generator(nn.Module):
    """G: latent ``(B, Z)`` -> window ``(B, W, C)`` in [-1, 1]."""

    def __init__(self, window: int, channels: int, latent: int = 20, hidden: int = 64,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.window = window
        self.half = (window + 1) // 2
        self.dense = nn.Linear(latent, self.half)
        self.drop1 = SequenceDropout(dropout)
        self.lstm1 = nn.LSTM(1, hidden, batch_first=True, bidirectional=True)
        self.drop2 = SequenceDropout(dropout)
        self.lstm2 = nn.LSTM(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.dense(z).unsqueeze(-1)  # (B, W/2, 1)
        h, _ = self.lstm1(self.drop1(h))
        h = h.repeat_interleave(2, dim=1)[:, : self.window]  # UpSampling1D(2)
        h, _ = self.lstm2(self.drop2(h))
        return torch.tanh(self.out(h))


ACTIVATIONS = ("layers", "constant_slopes")


def slopes(h: torch.Tensor, negative_slope: float) -> torch.Tensor:
    """LeakyReLU's slope at each element of ``h`` (1 where ``h > 0``, else ``negative_slope``),
    a new tensor outside the autograd graph.

    For a slope in [0, 1] it is ``clamp(sign(h), min=slope)``: the same values as
    ``torch.where(h > 0, 1.0, slope)`` bit for bit, about 10x faster on the CPU, where ``where``
    and comparisons run slow bool kernels.
    """
    with torch.no_grad():
        if 0.0 <= negative_slope <= 1.0:
            return h.sign().clamp_(min=negative_slope)
        return torch.where(h > 0, 1.0, negative_slope).to(h.dtype)


def run_layers(layers: nn.Sequential, h: torch.Tensor, activations: str = "layers") -> torch.Tensor:
    """Run ``layers`` on ``h``, their LeakyReLUs as ``activations``:

    * ``"layers"``: as the modules are.
    * ``"constant_slopes"``: each LeakyReLU is ``h * slope(h)`` with the slope (1 or
      ``negative_slope``) a constant of the autograd graph. Same values and first derivatives as
      :class:`torch.nn.LeakyReLU`, bit for bit; the trainer runs every critic pass so.
      In the gradient penalty's pass the double backward then stops at the slopes (LeakyReLU's
      second derivative is 0 anyway) instead of sending zeros back through the forward
      convolutions (a critic-x step about 10 % faster), and no pass needs LeakyReLU's slower
      backward kernel.
    """
    if activations not in ACTIVATIONS:
        raise ValueError(f"activations must be one of {', '.join(ACTIVATIONS)}, "
                         f"got {activations!r}")
    for layer in layers:
        if activations == "constant_slopes" and isinstance(layer, nn.LeakyReLU):
            h = h * slopes(h, layer.negative_slope)
            continue
        h = layer(h)
        if isinstance(layer, nn.Conv1d):
            # a convolution of a (B, W, 1) window's transpose returns its output channels-last,
            # which makes every elementwise pass after it and the next convolution several
            # times slower on the CPU (mixed layouts); one copy costs less, same values
            h = h.contiguous()
    return h


class CriticX(nn.Module):
    """Cx: window ``(B, W, C)`` -> realness score ``(B,)`` (a logit for the BCE GAN)."""

    def __init__(self, window: int, channels: int, filters: int = 64, kernel: int = 5,
                 layers: int = 4, dropout: float = 0.25) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = channels
        for _ in range(layers):
            blocks += [nn.Conv1d(width, filters, kernel), nn.LeakyReLU(0.2), FastDropout(dropout)]
            width = filters
        self.convs = nn.Sequential(*blocks)
        self.dense = nn.Linear(filters * (window - layers * (kernel - 1)), 1)

    def forward(self, x: torch.Tensor, activations: str = "layers") -> torch.Tensor:
        """Scores of ``x``; ``activations``: see :func:`run_layers`."""
        h = run_layers(self.convs, x.transpose(1, 2), activations)
        return self.dense(h.flatten(1)).squeeze(-1)


class CriticZ(nn.Module):
    """Cz: latent ``(B, Z)`` -> realness score ``(B,)`` (a logit for the BCE GAN)."""

    def __init__(self, latent: int = 20, hidden: int = 20, dropout: float = 0.2) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent, hidden), nn.LeakyReLU(0.2), FastDropout(dropout),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), FastDropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, z: torch.Tensor, activations: str = "layers") -> torch.Tensor:
        """Scores of ``z``; ``activations``: see :func:`run_layers`."""
        return run_layers(self.net, z, activations).squeeze(-1)


def keras_init_(module: nn.Module) -> None:
    """Initialise weights as Keras does: Glorot-uniform kernels, orthogonal recurrent weights,
    zero biases and a forget-gate bias of 1 (torch splits LSTM biases in two; the 1 goes in one).
    """
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LSTM):
            for name, p in m.named_parameters():
                if name.startswith("weight_ih"):
                    for gate in p.chunk(4, dim=0):  # Keras: one Glorot matrix over all 4 gates
                        nn.init.xavier_uniform_(gate)
                elif name.startswith("weight_hh"):
                    for gate in p.chunk(4, dim=0):
                        nn.init.orthogonal_(gate)
                elif name.startswith("bias_ih"):
                    nn.init.zeros_(p)
                    hidden = p.shape[0] // 4
                    with torch.no_grad():
                        p[hidden : 2 * hidden] = 1.0  # gate order i, f, g, o
                elif name.startswith("bias_hh"):
                    nn.init.zeros_(p)


class TadGANNets(nn.Module):
    """The four networks together (one ``state_dict``, one ``.to(device)``)."""

    def __init__(self, window: int, channels: int, latent: int = 20, encoder_hidden: int = 100,
                 generator_hidden: int = 64, generator_dropout: float = 0.2,
                 critic_x_filters: int = 64, critic_x_dropout: float = 0.25,
                 critic_z_hidden: int = 20, critic_z_dropout: float = 0.2) -> None:
        super().__init__()
        self.encoder = Encoder(window, channels, latent, encoder_hidden)
        self.generator = Generator(window, channels, latent, generator_hidden, generator_dropout)
        self.critic_x = CriticX(window, channels, critic_x_filters, dropout=critic_x_dropout)
        self.critic_z = CriticZ(latent, critic_z_hidden, critic_z_dropout)
        keras_init_(self)


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP penalty ``mean((||grad_u critic(u)||_2 - 1)^2)`` on ``u = a*real + (1-a)*fake``.

    ``critic`` is any callable from samples to one score each (the trainer passes the critics with
    constant slopes, see :func:`run_layers`). ``alpha`` (one value per sample, uniform in [0, 1)
    from torch's generator when ``None``) mixes each real sample with its fake counterpart; the
    gradient norm is taken over all of a sample's values, as the reference does. The graph is
    kept so the penalty can be back-propagated into the critic.
    """
    if alpha is None:
        alpha = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    alpha = alpha.reshape((-1,) + (1,) * (real.ndim - 1))
    mixed = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1.0).square().mean()


def wasserstein_critic_losses(real_score: torch.Tensor, fake_score: torch.Tensor):
    """Critic terms ``(-mean C(real), mean C(fake))`` (Keras' ``mean(y_true * y_pred)``, +-1)."""
    return -real_score.mean(), fake_score.mean()


def bce_critic_losses(real_logit: torch.Tensor, fake_logit: torch.Tensor):
    """Discriminator terms: BCE of real logits against 1 and of fake logits against 0."""
    return (
        F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit)),
        F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)),
    )
