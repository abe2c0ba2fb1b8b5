"""Tests of the ``ucr`` loader on small files named and laid out like the UCR anomaly archive."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchbench.data import DataError
from benchbench.data.loaders.common import DataWarning
from benchbench.data.loaders.ucr import UCRDataset, parse_file_name


def _write(folder: Path, name: str, values: np.ndarray, layout: str = "lines") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if layout == "lines":
        text = "\n".join(f"{v:.6f}" for v in values) + "\n"
    elif layout == "one_line":
        text = "  " + "   ".join(f"{v:.6e}" for v in values) + "\n"
    else:  # several lines of whitespace-separated numbers
        text = "\n".join(
            "\t".join(f"{v:g}" for v in values[i : i + 7]) for i in range(0, len(values), 7)
        )
    path.write_text(text)
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "ucr"
    _write(root, "001_UCR_Anomaly_DISTORTED1sddb40_30_41_45.txt", np.arange(60) * 0.5)
    _write(root / "nested" / "deeper", "002_UCR_Anomaly_BIDMC1_20_31_31.txt",
           np.sin(np.arange(50)), "one_line")
    _write(root, "010_UCR_Anomaly_park3m_with_under_scores_10_15_22.txt",
           np.cos(np.arange(40)), "blocks")
    (root / "README.txt").write_text("not a series")
    return tmp_path


def test_names_selection_and_parsing(data_dir: Path) -> None:
    dataset = UCRDataset(data_dir, None)
    assert dataset.present()
    assert dataset.signal_names() == [
        "001_DISTORTED1sddb40", "002_BIDMC1", "010_park3m_with_under_scores"
    ]
    assert UCRDataset(data_dir, "2").signal_names() == ["002_BIDMC1"]
    assert UCRDataset(data_dir, "001+10").signal_names() == [
        "001_DISTORTED1sddb40", "010_park3m_with_under_scores"
    ]
    assert UCRDataset(data_dir, "1-2").signal_names() == ["001_DISTORTED1sddb40", "002_BIDMC1"]
    assert UCRDataset(data_dir, "002_BIDMC1").signal_names() == ["002_BIDMC1"]
    with pytest.raises(DataError, match="subset entry '99' matches no file"):
        UCRDataset(data_dir, "99").signal_names()
    info = parse_file_name(Path("123_UCR_Anomaly_a_b_c_100_200_300.txt"))
    assert info is not None
    assert (info.number, info.series, info.train_end) == (123, "a_b_c", 100)
    assert (info.anomaly_start, info.anomaly_end) == (200, 300)
    assert parse_file_name(Path("123_UCR_Anomaly_x_1_2.txt")) is None


def test_split_and_label_mapping(data_dir: Path) -> None:
    signal = UCRDataset(data_dir, None).load_signal("001_DISTORTED1sddb40")
    values = np.arange(60) * 0.5
    # train = 1-based positions 1..30 = 0-based [0, 30); test = the rest, full-series positions
    np.testing.assert_allclose(signal.train[:, 0], values[:30])
    np.testing.assert_array_equal(signal.train_index, np.arange(30))
    np.testing.assert_allclose(signal.test[:, 0], values[30:])
    np.testing.assert_array_equal(signal.test_index, np.arange(30, 60))
    assert signal.test_index.dtype == np.int64
    # anomaly 41..45 (1-based) = 0-based [40, 44]: the values 20.0 .. 22.0
    assert signal.anomalies == [(40.0, 44.0)]
    mask = (signal.test_index >= 40) & (signal.test_index <= 44)
    assert signal.test[mask, 0].tolist() == [20.0, 20.5, 21.0, 21.5, 22.0]
    assert signal.interval is None and signal.kind == ""
    assert signal.source.endswith("001_UCR_Anomaly_DISTORTED1sddb40_30_41_45.txt")


def test_whitespace_layouts(data_dir: Path) -> None:
    dataset = UCRDataset(data_dir, None)
    one_line = dataset.load_signal("002_BIDMC1")
    np.testing.assert_allclose(one_line.test[:, 0], np.sin(np.arange(20, 50)), rtol=1e-6)
    assert one_line.anomalies == [(30.0, 30.0)]
    blocks = dataset.load_signal("010_park3m_with_under_scores")
    assert len(blocks.train) == 10 and len(blocks.test) == 30
    assert blocks.anomalies == [(14.0, 21.0)]


def test_missing_folder_and_unknown_name(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(DataError, match="no UCR archive folder") as info:
        UCRDataset(tmp_path / "void", None).signal_names()
    assert str(tmp_path / "void" / "ucr") in str(info.value)
    with pytest.raises(DataError, match="unknown signal '003_x'; valid names: 001_DISTORTED1"):
        UCRDataset(data_dir, None).load_signal("003_x")


def test_bad_files(data_dir: Path) -> None:
    root = data_dir / "ucr"
    (root / "020_UCR_Anomaly_text_3_5_6.txt").write_text("1.0\n2.0\n3.0\nfour\n5\n6\n7\n")
    (root / "021_UCR_Anomaly_empty_3_5_6.txt").write_text("\n \n")
    (root / "022_UCR_Anomaly_short_30_5_6.txt").write_text("1 2 3 4 5 6 7 8 9 10\n")
    (root / "023_UCR_Anomaly_late_3_9_20.txt").write_text("1 2 3\n4 nan 6\n7 inf 9 10\n")
    (root / "024_UCR_Anomaly_reversed_3_8_6.txt").write_text("1 2 3 4 5 6 7 8 9 10\n")
    (root / "025_UCR_Anomaly_intrain_5_1_2.txt").write_text("1 2 3 4 5 6 7 8 9 10\n")
    dataset = UCRDataset(data_dir, "20-25")
    with pytest.raises(DataError, match=r"020_UCR_Anomaly_text_3_5_6\.txt: line 4: non-numeric"):
        dataset.load_signal("020_text")
    with pytest.raises(DataError, match=r"021_UCR_Anomaly_empty_3_5_6\.txt: empty file"):
        dataset.load_signal("021_empty")
    with pytest.raises(DataError, match=r"short_30_5_6\.txt: train end 30 .* 1\.\.9"):
        dataset.load_signal("022_short")
    with pytest.raises(DataError, match=r"reversed_3_8_6\.txt: anomaly start 8 is after"):
        dataset.load_signal("024_reversed")
    with pytest.warns(DataWarning) as record:
        late = dataset.load_signal("023_late")
    messages = " | ".join(str(w.message) for w in record)
    assert "late_3_9_20.txt: 1 missing or NaN value(s) (first at line 2)" in messages
    assert "1 infinite value(s) (first at line 3)" in messages
    assert "partly outside" in messages
    assert late.anomalies == [(8.0, 9.0)]
    assert np.isnan(late.test[[1, 4], 0]).all()
    with pytest.warns(DataWarning, match="entirely outside.*dropped"):
        assert dataset.load_signal("025_intrain").anomalies == []
