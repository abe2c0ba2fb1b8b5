"""The ``nab`` dataset: the Numenta Anomaly Benchmark (NAB) data corpus.

Layout under the data root (``bench datasets fetch nab`` places it there)::

    <data_dir>/nab/<folder>/<name>.csv        timestamp,value (dates, UTC)
    <data_dir>/nab/combined_windows.json      or <data_dir>/nab/labels/combined_windows.json

(NAB's own checkout layout, ``data/<folder>/<name>.csv`` beside ``labels/``, works too.) The
windows file maps ``"<folder>/<name>.csv"`` to ``[[start, end], ...]`` date windows, which become
closed intervals in Unix seconds, like the index.

Protocol (the TadGAN / Orion reference): train = test = the whole signal; aggregation interval
600 s (3600 s for ``realAdExchange``, whose signals are hourly).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    dataset_root,
    load_windows_json,
    natural_key,
    parse_windows,
    read_series_csv,
    split_subset,
    tidy_intervals,
    unknown_signal,
    warn_data,
)

LICENSE = (
    "MIT, Copyright 2014-2024 Numenta Inc. (NAB releases from 2015-08 until 2024-12 were AGPL-3.0)"
)
CITATION = (
    "Ahmad, S., Lavin, A., Purdy, S., Agha, Z. (2017). Unsupervised real-time anomaly detection "
    "for streaming data. Neurocomputing 262, 134-147. doi:10.1016/j.neucom.2017.04.070; "
    "Lavin, A., Ahmad, S. (2015). Evaluating Real-time Anomaly Detection Algorithms - the Numenta "
    "Anomaly Benchmark. IEEE ICMLA 2015."
)

#: NAB's data folders (the subsets), in listing order.
FOLDERS = (
    "artificialNoAnomaly",
    "artificialWithAnomaly",
    "realAdExchange",
    "realAWSCloudwatch",
    "realKnownCause",
    "realTraffic",
    "realTweets",
)

#: Short subset names (as in the TadGAN paper's tables).
ALIASES = {
    "Art": "artificialWithAnomaly",
    "AWS": "realAWSCloudwatch",
    "AdEx": "realAdExchange",
    "Traf": "realTraffic",
    "Tweets": "realTweets",
}

#: Aggregation interval in seconds (reference protocol); folders not listed use :data:`INTERVAL`.
INTERVAL = 600.0
INTERVALS = {"realAdExchange": 3600.0}

WINDOWS_FILE = "combined_windows.json"

_LOOKUP = {name.lower(): name for name in FOLDERS} | {
    alias.lower(): folder for alias, folder in ALIASES.items()
}


def resolve_folder(entry: str) -> str:
    """The NAB folder an alias or folder name means (case-insensitive).

    Raises:
        DataError: an unknown name, listing the valid ones.
    """
    folder = _LOOKUP.get(entry.strip().lower())
    if folder is None:
        aliases = ", ".join(f"{a} = {f}" for a, f in ALIASES.items())
        raise DataError(
            f"nab: unknown subset {entry!r}; valid subsets: {', '.join(FOLDERS)} "
            f"(aliases: {aliases}); or one signal as <folder>/<name>"
        )
    return folder


class NABDataset:
    """The Numenta Anomaly Benchmark (58 signals in 7 folders).

    Args:
        data_dir: the data root; the corpus is read from ``<data_dir>/nab``.
        subset: ``+``-separated folders (or :data:`ALIASES`, case-insensitive) and/or single
            signals ``<folder>/<name>``; ``None`` or blank: every folder.
        root: read the corpus from this folder instead of ``<data_dir>/nab``.

    Raises:
        DataError: an unknown subset name (nothing is read when constructing).
    """

    name = "nab"
    description = (
        "Numenta Anomaly Benchmark: 58 real and artificial univariate timestamp,value series "
        "with labelled anomaly windows"
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
        self.root = dataset_root(data_dir, root, "nab")
        self._folders: list[str] = []
        self._signals: list[str] = []
        for entry in split_subset(subset):
            if "/" in entry:
                folder, _, stem = entry.partition("/")
                stem = stem.removesuffix(".csv")
                self._signals.append(f"{resolve_folder(folder)}/{stem}")
            else:
                self._folders.append(resolve_folder(entry))
        if not self._folders and not self._signals:
            self._folders = list(FOLDERS)
            self._all = True
        else:
            self._folders = list(dict.fromkeys(self._folders))
            self._all = False
        self._names: list[str] | None = None
        self._windows: dict | None = None

    # -------------------------------------------------------------------------- locations

    @property
    def csv_root(self) -> Path:
        """The folder holding the data folders (``root``, or ``root/data`` in NAB's layout)."""
        data = self.root / "data"
        if data.is_dir() and not any((self.root / f).is_dir() for f in FOLDERS):
            return data
        return self.root

    def windows_path(self) -> Path | None:
        """The ``combined_windows.json`` found (root first, then ``labels/``), or ``None``."""
        for candidate in (self.root / WINDOWS_FILE, self.root / "labels" / WINDOWS_FILE):
            if candidate.is_file():
                return candidate
        return None

    def present(self) -> bool:
        """Whether the selected folders and the windows file are found locally."""
        if self.windows_path() is None:
            return False
        base = self.csv_root
        has_csv = [next((base / f).glob("*.csv"), None) is not None for f in self._folders]
        if self._all:
            return any(has_csv)
        return all(has_csv) and all((base / f"{name}.csv").is_file() for name in self._signals)

    def _missing(self, what: str) -> DataError:
        return DataError(
            f"nab: {what} (looked in {self.root}); run `bench datasets fetch nab` to download "
            "it, or pass --data-dir pointing at a folder that holds nab/"
        )

    # ---------------------------------------------------------------------------- signals

    def signal_names(self) -> list[str]:
        """``<folder>/<name>`` of the selected signals (folders in order, names sorted).

        Raises:
            DataError: the corpus, a selected folder or signal, or the windows file is missing.
        """
        if self._names is not None:
            return list(self._names)
        if not self.root.is_dir():
            raise self._missing("no NAB data folder")
        if self.windows_path() is None:
            raise self._missing(
                f"no {WINDOWS_FILE} (neither at the folder's root nor under labels/)"
            )
        base = self.csv_root
        names: list[str] = []
        absent = []
        for folder in self._folders:
            files = sorted((base / folder).glob("*.csv"), key=lambda p: natural_key(p.stem))
            if not files:
                absent.append(folder)
            names.extend(f"{folder}/{p.stem}" for p in files if p.is_file())
        if absent and (not self._all or len(absent) == len(self._folders)):
            raise self._missing(f"no CSV files in folder(s) {', '.join(absent)}")
        if absent:
            warn_data(base, f"NAB folder(s) {', '.join(absent)} missing; their signals skipped")
        for name in self._signals:
            if not (base / f"{name}.csv").is_file():
                raise self._missing(f"no signal {name!r} ({base / name}.csv)")
            names.append(name)
        self._names = list(dict.fromkeys(names))
        return list(self._names)

    def _load_windows(self) -> tuple[Path, dict]:
        path = self.windows_path()
        if path is None:
            raise self._missing(f"no {WINDOWS_FILE}")
        if self._windows is None:
            self._windows = load_windows_json(path)
        return path, self._windows

    def load_signal(self, name: str) -> Signal:
        """Load signal ``<folder>/<name>``.

        Raises:
            DataError: an unknown name (listing the valid ones), or a file or label problem
                (naming the file, the line or entry, and the problem).
        """
        names = self.signal_names()
        if name not in names:
            raise unknown_signal(self.name, name, names)
        path = self.csv_root / f"{name}.csv"
        series = read_series_csv(path)
        labels_path, windows = self._load_windows()
        key = f"{name}.csv"
        if key in windows:
            raw = parse_windows(labels_path, key, windows[key])
        else:
            warn_data(labels_path, f"no entry {key!r}; signal {name!r} has no labelled anomaly")
            raw = []
        anomalies = tidy_intervals(f"{labels_path}: entry {key!r}", raw, series.index)
        folder = name.split("/", 1)[0]
        return Signal(
            name=name,
            train=series.values.copy(),
            test=series.values,
            train_index=series.index.copy(),
            test_index=series.index,
            anomalies=anomalies,
            interval=INTERVALS.get(folder, INTERVAL),
            source=str(path),
        )

    def __repr__(self) -> str:
        return f"NABDataset(root={str(self.root)!r}, folders={self._folders + self._signals})"
