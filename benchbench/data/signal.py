"""The data model shared by dataset plugins, the runner and the reports.

A *signal* is one benchmark time series with a train part, a test part and the labelled anomalous
intervals of its test part. A *dataset* is a named collection of signals that loads them one at a
time, so planning a run never loads every file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

Interval = tuple[float, float]


class DataError(ValueError):
    """A signal or label file cannot be used.

    The message names the file, the signal and the problem.
    """


@dataclass
class Signal:
    """One benchmark signal.

    Attributes:
        name: the signal's name inside its dataset (unique there).
        train: training values, shape ``(n_train, n_channels)``, float64.
        test: test values, shape ``(n_test, n_channels)``, float64.
        train_index: timestamps of ``train``, shape ``(n_train,)``, sorted ascending (seconds for
            real data, step positions for generated data).
        test_index: timestamps of ``test``, shape ``(n_test,)``.
        anomalies: labelled anomalous intervals of the test part, closed ``[start, end]`` in
            ``test_index`` units.
        interval: aggregation interval in index units applied by preprocessing (``None``: none).
        source: where the signal came from (a file path, or ``"generated"``), for error messages.
        kind: an optional label of the anomaly type (the synthetic suite sets it), for reports.
        train_lines: the line of ``source`` each row of ``train`` was read from, shape
            ``(n_train,)`` int64, for error messages (``None``: not read from a text file).
        test_lines: the same for ``test``.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray
    anomalies: list[Interval] = field(default_factory=list)
    interval: float | None = None
    source: str = "generated"
    kind: str = ""
    train_lines: np.ndarray | None = None
    test_lines: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.train = _as_2d(self.train)
        self.test = _as_2d(self.test)
        self.train_index = np.asarray(self.train_index)
        self.test_index = np.asarray(self.test_index)
        self.anomalies = [(float(a), float(b)) for a, b in self.anomalies]
        for part in ("train", "test"):
            lines = getattr(self, f"{part}_lines")
            if lines is not None and len(lines) != len(getattr(self, part)):
                lines = None  # unusable for messages: drop rather than name a wrong line
            setattr(self, f"{part}_lines", None if lines is None else np.asarray(lines, np.int64))
        if len(self.train_index) != len(self.train) or len(self.test_index) != len(self.test):
            raise DataError(
                f"{self.source}: signal {self.name!r}: index and values differ in length "
                f"(train {len(self.train_index)} vs {len(self.train)}, "
                f"test {len(self.test_index)} vs {len(self.test)})"
            )


def _as_2d(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


class Dataset(Protocol):
    """What a dataset plugin registers (through a factory ``factory(data_dir, subset)``).

    ``name`` and ``description`` describe it in ``bench list datasets``; ``signal_names()``
    lists its signals without loading them; ``load_signal(name)`` loads one, raising
    :class:`DataError` with the file, the signal and the problem when it cannot.
    """

    name: str
    description: str

    def signal_names(self) -> Sequence[str]: ...

    def load_signal(self, name: str) -> Signal: ...

