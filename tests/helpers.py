"""Helpers shared by the detector test files (``from helpers import ...``: pytest puts this folder
on ``sys.path``, the test files not being a package)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np


def sine(n: int, seed: int = 0, period: float = 40.0) -> np.ndarray:
    """A clean sine wave with a little noise, ``(n, 1)``, in [-0.9, 0.9]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (0.8 * np.sin(2 * np.pi * t / period) + 0.03 * rng.standard_normal(n))[:, None]


def assert_imports_without_torch(*modules: str, then: str = "") -> None:
    """Import ``modules`` in a fresh interpreter, run the statements ``then`` there, and fail if
    that imported torch."""
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        f"{then}\n"
        "assert 'torch' not in sys.modules, f'importing {sys.argv[1:]} pulled in torch'\n"
    )
    subprocess.run([sys.executable, "-c", code, *modules], check=True)


def assert_registers(plugin: Any, name: str, factory: type, quick_params: dict) -> dict:
    """``plugin.register_detectors`` registers exactly ``name`` -> ``factory``, with a
    description and ``quick_params`` naming real hyperparameters; return its options."""
    calls = []
    plugin.register_detectors(register=lambda *args, **kw: calls.append((args, kw)))
    [((registered, registered_factory), options)] = calls
    assert registered == name and registered_factory is factory
    assert options["description"]
    assert options["quick_params"] == quick_params
    assert set(quick_params) <= set(factory().get_params())
    return options
