"""The torch network of the ``autoencoder`` detector (imported inside ``fit`` only)."""

from __future__ import annotations

import torch
from torch import nn


class LSTMAutoencoderNet(nn.Module):
    """LSTM encoder-decoder for windows.

    The encoder LSTM reads the window; its last hidden state (``hidden_size`` values) is the
    latent code, repeated over the window length and read by the decoder LSTM, whose outputs a
    linear layer maps back to ``n_channels`` values per timestep.
    """

    def __init__(self, n_channels: int, hidden_size: int) -> None:
        super().__init__()
        self.encoder = nn.LSTM(n_channels, hidden_size, batch_first=True)
        self.decoder = nn.LSTM(hidden_size, hidden_size, batch_first=True)
        self.output = nn.Linear(hidden_size, n_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct windows: ``(batch, window, n_channels) -> (batch, window, n_channels)``."""
        _, (h, _) = self.encoder(x)
        latent = h[-1]  # (batch, hidden)
        repeated = latent.unsqueeze(1).expand(-1, x.shape[1], -1)
        decoded, _ = self.decoder(repeated)
        return self.output(decoded)
