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

from pathlib import Path

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    FolderCorpus,
    check_signal_name,
    load_windows_json,
    parse_windows,
    read_series_csv,
    tidy_intervals,
    warn_data,
    whole_series_signal,
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


class NABDataset(FolderCorpus):
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
    FOLDERS = FOLDERS
    NESTED = "data"  # NAB's own checkout layout
    HOW_TO_GET = "run `bench datasets fetch nab` to download it"

    def _select(self, entries: list[str]) -> None:
        super()._select(entries)
        self._windows: dict | None = None

    def _folder(self, entry: str) -> str:
        return resolve_folder(entry)

    # -------------------------------------------------------------------------- locations

    @property
    def csv_root(self) -> Path:
        """The folder holding the data folders (``root``, or ``root/data`` in NAB's layout)."""
        return self.base

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
        base = self.base
        has_csv = [next((base / f).glob("*.csv"), None) is not None for f in self._folders]
        if self._all:
            return any(has_csv)
        return all(has_csv) and all((base / f"{name}.csv").is_file() for name in self._signals)

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
        names: list[str] = []
        absent = []
        for folder in self._folders:
            files = self._files(folder)
            if not files:
                absent.append(folder)
            names.extend(f"{folder}/{p.stem}" for p in files if p.is_file())
        if absent and (not self._all or len(absent) == len(self._folders)):
            raise self._missing(f"no CSV files in folder(s) {', '.join(absent)}")
        if absent:
            missing = ", ".join(absent)
            warn_data(self.base, f"NAB folder(s) {missing} missing; their signals skipped")
        return self._with_signals(names)

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
        check_signal_name(self, name)
        path = self.base / f"{name}.csv"
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
        return whole_series_signal(name, series, anomalies, path,
                                   INTERVALS.get(folder, INTERVAL))

    def __repr__(self) -> str:
        return f"NABDataset(root={str(self.root)!r}, folders={self._folders + self._signals})"
