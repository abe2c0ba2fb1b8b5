"""The ``tadgan`` (WGAN-GP) and ``gan`` (BCE) detectors.

Importing this module does not import torch; ``fit`` imports the network and the training loop.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from benchbench.data.preprocessing import unroll_windows
from benchbench.detector import BaseDetector, NotFittedError

from . import scoring

# Windows per forward pass when scoring (inference only).
_SCORE_BATCH = 512


class _AdversarialDetector(BaseDetector):
    """Shared constructor, fit and score of the two adversarial detectors; subclasses set the
    loss (:attr:`_loss`), and :class:`GAN` takes ``gp_weight`` out of the constructor."""

    _loss = "wasserstein"

    def __init__(
        self,
        window_size: int = 100,
        latent_size: int = 20,
        encoder_hidden: int = 100,
        generator_hidden: int = 64,
        critic_x_filters: int = 64,
        epochs: int = 10,
        batch_size: int = 64,
        n_critic: int = 5,
        learning_rate: float = 5e-4,
        gp_weight: float = 10.0,
        rec_weight: float = 10.0,
        train_step: int = 1,
        error_type: str = "dtw",
        combination: str = "mult",
        lambda_rec: float = 0.5,
        score_window: int = 10,
        smoothing_window: float = 0.01,
        mixed_precision: bool = False,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self._store(locals())  # the class's own parameters: GAN's signature has no gp_weight

    def min_length(self) -> int:
        """The fewest timesteps accepted: one window."""
        return int(self.window_size)

    def _check_params(self) -> None:
        name = type(self).__name__
        self._check_positive_ints("window_size", "latent_size", "encoder_hidden",
                                  "generator_hidden", "critic_x_filters", "epochs",
                                  "batch_size", "n_critic", "train_step", "score_window")
        if self.window_size < 17:
            raise ValueError(
                f"{name}: window_size must be >= 17 (the critic's four 5-step convolutions), got "
                f"{self.window_size}"
            )
        if not float(self.learning_rate) > 0:
            raise ValueError(f"{name}: learning_rate must be > 0, got {self.learning_rate!r}")
        if self.error_type not in scoring.ERROR_TYPES:
            raise ValueError(f"{name}: error_type must be one of "
                             f"{', '.join(scoring.ERROR_TYPES)}, got {self.error_type!r}")
        if self.combination not in scoring.COMBINATIONS:
            raise ValueError(f"{name}: combination must be one of "
                             f"{', '.join(scoring.COMBINATIONS)}, got {self.combination!r}")
        if not 0.0 <= float(self.lambda_rec) <= 1.0:
            raise ValueError(f"{name}: lambda_rec must be in [0, 1], got {self.lambda_rec!r}")
        if not 0.0 <= float(self.smoothing_window) < 1.0:
            raise ValueError(f"{name}: smoothing_window is a fraction of the number of windows in "
                             f"[0, 1), got {self.smoothing_window!r}")

    def _gp_weight(self) -> float:
        return 0.0

    # -- training -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None):
        """Train the four networks on ``X`` ``(n_timesteps, n_channels)`` scaled to [-1, 1]."""
        self.check_params()
        for stale in ("nets_", "device_", "n_train_windows_"):  # a failed refit leaves no mix
            self.__dict__.pop(stale, None)
        arr = self._check_magnitude(self._validate(X, fitting=True))
        self._start_history()

        import torch

        from benchbench import torchkit

        from .network import TadGANNets
        from .training import AdversarialTrainer, train

        device = torchkit.resolve_device(self.device)
        window = int(self.window_size)
        with torchkit.seeded(self.random_state, device) as rng:
            nets = TadGANNets(window, arr.shape[1], latent=int(self.latent_size),
                              encoder_hidden=int(self.encoder_hidden),
                              generator_hidden=int(self.generator_hidden),
                              critic_x_filters=int(self.critic_x_filters)).to(device)
            trainer = AdversarialTrainer(
                nets, loss=self._loss, learning_rate=float(self.learning_rate),
                n_critic=int(self.n_critic), gp_weight=self._gp_weight(),
                rec_weight=float(self.rec_weight), autocast=self._autocast(device),
            )
            x = torch.as_tensor(arr, dtype=torch.float32, device=device)
            windows = torchkit.window_view(x, window, int(self.train_step))
            train(self, trainer, windows, epochs=int(self.epochs),
                  batch_size=int(self.batch_size), generator=rng.torch)
        nets.eval()
        self.nets_ = nets
        self.device_ = str(device)
        self.n_train_windows_ = int(windows.shape[0])
        return self

    def _autocast(self, device):
        """Mixed precision (bfloat16 autocast on CUDA) when ``mixed_precision`` is set."""
        if not self.mixed_precision:
            return contextlib.nullcontext
        import torch

        if device.type != "cuda":
            raise ValueError(
                f"{type(self).__name__}: mixed_precision=True needs a CUDA device (CPU autocast "
                "of the LSTMs is not supported by oneDNN on most CPUs); leave it off on the CPU"
            )
        return lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16)

    # -- scoring ------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "nets_"):
            raise NotFittedError(f"{type(self).__name__}: call fit before score")

    def reconstruct(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Reconstructed windows ``G(E(x))`` ``(n_windows, W, C)`` and critic values ``Cx(x)``
        ``(n_windows,)`` of every window (step 1) of ``X``."""
        self._check_fitted()
        return self._windows_out(self._validate(X, fitting=False))

    def _windows_out(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        from benchbench import torchkit

        nets = self.nets_
        x = torch.as_tensor(arr, dtype=torch.float32, device=torch.device(self.device_))
        windows = torchkit.window_view(x, int(self.window_size))
        recon = torchkit.predict_windows(lambda b: nets.generator(nets.encoder(b)), windows,
                                         _SCORE_BATCH)
        critic = torchkit.predict_windows(nets.critic_x, windows, _SCORE_BATCH)
        return recon, critic

    def score(self, X: Any) -> np.ndarray:
        """Anomaly score per timestep of ``X``: shape ``(n_timesteps,)``, finite, >= 0 for
        ``mult`` and ``rec`` (``sum`` can dip below 0)."""
        self._check_fitted()
        arr = self._check_magnitude(self._validate(X, fitting=False))
        recon_windows, critic = self._windows_out(arr)
        if not (np.all(np.isfinite(recon_windows)) and np.all(np.isfinite(critic))):
            raise FloatingPointError(
                f"{type(self).__name__}: the trained networks output NaN or infinite values; "
                "training diverged (see history_), try a smaller learning_rate"
            )
        n = len(arr)
        recon = unroll_windows(recon_windows, n, 1, reducer="median")
        smooth = max(1, int(float(self.smoothing_window) * len(critic)))
        errors = scoring.reconstruction_errors(arr, recon, self.error_type,
                                               int(self.score_window), smooth)
        critic_score = scoring.critic_zscore(
            scoring.critic_per_timestep(critic, int(self.window_size)), smooth)
        return scoring.combine_scores(critic_score, errors, self.combination,
                                      float(self.lambda_rec))


def _without_parameters(init: Callable[..., None], *names: str) -> Callable[..., None]:
    """The constructor ``init`` with the parameters ``names`` taken out of its signature.

    ``get_params``, ``set_params`` and ``repr`` (and scikit-learn's ``BaseEstimator``) read the
    class's ``__init__`` signature, so they do not list ``names``, and passing one is a
    ``TypeError`` as for any unknown argument; ``init`` runs with their defaults and, storing only
    the class's parameters, does not store them.
    """
    full = inspect.signature(init)
    signature = full.replace(parameters=[p for p in full.parameters.values()
                                         if p.name not in names])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        init(**signature.bind(self, *args, **kwargs).arguments)  # by name: positions differ

    __init__.__signature__ = signature
    return __init__


_ARGS_DOC = """
    Args:
        window_size: timesteps per window (reference: 100); also :meth:`min_length` (>= 17).
        latent_size: size of the latent code z (reference: 20).
        encoder_hidden: units of the encoder's BiLSTM per direction (reference: 100).
        generator_hidden: units of the generator's two BiLSTMs per direction (reference: 64).
        critic_x_filters: filters of each of the critic Cx's four convolutions (reference: 64).
        epochs: passes over the training windows (reference: 35 for NAB, 70 for NASA and Yahoo;
            ``bench run --profile paper`` uses those).
        batch_size: windows per critic and encoder/generator step (reference: 64).
        n_critic: critic iterations per encoder/generator step (reference: 5).
        learning_rate: Adam's learning rate for every network (reference: 0.0005).{gp}
        rec_weight: weight of the cycle-consistency term ``MSE(x, G(E(x)))`` in the
            encoder/generator loss (reference: 10).
        train_step: stride between training windows (reference: 1).
        error_type: reconstruction error ``point``, ``area`` or ``dtw`` (reference: ``dtw``).
        combination: ``mult`` (critic x reconstruction), ``sum`` or ``rec`` (reconstruction only)
            (reference: ``mult``; ``sum`` for AdEx, Traf and Tweets).
        lambda_rec: weight of the reconstruction score in ``sum`` (reference: 0.5).
        score_window: window of the ``area`` and ``dtw`` errors, in steps (reference: 10).
        smoothing_window: moving-average length of the error and of the critic score, as a
            fraction of the number of windows (reference: 0.01).
        mixed_precision: run the networks under bfloat16 autocast on CUDA (off by default; an
            error on the CPU).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        random_state: seed of initialisation, shuffling, dropout and z; same seed + same data +
            CPU + same torch thread count gives identical scores (another thread count rounds
            differently).
"""


class TadGAN(_AdversarialDetector):
    """TadGAN (Geiger et al., 2020): a cycle-consistent WGAN-GP over signal windows.

    Encoder E maps a window to a latent z, generator G maps z back to a window; critic Cx tells
    real windows from G(z) with z ~ N(0, I), critic Cz tells prior samples from E(x). Critics:
    Wasserstein loss plus a gradient penalty (weight ``gp_weight``) on random interpolates;
    ``n_critic`` critic iterations per encoder/generator step; E and G minimise both adversarial
    terms plus ``rec_weight`` x MSE(x, G(E(x))). Networks, losses, initialisation and schedule
    follow the reference implementation (Orion's TadGAN pipelines), see
    :mod:`benchbench_plugins.tadgan`.

    Scoring as the paper: each timestep's reconstruction is the median over the overlapping
    windows; its error (``point``, ``area`` or ``dtw``) is smoothed and z-scored; the critic
    values of the windows covering it are reduced to their density mode, z-scored robustly and
    smoothed; the two are combined (``mult``, ``sum`` or ``rec``). Higher = more anomalous.
    {args}"""

    _loss = "wasserstein"

    def _gp_weight(self) -> float:
        value = float(self.gp_weight)
        if not value >= 0:
            raise ValueError(f"TadGAN: gp_weight must be >= 0, got {self.gp_weight!r}")
        return value


class GAN(_AdversarialDetector):
    """The plain GAN counterpart of TadGAN: the same networks, schedule and scoring, BCE loss.

    What it is for: a loss ablation. Everything but the adversarial loss is TadGAN's (E, G, Cx, Cz,
    ``n_critic`` discriminator iterations per encoder/generator step, cycle-consistency weight,
    Adam, scoring): the discriminators output logits trained with binary cross-entropy (real = 1,
    fake = 0), E and G minimise the non-saturating loss ``-log D(fake)``, and there is no gradient
    penalty. So the difference between ``gan`` and ``tadgan`` in a results table is the effect of
    the Wasserstein loss with gradient penalty alone.
    {args}"""

    _loss = "bce"
    __init__ = _without_parameters(_AdversarialDetector.__init__, "gp_weight")  # no penalty


TadGAN.__doc__ = TadGAN.__doc__.format(args=_ARGS_DOC.format(
    gp="\n        gp_weight: weight of the gradient penalty of both critics (reference: 10)."))
GAN.__doc__ = GAN.__doc__.format(args=_ARGS_DOC.format(gp=""))
