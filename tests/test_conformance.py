"""Every conformance check of benchbench.testing on the built-in detectors (fast parameters)."""

from __future__ import annotations

from benchbench_plugins.autoencoder import LSTMAutoencoder
from benchbench_plugins.zscore import RollingZScore

from benchbench.testing import parametrize_checks

AUTOENCODER_FAST = dict(window_size=16, hidden_size=8, epochs=2, batch_size=32, train_step=4)


@parametrize_checks(LSTMAutoencoder, **AUTOENCODER_FAST)
def test_autoencoder_conformance(check):
    check()


@parametrize_checks(RollingZScore, window=20)
def test_zscore_conformance(check):
    check()
