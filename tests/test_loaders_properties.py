"""Property-based tests: malformed files thrown at every loader give either a valid Signal or a
DataError naming the file, never another exception; repairs warn only with DataWarning."""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchbench.data import DataError, Signal
from benchbench.data.loaders.common import DataWarning
from benchbench.data.loaders.csvdir import CSVDirDataset
from benchbench.data.loaders.nab import NABDataset
from benchbench.data.loaders.nasa import NASADataset
from benchbench.data.loaders.ucr import UCRDataset
from benchbench.data.loaders.yahoo import YahooDataset

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

garbage = st.text(max_size=6)
special = st.sampled_from(
    ["", " ", "nan", "NaN", "inf", "-inf", "1e999", "null", "N/A", "now", "x", '"', "1,5", "\t"]
)
number_cell = st.one_of(
    st.integers(-3, 40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-5, 45).map(lambda x: f"{x:.3f}"),
)
date_cell = st.integers(-3, 40).map(lambda m: f"2015-01-01 {m // 60 + 10:02d}:{m % 60:02d}:00")
timestamp_cell = st.one_of(st.integers(0, 30).map(str), date_cell, special, garbage)
value_cell = st.one_of(number_cell, number_cell, special, garbage)
flag_cell = st.one_of(st.sampled_from(["0", "1", "0", "1", "", "2", "0.5", "yes"]), garbage)
newline = st.sampled_from(["\n", "\r\n", "\r"])

row_numbers = st.integers(-5, 40)
json_bound = st.one_of(
    row_numbers,
    date_cell,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "soon", True, None, "12"]),
)
window = st.one_of(
    st.tuples(json_bound, json_bound).map(list),
    st.tuples(row_numbers, row_numbers).map(sorted),
    st.lists(json_bound, max_size=3),
    json_bound,
)
windows = st.one_of(st.lists(window, max_size=4), st.none(), json_bound)


def _mostly(draw, good, bad, odds: int = 12):
    """A draw from ``good``, or (one time in ``odds``) from ``bad``."""
    return draw(bad) if draw(st.integers(0, odds - 1)) == 0 else draw(good)


@st.composite
def csv_text(draw, with_flags: bool = False) -> str:
    """A CSV file, mostly well-formed: one timestamp kind per file, a few bad cells and rows."""
    good_header = st.sampled_from(
        ["timestamp,value,is_anomaly", "Timestamps, VALUE ,anomaly,trend"] if with_flags
        else ["timestamp,value", "Timestamp , VALUE,extra"]
    )
    header = _mostly(draw, good_header, st.one_of(
        st.sampled_from(["", "time,value", "timestamp", "value,timestamp,is_anomaly"]), garbage
    ))
    good_ts = draw(st.sampled_from([st.integers(0, 30).map(str), date_cell]))
    rows = []
    for _ in range(draw(st.integers(0, 20))):
        cells = [
            _mostly(draw, good_ts, st.one_of(special, garbage), 60),
            _mostly(draw, number_cell, st.one_of(special, garbage), 6),
        ]
        if with_flags:
            cells.append(_mostly(draw, st.sampled_from(["0", "0", "1"]), flag_cell, 10))
        if draw(st.integers(0, 19)) == 0:
            cells = cells[: draw(st.integers(0, len(cells)))]
        rows.append(",".join(cells))
    nl = draw(newline)
    return nl.join([header, *rows]) + draw(st.sampled_from(["", nl]))


def _check_signal(signal: Signal) -> None:
    for values, index in ((signal.train, signal.train_index), (signal.test, signal.test_index)):
        assert values.dtype == np.float64 and values.ndim == 2 and values.shape[1] >= 1
        assert len(values) == len(index) >= 1
        assert index.dtype in (np.int64, np.float64)
        assert np.all(np.isfinite(index))
        assert np.all(np.diff(index) > 0), "index must be sorted and unique"
        assert not np.isinf(values).any(), "values must be finite or NaN"
    lo, hi = signal.test_index[0], signal.test_index[-1]
    previous = -np.inf
    for start, end in signal.anomalies:
        assert lo <= start <= end <= hi
        assert start > previous, "intervals sorted, not overlapping"
        previous = end


def _run(load, *names: str):
    """Call ``load``; check that warnings and errors name one of ``names``, and that a Signal
    it returns holds the invariants."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            signal = load()
        except DataError as exc:
            assert any(n in str(exc) for n in names), f"{exc} names none of {names}"
            signal = None
    for w in record:
        assert issubclass(w.category, DataWarning), f"unexpected {w.category}: {w.message}"
        assert any(n in str(w.message) for n in names), str(w.message)
    if isinstance(signal, Signal):
        _check_signal(signal)
    return signal


stems = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\\x00"),
    min_size=1, max_size=12,
).filter(lambda s: not s.startswith(".") and len(s.encode()) < 100)


@SETTINGS
@given(
    stem=stems,
    text=csv_text(),
    labels=st.one_of(st.dictionaries(st.just("KEY"), windows, max_size=1), garbage, st.just("")),
    raw=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=30)),
)
def test_csv_folder_never_crashes(stem: str, text: str, labels: object, raw: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        path = folder / f"{stem}.csv"
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(text, encoding="utf-8", newline="")
        if isinstance(labels, dict):
            labels = json.dumps({f"{stem}.csv": v for v in labels.values()})
        (folder / "labels.json").write_text(labels)
        dataset = CSVDirDataset(Path(tmp), "data")
        assert _run(dataset.signal_names, "labels.json") == [stem]
        _run(lambda: dataset.load_signal(stem), str(path), "labels.json")


@SETTINGS
@given(text=csv_text(with_flags=True))
def test_yahoo_never_crashes(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "yahoo" / "A1Benchmark" / "real_1.csv"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8", newline="")
        signal = _run(lambda: YahooDataset(Path(tmp), "A1").load_signal("A1Benchmark/real_1"),
                      str(path))
        if signal is not None:
            assert signal.test.shape[1] == 1


@SETTINGS
@given(text=csv_text(), entry=windows, keyed=st.booleans())
def test_nab_never_crashes(text: str, entry: object, keyed: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nab" / "realTweets" / "t.csv"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8", newline="")
        key = "realTweets/t.csv" if keyed else "other.csv"
        (Path(tmp) / "nab" / "labels").mkdir()
        labels = Path(tmp) / "nab" / "labels" / "combined_windows.json"
        labels.write_text(json.dumps({key: entry}))
        signal = _run(lambda: NABDataset(Path(tmp), "Tweets").load_signal("realTweets/t"),
                      str(path), str(labels))
        if signal is not None:
            np.testing.assert_array_equal(signal.train, signal.test)


@SETTINGS
@given(
    tokens=st.lists(st.one_of(number_cell, special, garbage), max_size=30),
    seps=st.lists(st.sampled_from([" ", "\n", "\t", ",", "  \n"]), min_size=1, max_size=5),
    train_end=st.integers(0, 32),
    start=st.integers(-2, 40),
    length=st.integers(-3, 10),
)
def test_ucr_never_crashes(
    tokens: list[str], seps: list[str], train_end: int, start: int, length: int
) -> None:
    text = "".join(tok + seps[i % len(seps)] for i, tok in enumerate(tokens))
    name = f"007_UCR_Anomaly_prop_{train_end}_{max(start, 0)}_{max(start + length, 0)}.txt"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ucr" / name
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8", newline="")
        signal = _run(lambda: UCRDataset(Path(tmp), None).load_signal("007_prop"), str(path))
        if signal is not None:
            assert len(signal.train) == train_end
            assert signal.test_index[0] == train_end


@SETTINGS
@given(
    n_train=st.integers(0, 6),
    n_test=st.integers(0, 6),
    features=st.integers(1, 3),
    poison=st.sampled_from([None, np.nan, np.inf, -np.inf]),
    sequences=st.one_of(
        st.lists(st.tuples(st.integers(-3, 9), st.integers(-3, 9)).map(list), max_size=3)
        .map(json.dumps),
        garbage,
        st.sampled_from(["[[1, 2]]", "[[1.5, 2]]", "[(1, 2)]", "__import__('os')", "[[2, 1]]"]),
    ),
    num_values=st.one_of(st.integers(0, 9).map(str), special),
)
def test_nasa_never_crashes(
    n_train: int, n_test: int, features: int, poison: float | None, sequences: str,
    num_values: str,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "nasa"
        (root / "train").mkdir(parents=True)
        (root / "test").mkdir()
        test = np.arange(n_test * features, dtype=np.float64).reshape(n_test, features)
        if poison is not None and test.size:
            test[0, 0] = poison
        np.save(root / "train" / "A-1.npy", np.ones((n_train, features)))
        np.save(root / "test" / "A-1.npy", test)
        labels = root / "labeled_anomalies.csv"
        with labels.open("w", newline="") as handle:
            handle.write("chan_id,spacecraft,anomaly_sequences,class,num_values\n")
            quoted = '"' + sequences.replace('"', '""') + '"'
            handle.write(f"A-1,SMAP,{quoted},[point],{num_values}\n")
        _run(lambda: NASADataset(Path(tmp), "SMAP+all_channels").load_signal("A-1"),
             str(root / "train" / "A-1.npy"), str(root / "test" / "A-1.npy"), str(labels))
