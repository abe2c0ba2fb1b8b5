"""Real data's quirks: a channel constant in its train part, and values too large to scale.

A constant train part is valid input: it is scaled with the documented fallback
(:func:`benchbench.data.preprocessing.fit_scaler`), every built-in detector fits and scores it,
and a departure from that level ranks highest. Only a signal constant in both parts fails, and a
value that cannot be scaled fails its job with one message naming the file, the line and the
problem. Each CLI case checks the exit status, the message, that no traceback is shown and that
the run's other records are written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.data.synthetic import SyntheticDataset
from benchbench.detector import BaseDetector
from benchbench.run.records import RunStore

CONSTANT = "constant_train_1"


def bench(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def run(out: Path, detectors: str, datasets: str, *extra: str):
    result = bench("run", "--detectors", detectors, "--datasets", datasets, "--executor",
                   "serial", "--quiet", "--no-plots", "--output", str(out), *extra)
    (run_dir,) = out.iterdir()
    records = {(r["signal"], r["detector"]): r for r in RunStore(run_dir).load_records()}
    return result, run_dir, records


def departure_ranks_highest(run_dir: Path, record: dict) -> tuple[float, float]:
    """The highest score inside the labelled departure and outside it."""
    arrays = np.load(run_dir / record["artifacts"]["scores"])
    index, scores = arrays["index"], arrays["scores"]
    ((start, end),) = record["expected"]
    inside = (index >= start) & (index <= end)
    return float(scores[inside].max()), float(scores[~inside].max())


def write_csv(folder: Path, name: str, values: list[str], labels: list | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    path.write_text("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in enumerate(values)))
    entries = json.loads((folder / "labels.json").read_text()) if (
        folder / "labels.json").exists() else {}
    entries[path.name] = labels or []
    (folder / "labels.json").write_text(json.dumps(entries))
    return path


def sine(n: int = 200) -> list[str]:
    return [f"{np.sin(t / 5):.6f}" for t in range(n)]


# -------------------------------------------------------------------- constant train part


def test_constant_train_part_scores_and_ranks_the_departure_highest(tmp_path):
    result, run_dir, records = run(tmp_path / "out", "zscore", f"synthetic:{CONSTANT}")
    assert result.exit_code == 0, result.output
    record = records[(CONSTANT, "zscore")]
    assert record["status"] == "ok", record["error"]
    inside, outside = departure_ranks_highest(run_dir, record)
    assert inside > outside


@pytest.mark.slow
def test_constant_train_part_in_every_built_in_detector(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHBENCH_LOAD_PLUGINS", "")  # the built-in detectors only
    result, run_dir, records = run(tmp_path / "out", "all", f"synthetic:{CONSTANT}")
    assert result.exit_code == 0, result.output
    detectors = {detector for _, detector in records}
    assert detectors == {"autoencoder", "vae", "lstm_ar", "tadgan", "gan", "zscore"}
    for (_, detector), record in records.items():
        assert record["status"] == "ok", record["error"]
        inside, outside = departure_ranks_highest(run_dir, record)
        assert inside > outside, (detector, inside, outside)


def nasa_root(tmp_path: Path, train: np.ndarray, test: np.ndarray) -> Path:
    """A NASA corpus of one channel ``C-1`` labelled anomalous at test steps 30..39."""
    root = tmp_path / "data" / "nasa"
    (root / "train").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "labeled_anomalies.csv").write_text(
        "chan_id,spacecraft,anomaly_sequences,class,num_values\n"
        f'C-1,SMAP,"[[30, 39]]",[point],{len(test)}\n'
    )
    np.save(root / "train" / "C-1.npy", train)
    np.save(root / "test" / "C-1.npy", test)
    return tmp_path / "data"


def test_constant_telemetry_channel_from_a_loader_scores(tmp_path):
    test = np.zeros((100, 1))
    test[30:40] = 1.0  # a command channel at 0 in training, switched on in the test part
    data = nasa_root(tmp_path, np.zeros((200, 1)), test)
    result, run_dir, records = run(tmp_path / "out", "zscore", "nasa:C-1", "--data-dir",
                                   str(data))
    assert result.exit_code == 0, result.output
    record = records[("C-1", "zscore")]
    assert record["status"] == "ok", record["error"]
    inside, outside = departure_ranks_highest(run_dir, record)
    assert inside > outside


def test_constant_fit_input_passes_the_detector_input_checks():
    class Probe(BaseDetector):
        def __init__(self, random_state=0):
            self.random_state = random_state

    probe = Probe()
    constant = np.zeros((50, 2))
    assert probe._check_magnitude(probe._validate(constant, fitting=True)) is not None
    assert probe.n_channels_ == 2


# ----------------------------------------------------------------------- errors that remain


def test_both_parts_constant_fails_that_job_only(tmp_path):
    folder = tmp_path / "mine"
    flat = write_csv(folder, "flat", ["3.5"] * 50)
    write_csv(folder, "wave", sine())
    result, _, records = run(tmp_path / "out", "zscore", f"csv:{folder}")
    assert result.exit_code == 1, result.output
    failed = records[("flat", "zscore")]
    assert failed["status"] == "failed" and failed["stage"] == "preprocess"
    assert str(flat) in failed["error"] and "'flat'" in failed["error"]
    assert "both parts are constant (train 3.5, test 3.5)" in failed["error"]
    assert "both parts are constant" in result.output
    assert records[("wave", "zscore")]["status"] == "ok"


def test_values_whose_range_overflows_name_the_file_and_line(tmp_path):
    folder = tmp_path / "mine"
    values = sine(100)
    values[40], values[70] = "-1e308", "1e308"  # lines 42 and 72 (after the header)
    huge = write_csv(folder, "huge", values)
    write_csv(folder, "wave", sine())
    result, _, records = run(tmp_path / "out", "zscore", f"csv:{folder}")
    assert result.exit_code == 1, result.output
    failed = records[("huge", "zscore")]
    assert failed["status"] == "failed" and failed["stage"] == "preprocess"
    error = failed["error"]
    assert f"{huge}: line 72: signal 'huge', train part, channel 0" in error
    assert "-1e+308 (line 42) to 1e+308" in error and "past float64's largest number" in error
    assert "NaN or infinite" not in error  # not the detector's "impute them first"
    assert "line 72" in result.output
    assert records[("wave", "zscore")]["status"] == "ok"


def test_the_line_named_is_the_value_s_own_line_in_an_unsorted_file(tmp_path):
    from benchbench.data import DataError
    from benchbench.data.loaders.common import DataWarning
    from benchbench.data.loaders.csvdir import CSVDirDataset
    from benchbench.data.preprocessing import preprocess

    folder = tmp_path / "mine"
    rows = [(t, f"{np.sin(t / 5):.6f}") for t in range(60)]
    rows[10], rows[50] = rows[50], rows[10]  # out of order: sorted by the loader
    rows.insert(20, (19, "0.5"))  # a duplicate timestamp: averaged by the loader
    rows[45] = (rows[45][0], "-1e308")  # line 47
    rows[55] = (rows[55][0], "1e308")  # line 57
    folder.mkdir()
    (folder / "odd.csv").write_text("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in rows))
    (folder / "labels.json").write_text('{"odd.csv": []}')
    with pytest.warns(DataWarning):
        signal = CSVDirDataset(tmp_path, str(folder)).load_signal("odd")
    with pytest.raises(DataError, match=r"odd.csv: line 57: .* the values span -1e\+308 "
                                        r"\(line 47\) to 1e\+308"):
        preprocess(signal)


def test_test_value_scaling_past_the_limit_names_the_file_and_row(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.uniform(0, 1, (200, 1))
    test = rng.uniform(0, 1, (100, 1))
    test[57] = 5e9  # 5e9 train ranges away: a corrupt value
    data = nasa_root(tmp_path, train, test)
    result, _, records = run(tmp_path / "out", "zscore", "nasa:C-1", "--data-dir", str(data))
    assert result.exit_code == 1, result.output
    error = records[("C-1", "zscore")]["error"]
    test_file = data / "nasa" / "test" / "C-1.npy"
    assert f"{test_file}: signal 'C-1', test part, row 58 (timestamp 57), channel 0" in error
    assert "value 5e+09 scales to" in error and "beyond the ±1e+06 the detectors accept" in error
    assert "row 58 (timestamp 57)" in result.output


def test_synthetic_suite_holds_the_constant_train_signal():
    names = SyntheticDataset().signal_names()
    assert len(names) == 17 and CONSTANT in names
    assert SyntheticDataset(subset="constant_train").signal_names() == [CONSTANT]
