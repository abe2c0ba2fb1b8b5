"""The ``tadgan`` (WGAN-GP) and ``gan`` (BCE) detector plugins.

Importing this package does not import torch (the CLI imports every plugin at start-up); the
networks (:mod:`.network`) and the training loop (:mod:`.training`) are imported inside ``fit``;
scoring (:mod:`.scoring`) is numpy only.
"""

from __future__ import annotations

from benchbench.hookspecs import hookimpl

from .detector import GAN, TadGAN

__all__ = ["CPU_PARAMS", "FAST_TRAIN_STEP", "GAN", "QUICK_PARAMS", "TadGAN", "cpu_params",
           "fast_params", "paper_params", "register_detectors"]

#: ``bench run`` (the ``default`` profile): TadGAN's networks, losses and schedule with narrower
#: layers, a training window every 5 steps and 40 epochs, so the 16 synthetic signals train in
#: minutes on a CPU (about 9x less work per optimiser step than the reference's layer sizes).
#: The class defaults are the reference's networks, losses and schedule with 10 epochs (the
#: reference trains 35 on NAB and 70 on NASA and Yahoo); ``--profile paper`` sets those epochs
#: and the reference's scoring per dataset (:func:`paper_params`).
CPU_PARAMS: dict[str, object] = {
    "encoder_hidden": 32,
    "generator_hidden": 32,
    "critic_x_filters": 16,
    "train_step": 5,
    "epochs": 40,
}

#: Overrides applied by ``bench run --quick`` (on top of the default profile).
QUICK_PARAMS: dict[str, object] = {
    "window_size": 50,
    "encoder_hidden": 32,
    "generator_hidden": 32,
    "epochs": 2,
    "train_step": 4,
}


#: Epochs of the reference implementation per dataset family (Orion's TadGAN pipelines, as in
#: Geiger et al., IEEE BigData 2020); other datasets get 70, the NASA and Yahoo figure.
PAPER_EPOCHS = {"nab": 35, "nasa": 70, "yahoo": 70}
#: NAB folders the reference scores with ``sum`` (the others, and NASA, with ``mult``).
PAPER_SUM_FOLDERS = ("realAdExchange", "realTraffic", "realTweets")


def cpu_params(dataset: str, signal: str) -> dict[str, object]:
    """``bench run`` (``--profile default``): :data:`CPU_PARAMS` for every dataset."""
    return dict(CPU_PARAMS)


def paper_params(dataset: str, signal: str) -> dict[str, object]:
    """``bench run --profile paper``: the reference's settings for ``signal`` of ``dataset``.

    Window 100 with step 1, batch 64, 5 critic iterations, Adam at 0.0005, reconstruction error
    DTW; combination ``sum`` for NAB's AdEx, Traf and Tweets, ``mult`` elsewhere; 35 epochs for NAB,
    70 for the rest.
    """
    folder = signal.split("/", 1)[0]
    combination = "sum" if dataset == "nab" and folder in PAPER_SUM_FOLDERS else "mult"
    return {
        "window_size": 100,
        "encoder_hidden": 100,
        "generator_hidden": 64,
        "critic_x_filters": 64,
        "epochs": PAPER_EPOCHS.get(dataset, 70),
        "batch_size": 64,
        "n_critic": 5,
        "learning_rate": 5e-4,
        "train_step": 1,
        "error_type": "dtw",
        "combination": combination,
    }


#: Stride between training windows of ``--profile fast`` (the paper's is 1).
FAST_TRAIN_STEP = 5


def fast_params(dataset: str, signal: str) -> dict[str, object]:
    """``bench run --profile fast``: :func:`paper_params` with a training window every
    :data:`FAST_TRAIN_STEP` steps instead of every step.

    Everything else is the paper's: networks, losses, epochs, batch size, learning rate, and the
    scoring (every window is still reconstructed and scored). Windows one step apart share 99 of
    their 100 steps, so a stride of 5 still shows the networks every timestep in 20 windows per
    epoch, at 20 offsets; it cuts the optimiser steps per epoch, and with them the training
    compute, to a fifth. Scoring costs about 1 % of the paper profile's training, so a job costs
    about a fifth of the paper profile's (measured in docs/benchmarks.md). The settings are fixed
    per dataset family before a run, as the paper's are.
    """
    return {**paper_params(dataset, signal), "train_step": FAST_TRAIN_STEP}


@hookimpl
def register_detectors(register):
    """Register ``tadgan`` and ``gan``."""
    register(
        "tadgan",
        TadGAN,
        quick_params=dict(QUICK_PARAMS),
        profiles={"default": cpu_params, "fast": fast_params, "paper": paper_params},
        description="TadGAN: cycle-consistent WGAN-GP (encoder, generator, two critics); "
        "score = critic x DTW reconstruction error",
    )
    register(
        "gan",
        GAN,
        quick_params=dict(QUICK_PARAMS),
        profiles={"default": cpu_params, "fast": fast_params, "paper": paper_params},
        description="TadGAN's networks trained with the plain BCE GAN loss (loss ablation)",
    )
