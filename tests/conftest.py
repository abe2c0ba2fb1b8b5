"""Shared fixtures. Tests are hermetic: no third-party entry-point plugins load unless a test
asks for them, and every run writes under a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SHARED_NAB = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"


@pytest.fixture(autouse=True)
def _hermetic_plugins(monkeypatch):
    monkeypatch.setenv("BENCHBENCH_LOAD_PLUGINS", "")
    monkeypatch.delenv("BENCHBENCH_PLUGINS_DIR", raising=False)
    monkeypatch.delenv("BENCHBENCH_DATA", raising=False)


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    """A --plugins-dir with loose detector files used by the runner and CLI tests."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "test_detectors.py").write_text(textwrap.dedent('''
        import numpy as np
        from benchbench.detector import BaseDetector
        from benchbench.hookspecs import hookimpl


        class Absolute(BaseDetector):
            """Loose-file detector: the absolute deviation from the training median."""

            def __init__(self, random_state=0):
                self.random_state = random_state

            def fit(self, X, y=None):
                X = self._validate(X, fitting=True)
                self._start_history()
                self.median_ = np.median(X, axis=0)
                self._log_epoch(0, 1, {"loss": 0.0})
                return self

            def score(self, X):
                X = self._validate(X, fitting=False)
                return np.abs(X - self.median_).max(axis=1)


        class Exploding(Absolute):
            """Raises in fit."""

            def fit(self, X, y=None):
                raise RuntimeError("boom in fit")


        class WrongShape(Absolute):
            """Returns one score too few."""

            def score(self, X):
                return super().score(X)[:-1]


        class NaNScores(Absolute):
            """Returns NaN scores."""

            def score(self, X):
                s = super().score(X)
                s[3] = np.nan
                return s


        @hookimpl
        def register_detectors(register):
            register("absolute", Absolute)
            register("exploding", Exploding)
            register("wrong_shape", WrongShape)
            register("nan_scores", NaNScores)
    '''))
    return folder
