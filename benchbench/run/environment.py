"""What a run ran on: package versions, Python, platform, CPU and accelerator."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any

PACKAGES = ("benchbench", "torch", "numpy", "pandas", "scikit-learn", "pluggy", "click",
            "matplotlib")


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
        "packages": versions,
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
