"""The ``autoencoder`` detector plugin: an LSTM encoder-decoder scored by reconstruction error.

Importing this package does not import torch (the CLI imports every plugin at start-up); the
network lives in :mod:`benchbench_plugins.autoencoder.network`, imported inside ``fit``. The
detector is :class:`~benchbench_plugins.autoencoder.detector.LSTMAutoencoder`.

Defaults and measured speed (torch 2.13 CPU build, 2 CPU cores, ``time.perf_counter``, from
``benchmarks/bench_autoencoder.py`` and ``bench run``; this shared machine varies by up to 40 %):

* Defaults: ``window_size=100, hidden_size=32, epochs=30, batch_size=32, learning_rate=5e-3,
  train_step=6, score_step=1, smoothing_window=0.01`` (forget-gate bias 2, decoder started from
  the encoder state, gradient norm clipped at 1). A 3,000-step univariate signal gives 485
  training windows (16 Adam steps per epoch); fit takes 3.7-7.6 s, typically about 5 s
  (0.15-0.25 s per epoch, 1,900-3,200 training windows per second), and scoring its 2,901
  windows 0.25-0.45 s: about 4-8 s in all. The first fit in a process adds about 1.4 s once
  (torch's lazy imports when the first optimiser is built). The reconstruction loss (MSE on
  data scaled to [-1, 1]) falls from 0.1-0.3 to about 0.004-0.006 on the synthetic suite's
  signals. Time grows linearly with length: 1,000 steps 2-3 s, 4,000 steps about 8 s,
  16,000 steps about 26 s fit and 1.6 s scoring (peak RSS about 0.5 GiB, of which torch itself
  is about 0.33 GiB). ``bench run`` with the defaults (autoencoder and zscore on the 16 synthetic
  signals, 43,000 steps in all) took 74 s; autoencoder fits averaged 4.2 s.
* ``QUICK_PARAMS`` (``bench run --quick``): ``window_size=50, hidden_size=16, epochs=8,
  train_step=10``: a 3,000-step signal fits in about 0.4 s and scores in about 0.06 s
  (16,000 steps: 2.1 s + 0.3 s). ``bench run --quick`` with both detectors took 4 s.

``bench run`` keeps one process for all jobs, so the one-time import cost is paid once.
"""

from __future__ import annotations

from benchbench.hookspecs import hookimpl

from .detector import LSTMAutoencoder

__all__ = ["QUICK_PARAMS", "LSTMAutoencoder", "register_detectors"]

#: Overrides applied by ``bench run --quick``: about 0.5 s for a 3,000-step signal on 2 CPU cores.
QUICK_PARAMS: dict[str, object] = {
    "window_size": 50,
    "hidden_size": 16,
    "epochs": 8,
    "train_step": 10,
}


@hookimpl
def register_detectors(register):
    """Register the ``autoencoder`` detector."""
    register(
        "autoencoder",
        LSTMAutoencoder,
        quick_params=dict(QUICK_PARAMS),
        description=(
            "LSTM encoder-decoder on rolling windows; score = smoothed reconstruction error"
        ),
    )
