"""The ``ucr`` dataset: the UCR Time Series Anomaly Archive (Wu & Keogh, 250 series).

Layout under the data root: ``<data_dir>/ucr/`` holds files named
``NNN_UCR_Anomaly_<name>_<trainEnd>_<anomStart>_<anomEnd>.txt`` (at any depth, so the archive's
own nested folders work), each a list of numbers, one per line or whitespace-separated on one or
several lines (commas accepted too).

Mapping (the file name uses 1-based positions in the full series): the index is the 0-based
position in the full series. Train = values ``[0, trainEnd)`` (1-based 1..trainEnd); test = the
rest, ``[trainEnd, n)``, indexed by those same full-series positions; the one label is the closed
interval ``[anomStart - 1, anomEnd - 1]``. Signal names are ``NNN_<name>``
(``001_DISTORTED1sddb40``). No aggregation.

The archive has no listing of its files apart from the files themselves (each name carries its
labels), so the files found are the signals; a file missing from a copy is not noticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    CorpusLoader,
    Listing,
    natural_key,
    read_text,
    tidy_intervals,
    to_floats,
)

LICENSE = (
    "UCR Time Series Anomaly Archive: published by the UCR group for research use without an "
    "explicit license; cite the paper"
)
CITATION = (
    "Wu, R., Keogh, E. J. (2021). Current Time Series Anomaly Detection Benchmarks are Flawed and "
    "are Creating the Illusion of Progress. IEEE Transactions on Knowledge and Data Engineering. "
    "doi:10.1109/TKDE.2021.3112126"
)

FILE_PATTERN = re.compile(r"^([0-9]+)_UCR_Anomaly_(.+)_([0-9]+)_([0-9]+)_([0-9]+)$")
_SPLIT = re.compile(r"[\s,]+")
_RANGE = re.compile(r"^([0-9]+)-([0-9]+)$")
_NUMBER = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class UCRFile:
    """What a UCR file name says: number, name, train end and anomaly (1-based, inclusive)."""

    path: Path
    number: int
    series: str
    train_end: int
    anomaly_start: int
    anomaly_end: int

    @property
    def signal_name(self) -> str:
        """``NNN_<name>``, the number zero-padded to 3 digits."""
        return f"{self.number:03d}_{self.series}"


def parse_file_name(path: Path) -> UCRFile | None:
    """The fields of a UCR archive file name, or ``None`` when it does not follow the pattern."""
    if path.suffix.lower() != ".txt":
        return None
    match = FILE_PATTERN.match(path.stem)
    if match is None:
        return None
    number, series, train_end, start, end = match.groups()
    return UCRFile(path, int(number), series, int(train_end), int(start), int(end))


def read_numbers(path: Path) -> np.ndarray:
    """Every number of a text file, float64, in order (NaN kept, inf made NaN, with warnings).

    Raises:
        DataError: an unreadable or empty file, or a token that is not a number (naming its line).
    """
    text = read_text(path)
    tokens = _SPLIT.split(text.strip())
    try:
        values = np.asarray(tokens, dtype=np.float64)
        fast = bool(np.isfinite(values).all())
    except (ValueError, OverflowError):
        fast = False
    if fast:
        return values
    cells: list[str] = []
    lines: list[int] = []
    for line_no, line in enumerate(text.split("\n"), start=1):
        for token in _SPLIT.split(line.strip()):
            if token:
                cells.append(token)
                lines.append(line_no)
    if not cells:
        raise DataError(f"{path}: empty file (no number in it)")
    return to_floats(cells, lines, path, "value", "value(s)")


class UCRDataset(CorpusLoader):
    """The UCR anomaly archive: one series per file, one labelled anomaly each.

    Args:
        data_dir: the data root; files are found under ``<data_dir>/ucr``.
        subset: ``+``-separated file numbers (``7``), number ranges (``1-25``) or signal names
            (``001_DISTORTED1sddb40``); ``None``: every file.
        root: read from this folder instead of ``<data_dir>/ucr``.

    Nothing is read when constructing.
    """

    name = "ucr"
    description = (
        "UCR Time Series Anomaly Archive (Wu & Keogh 2021): 250 univariate series, each with a "
        "training prefix and one labelled anomaly"
    )
    LICENSE = LICENSE
    CITATION = CITATION
    HOW_TO_GET = (
        "download the UCR Time Series Anomaly Archive and put its NNN_UCR_Anomaly_*.txt files "
        "there"
    )

    def _select(self, entries: list[str]) -> None:
        self._entries = entries
        self._files: dict[str, UCRFile] | None = None

    def present(self) -> bool:
        """Whether at least one archive file is found locally."""
        if not self.root.is_dir():
            return False
        return any(parse_file_name(p) for p in self.root.rglob("*_UCR_Anomaly_*"))

    def _all_files(self) -> tuple[dict[str, UCRFile], list[tuple[object, str]]]:
        """Every archive file by signal name, and a note for each duplicate (ignored)."""
        if not self.root.is_dir():
            raise self._missing("no UCR archive folder")
        found = sorted(
            (f for p in self.root.rglob("*_UCR_Anomaly_*") if (f := parse_file_name(p))),
            key=lambda f: (f.number, natural_key(str(f.path))),
        )
        files: dict[str, UCRFile] = {}
        notes: list[tuple[object, str]] = []
        for f in found:
            if f.signal_name in files:
                notes.append((f.path, f"duplicate of {files[f.signal_name].path}; ignored"))
                continue
            files[f.signal_name] = f
        if not files:
            raise DataError(
                f"ucr: no NNN_UCR_Anomaly_<name>_<trainEnd>_<anomStart>_<anomEnd>.txt file "
                f"under {self.root}"
            )
        return files, notes

    def signal_names(self) -> list[str]:
        """``NNN_<name>`` of the selected files, by number.

        The files found are the signals (there is no listing to compare them with, see the
        module docstring). Warns once about duplicate files (the first by path is used).

        Raises:
            DataError: no archive folder or file, or a subset entry that matches nothing.
        """
        return super().signal_names()

    def _scan(self) -> Listing:
        files, notes = self._all_files()
        self._files = files
        if not self._entries:
            return Listing(list(files), notes=notes)
        keep: set[str] = set()
        for entry in self._entries:
            match = _RANGE.match(entry)
            if _NUMBER.match(entry):
                hits = {n for n, f in files.items() if f.number == int(entry)}
            elif match:
                lo, hi = int(match.group(1)), int(match.group(2))
                hits = {n for n, f in files.items() if lo <= f.number <= hi}
            else:
                hits = {n for n in files if n == entry or files[n].path.stem == entry}
            if not hits:
                raise DataError(
                    f"ucr: subset entry {entry!r} matches no file under {self.root}; use file "
                    "numbers (7), ranges (1-25) or signal names (001_DISTORTED1sddb40)"
                )
            keep |= hits
        return Listing([n for n in files if n in keep], notes=notes)

    def load_signal(self, name: str) -> Signal:
        """Load signal ``NNN_<name>`` (see the module docstring for the train/test split).

        Raises:
            DataError: an unknown name (listing the valid ones), an unreadable file, or a train
                end or anomaly the series cannot hold.
        """
        self._check(name)
        assert self._files is not None  # set by the listing _check read
        info = self._files[name]
        path = info.path
        values = read_numbers(path)
        n = len(values)
        if not 1 <= info.train_end < n:
            raise DataError(
                f"{path}: train end {info.train_end} (from the file name) must lie in 1..{n - 1} "
                f"for a series of {n} values"
            )
        if info.anomaly_start > info.anomaly_end:
            raise DataError(
                f"{path}: anomaly start {info.anomaly_start} is after its end "
                f"{info.anomaly_end} (from the file name)"
            )
        index = np.arange(n, dtype=np.int64)
        test_index = index[info.train_end:]
        anomalies = tidy_intervals(
            path, [(info.anomaly_start - 1, info.anomaly_end - 1)], test_index
        )
        return Signal(
            name=name,
            train=values[: info.train_end],
            test=values[info.train_end:],
            train_index=index[: info.train_end],
            test_index=test_index,
            anomalies=anomalies,
            interval=None,
            source=str(path),
        )
