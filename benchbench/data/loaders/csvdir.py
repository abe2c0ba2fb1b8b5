"""The ``csv`` dataset: any folder of ``timestamp,value`` CSV files, with NAB-style labels.

Lets users benchmark their own data without writing code: ``csv:<folder>``, where ``<folder>`` is
an absolute path or a path relative to the data root, holding::

    <folder>/<anything>.csv     timestamp,value   (other columns ignored)
    <folder>/labels.json        {"<anything>.csv": [[start, end], ...], ...}

Timestamps are numbers (seconds, or step positions) or date strings (Unix seconds, UTC); label
bounds use the same units (numbers, or date strings). Signal names are the file stems, whatever
characters they hold (the suffix may be ``.csv`` in any case: ``a.CSV`` is signal ``a``).
Protocol: train = test = the whole series; no aggregation.

``labels.json`` is the folder's listing: an entry (``"<name>.csv"`` or ``"<name>"``) whose file
is missing stays a planned signal, and loading it fails naming the file. A folder without
``labels.json`` has no listing, so there is nothing to compare its files with: the files found
are the signals.
"""

from __future__ import annotations

from pathlib import Path

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    Listed,
    Listing,
    few,
    load_windows_json,
    natural_key,
    parse_windows,
    read_series_csv,
    short,
    tidy_intervals,
    whole_series_signal,
)

LICENSE = "your own data: its own terms"
CITATION = "cite the source of your data"

LABELS_FILE = "labels.json"


class CSVDirDataset(Listed):
    """A folder of ``timestamp,value`` CSV files plus ``labels.json`` (NAB windows format).

    Args:
        data_dir: the data root, against which a relative folder is resolved.
        subset: the folder (the whole text after ``csv:``; ``+`` is part of the path here).
        labels: the labels file name inside the folder.

    Nothing is read when constructing; a missing folder is reported by :meth:`signal_names`.
    """

    name = "csv"
    description = (
        "Your own data: csv:<folder> of timestamp,value CSV files with labels.json windows "
        "(NAB format)"
    )
    LICENSE = LICENSE
    CITATION = CITATION

    def __init__(
        self,
        data_dir: Path | str | None = None,
        subset: str | None = None,
        *,
        labels: str = LABELS_FILE,
    ) -> None:
        self.data_dir = Path(data_dir if data_dir is not None else "datasets")
        text = subset.strip() if isinstance(subset, str) else ""
        folder = Path(text).expanduser() if text else None
        if folder is not None and not folder.is_absolute():
            folder = self.data_dir / folder
        self.folder = folder
        self.labels_name = labels
        self._files: dict[str, Path] = {}
        self._labels: dict | None = None

    @property
    def labels_path(self) -> Path | None:
        """``<folder>/labels.json`` (``None`` without a folder)."""
        return None if self.folder is None else self.folder / self.labels_name

    def _csv_files(self) -> list[Path]:
        assert self.folder is not None
        return sorted(
            (p for p in self.folder.iterdir()
             if p.suffix.lower() == ".csv" and not p.name.startswith(".") and p.is_file()),
            key=lambda p: natural_key(p.stem),
        )

    def present(self) -> bool:
        """Whether the folder exists and holds at least one CSV file."""
        return self.folder is not None and self.folder.is_dir() and bool(self._csv_files())

    def signal_names(self) -> list[str]:
        """The CSV files' stems (``.csv`` in any case), plus each labels.json entry whose file is
        missing, sorted (``a_2`` before ``a_10``); a listed file missing on disk fails when
        loaded, naming the file.

        Warns once about a missing labels.json, files without an entry (no labelled anomaly),
        entries that cannot name a file of the folder and files whose stem another file already
        has (``a.csv`` and ``a.CSV``: the second is ignored).

        Raises:
            DataError: no folder given, a missing folder, or no CSV file in it.
        """
        return super().signal_names()

    def _scan(self) -> Listing:
        if self.folder is None:
            raise DataError(
                "csv: no folder given; name it after a colon, e.g. csv:my_data (relative to "
                "the data root) or csv:/absolute/path"
            )
        if not self.folder.is_dir():
            raise DataError(
                f"csv: folder {self.folder} not found (a relative csv:<folder> is resolved "
                f"against the data root {self.data_dir}; pass --data-dir or an absolute path)"
            )
        files = self._csv_files()
        if not files:
            raise DataError(f"csv: no *.csv file in {self.folder}")
        notes: list[tuple[object, str]] = []
        clashes = []
        for path in files:
            if path.stem in self._files:
                clashes.append(f"{path.name} (as {self._files[path.stem].name})")
            else:
                self._files[path.stem] = path
        if clashes:
            notes.append((self.folder, f"files named like another file, but for the case of "
                                       f"their suffix, ignored ({len(clashes)}): {few(clashes)}"))
        missing = self._check_label_keys(notes)
        names = sorted([*self._files, *missing], key=natural_key)
        return Listing(names, missing, notes)

    def _check_label_keys(self, notes: list[tuple[object, str]]) -> dict[str, str]:
        """The listed-but-missing signals of labels.json (``{name: message}``); notes about
        the rest."""
        assert self.labels_path is not None
        if not self.labels_path.is_file():
            notes.append((self.labels_path, "no labels file; every signal has no labelled anomaly "
                                            "(and no listing to check the files against)"))
            return {}
        try:
            labels = self._read_labels()
        except DataError:
            return {}  # reported by load_signal, signal by signal
        files = self._files
        known = set(files) | {p.name for p in files.values()}
        missing: dict[str, str] = {}
        strays = []
        for key in labels:
            if key in known:
                continue
            file = key if key.lower().endswith(".csv") else f"{key}.csv"
            name = file[:-4]
            if (not name.strip() or name in files or key.startswith(".")
                    or "/" in key or "\\" in key):
                strays.append(key)
                continue
            missing[name] = (
                f"{self.folder / file}: listed in {self.labels_name} (entry {short(key)}) but "
                f"missing on disk; restore the file, or remove its entry from {self.labels_path}"
            )
        if strays:
            notes.append((self.labels_path, f"entries naming no CSV file of the folder ignored "
                                            f"({len(strays)}): {few(strays)}"))
        unlabelled = [p.name for name, p in files.items() if p.name not in labels
                      and name not in labels]
        if unlabelled:
            notes.append((self.labels_path, f"no entry for {len(unlabelled)} file(s), which have "
                                            f"no labelled anomaly: {few(unlabelled)}"))
        return missing

    def _read_labels(self) -> dict:
        if self._labels is None:
            assert self.labels_path is not None
            self._labels = load_windows_json(self.labels_path)
        return self._labels

    def load_signal(self, name: str) -> Signal:
        """Load the file ``<folder>/<name>.csv`` and its windows from labels.json (none when it
        has no entry for the file; :meth:`signal_names` warns about those).

        Raises:
            DataError: an unknown name (listing the valid ones), a listed file missing on disk,
                or a file or label problem (naming the file, the line or entry, and the
                problem).
        """
        self._check(name)
        assert self.labels_path is not None
        path = self._files[name]
        series = read_series_csv(path)
        anomalies: list[tuple[float, float]] = []
        if self.labels_path.is_file():
            labels = self._read_labels()
            key = path.name if path.name in labels else name if name in labels else None
            if key is not None:
                raw = parse_windows(self.labels_path, key, labels[key])
                anomalies = tidy_intervals(
                    f"{self.labels_path}: entry {short(key)}", raw, series.index
                )
        return whole_series_signal(name, series, anomalies, path)

    def __repr__(self) -> str:
        return f"CSVDirDataset(folder={str(self.folder)!r})"
