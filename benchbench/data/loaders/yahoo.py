"""The ``yahoo`` dataset: Yahoo! Webscope S5, "A Labeled Anomaly Detection Dataset" (v1.0).

Its license forbids redistribution: each user requests it from Yahoo Webscope
(https://webscope.sandbox.yahoo.com/, dataset "S5 - A Labeled Anomaly Detection Dataset") and
unpacks it under the data root::

    <data_dir>/yahoo/A1Benchmark/real_<N>.csv                 timestamp,value,is_anomaly
    <data_dir>/yahoo/A2Benchmark/synthetic_<N>.csv            timestamp,value,is_anomaly
    <data_dir>/yahoo/A3Benchmark/A3Benchmark-TS<N>.csv        timestamps,value,anomaly,...
    <data_dir>/yahoo/A4Benchmark/A4Benchmark-TS<N>.csv        timestamps,value,anomaly,...

(the archive's own top folder ``ydata-labeled-time-series-anomalies-v1_0/`` may stay in between).
Labels: each run of consecutive rows flagged 1 (after sorting by timestamp) becomes one closed
interval ``[first timestamp, last timestamp]``. Timestamps are used as given (A1: step numbers,
A2 to A4: Unix seconds). Protocol: train = test = the whole series; no aggregation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    dataset_root,
    natural_key,
    read_series_csv,
    runs_to_intervals,
    split_subset,
    tidy_intervals,
    unknown_signal,
)

LICENSE = (
    "Yahoo! Webscope data sharing agreement: approved non-commercial research use only; "
    "redistribution is not allowed (request your own copy from Yahoo Webscope)"
)
CITATION = (
    "Laptev, N., Amizadeh, S., Billawala, Y. (2015). S5 - A Labeled Anomaly Detection Dataset, "
    "version 1.0. Yahoo! Webscope, https://webscope.sandbox.yahoo.com/; Laptev, N., Amizadeh, S., "
    "Flint, I. (2015). Generic and Scalable Framework for Automated Time-series Anomaly "
    "Detection. KDD 2015."
)

#: Subset -> (folder, file pattern).
BENCHMARKS = {
    "A1": ("A1Benchmark", "real_*.csv"),
    "A2": ("A2Benchmark", "synthetic_*.csv"),
    "A3": ("A3Benchmark", "A3Benchmark-TS*.csv"),
    "A4": ("A4Benchmark", "A4Benchmark-TS*.csv"),
}
ARCHIVE_FOLDER = "ydata-labeled-time-series-anomalies-v1_0"
LABEL_NAMES = ("is_anomaly", "anomaly")

REQUEST_HINT = (
    "Yahoo's license forbids redistribution, so it cannot be downloaded for you: request it from "
    'Yahoo Webscope (https://webscope.sandbox.yahoo.com/, dataset "S5 - A Labeled Anomaly '
    'Detection Dataset"), unpack it so that yahoo/A1Benchmark/ ... yahoo/A4Benchmark/ exist, '
    "and point --data-dir at the folder holding yahoo/"
)


def resolve_benchmark(entry: str) -> str:
    """``A1`` .. ``A4`` for a subset entry (``a1``, ``A1Benchmark``; case-insensitive).

    Raises:
        DataError: anything else.
    """
    key = entry.strip().upper().removesuffix("BENCHMARK")
    if key not in BENCHMARKS:
        raise DataError(
            f"yahoo: unknown subset {entry!r}; valid subsets: {', '.join(BENCHMARKS)} "
            "(or one signal as <folder>/<name>, e.g. A1Benchmark/real_1)"
        )
    return key


class YahooDataset:
    """Yahoo! Webscope S5: benchmarks A1 (real) and A2 to A4 (synthetic), 367 labelled series.

    Args:
        data_dir: the data root; files are read from ``<data_dir>/yahoo``.
        subset: ``+``-separated ``A1`` .. ``A4`` and/or single signals ``A1Benchmark/real_1``;
            ``None``: all four.
        root: read from this folder instead of ``<data_dir>/yahoo``.

    Raises:
        DataError: an unknown subset (nothing is read when constructing).
    """

    name = "yahoo"
    description = (
        "Yahoo! Webscope S5 (request it from Yahoo): A1 real and A2-A4 synthetic series with "
        "labelled anomalous points"
    )
    LICENSE = LICENSE
    CITATION = CITATION

    def __init__(
        self,
        data_dir: Path | str | None = None,
        subset: str | Sequence[str] | None = None,
        *,
        root: Path | str | None = None,
    ) -> None:
        self.root = dataset_root(data_dir, root, "yahoo")
        self._benchmarks: list[str] = []
        self._signals: list[str] = []
        for entry in split_subset(subset):
            if "/" in entry:
                folder, _, stem = entry.partition("/")
                key = resolve_benchmark(folder)
                self._signals.append(f"{BENCHMARKS[key][0]}/{stem.removesuffix('.csv')}")
            else:
                self._benchmarks.append(resolve_benchmark(entry))
        if not self._benchmarks and not self._signals:
            self._benchmarks = list(BENCHMARKS)
        self._names: list[str] | None = None

    @property
    def base(self) -> Path:
        """The folder holding ``A1Benchmark`` .. ``A4Benchmark``."""
        nested = self.root / ARCHIVE_FOLDER
        if nested.is_dir() and not any((self.root / f).is_dir() for f, _ in BENCHMARKS.values()):
            return nested
        return self.root

    def present(self) -> bool:
        """Whether every selected benchmark folder holds its files locally."""
        base = self.base
        return all(
            next((base / BENCHMARKS[k][0]).glob(BENCHMARKS[k][1]), None) is not None
            for k in self._benchmarks
        ) and all((base / f"{name}.csv").is_file() for name in self._signals)

    def signal_names(self) -> list[str]:
        """``<folder>/<name>`` of the selected series (benchmarks in order, names sorted).

        Raises:
            DataError: a selected benchmark folder or signal is missing (saying how to get it).
        """
        if self._names is not None:
            return list(self._names)
        base = self.base
        names: list[str] = []
        for key in self._benchmarks:
            folder, pattern = BENCHMARKS[key]
            files = sorted((base / folder).glob(pattern), key=lambda p: natural_key(p.stem))
            if not files:
                raise DataError(
                    f"yahoo: no {folder}/{pattern} (looked in {base}); {REQUEST_HINT}"
                )
            names.extend(f"{folder}/{p.stem}" for p in files)
        for name in self._signals:
            if not (base / f"{name}.csv").is_file():
                raise DataError(f"yahoo: no signal {name!r} ({base / name}.csv); {REQUEST_HINT}")
            names.append(name)
        self._names = list(dict.fromkeys(names))
        return list(self._names)

    def load_signal(self, name: str) -> Signal:
        """Load series ``<folder>/<name>``.

        Raises:
            DataError: an unknown name (listing the valid ones), or a file problem (naming the
                file, the line and the problem).
        """
        names = self.signal_names()
        if name not in names:
            raise unknown_signal(self.name, name, names)
        path = self.base / f"{name}.csv"
        series = read_series_csv(path, label_names=LABEL_NAMES)
        assert series.flags is not None
        anomalies = tidy_intervals(path, runs_to_intervals(series.index, series.flags),
                                   series.index)
        return Signal(
            name=name,
            train=series.values.copy(),
            test=series.values,
            train_index=series.index.copy(),
            test_index=series.index,
            anomalies=anomalies,
            interval=None,
            source=str(path),
        )

    def __repr__(self) -> str:
        return f"YahooDataset(root={str(self.root)!r})"
