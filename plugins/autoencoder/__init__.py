"""The ``autoencoder`` detector plugin: an LSTM encoder-decoder scored by reconstruction error.

Importing this package does not import torch (the CLI imports every plugin at start-up); the
network lives in :mod:`benchbench_plugins.autoencoder.network`, imported inside ``fit``.

Timings (TIMINGS_PLACEHOLDER)
"""

from __future__ import annotations

from benchbench.hookspecs import hookimpl

from .detector import LSTMAutoencoder

__all__ = ["LSTMAutoencoder", "QUICK_PARAMS", "register_detectors"]

#: Overrides applied by ``bench run --quick``.
QUICK_PARAMS: dict[str, object] = {}


@hookimpl
def register_detectors(register):
    """Register the ``autoencoder`` detector."""
    register(
        "autoencoder",
        LSTMAutoencoder,
        quick_params=dict(QUICK_PARAMS),
        description="LSTM encoder-decoder on rolling windows; score = smoothed reconstruction error",
    )
