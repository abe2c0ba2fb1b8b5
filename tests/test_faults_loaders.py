"""Faults in the data on disk and in fetching it: files a corpus lists but that are missing, files
the loaders cannot read, notes about a corpus as a whole, and fetch messages. Each case gives one
message naming the file and what to do; a run records one failed job for a missing file and goes
on with the others.

The catalogue of every case and what the user sees is docs/faults.md.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.data import DataError
from benchbench.data.fetch import FetchFailed, fetch
from benchbench.data.loaders import CSVDirDataset, NABDataset, NASADataset, csvdir
from benchbench.data.loaders.common import DataWarning

SHARED_NAB = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"  # as conftest
needs_nab = pytest.mark.skipif(
    not (SHARED_NAB / "combined_windows.json").is_file(),
    reason=f"the shared NAB corpus is not at {SHARED_NAB} (a plain clone has no ../shared)",
)

ROWS = "timestamp,value\n" + "".join(
    f"2015-01-01 00:{m:02d}:00,{m % 7}\n" for m in range(0, 60, 2)
)


def bench(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def records_of(out: Path) -> dict[str, dict]:
    (run_dir,) = out.iterdir()
    records = [json.loads(p.read_text()) for p in (run_dir / "records").glob("*.json")]
    return {r["signal"]: r for r in records}


def small_nab(root: Path, names=("s1", "s2", "s3"), folder="realTraffic") -> Path:
    """A NAB-layout corpus under ``root/nab`` whose windows file lists every one of ``names``."""
    (root / "nab" / folder).mkdir(parents=True)
    for name in names:
        (root / "nab" / folder / f"{name}.csv").write_text(ROWS)
    windows = {f"{folder}/{name}.csv": [["2015-01-01 00:10:00", "2015-01-01 00:12:00"]]
               for name in names}
    (root / "nab" / "combined_windows.json").write_text(json.dumps(windows))
    return root / "nab" / folder


def linked_nab(root: Path, leave_out: str | None = None) -> Path:
    """``root/nab``: the shared corpus file by file as symlinks, without ``leave_out``."""
    nab = root / "nab"
    for path in SHARED_NAB.rglob("*"):
        rel = path.relative_to(SHARED_NAB)
        if path.is_file() and rel.as_posix() != leave_out:
            (nab / rel).parent.mkdir(parents=True, exist_ok=True)
            (nab / rel).symlink_to(path)
    return nab


# ------------------------------------------------------------- listed but missing on disk


def test_nab_file_listed_but_missing_fails_its_job_and_the_run_goes_on(tmp_path):
    folder = small_nab(tmp_path / "data")
    (folder / "s2.csv").unlink()
    out = tmp_path / "out"
    result = bench("run", "--detectors", "zscore", "--datasets", "nab:Traf", "--data-dir",
                   str(tmp_path / "data"), "--executor", "serial", "--quiet", "--no-plots",
                   "--output", str(out))
    assert result.exit_code == 1, result.output
    records = records_of(out)
    assert sorted(records) == ["realTraffic/s1", "realTraffic/s2", "realTraffic/s3"]  # planned
    assert [records[s]["status"] for s in sorted(records)] == ["ok", "failed", "ok"]
    failed = records["realTraffic/s2"]
    assert failed["stage"] == "load"
    message = f"{folder / 's2.csv'}: listed in combined_windows.json but missing on disk"
    assert message in failed["error"] and "bench datasets fetch nab" in failed["error"]
    assert message in result.output and "bench datasets fetch nab" in result.output


@needs_nab
def test_nab_art_with_one_file_deleted_via_the_cli(tmp_path):
    data = tmp_path / "data"
    (data / "nab").mkdir(parents=True)
    shutil.copytree(SHARED_NAB / "artificialWithAnomaly", data / "nab" / "artificialWithAnomaly")
    shutil.copy(SHARED_NAB / "combined_windows.json", data / "nab")
    gone = data / "nab" / "artificialWithAnomaly" / "art_daily_jumpsdown.csv"
    gone.unlink()
    out = tmp_path / "out"
    result = bench("run", "--detectors", "zscore", "--datasets", "nab:Art", "--data-dir",
                   str(data), "--executor", "serial", "--quiet", "--no-plots", "--output", str(out))
    assert result.exit_code == 1, result.output
    records = records_of(out)
    assert len(records) == 6
    failed = [r for r in records.values() if r["status"] == "failed"]
    assert [r["signal"] for r in failed] == ["artificialWithAnomaly/art_daily_jumpsdown"]
    assert f"{gone}: listed in combined_windows.json but missing on disk" in failed[0]["error"]
    assert sum(r["status"] == "ok" for r in records.values()) == 5
    assert "bench datasets fetch nab" in result.output


@needs_nab
def test_datasets_list_counts_present_and_planned_signals(tmp_path):
    linked_nab(tmp_path / "full")
    result = bench("datasets", "list", "--data-dir", str(tmp_path / "full"))
    assert result.exit_code == 0 and "nab: 58 signals, present" in result.output
    linked_nab(tmp_path / "part", leave_out="realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv")
    result = bench("datasets", "list", "--data-dir", str(tmp_path / "part"))
    assert result.exit_code == 0
    assert "nab: 57 of 58 signals present (incomplete)" in result.output


def test_nab_listing_api_keeps_the_missing_signal(tmp_path):
    folder = small_nab(tmp_path)
    (folder / "s3.csv").unlink()
    dataset = NABDataset(tmp_path, "Traf")
    assert dataset.signal_names() == ["realTraffic/s1", "realTraffic/s2", "realTraffic/s3"]
    assert dataset.missing_signals() == ["realTraffic/s3"]
    assert dataset.present()
    with pytest.raises(DataError) as info:
        dataset.load_signal("realTraffic/s3")
    assert str(folder / "s3.csv") in str(info.value)
    assert "listed in combined_windows.json" in str(info.value)
    # a single listed signal selected alone, file missing: said when listing (nothing to run)
    with pytest.raises(DataError, match="s3.csv: listed in combined_windows.json but missing"):
        NABDataset(tmp_path, "realTraffic/s3").signal_names()


def test_nab_with_no_file_of_the_selection_on_disk_fails_when_planning(tmp_path):
    folder = small_nab(tmp_path)
    for path in folder.iterdir():
        path.unlink()
    result = bench("run", "--detectors", "zscore", "--datasets", "nab:Traf", "--data-dir",
                   str(tmp_path), "--executor", "serial", "--quiet", "--output",
                   str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert "no CSV files in folder(s) realTraffic" in result.output
    assert "bench datasets fetch nab" in result.output


def test_nasa_channel_listed_but_arrays_missing(tmp_path):
    import numpy as np

    root = tmp_path / "nasa"
    (root / "train").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "labeled_anomalies.csv").write_text(
        "chan_id,spacecraft,anomaly_sequences,class,num_values\n"
        'A-1,SMAP,"[[2, 4]]",[point],20\nA-2,SMAP,"[[2, 4]]",[point],20\n'
    )
    for part in ("train", "test"):
        np.save(root / part / "A-1.npy", np.ones((20, 1)))
    np.save(root / "train" / "A-2.npy", np.ones((20, 1)))
    dataset = NASADataset(tmp_path, None)
    assert dataset.signal_names() == ["A-1", "A-2"]
    assert dataset.missing_signals() == ["A-2"]
    with pytest.raises(DataError) as info:
        dataset.load_signal("A-2")
    message = str(info.value)
    assert str(root / "test" / "A-2.npy") in message and "train" not in message.split(":")[0]
    assert "listed in labeled_anomalies.csv but missing on disk" in message


def test_csv_labels_entry_without_file_is_a_failed_job(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.csv").write_text(ROWS)
    (folder / "labels.json").write_text(json.dumps({"a.csv": [], "gone.csv": []}))
    out = tmp_path / "out"
    result = bench("run", "--detectors", "zscore", "--datasets", f"csv:{folder}", "--executor",
                   "serial", "--quiet", "--no-plots", "--output", str(out))
    assert result.exit_code == 1, result.output
    records = records_of(out)
    assert records["a"]["status"] == "ok" and records["gone"]["status"] == "failed"
    assert (f"{folder / 'gone.csv'}: listed in labels.json (entry 'gone.csv') but missing on disk"
            in records["gone"]["error"])


def test_csv_folder_without_labels_has_no_listing(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.csv").write_text(ROWS)
    dataset = CSVDirDataset(tmp_path, "mine")
    with pytest.warns(DataWarning, match="no labels file"):
        assert dataset.signal_names() == ["a"]
    assert dataset.missing_signals() == []
    assert "nothing to compare" in csvdir.__doc__


# -------------------------------------------------------------------------- files themselves


def test_upper_case_csv_suffix_is_read(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "LOUD.CSV").write_text(ROWS)
    (folder / "b.csv").write_text(ROWS)
    window = ["2015-01-01 00:10:00", "2015-01-01 00:12:00"]
    (folder / "labels.json").write_text(json.dumps({"LOUD.CSV": [window], "b.csv": []}))
    dataset = CSVDirDataset(tmp_path, "mine")
    assert dataset.signal_names() == ["b", "LOUD"]
    signal = dataset.load_signal("LOUD")
    assert signal.source == str(folder / "LOUD.CSV") and len(signal.test) == 30
    assert len(signal.anomalies) == 1  # its labels.json entry found by the file's name


def test_same_stem_in_two_cases_keeps_one_and_says_which(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.csv").write_text(ROWS)
    (folder / "a.CSV").write_text(ROWS)
    (folder / "labels.json").write_text(json.dumps({"a.csv": []}))
    dataset = CSVDirDataset(tmp_path, "mine")
    with pytest.warns(DataWarning) as record:
        assert dataset.signal_names() == ["a"]
    messages = " | ".join(str(w.message) for w in record)
    assert str(folder) in messages and "ignored (1)" in messages
    assert "a.CSV (as a.csv)" in messages or "a.csv (as a.CSV)" in messages


def test_latin1_file_names_the_file_and_suggests_utf8(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "café.csv").write_bytes("timestamp,value\n0,1\n1,2 caf\xe9\n".encode("latin-1"))
    (folder / "labels.json").write_text("{}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(DataError) as info:
            CSVDirDataset(tmp_path, "mine").load_signal("café")
    message = str(info.value)
    assert message.startswith(str(folder / "café.csv"))
    assert "line 3: not UTF-8 text" in message and "re-encode the file as UTF-8" in message
    assert "iconv -f latin1 -t utf-8" in message


# ---------------------------------------------------------------------- notes, once per run


def test_stray_labels_entry_warns_once_per_run_not_per_job(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.csv").write_text(ROWS)
    (folder / "labels.json").write_text(json.dumps({"a.csv": [], "sub/x.csv": []}))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = bench("run", "--detectors", "zscore", "--datasets", f"csv:{folder}",
                       "--seeds", "0,1", "--executor", "serial", "--quiet", "--no-plots",
                       "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    messages = [str(w.message) for w in record if issubclass(w.category, DataWarning)]
    stray = [m for m in messages if "entries naming no CSV file" in m]
    assert len(stray) == 1 and "'sub/x.csv'" in stray[0] and str(folder) in stray[0]
    unlabelled = [m for m in messages if "no entry for" in m]
    assert len(unlabelled) == 1 and "'b.csv', 'c.csv'" in unlabelled[0]
    (run_dir,) = (tmp_path / "out").iterdir()
    assert len(list((run_dir / "records").glob("*.json"))) == 6  # 3 signals x 2 seeds


# ------------------------------------------------------------------------------------- fetch


def _manifest(tmp_path: Path, files: dict[str, bytes]) -> Path:
    lines = [f"{hashlib.sha256(data).hexdigest()}  {upstream}" for upstream, data in files.items()]
    path = tmp_path / "manifest.sha256"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_mirror_without_the_upstream_layout_gets_a_hint_and_no_part_talk(tmp_path):
    files = {"data/realTraffic/s1.csv": b"timestamp,value\n", "labels/combined_windows.json": b"{}"}
    mirror = tmp_path / "flat"
    mirror.mkdir()
    for upstream, data in files.items():  # flat: the files without their folders
        (mirror / upstream.rsplit("/", 1)[1]).write_bytes(data)
    with pytest.raises(FetchFailed) as info:
        fetch("nab", tmp_path / "data", mirror=mirror.as_uri(), progress=False,
              manifest=_manifest(tmp_path, files))
    message = str(info.value)
    tried = f"{mirror.as_uri()}/data/realTraffic/s1.csv"
    assert f"not found: {tried}" in message
    assert "a mirror must serve the upstream layout" in message
    assert "<mirror>/<upstream path>" in message
    assert message.count("a mirror must serve") == 1  # said for the first file only
    assert ".part" not in message and "rerun the same command" in message
    assert not list((tmp_path / "data").rglob("*.part"))


def test_bench_datasets_fetch_with_a_wrong_mirror(tmp_path):
    (tmp_path / "empty").mkdir()
    result = bench("datasets", "fetch", "nab", "--mirror", (tmp_path / "empty").as_uri(),
                   "--data-dir", str(tmp_path / "data"), "--quiet")
    assert result.exit_code == 1
    assert "a mirror must serve the upstream layout of nab" in result.output
    assert (tmp_path / "empty").as_uri() in result.output and ".part" not in result.output


def test_a_partial_download_is_named_as_a_part_file(tmp_path, monkeypatch):
    import benchbench.data.fetch as fetch_module

    class Dropping:
        status = 200
        headers = {"Content-Length": "100"}
        sent = False

        def read(self, size):
            if self.sent:
                raise ConnectionResetError("reset by peer")
            self.sent = True
            return b"x" * 10

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def close(self):
            pass

    monkeypatch.setattr(fetch_module, "urlopen", lambda *a, **k: Dropping())
    files = {"data/realTraffic/s1.csv": b"y" * 100}
    with pytest.raises(FetchFailed) as info:
        fetch("nab", tmp_path / "data", mirror="http://mirror.invalid/", progress=False,
              manifest=_manifest(tmp_path, files))
    message = str(info.value)
    assert "10 bytes kept in s1.csv.part" in message
    assert "1 partial download(s) kept as .part files: rerun the same command" in message
    assert (tmp_path / "data" / "nab" / "realTraffic" / "s1.csv.part").stat().st_size == 10
