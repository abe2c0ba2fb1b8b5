'''``bench new-plugin NAME``: write a ready-to-install detector plugin package.

The package it writes (``<dir>/<NAME>/``)::

    pyproject.toml                      distribution benchbench-<name>, entry point group benchbench
    README.md                           how to install, test, run and publish it
    src/benchbench_<name>/__init__.py   the register_detectors hook
    src/benchbench_<name>/detector.py   a working detector: distance from a moving average
    tests/test_<name>.py                the conformance kit, a registration and a detection test

Installed (``pip install -e <dir>/<NAME>``), its detector appears in ``bench list detectors`` and
``bench run --detectors <NAME>`` runs it; ``pytest`` in the folder passes untouched. Replace the
body of ``fit`` and ``score`` with your model.
'''

from __future__ import annotations

import keyword
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScaffoldError", "PluginNames", "plugin_names", "new_plugin"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ScaffoldError(ValueError):
    """The plugin cannot be written (invalid name, the folder exists)."""


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the plugin name ``name`` (the detector's registered name)."""

    name: str

    @property
    def module(self) -> str:
        return f"benchbench_{self.name}"

    @property
    def distribution(self) -> str:
        return f"benchbench-{self.name.replace('_', '-')}"

    @property
    def cls(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_") if part) + "Detector"


def plugin_names(name: str) -> PluginNames:
    """Validate ``name`` and derive the package names from it.

    Raises:
        ScaffoldError: ``name`` is not a lowercase Python identifier of 1 to 40 characters
            (letters, digits, ``_``; starting with a letter), or is a Python keyword.
    """
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"invalid plugin name {name!r}: use a lowercase Python identifier of 1 to 40 "
            "characters (letters, digits and '_', starting with a letter, not a keyword), "
            "e.g. 'my_detector'; it becomes the detector's name in `bench run --detectors`"
        )
    if "__" in name or name.endswith("_"):
        raise ScaffoldError(f"invalid plugin name {name!r}: no trailing or double '_'")
    return PluginNames(name)


PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "0.1.0"
description = "A benchbench detector plugin: {name}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["benchbench", "numpy"]

[project.optional-dependencies]
test = ["pytest"]

# benchbench finds plugins through this entry-point group: name = importable module
[project.entry-points.benchbench]
{name} = "{module}"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

README = """\
# {distribution}

A benchbench detector plugin that registers the detector
`{name}` ({cls} in `src/{module}/detector.py`). As generated it scores each timestep by its
distance from a centred moving average, in units of the training residuals' standard deviation:
replace the bodies of `fit` and `score` with your model.

```bash
pip install -e .                       # registers the entry point `{name}`
bench list detectors                   # {name} listed, plugin {distribution} 0.1.0
bench run --detectors {name} --quick   # a smoke run on the synthetic benchmark
pytest                                 # the conformance kit and the plugin's own tests
```

The contract (`benchbench/detector.py`): hyperparameters only in `__init__`, stored unchanged;
`fit(X)` with `X` shaped `(n_timesteps, n_channels)` returns `self`; `score(X)` returns one finite
score per timestep, higher = more anomalous; learned state in attributes ending in `_`;
randomness from `random_state`. `tests/test_{name}.py` runs every check of
`benchbench.testing` on the detector: a failure names the rule that broke and how to fix it.

`quick_params` in `src/{module}/__init__.py` are the settings `bench run --quick` uses.
Set `BENCHBENCH_LOAD_PLUGINS={distribution}` to load only this third-party plugin.
"""

INIT = '''\
"""benchbench plugin {distribution}: registers the detector ``{name}``."""

from benchbench import hookimpl

from {module}.detector import {cls}

__all__ = ["{cls}", "register_detectors"]


@hookimpl
def register_detectors(register):
    """Register ``{name}``; ``quick_params`` are the settings of ``bench run --quick``."""
    register("{name}", {cls}, quick_params={{"window": 10}})
'''

DETECTOR = '''\
"""The ``{name}`` detector: distance from a centred moving average (a simple working start).

``score(X)[t]`` is ``max_c |x[t, c] - m[t, c]| / s_c`` where ``m`` is the moving average of
``X`` over ``window`` steps centred on ``t`` (edges repeated) and ``s_c`` the standard deviation of
the training residuals ``x - m`` of channel ``c``. Replace ``fit`` and ``score`` with your model.
"""

from __future__ import annotations

import numpy as np

from benchbench import BaseDetector


def moving_average(X: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of each column of ``X`` ``(n, c)``, edges repeated; ``(n, c)``."""
    w = max(1, min(int(window), len(X)))
    padded = np.pad(X, ((w // 2, w - 1 - w // 2), (0, 0)), mode="edge")
    sums = np.cumsum(np.vstack([np.zeros((1, X.shape[1])), padded]), axis=0)
    return (sums[w:] - sums[:-w]) / w


class {cls}(BaseDetector):
    """Distance from a centred moving average, in training-residual standard deviations.

    Args:
        window: the moving average's length in timesteps.
        eps: added to the residual standard deviation so a flat signal divides safely.
        random_state: accepted for the detector contract (nothing here is random).
    """

    def __init__(self, window: int = 25, eps: float = 1e-6, random_state: int | None = 0):
        # hyperparameters only, stored unchanged: validation belongs in fit
        self.window = window
        self.eps = eps
        self.random_state = random_state

    def fit(self, X, y=None):
        """Learn each channel's residual scale from ``X`` ``(n_timesteps, n_channels)``."""
        self._check_positive_ints("window")
        X = self._validate(X, fitting=True)  # float copy; raises DetectorInputError on bad input
        self._start_history()  # history_ = {{}}: one list of values per loss name
        residuals = X - moving_average(X, self.window)
        self.scale_ = residuals.std(axis=0) + float(self.eps)
        self._log_epoch(0, 1, {{"residual_std": float(self.scale_.mean())}})
        return self

    def score(self, X):
        """One anomaly score per timestep of ``X``: shape ``(n_timesteps,)``, higher = stranger."""
        X = self._validate(X, fitting=False)  # raises NotFittedError before fit
        residuals = np.abs(X - moving_average(X, self.window)) / self.scale_
        return residuals.max(axis=1)
'''

TEST = '''\
"""Tests of the ``{name}`` plugin: the benchbench conformance kit, registration, detection."""

import numpy as np

from benchbench.testing import make_signal, parametrize_checks

import {module}
from {module} import {cls}


# Every contract check of benchbench.testing, one test id each; a failure says which rule broke
# and how to fix it. Pass fast hyperparameters as keywords (small windows, few epochs).
@parametrize_checks({cls}, window=15)
def test_conformance(check):
    check()


def test_registers_the_detector():
    registered = {{}}

    def register(name, factory, **options):
        registered[name] = (factory, options)

    {module}.register_detectors(register=register)
    assert registered["{name}"][0] is {cls}


def test_finds_a_spike():
    train, test = make_signal(500, seed=0), make_signal(500, seed=1)
    test[300:305] += 2.0
    scores = {cls}().fit(train).score(test)
    assert scores.shape == (500,)
    assert 295 <= int(np.argmax(scores)) <= 310
'''

FILES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "src/{module}/__init__.py": INIT,
    "src/{module}/detector.py": DETECTOR,
    "tests/test_{name}.py": TEST,
}


def new_plugin(name: str, directory: Path | str = ".") -> Path:
    """Write the plugin package ``<directory>/<name>`` and return its folder.

    Raises:
        ScaffoldError: an invalid name, or ``<directory>/<name>`` already exists (nothing is
            overwritten).
    """
    names = plugin_names(name)
    fields = {"name": names.name, "module": names.module, "distribution": names.distribution,
              "cls": names.cls}
    root = Path(directory) / names.name
    if root.exists():
        raise ScaffoldError(f"{root} already exists; choose another name or --dir (nothing "
                            "was overwritten)")
    root.parent.mkdir(parents=True, exist_ok=True)
    root.mkdir()
    try:
        for rel, template in FILES.items():
            path = root / rel.format(**fields)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.format(**fields), encoding="utf-8")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root
