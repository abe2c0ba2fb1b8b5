"""Tests of the ``nab`` loader: against the shared NAB corpus (skipped when absent) and against
small corpora written in the same layout."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from benchbench.data import DataError
from benchbench.data.loaders.common import DataWarning
from benchbench.data.loaders.nab import ALIASES, FOLDERS, NABDataset

SHARED_NAB = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"  # as conftest

needs_nab = pytest.mark.skipif(
    not (SHARED_NAB / "combined_windows.json").is_file(),
    reason=f"the shared NAB corpus is not at {SHARED_NAB} (a plain clone has no ../shared)",
)


@pytest.fixture
def nab_root(tmp_path: Path) -> Path:
    """A data root whose nab/ is a symlink to the shared corpus."""
    (tmp_path / "nab").symlink_to(SHARED_NAB, target_is_directory=True)
    return tmp_path


def _unix(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(*args)


# ------------------------------------------------------------------------------ shared corpus


@needs_nab
def test_all_58_signals_and_folder_counts(nab_root: Path) -> None:
    dataset = NABDataset(nab_root, None)
    assert dataset.present()
    names = dataset.signal_names()
    assert len(names) == 58 == len(set(names))
    assert "artificialWithAnomaly/art_daily_jumpsup" in names
    counts = {folder: sum(n.startswith(folder + "/") for n in names) for folder in FOLDERS}
    assert counts == {
        "artificialNoAnomaly": 5, "artificialWithAnomaly": 6, "realAdExchange": 6,
        "realAWSCloudwatch": 17, "realKnownCause": 7, "realTraffic": 7, "realTweets": 10,
    }  # fmt: skip
    assert NABDataset(nab_root, "").signal_names() == names


@needs_nab
@pytest.mark.parametrize(
    ("alias", "count"), [("Art", 6), ("AWS", 17), ("AdEx", 6), ("Traf", 7), ("Tweets", 10)]
)
def test_aliases_resolve(nab_root: Path, alias: str, count: int) -> None:
    names = NABDataset(nab_root, alias).signal_names()
    assert len(names) == count
    assert all(n.startswith(ALIASES[alias] + "/") for n in names)
    assert NABDataset(nab_root, alias.lower()).signal_names() == names
    assert NABDataset(nab_root, ALIASES[alias]).signal_names() == names


@needs_nab
def test_several_subsets_with_plus(nab_root: Path) -> None:
    names = NABDataset(nab_root, "Art+realKnownCause+Art").signal_names()
    assert len(names) == 6 + 7
    assert names[0].startswith("artificialWithAnomaly/")
    one = NABDataset(nab_root, "Tweets+artificialNoAnomaly/art_flatline").signal_names()
    assert one[-1] == "artificialNoAnomaly/art_flatline" and len(one) == 11


@needs_nab
def test_art_signals_load_with_their_windows(nab_root: Path) -> None:
    windows = json.loads((SHARED_NAB / "combined_windows.json").read_text())
    dataset = NABDataset(nab_root, "Art")
    for name in dataset.signal_names():
        signal = _quiet(dataset.load_signal, name)
        assert signal.name == name
        assert signal.source.endswith(f"{name}.csv")
        assert signal.kind == ""
        assert signal.interval == 600
        idx = signal.test_index
        assert idx.dtype == np.int64 and signal.train_index.dtype == np.int64
        assert np.all(np.diff(idx) > 0)
        assert 1.3e9 < idx[0] < 1.5e9  # Unix seconds in 2014/2015
        np.testing.assert_array_equal(signal.train, signal.test)
        np.testing.assert_array_equal(signal.train_index, idx)
        assert signal.test.shape == (len(idx), 1) and signal.test.dtype == np.float64
        assert np.isfinite(signal.test).all()
        assert len(signal.anomalies) == len(windows[f"{name}.csv"]) >= 1
        for start, end in signal.anomalies:
            assert idx[0] <= start <= end <= idx[-1]


@needs_nab
def test_first_window_matches_the_json(nab_root: Path) -> None:
    signal = NABDataset(nab_root, "Art").load_signal("artificialWithAnomaly/art_daily_jumpsup")
    windows = json.loads((SHARED_NAB / "combined_windows.json").read_text())
    start, end = windows["artificialWithAnomaly/art_daily_jumpsup.csv"][0]
    assert signal.anomalies == [(_unix(start), _unix(end))]
    assert signal.test_index[0] == _unix("2014-04-01 00:00:00") == 1396310400


@needs_nab
def test_adexchange_interval_is_an_hour(nab_root: Path) -> None:
    dataset = NABDataset(nab_root, "AdEx")
    signal = _quiet(dataset.load_signal, dataset.signal_names()[0])
    assert signal.interval == 3600


@needs_nab
def test_unknown_signal_lists_valid_names(nab_root: Path) -> None:
    dataset = NABDataset(nab_root, "Art")
    with pytest.raises(DataError, match="unknown signal") as info:
        dataset.load_signal("artificialWithAnomaly/nope")
    assert "artificialWithAnomaly/art_daily_jumpsup" in str(info.value)


@needs_nab
def test_root_keyword_and_labels_subfolder(tmp_path: Path) -> None:
    root = tmp_path / "copy"
    (root / "labels").mkdir(parents=True)
    (root / "artificialWithAnomaly").symlink_to(SHARED_NAB / "artificialWithAnomaly")
    (root / "labels" / "combined_windows.json").symlink_to(SHARED_NAB / "combined_windows.json")
    dataset = NABDataset(tmp_path / "elsewhere", "Art", root=root)
    assert dataset.present()
    assert len(dataset.load_signal("artificialWithAnomaly/art_daily_nojump").anomalies) == 1


# ------------------------------------------------------------------------- without the corpus


def test_missing_folder_says_where_and_how(tmp_path: Path) -> None:
    dataset = NABDataset(tmp_path, None)  # constructing reads nothing
    assert not dataset.present()
    with pytest.raises(DataError) as info:
        dataset.signal_names()
    message = str(info.value)
    assert str(tmp_path / "nab") in message
    assert "bench datasets fetch nab" in message and "--data-dir" in message


def test_unknown_subset_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown subset 'Bogus'") as info:
        NABDataset(tmp_path, "Art+Bogus")
    assert "realTweets" in str(info.value) and "Tweets = realTweets" in str(info.value)


def _small_corpus(tmp_path: Path, rows: str, windows: object, name: str = "s1") -> Path:
    folder = tmp_path / "nab" / "realTraffic"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.csv").write_text(rows)
    (tmp_path / "nab" / "combined_windows.json").write_text(json.dumps(windows))
    return folder / f"{name}.csv"


ROWS = "timestamp,value\n" + "".join(
    f"2015-01-01 00:{m:02d}:00,{m}\n" for m in range(0, 60, 5)
)
T0 = 1420070400  # 2015-01-01 00:00:00 UTC


def test_small_corpus_labels_in_unix_seconds(tmp_path: Path) -> None:
    _small_corpus(tmp_path, ROWS, {"realTraffic/s1.csv": [
        ["2015-01-01 00:10:00.000000", "2015-01-01 00:20:00.000000"]]})
    signal = NABDataset(tmp_path, "Traf").load_signal("realTraffic/s1")
    assert signal.test_index[0] == T0 and signal.test_index[-1] == T0 + 55 * 60
    assert signal.anomalies == [(T0 + 600, T0 + 1200)]
    assert signal.test[:3, 0].tolist() == [0, 5, 10]


def test_windows_outside_are_clipped_or_dropped(tmp_path: Path) -> None:
    _small_corpus(tmp_path, ROWS, {"realTraffic/s1.csv": [
        ["2014-12-31 23:00:00", "2015-01-01 00:07:00"],
        ["2016-01-01 00:00:00", "2016-01-02 00:00:00"],
    ]})
    dataset = NABDataset(tmp_path, "realTraffic")
    with pytest.warns(DataWarning) as record:
        signal = dataset.load_signal("realTraffic/s1")
    messages = " | ".join(str(w.message) for w in record)
    assert "combined_windows.json" in messages
    assert "partly outside" in messages and "clipped" in messages
    assert "entirely outside" in messages and "dropped" in messages
    assert signal.anomalies == [(T0, T0 + 420)]


def test_missing_entry_warns_and_missing_windows_file_fails(tmp_path: Path) -> None:
    _small_corpus(tmp_path, ROWS, {})
    dataset = NABDataset(tmp_path, "Traf")
    with pytest.warns(DataWarning, match=r"no entry for 1 file\(s\) on disk.*'realTraffic/s1.csv'"):
        assert dataset.signal_names() == ["realTraffic/s1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # said once, by the listing, not per load
        assert dataset.load_signal("realTraffic/s1").anomalies == []
    (tmp_path / "nab" / "combined_windows.json").unlink()
    with pytest.raises(DataError, match="no combined_windows.json"):
        NABDataset(tmp_path, "Traf").signal_names()


def test_bad_windows_entry_names_the_labels_file(tmp_path: Path) -> None:
    _small_corpus(tmp_path, ROWS, {"realTraffic/s1.csv": [["2015-01-01 00:20:00", "yesterday"]]})
    with pytest.raises(DataError) as info:
        NABDataset(tmp_path, "Traf").load_signal("realTraffic/s1")
    message = str(info.value)
    assert "combined_windows.json" in message and "realTraffic/s1.csv" in message
    assert "window 1" in message and "unparseable end 'yesterday'" in message


def test_selected_folder_missing(tmp_path: Path) -> None:
    _small_corpus(tmp_path, ROWS, {})
    with pytest.raises(DataError, match="realTweets"):
        NABDataset(tmp_path, "Tweets").signal_names()
    with pytest.warns(DataWarning, match="neither on disk nor listed in combined_windows.json"):
        assert NABDataset(tmp_path, None).signal_names() == ["realTraffic/s1"]
