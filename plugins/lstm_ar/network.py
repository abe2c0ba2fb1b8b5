"""The torch network of the ``lstm_ar`` detector (imported inside ``fit`` and ``score`` only).

:class:`LSTMARNet` is a stacked LSTM over the previous values of a signal with one of two output
heads giving the distribution of the next value of every channel:

* ``"categorical"``: logits over ``levels`` quantisation levels per channel (PixelRNN-style
  softmax), trained with cross-entropy on the level codes;
* ``"mog"``: a mixture of ``n_components`` Gaussians per channel over the continuous value
  (mixture logits, means, log-scales), trained on the Gaussian-mixture negative log-likelihood.

Channels at step ``t`` are conditionally independent given the joint history ``x_<t`` (every head
sees the same LSTM state, which reads all channels), so the NLL of a step is the sum of the
per-channel NLLs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from benchbench.torchkit import set_forget_bias

#: Bounds of the mixture log-scales, in units of the normalised value (the train range is
#: [-1, 1]): sigma from about 0.0009 (a ninth of a 256-level bin) to about 7.4 (beyond the range).
#: The head maps its raw output smoothly into these bounds with a sigmoid, so gradients never
#: vanish at a hard clamp and a flat training stretch cannot push a density to infinity.
LOG_SCALE_MIN = -7.0
LOG_SCALE_MAX = 2.0

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class LSTMARNet(nn.Module):
    """Stacked LSTM with a categorical or mixture-of-Gaussians head for the next value.

    Input per step: the ``n_channels`` previous values (normalised to the train range [-1, 1])
    plus a start flag (1 at the first step of a sequence, where the values are 0 and the model
    predicts from no context, else 0): shape ``(batch, time, n_channels + 1)``.

    Args:
        n_channels: channels of the signal.
        hidden_size: hidden units per LSTM layer.
        num_layers: stacked LSTM layers.
        head: ``"categorical"`` or ``"mog"``.
        levels: quantisation levels (categorical head).
        n_components: Gaussians per channel (mog head).
        forget_bias: initial forget-gate bias of every layer (torch starts at 0, Keras at 1); 1
            keeps the cell memory open early in training.
    """

    def __init__(
        self,
        n_channels: int,
        hidden_size: int,
        num_layers: int,
        head: str,
        levels: int = 256,
        n_components: int = 5,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        if head not in ("categorical", "mog"):
            raise ValueError(f"unknown head {head!r}; valid: 'categorical', 'mog'")
        self.n_channels = int(n_channels)
        self.head_kind = head
        self.levels = int(levels)
        self.n_components = int(n_components)
        self.lstm = nn.LSTM(
            self.n_channels + 1, int(hidden_size), int(num_layers), batch_first=True
        )
        per_channel = self.levels if head == "categorical" else 3 * self.n_components
        self.head = nn.Linear(int(hidden_size), self.n_channels * per_channel)
        set_forget_bias(forget_bias, self.lstm)
        if head == "mog":
            # Start the component means spread over the train range (bin centres of K equal
            # bins of [-1, 1]) so the components do not all begin at 0 and stay alike.
            k = self.n_components
            with torch.no_grad():
                bias = self.head.bias.view(self.n_channels, 3, k)
                bias.zero_()
                bias[:, 1, :] = torch.linspace(-1 + 1 / k, 1 - 1 / k, k)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Head outputs per step.

        Args:
            inputs: ``(batch, time, n_channels + 1)``.

        Returns:
            ``(batch, time, n_channels, levels)`` logits for the categorical head, or
            ``(batch, time, n_channels, 3, n_components)`` (mixture logits, means, raw
            log-scales) for the mog head.
        """
        out, _ = self.lstm(inputs)
        params = self.head(out)
        b, t = params.shape[:2]
        if self.head_kind == "categorical":
            return params.view(b, t, self.n_channels, self.levels)
        return params.view(b, t, self.n_channels, 3, self.n_components)

    def step_nll(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of each target value given the inputs before it, in nats.

        Args:
            inputs: ``(batch, time, n_channels + 1)``, see the class docstring.
            targets: ``(batch, time, n_channels)``: level codes (integer-valued, any dtype) for
                the categorical head; normalised continuous values for the mog head.

        Returns:
            ``(batch, time, n_channels)`` NLL per step and channel: ``-log p(level)`` (>= 0) for
            the categorical head; ``-log`` of the mixture density of the normalised value (may
            be negative) for the mog head.
        """
        params = self(inputs)
        if self.head_kind == "categorical":
            log_p = torch.log_softmax(params, dim=-1)
            return -log_p.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)
        logit_w, mean, raw_scale = params.unbind(dim=3)  # each (b, t, c, k)
        log_scale = LOG_SCALE_MIN + (LOG_SCALE_MAX - LOG_SCALE_MIN) * torch.sigmoid(raw_scale)
        z = (targets.unsqueeze(-1) - mean) * torch.exp(-log_scale)
        log_normal = -0.5 * z * z - log_scale - _HALF_LOG_2PI
        log_mix = torch.logsumexp(torch.log_softmax(logit_w, dim=-1) + log_normal, dim=-1)
        return -log_mix
