"""Where jobs run: worker counts and GPU placement shared by the process and Dask executors.

GPU placement (``--device cuda``, or ``auto`` on a machine with CUDA): the process executor gives
each visible GPU ``--jobs-per-gpu K`` worker slots and pins each slot's jobs to its device
(``cuda:0``, ``cuda:1``, ...); the Dask executor asks for the worker resource ``GPU=1`` per job.
"""

from __future__ import annotations

import os


def wants_gpu(device: str, n_gpus: int) -> bool:
    """Whether jobs of this ``device`` setting go to GPUs (``cuda``, ``cuda:N``, or ``auto``
    when the machine has CUDA devices)."""
    name = str(device).strip().lower()
    return name.startswith("cuda") or (name == "auto" and n_gpus > 0)


def slot_devices(device: str, workers: int | None, n_gpus: int,
                 jobs_per_gpu: int = 1) -> list[str | None]:
    """The device of each local worker slot; ``None`` keeps the job's own ``device`` setting.

    On CPU: ``workers`` slots (default 1). On GPUs: ``jobs_per_gpu`` slots per visible GPU
    (only GPU N for ``cuda:N``), interleaved (``cuda:0, cuda:1, cuda:0, cuda:1`` ...) so that
    fewer ``workers`` than slots still spread over the GPUs; never more than ``jobs_per_gpu``
    slots share a GPU.
    """
    if not wants_gpu(device, n_gpus):
        return [None] * (workers or 1)
    name = str(device).strip().lower()
    gpus = [int(name.split(":", 1)[1])] if ":" in name else list(range(max(n_gpus, 1)))
    slots: list[str | None] = [f"cuda:{g}" for _ in range(jobs_per_gpu) for g in gpus]
    return slots[:workers] if workers else slots


def cuda_count() -> int:
    """Visible CUDA devices (0 without torch or CUDA)."""
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - no torch or a broken CUDA setup: place on CPU
        return 0


def default_workers(threads: int | None) -> int:
    """Workers of ``threads`` torch threads each that fit on this machine's cores (at least 1)."""
    return max(1, cores() // max(1, threads or 1))


def cores() -> int:
    """The CPU cores this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
