"""glibc's malloc settings for training jobs: keep freed memory for the next step.

Torch takes its CPU tensors from ``malloc``. With glibc's defaults, allocations above the mmap
threshold (128 KiB, rising with use to at most 32 MiB) get fresh pages from the kernel and hand
them back when freed, and free memory at the top of a heap goes back to the kernel once more than
the trim threshold is free. A training loop allocates and frees the same few hundred MB of
activations, gradients and LSTM workspaces every step, so each step faults those pages in again
(``tests/test_allocator.py`` shows it on a 40 MB buffer: every page faulted in again on each
reuse with glibc's defaults, almost none with the settings below).

:func:`tune_malloc` raises the mmap threshold to 64 MiB (the largest tensor a training step makes
here is 25-50 MB), the trim threshold to 512 MiB, and pads each heap extension by 64 MiB, so
freed memory is reused instead of returned. The cost is memory: a process keeps what its largest
step used. Values are not affected (where a tensor lives does not change what is computed).

Only processes the harness starts itself are tuned: the process executor's workers and the
serial executor's child process call :func:`tune_malloc` when they start
(:mod:`benchbench.run.executors.process`), and so do the workers of a local Dask cluster. The
``bench`` process itself, a notebook that calls the API or a detector's ``fit``, and the workers of
a Dask cluster of your own keep whatever their process has. Each job record's ``malloc`` says
which it ran with (:func:`malloc_state`). Setting the environment variable
``BENCHBENCH_MALLOC=default`` leaves glibc's defaults alone. On platforms without glibc (macOS,
Windows, musl) nothing is changed.

Measured on a sample of the default run (every built-in detector on two synthetic signals, one
thread per job, three runs each, alternating): 147.6 s of CPU time tuned against 163.5 s with
glibc's defaults (median ratio 0.894), peak resident size 572 against 535 MiB; see
docs/benchmarks.md.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MIB = 1 << 20
# name: (mallopt parameter, value)
SETTINGS = {"mmap_threshold": (M_MMAP_THRESHOLD, 64 * MIB),
            "trim_threshold": (M_TRIM_THRESHOLD, 512 * MIB),
            "top_pad": (M_TOP_PAD, 64 * MIB)}
ENV_VAR = "BENCHBENCH_MALLOC"

_state: str | None = None  # what tune_malloc did in this process, once it ran


def _glibc() -> ctypes.CDLL | None:
    """This process's C library when it is glibc (it has ``gnu_get_libc_version``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return libc


def tune_malloc() -> str:
    """Apply :data:`SETTINGS` to glibc's malloc once per process; return what was done.

    The answer (also kept for :func:`malloc_state`) is ``"tuned"``, ``"default (BENCHBENCH_MALLOC
    =default)"``, ``"default (not glibc)"`` or ``"partly tuned (...)"`` naming the settings glibc
    refused. Later calls return the first call's answer without touching anything.
    """
    global _state
    if _state is None:
        _state = _apply_settings()
    return _state


def _apply_settings() -> str:
    if os.environ.get(ENV_VAR, "").strip().lower() == "default":
        return f"default ({ENV_VAR}=default)"
    libc = _glibc()
    if libc is None:
        return "default (not glibc)"
    refused = [name for name, (param, value) in SETTINGS.items()
               if libc.mallopt(param, value) != 1]
    return "tuned" if not refused else f"partly tuned (glibc refused {', '.join(refused)})"


def malloc_state() -> str:
    """What :func:`tune_malloc` did in this process (``"default (not tuned)"`` before it ran)."""
    return _state if _state is not None else "default (not tuned)"
