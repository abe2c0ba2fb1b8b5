"""The ``nasa`` dataset: SMAP and MSL spacecraft telemetry (Hundman et al., telemanom).

Layout under the data root::

    <data_dir>/nasa/train/<chan>.npy        float array (steps, features)
    <data_dir>/nasa/test/<chan>.npy         float array (steps, features)
    <data_dir>/nasa/labeled_anomalies.csv   chan_id,spacecraft,anomaly_sequences,class,num_values

Column 0 of each array is the telemetry value, the others are one-hot command flags. Protocol:
train on the train array, detect on the test array; both are indexed by step position (int64,
from 0), and ``anomaly_sequences`` (``"[[2149, 2349], [4536, 4844]]"``) are closed intervals of
test positions. No aggregation.

``labeled_anomalies.csv`` is also the corpus's listing: a channel it lists whose train or test
array is missing on disk stays planned, and loading it fails naming the file.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import (
    CorpusLoader,
    Listing,
    read_csv_table,
    short,
    tidy_intervals,
    warn_data,
)

LICENSE = (
    "Copyright (c) 2018 California Institute of Technology (Caltech/JPL); distributed with "
    "telemanom (https://github.com/khundman/telemanom) under its BSD-3-Clause-style LICENSE.txt"
)
CITATION = (
    "Hundman, K., Constantinou, V., Laporte, C., Colwell, I., Soderstrom, T. (2018). Detecting "
    "Spacecraft Anomalies Using LSTMs and Nonparametric Dynamic Thresholding. KDD 2018, 387-395. "
    "doi:10.1145/3219819.3219845"
)

SPACECRAFT = ("SMAP", "MSL")
LABELS_FILE = "labeled_anomalies.csv"
#: Subset entry (or the ``all_channels`` keyword) giving every array column as a channel.
ALL_CHANNELS = "all_channels"

_COLUMNS = {
    "chan_id": ("chan_id",),
    "spacecraft": ("spacecraft",),
    "anomaly_sequences": ("anomaly_sequences",),
}
_OPTIONAL = {"class": ("class",), "num_values": ("num_values",)}


@dataclass
class _Row:
    spacecraft: str
    sequences: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    num_values: str = ""
    lines: list[int] = field(default_factory=list)


def parse_sequences(text: str) -> list[tuple[int, int]]:
    """``"[[2149, 2349], [4536, 4844]]"`` as ``[(2149, 2349), (4536, 4844)]`` (JSON, or a Python
    literal read with :func:`ast.literal_eval`; never evaluated as code).

    Raises:
        ValueError: not a list of ``[start, end]`` whole-number pairs with start <= end.
    """
    text = text.strip()
    if len(text) > 100_000:
        raise ValueError("too long")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        try:
            data = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueError("not a list of [start, end] pairs") from None
    if not isinstance(data, (list, tuple)):
        raise ValueError("not a list of [start, end] pairs")
    out = []
    for item in data:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(f"{short(item)} is not a [start, end] pair")
        pair = []
        for bound in item:
            if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                raise ValueError(f"{short(bound)} is not a whole number")
            if isinstance(bound, float) and not (math.isfinite(bound) and bound.is_integer()):
                raise ValueError(f"{short(bound)} is not a whole number")
            pair.append(int(bound))
        if pair[0] > pair[1]:
            raise ValueError(f"[{pair[0]}, {pair[1]}] starts after it ends")
        out.append((pair[0], pair[1]))
    return out


def _classes(text: str) -> list[str]:
    parts = text.strip().strip("[]").split(",")
    return [c.strip().strip("'\"").lower() for c in parts if c.strip()]


class NASADataset(CorpusLoader):
    """SMAP and MSL telemetry channels (train / test arrays, labelled test intervals).

    Args:
        data_dir: the data root; files are read from ``<data_dir>/nasa``.
        subset: ``+``-separated entries: ``SMAP`` and/or ``MSL`` (case-insensitive) select by
            spacecraft, channel ids (``P-1``) select channels, ``all_channels`` keeps every array
            column as a channel (default: the telemetry value, column 0, only). ``None``: every
            channel of the labels file.
        root: read from this folder instead of ``<data_dir>/nasa``.
        all_channels: same as the ``all_channels`` subset entry.

    Nothing is read when constructing.
    """

    name = "nasa"
    description = (
        "NASA SMAP and MSL spacecraft telemetry (Hundman et al. 2018): channels with train/test "
        "arrays and labelled test intervals"
    )
    LICENSE = LICENSE
    CITATION = CITATION
    HOW_TO_GET = (
        "download the telemanom data (train/ and test/ .npy arrays and labeled_anomalies.csv) "
        "into that folder"
    )

    def __init__(
        self,
        data_dir: Path | str | None = None,
        subset: str | Sequence[str] | None = None,
        *,
        root: Path | str | None = None,
        all_channels: bool = False,
    ) -> None:
        self.all_channels = bool(all_channels)
        super().__init__(data_dir, subset, root=root)

    def _select(self, entries: list[str]) -> None:
        self._spacecraft: list[str] = []
        self._channels: list[str] = []
        for entry in entries:
            if entry.lower().replace("-", "_") == ALL_CHANNELS:
                self.all_channels = True
            elif entry.upper() in SPACECRAFT:
                self._spacecraft.append(entry.upper())
            else:
                self._channels.append(entry)
        self._table: dict[str, _Row] | None = None

    @property
    def labels_path(self) -> Path:
        """The ``labeled_anomalies.csv`` file."""
        return self.root / LABELS_FILE

    def present(self) -> bool:
        """Whether the labels file and the train and test folders are found locally."""
        return (
            self.labels_path.is_file()
            and (self.root / "train").is_dir()
            and (self.root / "test").is_dir()
        )

    def _read_table(self) -> dict[str, _Row]:
        if self._table is not None:
            return self._table
        if not self.labels_path.is_file():
            raise self._missing(f"no {LABELS_FILE}")
        table = read_csv_table(self.labels_path, _COLUMNS, _OPTIONAL)
        rows: dict[str, _Row] = {}
        cols = table.columns
        for i, line in enumerate(table.lines):
            chan = cols["chan_id"][i]
            if not chan:
                raise DataError(f"{self.labels_path}: line {line}: empty chan_id")
            row = rows.get(chan)
            if row is None:
                row = rows[chan] = _Row(spacecraft=cols["spacecraft"][i].upper())
                row.num_values = cols.get("num_values", [""] * len(table.lines))[i]
            row.sequences.append(cols["anomaly_sequences"][i])
            row.classes.extend(_classes(cols["class"][i]) if "class" in cols else [])
            row.lines.append(int(line))
        self._table = rows
        return rows

    def signal_names(self) -> list[str]:
        """The selected channel ids, in the labels file's order: every channel the labels file
        lists, its arrays on disk or not (a channel whose train or test array is missing fails
        when loaded, naming the file).

        Warns once about channels listed on several rows (their anomaly sequences are combined).

        Raises:
            DataError: the labels file is missing or unusable, a selected channel is not in it,
                or no selected channel has its arrays on disk.
        """
        return super().signal_names()

    def _arrays(self, name: str) -> tuple[Path, Path]:
        return self.root / "train" / f"{name}.npy", self.root / "test" / f"{name}.npy"

    def _scan(self) -> Listing:
        table = self._read_table()
        if not self._spacecraft and not self._channels:
            names = list(table)
        else:
            unknown = [c for c in self._channels if c not in table]
            if unknown:
                raise DataError(
                    f"nasa: unknown channel(s) {', '.join(map(repr, unknown))} in subset (not in "
                    f"{self.labels_path}); valid subsets: SMAP, MSL, {ALL_CHANNELS} or channel ids"
                )
            wanted = set(self._channels)
            names = [chan for chan, row in table.items()
                     if row.spacecraft in self._spacecraft or chan in wanted]
        missing = {}
        for chan in names:
            absent = [path for path in self._arrays(chan) if not path.is_file()]
            if absent:
                missing[chan] = (
                    f"{' and '.join(map(str, absent))}: channel {chan!r} is listed in "
                    f"{LABELS_FILE} but missing on disk (looked in {self.root}); "
                    f"{self.HOW_TO_GET}"
                )
        if names and len(missing) == len(names):
            raise self._missing(
                f"no train/test arrays of the selected channels (e.g. {self._arrays(names[0])[1]})"
            )
        notes: list[tuple[object, str]] = [
            (self.labels_path, f"channel {chan!r} is listed {len(row.lines)} times (lines "
                               f"{', '.join(map(str, row.lines))}); its anomaly sequences are "
                               "combined")
            for chan, row in table.items() if chan in names and len(row.lines) > 1
        ]
        return Listing(names, missing, notes)

    def load_signal(self, name: str) -> Signal:
        """Load channel ``name``: value column only, or every column with ``all_channels``.

        Raises:
            DataError: an unknown channel (listing the valid ones), a listed channel whose
                arrays are missing, a malformed array, train and test with different numbers of
                columns, or malformed labels.
        """
        self._check(name)
        row = self._read_table()[name]
        where = f"{self.labels_path}: line {row.lines[0]} (channel {name!r})"
        spans: list[tuple[int, int]] = []
        for text, line in zip(row.sequences, row.lines):
            try:
                spans.extend(parse_sequences(text))
            except ValueError as exc:
                raise DataError(
                    f"{self.labels_path}: line {line}: anomaly_sequences {short(text)} of "
                    f"channel {name!r}: {exc}"
                ) from None
        train_path, test_path = self._arrays(name)
        train = _load_array(train_path)
        test = _load_array(test_path)
        if train.shape[1] != test.shape[1]:
            raise DataError(
                f"{test_path}: {test.shape[1]} column(s), but {train_path} has {train.shape[1]}"
            )
        if not self.all_channels:
            train, test = train[:, :1], test[:, :1]
        if row.num_values.strip():
            try:
                expected = int(float(row.num_values))
            except (ValueError, OverflowError):
                expected = None
            if expected != len(test):
                warn_data(
                    where,
                    f"num_values {short(row.num_values)} differs from the {len(test)} steps of "
                    f"{test_path}",
                )
        test_index = np.arange(len(test), dtype=np.int64)
        anomalies = tidy_intervals(where, spans, test_index)
        kind = "+".join(sorted(set(row.classes)))
        return Signal(
            name=name,
            train=train,
            test=test,
            train_index=np.arange(len(train), dtype=np.int64),
            test_index=test_index,
            anomalies=anomalies,
            interval=None,
            source=str(test_path),
            kind=kind,
        )


def _load_array(path: Path) -> np.ndarray:
    """A ``.npy`` array as float64 ``(steps, columns)`` (NaN kept, inf made NaN, with warnings)."""
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy array ({exc})") from None
    if not isinstance(arr, np.ndarray):  # an .npz archive
        getattr(arr, "close", lambda: None)()
        raise DataError(f"{path}: not a .npy array (an .npz archive?)")
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{path}: array of {arr.dtype} values, expected numbers")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"{path}: array of shape {arr.shape}, expected (steps, features)")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"{path}: empty array (shape {arr.shape})")
    arr = arr.astype(np.float64)
    nan = np.isnan(arr)
    if nan.any():
        warn_data(path, f"{int(nan.sum())} NaN value(s) (first at row "
                        f"{int(np.flatnonzero(nan.any(axis=1))[0])}) kept as NaN for imputation")
    inf = np.isinf(arr)
    if inf.any():
        warn_data(path, f"{int(inf.sum())} infinite value(s) (first at row "
                        f"{int(np.flatnonzero(inf.any(axis=1))[0])}) replaced by NaN")
        arr[inf] = np.nan
    return arr
