"""The ``autoencoder`` detector: an LSTM encoder-decoder scored by reconstruction error.

Importing this module does not import torch; ``fit`` imports :mod:`benchbench.torchkit` and the
network (:mod:`benchbench_plugins.autoencoder.network`) when it runs. The fit/score skeleton is
:class:`benchbench.windowed.WindowedDetector`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchbench.data.preprocessing import smoothing_steps
from benchbench.windowed import WindowedDetector


class LSTMAutoencoder(WindowedDetector):
    """LSTM autoencoder over rolling windows; the score is the smoothed reconstruction error.

    Training: rolling windows of ``window_size`` steps taken every ``train_step`` steps (plus the
    window ending at the last step) are reconstructed by an encoder LSTM -> last hidden state
    (latent, ``hidden_size`` values) -> repeated over the window -> decoder LSTM -> linear layer to
    ``n_channels``; mean squared error, Adam, ``epochs`` passes in shuffled batches.

    Scoring: windows every ``score_step`` steps (plus the last one) are reconstructed; each
    timestep's reconstruction is the median over the windows covering it; the error is the mean
    absolute difference over channels, smoothed by a centred moving average of
    ``smoothing_window`` steps. Higher = more anomalous.

    Args:
        window_size: timesteps per window; also :meth:`min_length`.
        hidden_size: LSTM hidden units, the size of the latent code.
        epochs: passes over the training windows.
        batch_size: training windows per optimiser step.
        learning_rate: Adam learning rate.
        train_step: stride between training windows, in timesteps (>= 1). Larger strides give
            fewer, less redundant windows per epoch, so faster epochs.
        score_step: stride between scored windows, in timesteps (1 <= score_step <= window_size;
            1 = every window, the reference behaviour; larger is faster with fewer votes per
            timestep in the median).
        smoothing_window: length of the moving average applied to the error: an ``int`` >= 1 is a
            number of timesteps; a ``float`` in (0, 1) is a fraction of the scored signal's length
            (at least 1 step); ``0``/``None``/``1`` disable smoothing.
        forget_bias: initial forget-gate bias of both LSTMs (Keras' default is 1, torch's 0);
            a high value lets the network learn periodic windows in far fewer steps.
        init_decoder_state: start the decoder LSTM from the encoder's final (h, c) state
            (``False``: from zeros, as in the reference Keras model).
        grad_clip: clip the gradient norm to this value before each Adam step (``None``: off).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        random_state: seed of weight initialisation and shuffling; same seed + same data + CPU
            gives identical scores.
    """

    def __init__(
        self,
        window_size: int = 100,
        hidden_size: int = 32,
        epochs: int = 30,
        batch_size: int = 32,
        learning_rate: float = 5e-3,
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

    def _check_params(self) -> None:
        name = type(self).__name__
        self._check_positive_ints(
            "window_size",
            "hidden_size",
            "epochs",
            "batch_size",
            "train_step",
            "score_step",
        )
        self._check_score_step("reconstruction")
        if not float(self.learning_rate) > 0:
            raise ValueError(f"{name}: learning_rate must be > 0, got {self.learning_rate!r}")
        smoothing_steps(self.smoothing_window, 100, name)  # validates the value

    # -- training -----------------------------------------------------------------------------
    def _build_network(self, n_channels: int) -> Any:
        from .network import LSTMAutoencoderNet

        return LSTMAutoencoderNet(
            n_channels,
            int(self.hidden_size),
            forget_bias=float(self.forget_bias or 0.0),
            init_decoder_state=bool(self.init_decoder_state),
        )

    def _batch_loss(self, model: Any, batch: Any, step: int, n_steps: int) -> tuple[Any, dict]:
        import torch

        loss = torch.nn.functional.mse_loss(model(batch), batch)
        return loss, {"reconstruction": loss}

    # -- scoring ------------------------------------------------------------------------------
    def reconstruct(self, X: Any) -> np.ndarray:
        """Per-timestep reconstruction of ``X``: shape ``(n_timesteps, n_channels)``."""
        return self._per_timestep(self._input(X, fitting=False), self.model_)

    def _timestep_scores(self, arr: np.ndarray) -> np.ndarray:
        """Mean absolute reconstruction error over channels (>= 0)."""
        return np.abs(arr - self._per_timestep(arr, self.model_)).mean(axis=1)
