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

The labels live in the series files themselves and the corpus has no listing of its files (nor
does the project keep a manifest of it: it cannot be fetched), so the files found are the
signals; a series missing from a copy cannot be told apart from one the copy never had.
"""

from __future__ import annotations

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    FolderCorpus,
    read_series_csv,
    runs_to_intervals,
    tidy_intervals,
    whole_series_signal,
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


class YahooDataset(FolderCorpus):
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
    FOLDERS = tuple(folder for folder, _ in BENCHMARKS.values())
    NESTED = ARCHIVE_FOLDER
    _PATTERNS = dict(BENCHMARKS.values())

    def _folder(self, entry: str) -> str:
        return BENCHMARKS[resolve_benchmark(entry)][0]

    def _missing(self, what: str) -> DataError:
        return DataError(f"yahoo: {what}; {REQUEST_HINT}")

    def _pattern(self, folder: str) -> str:
        return self._PATTERNS[folder]

    def _empty_folders(self, folders: list[str], notes: list[tuple[object, str]]) -> None:
        folder = folders[0]
        raise self._missing(f"no {folder}/{self._PATTERNS[folder]} (looked in {self.base})")

    def present(self) -> bool:
        """Whether every selected benchmark folder holds its files locally."""
        base = self.base
        return all(
            next((base / f).glob(self._PATTERNS[f]), None) is not None for f in self._folders
        ) and all((base / f"{name}.csv").is_file() for name in self._signals)

    def signal_names(self) -> list[str]:
        """``<folder>/<name>`` of the selected series (benchmarks in order, names sorted).

        The files found are the signals (there is no listing to compare them with, see the
        module docstring).

        Raises:
            DataError: a selected benchmark folder or signal is missing (saying how to get it).
        """
        return super().signal_names()

    def load_signal(self, name: str) -> Signal:
        """Load series ``<folder>/<name>``.

        Raises:
            DataError: an unknown name (listing the valid ones), or a file problem (naming the
                file, the line and the problem).
        """
        self._check(name)
        path = self.base / f"{name}.csv"
        series = read_series_csv(path, label_names=LABEL_NAMES)
        assert series.flags is not None
        anomalies = tidy_intervals(path, runs_to_intervals(series.index, series.flags),
                                   series.index)
        return whole_series_signal(name, series, anomalies, path)
