"""What a run ran on: package versions, the code's git commit, Python, platform, CPU and
accelerator.

Float results on the CPU are bit-identical between reruns with the same seed, thread count and
*CPU kind*: torch picks its CPU kernels by the instruction set the processor offers
(:func:`cpu_kind`'s ``cpu_capability``: ``DEFAULT``, ``AVX2``, ``AVX512``, ...), and kernels for
different instruction sets round differently, so a detector's scores, and after training also its
F1, can differ between two machines. Both the run's ``environment.json`` and every job record
name the CPU model and that capability.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGES = ("benchbench", "torch", "numpy", "pandas", "scikit-learn", "pluggy", "click",
            "matplotlib")


def cpu_model() -> str | None:
    """The processor's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()``
    elsewhere), or ``None`` when the system does not say."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


@functools.lru_cache(maxsize=1)
def _cpu_kind() -> tuple[str | None, str | None]:
    try:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 - describe, never fail a run over it
        capability = None
    return cpu_model(), capability


def cpu_kind() -> dict[str, str | None]:
    """``{"cpu_model": ..., "cpu_capability": ...}``: the CPU's model name and the instruction
    set torch's CPU kernels use on it (``torch.backends.cpu.get_cpu_capability()``; imports
    torch). Two runs are bit-comparable on the CPU only when both match."""
    model, capability = _cpu_kind()
    return {"cpu_model": model, "cpu_capability": capability}


def git_commit(folder: Path | str | None = None) -> dict[str, Any]:
    """The git commit of the code benchbench runs from: ``{"git_commit": sha, "git_dirty":
    bool}`` when ``folder`` (default: the folder holding the ``benchbench`` package) is the root
    of a git checkout (an editable install), with ``git_dirty`` true when tracked files differ
    from the commit; ``{}`` otherwise (an installed wheel) or when git is not available."""
    where = Path(folder) if folder is not None else Path(__file__).resolve().parents[2]
    try:
        top = subprocess.run(["git", "-C", str(where), "rev-parse", "--show-toplevel", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True)
        lines = top.stdout.splitlines()
        if len(lines) != 2 or Path(lines[0]).resolve() != where.resolve():
            return {}  # not a checkout's root: e.g. a repository around an installed package
        status = subprocess.run(["git", "-C", str(where), "status", "--porcelain",
                                 "--untracked-files=no"], capture_output=True, text=True,
                                timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git_commit": lines[1], "git_dirty": bool(status.stdout.strip())}


def describe_environment() -> dict[str, Any]:
    """A JSON-ready description of the software and hardware (imports torch)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        **cpu_kind(),
        "packages": versions,
        **git_commit(),
    }
    try:
        import torch

        env["torch_threads"] = torch.get_num_threads()
        env["cuda_available"] = torch.cuda.is_available()
        env["cuda_devices"] = [torch.cuda.get_device_name(i)
                               for i in range(torch.cuda.device_count())]
        env["cuda_version"] = torch.version.cuda
    except Exception as exc:  # noqa: BLE001 - describe, never fail a run over it
        env["torch_error"] = f"{type(exc).__name__}: {exc}"
    return env
