"""The ``lstm_ar`` detector plugin: an autoregressive LSTM density model scored by per-step NLL.

Importing this package does not import torch (the CLI imports every plugin at start-up); the
network lives in :mod:`benchbench_plugins.lstm_ar.network`, imported inside ``fit``. The detector
is :class:`~benchbench_plugins.lstm_ar.detector.LSTMAutoregressive`; :func:`quantise` and
:func:`dequantise` are the level mapping of its categorical head.

Defaults and measured speed (torch 2.13 CPU build on the project's 2-core machine, shared with
other training jobs, ``OMP_NUM_THREADS=1``; expect about 1.5x faster with 2 threads; from
``benchmarks/bench_lstm_ar.py`` and ``bench run``):

* Defaults: ``head="categorical", levels=256, hidden_size=32, num_layers=2, seq_len=64,
  train_step=8, epochs=30, batch_size=32, learning_rate=1e-2, smoothing_window=5``
  (``n_components=5`` for ``head="mog"``). A 3,000-step univariate signal gives 368 training
  subsequences (12 Adam steps per epoch); fit takes 4-7.6 s, typically 5 s (0.16 s per epoch,
  about 140,000 training steps per second), scoring 0.02-0.08 s. The first fit in a process adds
  about 1.5 s once (torch's lazy imports when the first optimiser is built). The training NLL
  falls from about log(256) = 5.5 nats to 3.0-4.0 on the synthetic suite's signals, near their
  noise floor (about 3.2 nats at 256 levels). Time grows linearly with length: 1,000 steps 2.4 s,
  4,000 steps 8 s, 16,000 steps 27 s fit and 0.1 s scoring (peak RSS about 0.4 GiB, of which
  torch itself is about 0.33 GiB). The mog head is a little faster (3,000 steps: 4.2 s).
  ``bench run --detectors lstm_ar`` alone (16 synthetic signals, 43,000 steps) took 68 s, fits
  averaging 4.1 s; overlapping-segment F1 (micro) 0.645, precision 0.769, recall 0.556, no false
  alarm on the 3 clean signals (the mog head: F1 0.380, precision 0.246, recall 0.833).
* Why these defaults: a larger or longer-trained model fits the training signal better but, as
  the benchmark trains and scores the same signal, it also learns its anomalies (in trials,
  logits scaled 5x so the softmax learns sharp distributions faster lowered the ROC AUC of the
  scores on ``spikes_1`` from 0.998 to 0.04: the spikes' own transitions were memorised), so 30
  epochs of a 32-unit model is a compromise between learning the normal pattern and memorising
  the rest.
* ``QUICK_PARAMS`` (``bench run --quick``): ``hidden_size=16, num_layers=1, epochs=10,
  train_step=16``: a 3,000-step signal fits in about 0.65 s with one thread (about 0.45 s with
  two) and scores in 0.02 s (16,000 steps: 2.2 s + 0.07 s); the NLL only falls to about 4.4.
"""

from __future__ import annotations

from benchbench.hookspecs import hookimpl

from .detector import HEADS, LSTMAutoregressive, dequantise, quantise

__all__ = [
    "HEADS",
    "QUICK_PARAMS",
    "LSTMAutoregressive",
    "dequantise",
    "quantise",
    "register_detectors",
]

#: Overrides applied by ``bench run --quick``: about 0.5 s for a 3,000-step signal on 2 CPU cores.
QUICK_PARAMS: dict[str, object] = {
    "hidden_size": 16,
    "num_layers": 1,
    "epochs": 10,
    "train_step": 16,
}


@hookimpl
def register_detectors(register):
    """Register the ``lstm_ar`` detector."""
    register(
        "lstm_ar",
        LSTMAutoregressive,
        quick_params=dict(QUICK_PARAMS),
        description=(
            "autoregressive LSTM density model (256-level softmax or Gaussian mixture); "
            "score = smoothed negative log-likelihood of each step"
        ),
    )
