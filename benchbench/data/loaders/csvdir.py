"""The ``csv`` dataset: any folder of ``timestamp,value`` CSV files, with NAB-style labels.

Lets users benchmark their own data without writing code: ``csv:<folder>``, where ``<folder>`` is
an absolute path or a path relative to the data root, holding::

    <folder>/<anything>.csv     timestamp,value   (other columns ignored)
    <folder>/labels.json        {"<anything>.csv": [[start, end], ...], ...}

Timestamps are numbers (seconds, or step positions) or date strings (Unix seconds, UTC); label
bounds use the same units (numbers, or date strings). Signal names are the file stems, whatever
characters they hold. Protocol: train = test = the whole series; no aggregation.
"""

from __future__ import annotations

from pathlib import Path

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    check_signal_name,
    load_windows_json,
    natural_key,
    parse_windows,
    read_series_csv,
    short,
    tidy_intervals,
    warn_data,
    whole_series_signal,
)

LICENSE = "your own data: its own terms"
CITATION = "cite the source of your data"

LABELS_FILE = "labels.json"


class CSVDirDataset:
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
        self._files: dict[str, Path] | None = None
        self._labels: dict | None = None

    @property
    def labels_path(self) -> Path | None:
        """``<folder>/labels.json`` (``None`` without a folder)."""
        return None if self.folder is None else self.folder / self.labels_name

    def _csv_files(self) -> list[Path]:
        assert self.folder is not None
        return sorted(
            (p for p in self.folder.glob("*.csv") if not p.name.startswith(".") and p.is_file()),
            key=lambda p: natural_key(p.stem),
        )

    def present(self) -> bool:
        """Whether the folder exists and holds at least one CSV file."""
        return self.folder is not None and self.folder.is_dir() and bool(self._csv_files())

    def signal_names(self) -> list[str]:
        """The CSV files' stems, sorted (``a_2`` before ``a_10``).

        Warns about labels.json entries that match no file (a typo?) and a missing labels.json.

        Raises:
            DataError: no folder given, a missing folder, or no CSV file in it.
        """
        if self._files is None:
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
            self._files = {p.stem: p for p in files}
            self._check_label_keys()
        return list(self._files)

    def _check_label_keys(self) -> None:
        assert self._files is not None and self.labels_path is not None
        if not self.labels_path.is_file():
            warn_data(self.labels_path, "no labels file; every signal has no labelled anomaly")
            return
        try:
            labels = self._read_labels()
        except DataError:
            return  # reported by load_signal, signal by signal
        known = set(self._files) | {p.name for p in self._files.values()}
        stray = [key for key in labels if key not in known]
        if stray:
            warn_data(
                self.labels_path,
                f"entries matching no CSV file in the folder ({len(stray)}): "
                f"{', '.join(short(k) for k in stray[:5])}",
            )

    def _read_labels(self) -> dict:
        if self._labels is None:
            assert self.labels_path is not None
            self._labels = load_windows_json(self.labels_path)
        return self._labels

    def load_signal(self, name: str) -> Signal:
        """Load the file ``<folder>/<name>.csv`` and its windows from labels.json.

        Raises:
            DataError: an unknown name (listing the valid ones), or a file or label problem
                (naming the file, the line or entry, and the problem).
        """
        check_signal_name(self, name)
        assert self._files is not None and self.labels_path is not None
        path = self._files[name]
        series = read_series_csv(path)
        anomalies: list[tuple[float, float]] = []
        if self.labels_path.is_file():
            labels = self._read_labels()
            key = path.name if path.name in labels else name if name in labels else None
            if key is None:
                warn_data(
                    self.labels_path,
                    f"no entry {path.name!r}; signal {short(name)} has no labelled anomaly",
                )
            else:
                raw = parse_windows(self.labels_path, key, labels[key])
                anomalies = tidy_intervals(
                    f"{self.labels_path}: entry {short(key)}", raw, series.index
                )
        return whole_series_signal(name, series, anomalies, path)

    def __repr__(self) -> str:
        return f"CSVDirDataset(folder={str(self.folder)!r})"

