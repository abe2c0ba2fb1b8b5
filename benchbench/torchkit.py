"""Shared torch helpers for window-based detectors (autoencoder, VAE, TadGAN, GAN, LSTM-AR).

Importing this module imports torch, so detector plugins import it inside ``fit`` (the CLI
imports every plugin at start-up and must stay fast), never at module level.

* :func:`resolve_device` turns the ``device`` hyperparameter into a :class:`torch.device`.
* :func:`seeded` is a context manager that seeds every random source a detector uses and restores
  the caller's global torch random state afterwards.
* :func:`train_windows` is the epoch loop: seeded shuffling, batching, per-epoch loss averages
  reported through :meth:`benchbench.detector.BaseDetector._log_epoch`, and a clear error when a
  loss turns NaN or infinite.
* :func:`predict_windows` runs a model over windows in batches under ``torch.inference_mode``.
* :func:`window_view` makes rolling windows of a tensor without copying.
* :func:`set_forget_bias` sets the initial forget-gate bias of LSTMs.

Reproducibility guarantee: a detector that creates its networks and trains inside
``with seeded(random_state) as rng:``, shuffles with ``rng.torch`` (as :func:`train_windows` does)
and draws any numpy randomness from ``rng.numpy`` gives **bit-identical scores for the same seed,
the same data and the CPU device** (same machine, same torch build and thread count). On CUDA,
cuDNN kernels are not bit-deterministic, so results are only close. ``torch.set_num_threads`` and
``torch.use_deterministic_algorithms`` are left as the caller set them (the runner sets the thread
count of every job from the run's ``threads`` setting: :mod:`benchbench.run.jobcontrol`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from benchbench.detector import BaseDetector

__all__ = [
    "Seeds",
    "predict_windows",
    "resolve_device",
    "seeded",
    "set_forget_bias",
    "end_epoch",
    "train_windows",
    "window_view",
]


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn a ``device`` hyperparameter into a :class:`torch.device`.

    ``"auto"`` picks ``"cuda"`` when CUDA is available, else ``"cpu"``; ``"cpu"``, ``"cuda"`` and
    ``"cuda:N"`` are taken as given, and a CUDA device raises :class:`RuntimeError` with a clear
    message when CUDA is not available (or ``N`` is out of range). Anything else raises
    :class:`ValueError`.
    """
    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from exc
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise ValueError(
            f"device={device!r} is not supported; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        )
    if not torch.cuda.is_available():
        raise RuntimeError(
            f"device={device!r} asks for CUDA, but CUDA is not available here (torch "
            f"{torch.__version__}, built with CUDA {torch.version.cuda}); use device='cpu' or "
            "device='auto'"
        )
    count = torch.cuda.device_count()
    if dev.index is not None and dev.index >= count:
        raise RuntimeError(
            f"device={device!r}: this machine has {count} CUDA device(s), numbered 0 to {count - 1}"
        )
    return dev


@dataclass
class Seeds:
    """The random sources of one seeded block (see :func:`seeded`).

    Attributes:
        seed: the integer seed used (drawn at random when ``random_state`` was ``None``).
        numpy: a numpy generator for the detector's own numpy randomness.
        torch: a CPU :class:`torch.Generator` for shuffling and sampling indices.
    """

    seed: int
    numpy: np.random.Generator
    torch: torch.Generator


@contextlib.contextmanager
def seeded(random_state: int | None, device: torch.device | str | None = None) -> Iterator[Seeds]:
    """Seed torch (CPU and CUDA) for the duration of the block; yield the detector's generators.

    Inside the block the global torch random state (used by weight initialisation, dropout and
    ``torch.randn``) is seeded from ``random_state``; on exit the caller's global torch random
    state is restored (CPU, plus every CUDA device when CUDA is already initialised or ``device``
    is a CUDA device), so seeding a detector never changes the randomness of code around it.
    ``random_state=None`` draws a fresh seed (results then differ between runs). Passing the
    training ``device`` lets a CPU detector on a CUDA machine leave CUDA uninitialised.

    Same seed + same data + CPU => identical scores (see the module docstring).
    """
    if random_state is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    else:
        if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
            raise TypeError(f"random_state must be an int or None, got {random_state!r}")
        seed = int(random_state)
    # Streams derived from one seed but independent of each other.
    torch_seed, shuffle_seed = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
    on_cuda = device is not None and torch.device(device).type == "cuda"
    cuda_devices = (
        list(range(torch.cuda.device_count()))
        if torch.cuda.is_available() and (on_cuda or torch.cuda.is_initialized())
        else []
    )
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(int(torch_seed) & 0x7FFF_FFFF_FFFF_FFFF)  # also seeds every CUDA device
        shuffle = torch.Generator(device="cpu")
        shuffle.manual_seed(int(shuffle_seed) & 0x7FFF_FFFF_FFFF_FFFF)
        yield Seeds(seed=seed, numpy=np.random.default_rng(seed), torch=shuffle)


def window_view(x: torch.Tensor, window_size: int, step: int = 1) -> torch.Tensor:
    """Rolling windows of ``x`` as a view (no copy).

    Args:
        x: signal, shape ``(n_timesteps, n_channels)``.
        window_size: timesteps per window.
        step: stride between window starts, in timesteps.

    Returns:
        Tensor ``(n_windows, window_size, n_channels)`` with
        ``n_windows = (n_timesteps - window_size) // step + 1``; window ``i`` starts at ``i*step``.
    """
    if x.ndim != 2:
        raise ValueError(f"window_view expects (n_timesteps, n_channels), got {tuple(x.shape)}")
    if not 1 <= window_size <= x.shape[0]:
        raise ValueError(f"window_size={window_size} must be in [1, {x.shape[0]}]")
    # unfold gives (n_windows, n_channels, window_size)
    return x.unfold(0, window_size, step).transpose(1, 2)


def set_forget_bias(value: float, *lstms: torch.nn.LSTM) -> None:
    """Start the forget gate of every layer of ``lstms`` at bias ``value`` (torch starts it at 0,
    Keras at 1): a high value keeps the cells' memory open early in training.

    torch orders the gates (input, forget, cell, output) and the forget gate's bias is
    ``bias_ih + bias_hh`` on its slice, so ``bias_ih`` gets ``value`` there and ``bias_hh`` 0.
    """
    with torch.no_grad():
        for lstm in lstms:
            h = lstm.hidden_size
            for layer in range(lstm.num_layers):
                getattr(lstm, f"bias_ih_l{layer}")[h : 2 * h].fill_(float(value))
                getattr(lstm, f"bias_hh_l{layer}")[h : 2 * h].zero_()


def optimiser_step(optimiser: torch.optim.Optimizer, loss: torch.Tensor,
                   clip: float | None = None) -> None:
    """One gradient step on ``loss``: clear the gradients, back-propagate, clip the global
    gradient norm of the optimiser's parameters to ``clip`` (when given), step."""
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    if clip is not None:
        params = [p for group in optimiser.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, clip)
    optimiser.step()


LossDict = Mapping[str, "torch.Tensor | float"]


def train_windows(
    detector: BaseDetector,
    windows: torch.Tensor,
    step_fn: Callable[[torch.Tensor], LossDict],
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    shuffle: bool = True,
    drop_last: bool = False,
) -> dict[str, float]:
    """Run the epoch loop of a window model and record its losses in ``detector.history_``.

    Each epoch shuffles the windows with ``generator`` (a seeded CPU generator, e.g.
    ``seeded(...).torch``), calls ``step_fn(batch)`` for each batch of windows (the function does
    the forward pass, backward pass and optimiser step, and returns its losses as scalar tensors or
    floats), averages each loss over the epoch weighted by batch size, and calls
    ``detector._log_epoch(epoch, epochs, losses)`` with ``epoch`` counted from 0 (the runner's
    progress bar shows ``epoch + 1`` of ``epochs``). Loss tensors are
    accumulated on the device and copied to the host once per epoch, so the loop does not
    synchronise with the GPU after every step.

    Args:
        detector: the detector being trained (for ``_log_epoch`` and error messages); call its
            ``_start_history()`` first.
        windows: training windows, shape ``(n_windows, window_size, n_channels)``, already on the
            training device (it may be a view such as :func:`window_view` returns; batches are
            gathered into contiguous tensors).
        step_fn: ``batch (batch, window_size, n_channels) -> {loss_name: scalar}``.
        epochs: number of passes over the windows (>= 1).
        batch_size: windows per step (>= 1).
        generator: CPU generator used for shuffling.
        shuffle: shuffle the windows each epoch (else keep their order).
        drop_last: skip a last batch smaller than ``batch_size`` (unless it is the only one).

    Returns:
        The last epoch's averaged losses.

    Raises:
        FloatingPointError: a loss became NaN or infinite; the message names the detector, the
            loss and the epoch.
    """
    name = type(detector).__name__
    n = int(windows.shape[0])
    if n < 1:
        raise ValueError(f"{name}: no training windows")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"{name}: epochs ({epochs}) and batch_size ({batch_size}) must be >= 1")
    device = windows.device
    n_batches = n // batch_size if drop_last and n >= batch_size else math.ceil(n / batch_size)
    last: dict[str, float] = {}
    for epoch in range(epochs):
        if shuffle:
            order = torch.randperm(n, generator=generator).to(device)
        else:
            order = torch.arange(n, device=device)
        sums: dict[str, torch.Tensor | float] = {}
        seen = 0
        for b in range(n_batches):
            idx = order[b * batch_size : (b + 1) * batch_size]
            batch = windows[idx]
            losses = step_fn(batch)
            size = int(idx.shape[0])
            seen += size
            for key, value in losses.items():
                if isinstance(value, torch.Tensor):
                    value = value.detach()
                sums[key] = sums.get(key, 0.0) + value * size
        last = end_epoch(detector, epoch, epochs, sums, seen)
    return last


def end_epoch(detector: BaseDetector, epoch: int, epochs: int,
              sums: Mapping[str, torch.Tensor | float], count: float) -> dict[str, float]:
    """Average an epoch's summed losses, check them and record them in ``detector.history_``.

    ``sums`` maps each loss to its sum over the epoch (tensors stay on the device until here: one
    host copy per epoch) and ``count`` is what to divide by (windows or steps).

    Raises:
        FloatingPointError: a loss is NaN or infinite; the message names the detector, the loss
            and the epoch, so a diverging run fails its job with that reason.
    """
    names = list(sums)
    values = [sums[k] for k in names]
    if values and all(isinstance(v, torch.Tensor) for v in values):
        host = torch.stack([v.reshape(()).float() for v in values]).cpu().tolist()
    else:
        host = [float(v) for v in values]
    means = {k: v / count for k, v in zip(names, host)}
    bad = {k: v for k, v in means.items() if not math.isfinite(v)}
    if bad:
        raise FloatingPointError(
            f"{type(detector).__name__}: training diverged in epoch {epoch + 1} of {epochs}: loss "
            + ", ".join(f"{k}={v}" for k, v in bad.items())
            + "; try a smaller learning_rate or check the input scaling"
        )
    detector._log_epoch(epoch, epochs, means)
    return means


def predict_windows(
    fn: Callable[[torch.Tensor], torch.Tensor],
    windows: torch.Tensor,
    batch_size: int,
) -> np.ndarray:
    """Apply ``fn`` to windows in batches under ``torch.inference_mode`` and gather the results.

    Args:
        fn: ``batch (batch, ...) -> output (batch, ...)`` (e.g. a model's reconstruction).
        windows: shape ``(n_windows, ...)``, on the model's device (a view is fine).
        batch_size: windows per forward pass.

    Returns:
        ``float64`` array with the outputs concatenated along the first axis.
    """
    outputs = []
    with torch.inference_mode():
        for start in range(0, int(windows.shape[0]), batch_size):
            outputs.append(fn(windows[start : start + batch_size]))
        out = torch.cat(outputs).cpu()
    return out.numpy().astype(np.float64)
