"""Tests of the ``yahoo`` loader (Webscope S5) on small files written in the documented layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchbench.data import DataError
from benchbench.data.loaders.common import DataWarning
from benchbench.data.loaders.yahoo import YahooDataset

A1 = "timestamp,value,is_anomaly\n" + "".join(
    f"{t},{v},{int(t in (4, 5, 6, 9))}\n" for t, v in zip(range(1, 13), range(100, 112))
)
A3 = "timestamps,value,anomaly,changepoint,trend,noise,seasonality1\n" + "".join(
    f"{1416722400 + 3600 * i},{i * 0.1:.2f},{int(i == 11)},0,0,0,0\n" for i in range(12)
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "yahoo"
    for folder in ("A1Benchmark", "A2Benchmark", "A3Benchmark", "A4Benchmark"):
        (root / folder).mkdir(parents=True)
    for n in (1, 2, 10):
        (root / "A1Benchmark" / f"real_{n}.csv").write_text(A1)
    (root / "A2Benchmark" / "synthetic_1.csv").write_text(A1)
    (root / "A3Benchmark" / "A3Benchmark-TS1.csv").write_text(A3)
    (root / "A3Benchmark" / "A3Benchmark_all.csv").write_text(A3)  # not a series: skipped
    (root / "A4Benchmark" / "A4Benchmark-TS2.csv").write_text(A3)
    return tmp_path


def test_subsets_and_names(data_dir: Path) -> None:
    dataset = YahooDataset(data_dir, None)
    assert dataset.present()
    assert dataset.signal_names() == [
        "A1Benchmark/real_1", "A1Benchmark/real_2", "A1Benchmark/real_10",
        "A2Benchmark/synthetic_1", "A3Benchmark/A3Benchmark-TS1", "A4Benchmark/A4Benchmark-TS2",
    ]  # fmt: skip
    assert YahooDataset(data_dir, "A1").signal_names()[-1] == "A1Benchmark/real_10"
    assert YahooDataset(data_dir, "a3+A4Benchmark").signal_names() == [
        "A3Benchmark/A3Benchmark-TS1", "A4Benchmark/A4Benchmark-TS2"
    ]
    assert YahooDataset(data_dir, "A1/real_2").signal_names() == ["A1Benchmark/real_2"]
    with pytest.raises(DataError, match="unknown subset 'A5'"):
        YahooDataset(data_dir, "A5")


def test_runs_of_flags_become_closed_intervals(data_dir: Path) -> None:
    signal = YahooDataset(data_dir, "A1").load_signal("A1Benchmark/real_10")
    assert signal.anomalies == [(4.0, 6.0), (9.0, 9.0)]
    np.testing.assert_array_equal(signal.test_index, np.arange(1, 13))
    assert signal.test_index.dtype == np.int64
    np.testing.assert_array_equal(signal.test[:, 0], np.arange(100, 112))
    np.testing.assert_array_equal(signal.train, signal.test)
    assert signal.interval is None and signal.kind == ""


def test_a3_columns_and_last_row_flag(data_dir: Path) -> None:
    signal = YahooDataset(data_dir, "A3").load_signal("A3Benchmark/A3Benchmark-TS1")
    last = 1416722400 + 3600 * 11
    assert signal.anomalies == [(float(last), float(last))]
    assert signal.test.shape == (12, 1)


def test_archive_folder_in_between(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "nested" / "yahoo").mkdir(parents=True)
    (data_dir / "yahoo").rename(
        tmp_path / "nested" / "yahoo" / "ydata-labeled-time-series-anomalies-v1_0"
    )
    dataset = YahooDataset(tmp_path / "nested", "A2")
    assert dataset.signal_names() == ["A2Benchmark/synthetic_1"]
    assert dataset.load_signal("A2Benchmark/synthetic_1").anomalies == [(4.0, 6.0), (9.0, 9.0)]


def test_missing_copy_tells_how_to_get_it(tmp_path: Path) -> None:
    dataset = YahooDataset(tmp_path, None)
    assert not dataset.present()
    with pytest.raises(DataError) as info:
        dataset.signal_names()
    message = str(info.value)
    assert "https://webscope.sandbox.yahoo.com/" in message
    assert "S5 - A Labeled Anomaly Detection Dataset" in message
    assert "--data-dir" in message and "redistribution" in message
    assert str(tmp_path / "yahoo") in message


def test_bad_rows(data_dir: Path) -> None:
    path = data_dir / "yahoo" / "A1Benchmark" / "real_2.csv"
    path.write_text("timestamp,value,is_anomaly\n3,1,0\n1,2,1\n2,,\n2,4,0\n")
    with pytest.warns(DataWarning) as record:
        signal = YahooDataset(data_dir, "A1").load_signal("A1Benchmark/real_2")
    messages = " | ".join(str(w.message) for w in record)
    assert "real_2.csv: 1 missing label cell(s) (first at line 4)" in messages
    assert "real_2.csv: rows are not sorted" in messages
    assert "real_2.csv: 1 duplicate timestamp(s)" in messages
    assert signal.test_index.tolist() == [1, 2, 3]
    assert signal.test[:, 0].tolist() == [2, 4, 1]
    assert signal.anomalies == [(1.0, 1.0)]

    path.write_text("timestamp,value,is_anomaly\n1,1,0\n2,2,yes\n")
    with pytest.raises(DataError, match=r"real_2\.csv: line 3: non-numeric label cell 'yes'"):
        YahooDataset(data_dir, "A1").load_signal("A1Benchmark/real_2")
    path.write_text("timestamp,value\n1,1\n")
    with pytest.raises(DataError, match=r"real_2\.csv: line 1: missing column 'is_anomaly'"):
        YahooDataset(data_dir, "A1").load_signal("A1Benchmark/real_2")
