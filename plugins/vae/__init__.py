"""The ``vae`` detector plugin: an LSTM variational autoencoder scored by reconstruction or NLL.

Importing this package does not import torch (the CLI imports every plugin at start-up); the
network lives in :mod:`benchbench_plugins.vae.network`, imported inside ``fit``. The detector is
:class:`~benchbench_plugins.vae.detector.LSTMVAE`; its docstring gives the model, the loss and
both score modes.

Design in short: LSTM encoder -> ``(mu, log sigma^2)`` of a 16-dimensional Gaussian latent ->
reparameterised ``z`` -> repeated over the window as the decoder LSTM's input and mapped to the
decoder's initial state -> Gaussian ``p(x|z)`` with one variance per channel learned in closed form
(the batch's maximum-likelihood value; a fixed variance is an option). Loss: the negative ELBO
(closed-form KL to ``N(0, I)``, weight ``beta``) with KL annealing (weight 0 for the first 40 % of
the optimiser steps, then linear to ``beta`` at 80 %) and a narrow initial posterior. On the
synthetic signal ``spikes_2`` (random states 0-5) the posterior collapsed onto the prior (KL about
0, the decoder outputs the data's mean) in 4 of 4 seeds with ``kl_warmup=0`` and in 6 of 6 with
torch's default initialisation of the posterior variance even with annealing (``kl_warmup=0.6``);
a linear warm-up from the first step over all of training learned in 3 of 6; the defaults
learned in 6 of 6 (KL 13-19 nats per window).

Defaults and measured speed (torch 2.13 CPU build, 2-core machine shared with other jobs,
``OMP_NUM_THREADS=1``, ``time.perf_counter``; expect about 1.5x faster with 2 threads; timings
on this machine vary by up to 2x with its load):

* Defaults: ``window_size=100, hidden_size=32, latent_size=16, epochs=30, batch_size=32,
  learning_rate=5e-3, beta=1, kl_warmup=0.8, output_variance="learned",
  score_mode="reconstruction", samples=10, train_step=6, score_step=1, smoothing_window=0.01``
  (forget-gate bias 2, decoder state from ``z``, gradient norm clipped at 1). A 3,000-step
  univariate signal (485 training windows, 16 Adam steps per epoch) fits in about 5.2-5.4 s
  (up to 10 s while the machine was busy); about the cost of the ``autoencoder`` (same run of
  ``bench run --detectors vae,autoencoder`` on the 16 synthetic signals: vae fits 5.3 s mean,
  autoencoder 4.7 s; the run took 2 min 54 s). Scoring it takes 0.4 s with
  ``score_mode="reconstruction"`` and 2.2 s with ``"nll"`` (10 samples: the decoder runs 10 times
  per window). The negative ELBO falls from about +55 to about -70 nats per window on ``mixed_1``
  (the reconstruction term from +30 to -95, the KL settles near 25 nats).
  ``benchmarks/bench_vae.py``: 1,000 steps 2.6 s fit (0.08 s per epoch), 0.18 s / 0.9 s scoring
  (reconstruction / nll); 4,000 steps 9.3 s (0.30 s per epoch, about 2,100 training windows per
  second), 0.55 s / 3.4 s; 16,000 steps 39 s (1.26 s per epoch), 2.2 s / 11.9 s, peak RSS about
  0.54 GiB (torch itself about 0.33 GiB). The first fit in a process adds about 1.3 s once.
* ``QUICK_PARAMS`` (``bench run --quick``): ``window_size=50, hidden_size=16, latent_size=8,
  epochs=8, train_step=10``: a 3,000-step signal fits in about 0.65 s and scores in 0.1 s
  (``nll``: 0.5 s); ``bench run --detectors vae --quick`` took 5 s in all.

Detection (overlapping-segment F1, micro over the 16 synthetic signals, seeds 0 and 1, the
harness's window threshold; measured with a script, ``OMP_NUM_THREADS=1``): ``reconstruction``
0.75, ``nll`` 0.65 (it finds more anomalies, 32 of 36 against 29, with more false alarms); the
``autoencoder`` scored 0.68 on the same signals and seeds. Differences of 0.05 between settings
were within the seed-to-seed noise.
"""

from __future__ import annotations

from benchbench.hookspecs import hookimpl

from .detector import LSTMVAE

__all__ = ["QUICK_PARAMS", "LSTMVAE", "register_detectors"]

#: Overrides applied by ``bench run --quick``: about 0.5 s for a 3,000-step signal on 2 CPU cores.
QUICK_PARAMS: dict[str, object] = {
    "window_size": 50,
    "hidden_size": 16,
    "latent_size": 8,
    "epochs": 8,
    "train_step": 10,
}


@hookimpl
def register_detectors(register):
    """Register the ``vae`` detector."""
    register(
        "vae",
        LSTMVAE,
        quick_params=dict(QUICK_PARAMS),
        description=(
            "LSTM variational autoencoder on rolling windows (ELBO); score = smoothed "
            "reconstruction error, or Monte Carlo negative ELBO (score_mode='nll')"
        ),
    )
