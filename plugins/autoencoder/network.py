"""The torch network of the ``autoencoder`` detector (imported inside ``fit`` only)."""

from __future__ import annotations

import torch
from torch import nn

from benchbench.torchkit import set_forget_bias


class LSTMAutoencoderNet(nn.Module):
    """LSTM encoder-decoder for windows.

    The encoder LSTM reads the window; its last hidden state (``hidden_size`` values) is the
    latent code, repeated over the window length and read by the decoder LSTM, whose outputs a
    linear layer maps back to ``n_channels`` values per timestep.

    Two training aids, both on by default because they make the network learn a periodic window
    in a few hundred optimiser steps instead of thousands (measured on the synthetic suite):

    * ``forget_bias``: the forget-gate bias of both LSTMs starts at this value (Keras starts it at
      1, torch at 0), so the cells keep their memory early in training;
    * ``init_decoder_state``: the decoder starts from the encoder's final ``(h, c)`` instead of
      zeros, so it does not have to rebuild the phase of the window from the latent alone.

    Args:
        n_channels: channels per timestep (input and output size).
        hidden_size: hidden units of both LSTMs (= latent size).
        forget_bias: initial forget-gate bias (``0`` keeps torch's initialisation).
        init_decoder_state: start the decoder from the encoder's final state.
    """

    def __init__(
        self,
        n_channels: int,
        hidden_size: int,
        forget_bias: float = 2.0,
        init_decoder_state: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = nn.LSTM(n_channels, hidden_size, batch_first=True)
        self.decoder = nn.LSTM(hidden_size, hidden_size, batch_first=True)
        self.output = nn.Linear(hidden_size, n_channels)
        self.init_decoder_state = bool(init_decoder_state)
        if forget_bias:
            set_forget_bias(forget_bias, self.encoder, self.decoder)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct windows: ``(batch, window, n_channels) -> (batch, window, n_channels)``."""
        _, (h, c) = self.encoder(x)
        latent = h[-1]  # (batch, hidden)
        repeated = latent.unsqueeze(1).expand(-1, x.shape[1], -1)
        if self.init_decoder_state:
            decoded, _ = self.decoder(repeated, (h, c))
        else:
            decoded, _ = self.decoder(repeated)
        return self.output(decoded)
