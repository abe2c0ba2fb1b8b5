"""The ``tadgan`` (WGAN-GP) and ``gan`` (BCE) detector plugins.

Importing this package does not import torch (the CLI imports every plugin at start-up); the
networks (:mod:`.network`) and the training loop (:mod:`.training`) are imported inside ``fit``;
scoring (:mod:`.scoring`) is numpy only.
"""

from __future__ import annotations

from benchbench.hookspecs import hookimpl

from .detector import GAN, TadGAN

__all__ = ["CPU_PARAMS", "FAST_OVERRIDES", "GAN", "QUICK_PARAMS", "TadGAN", "cpu_params",
           "fast_params", "paper_params", "register_detectors"]

#: ``bench run`` (the ``default`` profile): TadGAN's networks, losses and schedule with narrower
#: layers, a training window every 5 steps and 40 epochs, so the 17 synthetic signals train in
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


#: What ``--profile fast`` changes in :func:`paper_params`: the default profile's layer widths and
#: training-window stride (:data:`CPU_PARAMS`).
FAST_OVERRIDES: dict[str, object] = {
    key: CPU_PARAMS[key]
    for key in ("encoder_hidden", "generator_hidden", "critic_x_filters", "train_step")
}


def fast_params(dataset: str, signal: str) -> dict[str, object]:
    """``bench run --profile fast``: :func:`paper_params` with :data:`FAST_OVERRIDES`.

    The paper's epochs per dataset family, batch size, critic iterations, learning rate, window
    and scoring (DTW errors, ``mult`` or ``sum`` per dataset, every window scored) with the
    default profile's narrower layers (encoder 32, generator 32, critic filters 16 instead of
    100, 64, 64) and a training window every 5 steps instead of every step. Windows one step
    apart share 99 of their 100 steps, so the stride still shows the networks every timestep in
    20 windows per epoch; it cuts the optimiser steps to a fifth, and the narrower layers cut each
    step's work. docs/benchmarks.md measures the compute against the paper profile's and the F1
    on NAB Art and AdEx. The settings are fixed per dataset family before a run, as the
    paper's are.
    """
    return {**paper_params(dataset, signal), **FAST_OVERRIDES}


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
