"""Tests of the ``nasa`` loader (SMAP / MSL) on small files written in the documented layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchbench.data import DataError
from benchbench.data.loaders.common import DataWarning
from benchbench.data.loaders.nasa import NASADataset, parse_sequences

LABELS = (
    "chan_id,spacecraft,anomaly_sequences,class,num_values\n"
    'P-1,SMAP,"[[20, 29], [5, 9]]","[contextual, point]",40\n'
    "S-1,SMAP,\"[[30, 44]]\",[point],40\n"
    "M-6,MSL,\"[[0, 3]]\",[contextual],30\n"
)


def _arrays(n: int, features: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    arr = np.zeros((n, features))
    arr[:, 0] = rng.uniform(-1, 1, n)
    if features > 1:
        arr[:, 1:] = rng.integers(0, 2, (n, features - 1))
    return arr


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "nasa"
    (root / "train").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "labeled_anomalies.csv").write_text(LABELS)
    for i, (chan, n_train, n_test, features) in enumerate(
        [("P-1", 50, 40, 25), ("S-1", 60, 40, 25), ("M-6", 20, 30, 55)]
    ):
        np.save(root / "train" / f"{chan}.npy", _arrays(n_train, features, i))
        np.save(root / "test" / f"{chan}.npy", _arrays(n_test, features, 10 + i))
    return tmp_path


def test_selection_by_spacecraft_and_channel(data_dir: Path) -> None:
    assert NASADataset(data_dir, None).signal_names() == ["P-1", "S-1", "M-6"]
    assert NASADataset(data_dir, "SMAP").signal_names() == ["P-1", "S-1"]
    assert NASADataset(data_dir, "msl").signal_names() == ["M-6"]
    assert NASADataset(data_dir, "MSL+P-1").signal_names() == ["P-1", "M-6"]
    assert NASADataset(data_dir, "SMAP+all_channels").signal_names() == ["P-1", "S-1"]
    assert NASADataset(data_dir, "all_channels").signal_names() == ["P-1", "S-1", "M-6"]
    with pytest.raises(DataError, match="unknown channel.*'X-9'"):
        NASADataset(data_dir, "X-9").signal_names()


def test_train_test_split_value_column_and_labels(data_dir: Path) -> None:
    dataset = NASADataset(data_dir, "SMAP")
    assert dataset.present()
    signal = dataset.load_signal("P-1")
    train = np.load(data_dir / "nasa" / "train" / "P-1.npy")
    test = np.load(data_dir / "nasa" / "test" / "P-1.npy")
    assert signal.train.shape == (50, 1) and signal.test.shape == (40, 1)
    np.testing.assert_array_equal(signal.train[:, 0], train[:, 0])
    np.testing.assert_array_equal(signal.test[:, 0], test[:, 0])
    np.testing.assert_array_equal(signal.train_index, np.arange(50))
    np.testing.assert_array_equal(signal.test_index, np.arange(40))
    assert signal.test_index.dtype == np.int64
    assert signal.anomalies == [(5.0, 9.0), (20.0, 29.0)]  # sorted
    assert signal.interval is None
    assert signal.kind == "contextual+point"
    assert signal.source == str(data_dir / "nasa" / "test" / "P-1.npy")


def test_all_channels_by_subset_or_keyword(data_dir: Path) -> None:
    for dataset in (NASADataset(data_dir, "MSL+all_channels"),
                    NASADataset(data_dir, "MSL", all_channels=True)):
        signal = dataset.load_signal("M-6")
        assert signal.train.shape == (20, 55) and signal.test.shape == (30, 55)
        assert signal.kind == "contextual"


def test_labels_beyond_the_test_array_are_clipped(data_dir: Path) -> None:
    with pytest.warns(DataWarning, match=r"labeled_anomalies\.csv: line 3 .*'S-1'.*clipped"):
        signal = NASADataset(data_dir, "S-1").load_signal("S-1")
    assert signal.anomalies == [(30.0, 39.0)]


def test_missing_files(tmp_path: Path, data_dir: Path) -> None:
    empty = NASADataset(tmp_path / "void", None)
    assert not empty.present()
    with pytest.raises(DataError, match="no labeled_anomalies.csv") as info:
        empty.signal_names()
    assert str(tmp_path / "void" / "nasa") in str(info.value)
    (data_dir / "nasa" / "train" / "S-1.npy").unlink()
    dataset = NASADataset(data_dir, None)
    assert dataset.signal_names() == ["P-1", "S-1", "M-6"]  # still planned
    assert dataset.missing_signals() == ["S-1"]
    with pytest.raises(DataError, match=r"train/S-1\.npy: channel 'S-1' is listed in "
                                        r"labeled_anomalies\.csv but missing on disk"):
        dataset.load_signal("S-1")
    with pytest.raises(DataError, match="unknown signal 'Z-1'; valid names: P-1, S-1, M-6"):
        NASADataset(data_dir, None).load_signal("Z-1")
    for name in ("P-1", "M-6", "S-1"):
        (data_dir / "nasa" / "test" / f"{name}.npy").unlink()
    with pytest.raises(DataError, match="no train/test arrays of the selected channels"):
        NASADataset(data_dir, None).signal_names()


def test_bad_arrays(data_dir: Path) -> None:
    root = data_dir / "nasa"
    test = _arrays(40, 25, 3)
    test[4, 0] = np.nan
    test[6, 0] = np.inf
    np.save(root / "test" / "P-1.npy", test)
    with pytest.warns(DataWarning) as record:
        signal = NASADataset(data_dir, None).load_signal("P-1")
    messages = " | ".join(str(w.message) for w in record)
    assert "test/P-1.npy: 1 NaN value(s) (first at row 4) kept as NaN" in messages
    assert "test/P-1.npy: 1 infinite value(s) (first at row 6) replaced by NaN" in messages
    assert np.isnan(signal.test[[4, 6], 0]).all()

    np.save(root / "test" / "P-1.npy", _arrays(40, 3, 3))
    with pytest.raises(DataError, match=r"test/P-1\.npy: 3 column\(s\), but .*train/P-1\.npy"):
        NASADataset(data_dir, None).load_signal("P-1")
    (root / "test" / "P-1.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match=r"test/P-1\.npy: not a readable \.npy array"):
        NASADataset(data_dir, None).load_signal("P-1")
    np.save(root / "test" / "P-1.npy", np.array(["a", "b"]))
    with pytest.raises(DataError, match="expected numbers"):
        NASADataset(data_dir, None).load_signal("P-1")
    np.save(root / "test" / "P-1.npy", np.zeros((0, 25)))
    with pytest.raises(DataError, match="empty array"):
        NASADataset(data_dir, None).load_signal("P-1")


def test_bad_label_rows(data_dir: Path) -> None:
    labels = data_dir / "nasa" / "labeled_anomalies.csv"
    labels.write_text(LABELS + "T-1,SMAP,\"__import__('os')\",[point],40\n"
                      "T-2,SMAP,\"[[9, 3]]\",[point],40\n")
    for chan in ("T-1", "T-2"):
        for part in ("train", "test"):
            np.save(data_dir / "nasa" / part / f"{chan}.npy", _arrays(40, 25, 0))
    dataset = NASADataset(data_dir, None)
    with pytest.raises(DataError, match=r"labeled_anomalies\.csv: line 5: anomaly_sequences"):
        dataset.load_signal("T-1")
    with pytest.raises(DataError, match="line 6.*starts after it ends"):
        dataset.load_signal("T-2")
    assert dataset.load_signal("P-1").anomalies  # the other rows still load
    labels.write_text("chan_id,spacecraft,class\nP-1,SMAP,[point]\n")
    with pytest.raises(DataError, match="line 1: missing column 'anomaly_sequences'"):
        NASADataset(data_dir, None).signal_names()


def test_duplicate_channel_rows_are_combined(data_dir: Path) -> None:
    labels = data_dir / "nasa" / "labeled_anomalies.csv"
    labels.write_text(LABELS + "S-1,SMAP,\"[[1, 2]]\",[point],40\n")
    dataset = NASADataset(data_dir, "SMAP")
    with pytest.warns(DataWarning, match=r"'S-1' is listed 2 times \(lines 3, 5\)"):
        assert dataset.signal_names() == ["P-1", "S-1"]
    with pytest.warns(DataWarning, match="clipped"):
        signal = dataset.load_signal("S-1")
    assert signal.anomalies == [(1.0, 2.0), (30.0, 39.0)]


def test_parse_sequences_is_safe() -> None:
    assert parse_sequences("[[2149, 2349], [4536, 4844]]") == [(2149, 2349), (4536, 4844)]
    assert parse_sequences("((1, 2),)") == [(1, 2)]
    assert parse_sequences("[]") == []
    for bad in ("__import__('os').system('true')", "[[1, 2.5]]", "[[1]]", "[1, 2]", "{}",
                "[[true, 2]]", "[" * 500 + "]" * 500, "[[1e400, 2]]"):
        with pytest.raises(ValueError):
            parse_sequences(bad)
