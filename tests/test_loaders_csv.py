"""Tests of the ``csv`` loader (a folder of timestamp,value files plus labels.json) and of the
bad-data treatments every CSV-based loader shares (benchbench.data.loaders.common)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from benchbench.data import DataError
from benchbench.data.loaders import DATASETS, CSVDirDataset
from benchbench.data.loaders.common import DataWarning, natural_key, tidy_intervals
from benchbench.data.preprocessing import preprocess


def _folder(tmp_path: Path, files: dict[str, str], labels: object = None) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    if labels is not None:
        (folder / "labels.json").write_text(labels if isinstance(labels, str) else
                                            json.dumps(labels))
    return folder


def _numbers(n: int = 10) -> str:
    return "timestamp,value\n" + "".join(f"{i},{i * 1.5}\n" for i in range(n))


def _load(folder: Path, name: str):
    dataset = CSVDirDataset(folder.parent, folder.name)
    return dataset.load_signal(name)


def _quiet_load(folder: Path, name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return _load(folder, name)


# ---------------------------------------------------------------------------- the csv dataset


def test_registry_table_and_attributes() -> None:
    assert set(DATASETS) == {"nab", "nasa", "ucr", "yahoo", "csv"}
    for name, cls in DATASETS.items():
        assert cls.name == name
        assert cls.description and "\n" not in cls.description
        assert isinstance(cls.LICENSE, str) and isinstance(cls.CITATION, str)
        dataset = cls(Path("/nonexistent/data"), None)  # constructing reads nothing
        assert dataset.present() is False


def test_numeric_timestamps_and_labels(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a.csv": _numbers(), "b.csv": _numbers(5)},
                     {"a.csv": [[2, 4], [7, 7]], "b.csv": []})
    dataset = CSVDirDataset(tmp_path, "mine")
    assert dataset.present()
    assert dataset.signal_names() == ["a", "b"]
    signal = dataset.load_signal("a")
    assert signal.name == "a" and signal.source == str(folder / "a.csv")
    assert signal.test_index.dtype == np.int64
    np.testing.assert_array_equal(signal.test_index, np.arange(10))
    np.testing.assert_allclose(signal.test[:, 0], np.arange(10) * 1.5)
    np.testing.assert_array_equal(signal.train, signal.test)
    assert signal.anomalies == [(2.0, 4.0), (7.0, 7.0)]
    assert signal.interval is None and signal.kind == ""
    assert dataset.load_signal("b").anomalies == []


def test_date_timestamps_and_date_labels(tmp_path: Path) -> None:
    rows = "Timestamp,Value,extra\n" + "".join(
        f"2021-02-04T10:{m:02d}:00Z,{m},x\n" for m in range(10)
    )
    _folder(tmp_path, {"d.csv": rows},
            {"d": [["2021-02-04 10:02:00", "2021-02-04T11:03:00+01:00"]]})  # stem key accepted
    signal = CSVDirDataset(tmp_path, "mine").load_signal("d")
    t0 = 1612432800  # 2021-02-04 10:00:00 UTC
    np.testing.assert_array_equal(signal.test_index, t0 + 60 * np.arange(10))
    assert signal.anomalies == [(t0 + 120.0, t0 + 180.0)]


def test_other_date_forms_and_fractional_seconds(tmp_path: Path) -> None:
    rows = "timestamp,value\n2021/2/4 23:08,1\n2021/2/4 23:09,2\n"
    frac = "timestamp,value\n0.5,1\n1.0,2\n1.5,3\n"
    _folder(tmp_path, {"slash.csv": rows, "frac.csv": frac}, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        dataset = CSVDirDataset(tmp_path, "mine")
        assert dataset.load_signal("slash").test_index.tolist() == [1612480080, 1612480140]
        index = dataset.load_signal("frac").test_index
    assert index.dtype == np.float64 and index.tolist() == [0.5, 1.0, 1.5]


def test_absolute_folder_and_any_characters_in_names(tmp_path: Path) -> None:
    odd = "<img src=x onerror=alert(1)>"
    folder = _folder(tmp_path, {f"{odd}.csv": _numbers(), "ünï cødé & co.csv": _numbers()},
                     {f"{odd}.csv": [[1, 2]]})
    dataset = CSVDirDataset(tmp_path / "elsewhere", str(folder))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        names = dataset.signal_names()
        assert set(names) == {odd, "ünï cødé & co"}
        signal = dataset.load_signal(odd)
    assert signal.name == odd and signal.anomalies == [(1.0, 2.0)]
    prepared = preprocess(signal)
    assert len(prepared.test) == 10


def test_natural_order_and_hidden_files(tmp_path: Path) -> None:
    _folder(tmp_path, {"s_10.csv": _numbers(), "s_2.csv": _numbers(), ".s_1.csv": "x"}, {})
    with pytest.warns(DataWarning, match="no entry for 2 file"):
        assert CSVDirDataset(tmp_path, "mine").signal_names() == ["s_2", "s_10"]
    assert sorted(["real_10", "real_2", "Real_1"], key=natural_key) == [
        "Real_1", "real_2", "real_10"
    ]


def test_missing_folder_labels_and_entries(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no folder given"):
        CSVDirDataset(tmp_path, None).signal_names()
    with pytest.raises(DataError, match="not found") as info:
        CSVDirDataset(tmp_path, "nowhere").signal_names()
    assert str(tmp_path / "nowhere") in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no \*\.csv file"):
        CSVDirDataset(tmp_path, "empty").signal_names()

    _folder(tmp_path, {"a.csv": _numbers(), "b.csv": _numbers()})
    with pytest.warns(DataWarning, match="labels.json: no labels file"):
        CSVDirDataset(tmp_path, "mine").signal_names()
    _folder(tmp_path, {}, {"a.csv": [[1, 2]], "typo.csv": [[1, 2]], "sub/x.csv": []})
    dataset = CSVDirDataset(tmp_path, "mine")
    with pytest.warns(DataWarning) as record:
        assert dataset.signal_names() == ["a", "b", "typo"]  # the listed file stays planned
    messages = " | ".join(str(w.message) for w in record)
    assert "labels.json: no entry for 1 file(s), which have no labelled anomaly: 'b.csv'" \
        in messages
    assert "entries naming no CSV file of the folder ignored (1): 'sub/x.csv'" in messages
    assert dataset.missing_signals() == ["typo"]
    with pytest.raises(DataError, match="typo.csv: listed in labels.json .* but missing on disk"):
        dataset.load_signal("typo")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # the listing's notes are not repeated
        assert dataset.load_signal("b").anomalies == []


def test_unknown_signal_lists_valid_names(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a.csv": _numbers()}, {})
    with pytest.raises(DataError, match="unknown signal 'zz'; valid names: a"):
        _load(folder, "zz")
    with pytest.raises(DataError, match="unknown signal"):
        _load(folder, "../mine/a")


# ------------------------------------------------------------------ bad data: repaired + warned


def test_unsorted_rows_are_sorted(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"u.csv": "timestamp,value\n0,0\n2,2\n1,1\n3,3\n"},
                     {"u.csv": []})
    with pytest.warns(DataWarning, match=r"u\.csv: rows are not sorted.*line 4.*sorted"):
        signal = _load(folder, "u")
    assert signal.test_index.tolist() == [0, 1, 2, 3]
    assert signal.test[:, 0].tolist() == [0, 1, 2, 3]


def test_duplicate_timestamps_are_averaged(tmp_path: Path) -> None:
    text = "timestamp,value\n0,1\n1,2\n1,4\n1,nan\n2,5\n"
    folder = _folder(tmp_path, {"dup.csv": text}, {})
    with pytest.warns(DataWarning) as record:
        signal = _load(folder, "dup")
    messages = " | ".join(str(w.message) for w in record)
    assert "dup.csv: 1 duplicate timestamp(s) over 3 rows (first at line 4)" in messages
    assert "averaged" in messages
    assert signal.test_index.tolist() == [0, 1, 2]
    assert signal.test[:, 0].tolist() == [1, 3, 5]


def test_missing_values_kept_as_nan(tmp_path: Path) -> None:
    text = "timestamp,value\n0,1\n1,\n2,NaN\n3,null\n4\n5,inf\n6,2\n"
    folder = _folder(tmp_path, {"gaps.csv": text}, {})
    with pytest.warns(DataWarning) as record:
        signal = _load(folder, "gaps")
    messages = [str(w.message) for w in record]
    assert any("gaps.csv: 4 missing or NaN cell(s) in column 'value' (first at line 3) kept as "
               "NaN" in m for m in messages)
    assert any("gaps.csv: 1 infinite cell(s) in column 'value' (first at line 7) replaced by "
               "NaN" in m for m in messages)
    assert np.isnan(signal.test[1:6, 0]).all()
    assert signal.test[[0, 6], 0].tolist() == [1, 2]
    prepared = preprocess(signal)  # imputation fills them
    assert np.isfinite(prepared.test).all()


def test_blank_lines_and_crlf_are_fine(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {}, {"crlf.csv": []})
    (folder / "crlf.csv").write_bytes(b"\xef\xbb\xbftimestamp,value\r\n\r\n0,1\r\n1,2\r\n\r\n")
    signal = _load(folder, "crlf")
    assert signal.test[:, 0].tolist() == [1, 2]


def test_labels_clipped_dropped_and_merged(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"l.csv": _numbers()},
                     {"l.csv": [[-5, 1], [3, 5], [4, 6], [20, 30]]})
    with pytest.warns(DataWarning) as record:
        signal = _load(folder, "l")
    messages = " | ".join(str(w.message) for w in record)
    assert "labels.json: entry 'l.csv': 1 label interval(s) partly outside" in messages
    assert "[-5, 1]" in messages and "clipped" in messages
    assert "entirely outside the signal's range [0, 9] dropped: [20, 30]" in messages
    assert "merged" in messages
    assert signal.anomalies == [(0.0, 1.0), (3.0, 6.0)]


def test_tidy_intervals_without_problems_is_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tidy_intervals("f", [(5, 6), (1, 2)], np.arange(10)) == [(1.0, 2.0), (5.0, 6.0)]


# ------------------------------------------------------------- bad data: the signal fails


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty file"),
        ("   \n\n", "empty file"),
        ("timestamp,value\n", "no data rows"),
        ("time,value\n0,1\n", "line 1: missing column 'timestamp' or 'timestamps'"),
        ("timestamp,val\n0,1\n", "line 1: missing column 'value'"),
        ("timestamp,value\n0,1\n1,2\n2,abc\n", "line 4: non-numeric value cell 'abc'"),
        ("timestamp,value\n0,1\n,2\n", "line 3: missing timestamp"),
        ("timestamp,value\n0,1\n1x,2\n", "line 3: unparseable timestamp '1x'"),
        ("timestamp,value\n0,1\ninf,2\n", "line 3: unparseable timestamp 'inf'"),
        (
            "timestamp,value\n2015-01-01 00:00:00,1\n2015-01-01 00:05:00,1\n"
            "2015-01-01 00:10:00,1\n2015-13-45 00:00:00,2\n",
            "line 5: unparseable timestamp '2015-13-45 00:00:00'",
        ),
        ("timestamp,value\n2015-01-01,1\nnow,2\n", "line 3: unparseable timestamp 'now'"),
    ],
)
def test_bad_csv_fails_naming_file_line_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    folder = _folder(tmp_path, {"bad.csv": text}, {})
    with pytest.raises(DataError) as info:
        _quiet_load(folder, "bad")
    message = str(info.value)
    assert str(folder / "bad.csv") in message
    assert expected in message


def test_binary_and_non_utf8_files_fail(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {}, {})
    (folder / "latin.csv").write_bytes(b"timestamp,value\n0,1\n1,caf\xe9\n")
    (folder / "nul.csv").write_bytes(b"timestamp,value\n0,1\x00\n")
    with pytest.raises(DataError, match=r"latin\.csv: line 3: not UTF-8"):
        _load(folder, "latin")
    with pytest.raises(DataError, match=r"nul\.csv: line 2: contains a NUL byte"):
        _load(folder, "nul")


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ("{not json", "labels.json: line 1: invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"x.csv": 5}, "entry 'x.csv': expected a list of [start, end] windows"),
        ({"x.csv": [[1, 2, 3]]}, "entry 'x.csv': window 1: expected [start, end]"),
        ({"x.csv": [[1, 2], [5, "soon"]]}, "window 2: unparseable end 'soon'"),
        ({"x.csv": [[5, 2]]}, "window 1: start 5 is after end 2"),
        ({"x.csv": [[True, 2]]}, "window 1: unparseable start True"),
        ('{"x.csv": [[NaN, 2]]}', "window 1: unparseable start nan"),
    ],
)
def test_bad_labels_fail_naming_the_labels_file(
    tmp_path: Path, labels: object, expected: str
) -> None:
    folder = _folder(tmp_path, {"x.csv": _numbers()}, labels)
    with pytest.raises(DataError) as info:
        _quiet_load(folder, "x")
    assert str(folder / "labels.json") in str(info.value)
    assert expected in str(info.value)
