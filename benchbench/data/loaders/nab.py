"""The ``nab`` dataset: the Numenta Anomaly Benchmark (NAB) data corpus.

Layout under the data root (``bench datasets fetch nab`` places it there)::

    <data_dir>/nab/<folder>/<name>.csv        timestamp,value (dates, UTC)
    <data_dir>/nab/combined_windows.json      or <data_dir>/nab/labels/combined_windows.json

(NAB's own checkout layout, ``data/<folder>/<name>.csv`` beside ``labels/``, works too.) The
windows file maps ``"<folder>/<name>.csv"`` to ``[[start, end], ...]`` date windows, which become
closed intervals in Unix seconds, like the index. It is also the corpus's listing: a file it
lists that is missing on disk (a failed or partial fetch) stays planned, and loading it fails
naming the file and ``bench datasets fetch nab``; ``bench datasets list`` counts it as missing.

Protocol (the TadGAN / Orion reference): train = test = the whole signal; aggregation interval
600 s (3600 s for ``realAdExchange``, whose signals are hourly).
"""

from __future__ import annotations

from pathlib import Path

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    FolderCorpus,
    Listing,
    few,
    load_windows_json,
    parse_windows,
    read_series_csv,
    tidy_intervals,
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


def signal_of_key(key: str) -> str | None:
    """The signal ``<folder>/<name>`` a windows-file key ``"<folder>/<name>.csv"`` names, or
    ``None`` when the key names no file of a NAB data folder."""
    folder, _, file = key.partition("/")
    if folder in FOLDERS and file.endswith(".csv") and "/" not in file and file[:-4]:
        return key[:-4]
    return None


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
        """Whether the selected folders and the windows file are found locally (some of their
        files, at least; :meth:`missing_signals` names the listed files that are not)."""
        if self.windows_path() is None:
            return False
        base = self.base
        has_csv = [next((base / f).glob("*.csv"), None) is not None for f in self._folders]
        if self._all:
            return any(has_csv)
        return all(has_csv) and all((base / f"{name}.csv").is_file() for name in self._signals)

    # ---------------------------------------------------------------------------- signals

    def signal_names(self) -> list[str]:
        """``<folder>/<name>`` of the selected signals (folders in order, names sorted): the
        files on disk plus every signal ``combined_windows.json`` lists there, present or not (a
        listed file missing on disk fails when loaded, naming the file and
        ``bench datasets fetch nab``).

        Warns once about windows entries that name no NAB data file, files that have no entry
        (no labelled anomaly) and, when every folder is selected, folders neither on disk nor
        listed.

        Raises:
            DataError: the corpus, the windows file (missing or not a JSON object), a selected
                folder or signal is missing, or none of the selected files is on disk.
        """
        return super().signal_names()

    def _listed(self) -> dict[str, str]:
        if not self.root.is_dir():
            raise self._missing("no NAB data folder")
        path, windows = self._load_windows()
        return {
            name: f"{self.base / key}: listed in {path.name} but missing on disk; run "
                  f"`bench datasets fetch nab` (or pass --data-dir pointing at a complete copy)"
            for key in windows if (name := signal_of_key(key)) is not None
        }

    def _empty_folders(self, folders: list[str], notes: list[tuple[object, str]]) -> None:
        if not self._all:
            super()._empty_folders(folders, notes)
        notes.append((self.base, f"NAB folder(s) {', '.join(folders)} neither on disk nor listed "
                                 f"in {WINDOWS_FILE}; no signal of theirs planned"))

    def _scan(self) -> Listing:
        listing = super()._scan()
        path, windows = self._load_windows()
        strays = [key for key in windows if signal_of_key(key) is None]
        if strays:
            listing.notes.append((path, (
                f"entries naming no NAB data file (<folder>/<name>.csv, the folder one of "
                f"{', '.join(FOLDERS)}) ignored ({len(strays)}): {few(strays)}"
            )))
        unlabelled = [f"{n}.csv" for n in listing.names
                      if n not in listing.missing and f"{n}.csv" not in windows]
        if unlabelled:
            listing.notes.append((path, (
                f"no entry for {len(unlabelled)} file(s) on disk, which have no labelled "
                f"anomaly: {few(unlabelled)}"
            )))
        return listing

    def _load_windows(self) -> tuple[Path, dict]:
        path = self.windows_path()
        if path is None:
            raise self._missing(
                f"no {WINDOWS_FILE} (neither at the folder's root nor under labels/)"
            )
        if self._windows is None:
            self._windows = load_windows_json(path)
        return path, self._windows

    def load_signal(self, name: str) -> Signal:
        """Load signal ``<folder>/<name>`` (no labelled anomaly when the windows file has no
        entry for it; :meth:`signal_names` warns about those).

        Raises:
            DataError: an unknown name (listing the valid ones), a listed file missing on disk,
                or a file or label problem (naming the file, the line or entry, and the
                problem).
        """
        self._check(name)
        path = self.base / f"{name}.csv"
        series = read_series_csv(path)
        labels_path, windows = self._load_windows()
        key = f"{name}.csv"
        raw = parse_windows(labels_path, key, windows[key]) if key in windows else []
        anomalies = tidy_intervals(f"{labels_path}: entry {key!r}", raw, series.index)
        folder = name.split("/", 1)[0]
        return whole_series_signal(name, series, anomalies, path,
                                   INTERVALS.get(folder, INTERVAL))

    def __repr__(self) -> str:
        return f"NABDataset(root={str(self.root)!r}, folders={self._folders + self._signals})"
