"""What the dataset loaders share: parsing (CSV tables, timestamps, label windows, bad data) and
the loader base classes (:class:`Listed`: planned signals, listed-but-missing files, notes given
once; :class:`CorpusLoader`: constructor, subset entries, root, messages for a missing corpus;
:class:`FolderCorpus`: folder and ``<folder>/<name>`` subsets).

Every loader turns its files into :class:`benchbench.data.Signal` objects through these helpers,
so bad data is treated the same way everywhere (the table is repeated in ``datasets/README.md``):

=====================================  =========================================================
problem                                treatment
=====================================  =========================================================
file listed by the corpus (its labels   stays planned; loading it raises :class:`DataError`
file) but missing on disk              naming the file, the listing and how to get it
file missing, unreadable, not UTF-8    :class:`DataError` (file, line of the first bad byte;
                                       for non-UTF-8 text, how to re-encode it)
empty file (only whitespace)           :class:`DataError` "empty file"
header without a needed column         :class:`DataError` naming the column and the header line
no data row after the header           :class:`DataError` "no data rows"
blank line (every cell empty)          skipped silently
missing / empty timestamp cell         :class:`DataError` naming the line
unparseable timestamp                  :class:`DataError` naming the line and the cell
non-numeric value (or label) cell      :class:`DataError` naming the line, the column, the cell
missing value (empty, NaN, NA, null)   kept as NaN for the imputation step, with a warning
infinite value (inf, 1e999)            replaced by NaN, with a warning
rows not sorted by timestamp           sorted (stable), with a warning
duplicate timestamps                   rows averaged (NaN-aware; a label is kept if any row has
                                       it), with a warning
label window with start > end,         :class:`DataError` naming the label file, the entry and
non-numeric or non-finite bound,       the window
malformed label file
label window partly outside the        clipped to the signal's first..last timestamp, with a
signal                                 warning
label window entirely outside          dropped, with a warning
overlapping or touching windows        merged into one, with a warning
=====================================  =========================================================

Warnings are :class:`DataWarning` (a ``UserWarning``) raised with :func:`warnings.warn`; their
message starts with the file and names the problem. Nothing here runs at import time, and pandas is
imported only when date strings are parsed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchbench.data import DataError, Signal

__all__ = [
    "CorpusLoader",
    "DataWarning",
    "FolderCorpus",
    "Listed",
    "Listing",
    "MISSING_MARKERS",
    "Table",
    "Series",
    "label_time",
    "load_windows_json",
    "natural_key",
    "parse_timestamps",
    "parse_values",
    "parse_windows",
    "read_csv_table",
    "read_series_csv",
    "read_text",
    "runs_to_intervals",
    "split_subset",
    "tidy_intervals",
    "tidy_series",
    "to_floats",
    "unknown_signal",
    "warn_data",
    "whole_series_signal",
]

#: Cell texts (compared stripped and lower-cased) that mean "no value": kept as NaN.
MISSING_MARKERS = frozenset({"", "nan", "-nan", "+nan", "na", "n/a", "null", "none"})

# Largest magnitude of a numeric timestamp that float64 still holds exactly as an integer.
_EXACT_INT = 2**53
_US_PER_S = 1_000_000


class DataWarning(UserWarning):
    """A loader repaired bad data; the message starts with the file and names the problem."""


def warn_data(where: object, message: str) -> None:
    """Warn (:class:`DataWarning`) that ``where`` (a file, or a file and an entry) was repaired."""
    warnings.warn(f"{where}: {message}", DataWarning, stacklevel=3)


def short(text: object, limit: int = 40) -> str:
    """``repr`` of ``text`` cut to ``limit`` characters, for error messages."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def few(items: Sequence[object], limit: int = 5) -> str:
    """The first ``limit`` items (each :func:`short`), then how many more, for messages."""
    shown = ", ".join(short(item, 80) for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def fmt(x: float) -> str:
    """A number for messages: integers without a decimal point."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e18 else f"{x:g}"


def natural_key(text: str) -> tuple:
    """Sort key putting ``real_2`` before ``real_10``."""
    return tuple(
        (0, int(part), part) if part[0] in "0123456789" else (1, 0, part.lower())
        for part in re.split(r"([0-9]+)", text)
        if part
    )


def dataset_root(data_dir: Path | str | None, root: Path | str | None, folder: str) -> Path:
    """Where a loader reads its corpus: ``root`` when given, else ``<data_dir>/<folder>`` (with
    ``data_dir`` defaulting to ``datasets``), ``~`` expanded."""
    if root is None:
        root = Path(data_dir if data_dir is not None else "datasets") / folder
    return Path(root).expanduser()


def split_subset(subset: str | Sequence[str] | None) -> list[str]:
    """The entries of a ``+``-separated subset (blank entries dropped, order kept, no repeats)."""
    if subset is None:
        return []
    items = subset.split("+") if isinstance(subset, str) else [str(s) for s in subset]
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def unknown_signal(dataset: str, name: object, valid: Sequence[str]) -> DataError:
    """The :class:`DataError` for a signal name that is not in ``valid`` (listing them)."""
    shown = ", ".join(valid) if valid else "(none)"
    return DataError(f"{dataset}: unknown signal {short(name, 80)}; valid names: {shown}")


# --------------------------------------------------------------------------------------- files


def read_text(path: Path) -> str:
    """The text of ``path`` (UTF-8, a BOM allowed).

    Raises:
        DataError: the file cannot be read, is empty (only whitespace), is not UTF-8 (naming the
            line of the first bad byte) or holds a NUL byte.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else "cannot read the file"
        raise DataError(f"{path}: {reason} ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}: line {line}: not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x}); "
            f"re-encode the file as UTF-8, e.g. from Latin-1: iconv -f latin1 -t utf-8 "
            f"{Path(path).name} > utf8-{Path(path).name}"
        ) from exc
    if not text.strip():
        raise DataError(f"{path}: empty file")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DataError(f"{path}: line {line}: contains a NUL byte (not a text file?)")
    return text


@dataclass
class Table:
    """A CSV file read as text.

    Attributes:
        path: the file.
        header: the header cells (stripped).
        header_line: the header's line number (1-based).
        columns: for each requested column, its cells (stripped; ``""`` where a row is short).
        lines: the line number of each data row, shape ``(n,)``.
    """

    path: Path
    header: list[str]
    header_line: int
    columns: dict[str, list[str]]
    lines: np.ndarray


def read_csv_table(
    path: Path,
    required: dict[str, Sequence[str]],
    optional: dict[str, Sequence[str]] | None = None,
) -> Table:
    """Read a CSV file with a header row, keeping the columns asked for.

    Args:
        path: the file.
        required: ``{key: accepted header names}``; header names match stripped and
            case-insensitively, the first matching column wins.
        optional: like ``required``, but a missing column is left out of ``Table.columns``.

    Raises:
        DataError: an unreadable or empty file, a CSV syntax error, a missing column, or no data
            row (each naming the file and, where there is one, the line).
    """
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    picks: dict[str, int] = {}
    cells: dict[str, list[str]] = {}
    lines: list[int] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                header_line = reader.line_num
                picks = _pick_columns(path, header, header_line, required, optional or {})
                cells = {key: [] for key in picks}
                continue
            lines.append(reader.line_num)
            for key, col in picks.items():
                cells[key].append(row[col].strip() if col < len(row) else "")
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: CSV syntax error ({exc})") from exc
    if header is None:  # pragma: no cover - read_text rejects blank files
        raise DataError(f"{path}: empty file")
    if not lines:
        raise DataError(f"{path}: no data rows after the header (line {header_line})")
    return Table(path, header, header_line, cells, np.asarray(lines, dtype=np.int64))


def _pick_columns(
    path: Path,
    header: list[str],
    header_line: int,
    required: dict[str, Sequence[str]],
    optional: dict[str, Sequence[str]],
) -> dict[str, int]:
    lowered = [cell.lower() for cell in header]
    picks: dict[str, int] = {}
    for key, names in (*required.items(), *optional.items()):
        found = next((lowered.index(n.lower()) for n in names if n.lower() in lowered), None)
        if found is not None:
            picks[key] = found
        elif key in required:
            wanted = " or ".join(repr(n) for n in names)
            raise DataError(
                f"{path}: line {header_line}: missing column {wanted} "
                f"(header: {short(','.join(header), 80)})"
            )
    return picks


# ------------------------------------------------------------------------------ cells to numbers


def parse_values(
    cells: Sequence[str], lines: Sequence[int], path: object, column: str = "value"
) -> np.ndarray:
    """Numbers from text cells, float64; missing cells become NaN.

    Missing cells (see :data:`MISSING_MARKERS`) and NaN are kept as NaN, infinite values are
    replaced by NaN; each case warns once with the count and the first line.

    Raises:
        DataError: a cell that is not a number, naming the file, the line, the column and the cell.
    """
    return to_floats(cells, lines, path, f"{column} cell", f"cell(s) in column {column!r}")


def to_floats(
    texts: Sequence[str], lines: Sequence[int], path: object, one: str, many: str
) -> np.ndarray:
    """:func:`parse_values` for any numbers read as text: ``one`` names a bad one in the error
    ("non-numeric <one> 'x'"), ``many`` names them in the warnings ("3 missing or NaN <many>")."""
    out = np.empty(len(texts), dtype=np.float64)
    missing: list[int] = []
    infinite: list[int] = []
    for i, cell in enumerate(texts):
        text = cell.strip()
        if text.lower() in MISSING_MARKERS:
            out[i] = math.nan
            missing.append(i)
            continue
        try:
            x = float(text)
        except (ValueError, OverflowError):
            raise DataError(f"{path}: line {lines[i]}: non-numeric {one} {short(text)}") from None
        if math.isnan(x):
            missing.append(i)
        elif math.isinf(x):
            infinite.append(i)
            x = math.nan
        out[i] = x
    if missing:
        warn_data(
            path,
            f"{len(missing)} missing or NaN {many} (first at line {lines[missing[0]]}) kept as "
            "NaN for imputation",
        )
    if infinite:
        warn_data(
            path,
            f"{len(infinite)} infinite {many} (first at line {lines[infinite[0]]}) replaced by "
            "NaN for imputation",
        )
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except (ValueError, OverflowError):
        return False
    return True


def parse_timestamps(
    cells: Sequence[str], lines: Sequence[int], path: object, column: str = "timestamp"
) -> np.ndarray:
    """Timestamps from text cells: numbers, or date strings turned into Unix seconds.

    The first cell decides: if it is a number, every cell must be a finite number (seconds or
    step positions, kept as given); otherwise every cell must be a date (ISO 8601 first, then
    other common forms, month before day when ambiguous; without a zone a date is UTC, with one it
    is converted to UTC). The result is int64 when every timestamp is a whole number (exactly
    representable), float64 otherwise (e.g. fractional seconds).

    Raises:
        DataError: a missing or unparseable timestamp, naming the file, the line and the cell.
    """
    texts = [cell.strip() for cell in cells]
    for i, text in enumerate(texts):
        if not text:
            raise DataError(f"{path}: line {lines[i]}: missing {column}")
    if not texts:
        return np.empty(0, dtype=np.int64)
    if _is_number(texts[0]):
        out = np.empty(len(texts), dtype=np.float64)
        for i, text in enumerate(texts):
            try:
                x = float(text)
            except (ValueError, OverflowError):
                x = math.nan
            if not math.isfinite(x):
                raise DataError(
                    f"{path}: line {lines[i]}: unparseable {column} {short(text)} "
                    "(expected a finite number, like the first row's)"
                )
            out[i] = x
        return _maybe_int(out)
    micros, bad = _parse_dates(texts)
    if bad is not None:
        raise DataError(
            f"{path}: line {lines[bad]}: unparseable {column} {short(texts[bad])} "
            "(expected a date such as 2014-04-10 07:15:00, like the first row's)"
        )
    if np.all(micros % _US_PER_S == 0):
        return micros // _US_PER_S
    return micros / float(_US_PER_S)


def _maybe_int(values: np.ndarray) -> np.ndarray:
    if values.size and np.all(np.abs(values) <= _EXACT_INT) and np.all(values == np.round(values)):
        return values.astype(np.int64)
    return values


def _parse_dates(texts: Sequence[str]) -> tuple[np.ndarray, int | None]:
    """Date strings to int64 microseconds since the Unix epoch (UTC); and the first bad position."""
    import pandas as pd

    series = pd.Series(list(texts), dtype=object)
    parsed = _to_datetime(series, "ISO8601")
    bad = parsed.isna().to_numpy()
    if bad.any():
        retry = _to_datetime(series[bad], "mixed")
        parsed = parsed.astype("datetime64[us, UTC]")
        parsed[bad] = retry.astype("datetime64[us, UTC]")
    # pandas reads "now" and "today" as the current time: not data.
    relative = np.array([t.lower() in ("now", "today") for t in texts])
    bad = parsed.isna().to_numpy() | relative
    if bad.any():
        return np.empty(0, dtype=np.int64), int(np.flatnonzero(bad)[0])
    try:
        micros = parsed.dt.as_unit("us").astype("int64").to_numpy()
    except (ValueError, OverflowError):  # pragma: no cover - dates beyond the microsecond range
        return np.empty(0, dtype=np.int64), 0
    return micros, None


def _to_datetime(series, fmt_name: str):
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(series, format=fmt_name, utc=True, errors="coerce")
        return out.astype("datetime64[us, UTC]")
    except (ValueError, TypeError, OverflowError):
        if len(series) > 1:  # one bad cell must not hide the good ones: go cell by cell
            parts = [_to_datetime(series.iloc[i : i + 1], fmt_name) for i in range(len(series))]
            return pd.concat(parts)
        return pd.Series([pd.NaT], index=series.index, dtype="datetime64[us, UTC]")


def label_time(value: object) -> float:
    """One label bound as a float: a JSON number, or a string holding a number or a date (Unix
    seconds, UTC as in :func:`parse_timestamps`).

    Raises:
        ValueError: anything else, or a non-finite result.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, (int, float)):
        try:
            x = float(value)
        except OverflowError:
            raise ValueError("number too large") from None
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty string")
        if _is_number(text):
            x = float(text)
        else:
            micros, bad = _parse_dates([text])
            if bad is not None:
                raise ValueError("not a number or a date")
            x = int(micros[0]) / _US_PER_S
    else:
        raise ValueError(f"expected a number or a date string, got {type(value).__name__}")
    if not math.isfinite(x):
        raise ValueError("not a finite number")
    return x


# --------------------------------------------------------------------------- series and labels


def tidy_series(
    path: object,
    index: np.ndarray,
    values: np.ndarray,
    lines: np.ndarray | None = None,
    flags: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Sort rows by timestamp and average rows sharing one, warning about each repair.

    Args:
        path: the file, for messages.
        index: timestamps, shape ``(n,)``.
        values: shape ``(n,)`` or ``(n, c)``, float (NaN allowed).
        lines: each row's line number, for messages (default: row position + 2).
        flags: optional per-row anomaly flags (0 / 1); duplicates keep the maximum.

    Returns:
        ``(index, values (n', c) float64, flags)`` with a strictly increasing index.

    Raises:
        DataError: no rows at all.
    """
    index = np.asarray(index)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    n = len(index)
    if n == 0:
        raise DataError(f"{path}: no data rows")
    lines = np.arange(2, n + 2) if lines is None else np.asarray(lines)
    steps = np.diff(index)
    if np.any(steps < 0):
        first = int(np.flatnonzero(steps < 0)[0]) + 1
        warn_data(
            path,
            f"rows are not sorted by timestamp (line {lines[first]} goes back in time); "
            "sorted by timestamp",
        )
        order = np.argsort(index, kind="stable")
        index, values, lines = index[order], values[order], lines[order]
        flags = None if flags is None else np.asarray(flags)[order]
    same = np.diff(index) == 0
    if np.any(same):
        first = int(np.flatnonzero(same)[0]) + 1
        uniq, inverse, counts = np.unique(index, return_inverse=True, return_counts=True)
        n_dup_rows = int(counts[counts > 1].sum())
        warn_data(
            path,
            f"{int((counts > 1).sum())} duplicate timestamp(s) over {n_dup_rows} rows "
            f"(first at line {lines[first]}); their rows averaged",
        )
        finite = np.isfinite(values)
        m, c = len(uniq), values.shape[1]
        sums = np.zeros((m, c))
        hits = np.zeros((m, c))
        np.add.at(sums, inverse, np.where(finite, values, 0.0))
        np.add.at(hits, inverse, finite.astype(np.float64))
        merged = np.full((m, c), np.nan)
        np.divide(sums, hits, out=merged, where=hits > 0)
        if flags is not None:
            merged_flags = np.zeros(m)
            np.maximum.at(merged_flags, inverse, np.nan_to_num(np.asarray(flags, float)))
            flags = merged_flags
        index, values = uniq, merged
    return index, values, flags


def runs_to_intervals(index: np.ndarray, flags: np.ndarray) -> list[tuple[float, float]]:
    """Closed ``[index[first], index[last]]`` intervals of each run of consecutive non-zero flags
    (NaN counts as zero)."""
    on = np.nan_to_num(np.asarray(flags, dtype=np.float64)) != 0
    if not on.any():
        return []
    edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(float(index[a]), float(index[b])) for a, b in zip(starts, ends)]


def tidy_intervals(
    where: object, intervals: Iterable[tuple[float, float]], index: np.ndarray
) -> list[tuple[float, float]]:
    """Fit closed label intervals to a signal's index range, warning about each repair.

    Intervals are sorted; one entirely outside ``[index[0], index[-1]]`` is dropped, one partly
    outside is clipped to it, overlapping (or touching) ones are merged.

    Raises:
        DataError: a non-finite bound, or a start after its end.
    """
    spans = [(float(a), float(b)) for a, b in intervals]
    for a, b in spans:
        if not (math.isfinite(a) and math.isfinite(b)):
            raise DataError(f"{where}: label interval [{a}, {b}] has a non-finite bound")
        if a > b:
            raise DataError(f"{where}: label interval [{fmt(a)}, {fmt(b)}] starts after it ends")
    if not spans or len(index) == 0:
        return []
    lo, hi = float(index[0]), float(index[-1])
    kept: list[tuple[float, float]] = []
    dropped, clipped, merged = [], [], 0
    for a, b in sorted(spans):
        if b < lo or a > hi:
            dropped.append((a, b))
            continue
        if a < lo or b > hi:
            clipped.append((a, b))
            a, b = max(a, lo), min(b, hi)
        if kept and a <= kept[-1][1]:
            kept[-1] = (kept[-1][0], max(kept[-1][1], b))
            merged += 1
        else:
            kept.append((a, b))
    where_range = f"the signal's range [{fmt(lo)}, {fmt(hi)}]"
    if dropped:
        shown = ", ".join(f"[{fmt(a)}, {fmt(b)}]" for a, b in dropped[:5])
        warn_data(where, f"{len(dropped)} label interval(s) entirely outside {where_range} "
                         f"dropped: {shown}")
    if clipped:
        shown = ", ".join(f"[{fmt(a)}, {fmt(b)}]" for a, b in clipped[:5])
        warn_data(where, f"{len(clipped)} label interval(s) partly outside {where_range} "
                         f"clipped: {shown}")
    if merged:
        warn_data(where, f"{merged} overlapping or touching label interval(s) merged")
    return kept


def load_windows_json(path: Path) -> dict:
    """A labels file in the NAB windows format, ``{"<file>.csv": [[start, end], ...], ...}``,
    parsed but not yet checked entry by entry (see :func:`parse_windows`).

    Raises:
        DataError: an unreadable, empty or invalid JSON file, or one that is not a JSON object.
    """
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from exc
    except RecursionError:
        raise DataError(f"{path}: invalid labels: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise DataError(
            f"{path}: invalid labels: expected a JSON object mapping file names to lists of "
            f"[start, end] windows, got a {type(data).__name__}"
        )
    return data


def parse_windows(labels_path: object, key: str, raw: object) -> list[tuple[float, float]]:
    """The windows of one entry of a labels file, as ``(start, end)`` floats (unchecked range).

    ``null`` means no window. A bound is a number or a number / date string (:func:`label_time`).

    Raises:
        DataError: naming the labels file, the entry and the window, when the entry is not a list
            of ``[start, end]`` pairs, a bound cannot be read, or a start is after its end.
    """
    where = f"{labels_path}: entry {short(key, 80)}"
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DataError(
            f"{where}: expected a list of [start, end] windows, got {short(raw)}"
        )
    windows = []
    for i, window in enumerate(raw, start=1):
        if not isinstance(window, list) or len(window) != 2:
            raise DataError(f"{where}: window {i}: expected [start, end], got {short(window)}")
        bounds = []
        for label, value in zip(("start", "end"), window):
            try:
                bounds.append(label_time(value))
            except ValueError as exc:
                raise DataError(
                    f"{where}: window {i}: unparseable {label} {short(value)} ({exc})"
                ) from None
        if bounds[0] > bounds[1]:
            raise DataError(
                f"{where}: window {i}: start {short(window[0])} is after end {short(window[1])}"
            )
        windows.append((bounds[0], bounds[1]))
    return windows


# ------------------------------------------------------------------------------ whole CSV files


@dataclass
class Series:
    """One timestamped CSV series after :func:`read_series_csv`.

    Attributes:
        index: strictly increasing timestamps, int64 (or float64 for fractional ones).
        values: shape ``(n, 1)``, float64, finite or NaN.
        flags: per-row anomaly flags (0 / 1) when a label column was read, else ``None``.
        lines: the file's line of each row (for rows averaged from duplicates, the first one's).
    """

    index: np.ndarray
    values: np.ndarray
    flags: np.ndarray | None = None
    lines: np.ndarray | None = None


TIMESTAMP_NAMES = ("timestamp", "timestamps")
VALUE_NAMES = ("value",)


def read_series_csv(
    path: Path,
    label_names: Sequence[str] | None = None,
    timestamp_names: Sequence[str] = TIMESTAMP_NAMES,
    value_names: Sequence[str] = VALUE_NAMES,
) -> Series:
    """Read a ``timestamp,value[,label]`` CSV file, applying the bad-data treatments above.

    Other columns are ignored. With ``label_names``, that column (required) holds per-row
    anomaly flags: a number, non-zero meaning anomalous; a missing flag counts as 0 (with a
    warning).

    Raises:
        DataError: see the module docstring.
    """
    required: dict[str, Sequence[str]] = {"timestamp": timestamp_names, "value": value_names}
    if label_names:
        required["label"] = label_names
    table = read_csv_table(path, required)
    lines = table.lines
    index = parse_timestamps(table.columns["timestamp"], lines, path)
    values = parse_values(table.columns["value"], lines, path, "value")
    flags = None
    if label_names:
        flag_cells = table.columns["label"]
        flags = np.empty(len(flag_cells))
        unlabelled = []
        for i, cell in enumerate(flag_cells):
            if cell.lower() in MISSING_MARKERS:
                flags[i] = 0.0
                unlabelled.append(i)
                continue
            try:
                flag = float(cell)
            except (ValueError, OverflowError):
                flag = math.nan
            if math.isnan(flag):
                raise DataError(f"{path}: line {lines[i]}: non-numeric label cell {short(cell)}")
            flags[i] = 1.0 if flag != 0 else 0.0
        if unlabelled:
            warn_data(
                path,
                f"{len(unlabelled)} missing label cell(s) (first at line "
                f"{lines[unlabelled[0]]}) taken as not anomalous",
            )
    tidy_index, values2d, flags = tidy_series(path, index, values, lines, flags)
    # the first line (in file order) holding each remaining timestamp
    order = np.argsort(index, kind="stable")
    first = np.searchsorted(index[order], tidy_index)
    return Series(tidy_index, values2d, flags, np.asarray(lines)[order][first])


# ------------------------------------------------------------------------------------ loaders


def whole_series_signal(
    name: str, series: Series, anomalies: list[tuple[float, float]], path: Path,
    interval: float | None = None,
) -> Signal:
    """The :class:`Signal` of the train = test = the whole series protocol."""
    return Signal(
        name=name,
        train=series.values.copy(),
        test=series.values,
        train_index=series.index.copy(),
        test_index=series.index,
        anomalies=anomalies,
        interval=interval,
        source=str(path),
        train_lines=series.lines,
        test_lines=series.lines,
    )


@dataclass
class Listing:
    """The signals a loader plans, as found by its ``_scan``.

    Attributes:
        names: every planned signal, in order: the files on disk plus, where the corpus has a
            listing of what should exist (a labels file), each listed signal whose file is
            missing.
        missing: for each planned signal missing on disk, the :class:`DataError` message loading
            it gives ("<file>: listed in <listing> but missing on disk; <how to get it>").
        notes: ``(where, message)`` warnings about the corpus as a whole (an entry naming no
            file, files without labels), given once by ``signal_names()``, never per signal.
    """

    names: list[str]
    missing: dict[str, str] = field(default_factory=dict)
    notes: list[tuple[object, str]] = field(default_factory=list)


class Listed:
    """``signal_names``, ``missing_signals`` and the name check of ``load_signal``, from a
    :class:`Listing` the loader's ``_scan`` builds (once per dataset object).

    The listing rule every loader follows: a signal its corpus lists (the labels file names it)
    stays planned when its file is missing on disk, and loading it raises :class:`DataError`
    naming the file, the listing and how to get the file again, so a run records one failed job
    for it instead of running without it. ``signal_names()`` gives the listing's notes as
    :class:`DataWarning` (once per call; a run calls it once, when planning); ``load_signal``
    checks names without repeating them.
    """

    name: str
    _listing_cache: Listing | None = None

    def _scan(self) -> Listing:
        raise NotImplementedError

    def _listing(self) -> Listing:
        if self._listing_cache is None:
            self._listing_cache = self._scan()
        return self._listing_cache

    def signal_names(self) -> list[str]:
        """The planned signals (see :class:`Listing`), warning once about the corpus's notes.

        Raises:
            DataError: the corpus (or its listing) is not found, the selection names something
                that does not exist, or none of the selected signals is on disk.
        """
        listing = self._listing()
        for where, message in listing.notes:
            warn_data(where, message)
        return list(listing.names)

    def missing_signals(self) -> list[str]:
        """The planned signals whose files are missing on disk (listed, but not there)."""
        listing = self._listing()
        return [name for name in listing.names if name in listing.missing]

    def _check(self, name: str) -> None:
        """Raise :func:`unknown_signal` for a name not planned, and the listed-but-missing
        :class:`DataError` for one whose file is missing."""
        listing = self._listing()
        if name not in listing.names:
            raise unknown_signal(self.name, name, listing.names)
        if name in listing.missing:
            raise DataError(listing.missing[name])


class CorpusLoader(Listed):
    """What the loaders of a corpus folder share: ``Cls(data_dir, subset, *, root=None)`` reads
    nothing, finds the corpus at ``root`` or ``<data_dir>/<name>`` (:func:`dataset_root`) and hands
    the subset's entries (:func:`split_subset`) to :meth:`_select`, which raises
    :class:`DataError` for an unknown one.

    A subclass sets ``name``, ``description``, ``LICENSE``, ``CITATION`` and ``HOW_TO_GET`` and
    defines ``_select``, ``present``, ``_scan`` (see :class:`Listed`) and ``load_signal``.
    """

    name: str
    description: str
    LICENSE: str
    CITATION: str
    #: How to get the corpus, for :meth:`_missing`.
    HOW_TO_GET = ""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        subset: str | Sequence[str] | None = None,
        *,
        root: Path | str | None = None,
    ) -> None:
        self.root = dataset_root(data_dir, root, self.name)
        self._select(split_subset(subset))

    def _select(self, entries: list[str]) -> None:
        raise NotImplementedError

    def _missing(self, what: str) -> DataError:
        """The :class:`DataError` for something of the corpus not found: where and how to get it."""
        return DataError(
            f"{self.name}: {what} (looked in {self.root}); {self.HOW_TO_GET}, or pass --data-dir "
            f"pointing at a folder that holds {self.name}/"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r})"


class FolderCorpus(CorpusLoader):
    """A corpus of ``<folder>/<name>.csv`` files in a fixed set of folders (``FOLDERS``), found
    at the root or in its ``NESTED`` folder (the archive's own top folder).

    The subset names folders (through :meth:`_folder`, which also accepts aliases) and/or single
    signals ``<folder>/<name>``; none: every folder (``_all``). A selected folder plans its files
    (``_pattern``) plus the signals :meth:`_listed` expects there; one with neither goes to
    :meth:`_empty_folders`. When none of the planned signals is on disk, listing fails (the
    corpus is not there); otherwise a listed signal whose file is missing fails when loaded.
    """

    FOLDERS: tuple[str, ...] = ()
    NESTED = ""

    def _folder(self, entry: str) -> str:
        """The folder a subset entry means; :class:`DataError` for an unknown one."""
        raise NotImplementedError

    def _select(self, entries: list[str]) -> None:
        folders: list[str] = []
        self._signals: list[str] = []
        for entry in entries:
            if "/" in entry:
                folder, _, stem = entry.partition("/")
                self._signals.append(f"{self._folder(folder)}/{stem.removesuffix('.csv')}")
            else:
                folders.append(self._folder(entry))
        self._all = not folders and not self._signals
        self._folders = list(self.FOLDERS) if self._all else list(dict.fromkeys(folders))

    @property
    def base(self) -> Path:
        """The folder holding the corpus folders: the root, or ``root/NESTED`` when only that
        holds them."""
        nested = self.root / self.NESTED
        if nested.is_dir() and not any((self.root / f).is_dir() for f in self.FOLDERS):
            return nested
        return self.root

    def _pattern(self, folder: str) -> str:
        """The file names of a folder's signals."""
        return "*.csv"

    def _files(self, folder: str) -> list[Path]:
        """The files of ``base/folder`` matching its pattern, in natural order of their stems."""
        return sorted(
            (p for p in (self.base / folder).glob(self._pattern(folder)) if p.is_file()),
            key=lambda p: natural_key(p.stem),
        )

    def _listed(self) -> dict[str, str]:
        """``{"<folder>/<name>": message}`` for each signal the corpus's own listing expects,
        with the :class:`DataError` message for when its file is missing; ``{}`` without a
        listing (then only the files on disk are planned)."""
        return {}

    def _empty_folders(self, folders: list[str], notes: list[tuple[object, str]]) -> None:
        """Selected folders with no file and no listed signal: an error (a subclass may note
        them instead when every folder is selected)."""
        raise self._missing(f"no CSV files in folder(s) {', '.join(folders)}")

    def _scan(self) -> Listing:
        listed = self._listed()
        notes: list[tuple[object, str]] = []
        names: list[str] = []
        on_disk: set[str] = set()
        empty, no_files = [], []
        for folder in self._folders:
            found = [f"{folder}/{p.stem}" for p in self._files(folder)]
            expected = [n for n in listed if n.partition("/")[0] == folder]
            if not found:
                no_files.append(folder)
                if not expected:
                    empty.append(folder)
            on_disk.update(found)
            names.extend(sorted({*found, *expected}, key=lambda n: natural_key(n[len(folder):])))
        if empty:
            self._empty_folders(empty, notes)
        for name in self._signals:
            path = self.base / f"{name}.csv"
            if path.is_file():
                on_disk.add(name)
            elif name not in listed:
                raise self._missing(f"no signal {name!r} ({path})")
            names.append(name)
        names = list(dict.fromkeys(names))
        if not on_disk.intersection(names):  # nothing of the selection is here: not fetched
            if no_files:
                raise self._missing(f"no CSV files in folder(s) {', '.join(no_files)}")
            raise DataError(listed[names[0]])
        missing = {name: listed[name] for name in names if name not in on_disk}
        return Listing(names, missing, notes)
