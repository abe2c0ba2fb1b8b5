"""The leaderboard configs shipped in ``configs/`` run as their comments say, on small files in
each dataset's documented layout (datasets/README.md): ``bench run --config`` plans every
subset, ``bench leaderboard add`` trims the run, and ``bench leaderboard render --config`` shows
each subset with its coverage and Orion 0.7.1's published rows beside it.

The runs use ``--detectors zscore`` (seconds, not hours); the other planned detectors show as
not run yet, which is what the page must say of them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.report.reference import orion_column, orion_rows

try:  # tests/ as a rootdir-relative folder (default) or as a package
    from test_leaderboard import _rows
except ImportError:  # pragma: no cover
    from tests.test_leaderboard import _rows

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN, N_TEST = 300, 300


def _series(n: int, seed: int, spike_at: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.sin(np.arange(n) * 2 * np.pi / 50) + 0.05 * rng.standard_normal(n)
    if spike_at is not None:
        x[spike_at : spike_at + 5] += 4.0
    return x


def _nasa(root: Path) -> dict[str, int]:
    base = root / "nasa"
    (base / "train").mkdir(parents=True)
    (base / "test").mkdir()
    rows = ["chan_id,spacecraft,anomaly_sequences,class,num_values"]
    for i, (chan, craft) in enumerate([("P-1", "SMAP"), ("S-1", "SMAP"), ("M-6", "MSL")]):
        np.save(base / "train" / f"{chan}.npy", _series(N_TRAIN, i)[:, None])
        np.save(base / "test" / f"{chan}.npy", _series(N_TEST, 10 + i, spike_at=150)[:, None])
        rows.append(f'{chan},{craft},"[[150, 154]]",[point],{N_TEST}')
    (base / "labeled_anomalies.csv").write_text("\n".join(rows) + "\n")
    return {"nasa:SMAP": 2, "nasa:MSL": 1}


def _yahoo(root: Path) -> dict[str, int]:
    n = N_TRAIN + N_TEST
    flags = np.zeros(n, dtype=int)
    flags[450:455] = 1
    values = _series(n, 0, spike_at=450)
    a1 = "timestamp,value,is_anomaly\n" + "".join(
        f"{t + 1},{v:.6f},{f}\n" for t, (v, f) in enumerate(zip(values, flags)))
    a3 = "timestamps,value,anomaly,changepoint,trend,noise,seasonality1\n" + "".join(
        f"{1416722400 + 3600 * t},{v:.6f},{f},0,0,0,0\n"
        for t, (v, f) in enumerate(zip(values, flags)))
    files = {"A1Benchmark/real_1.csv": a1, "A2Benchmark/synthetic_1.csv": a1,
             "A3Benchmark/A3Benchmark-TS1.csv": a3, "A4Benchmark/A4Benchmark-TS1.csv": a3}
    for name, text in files.items():
        path = root / "yahoo" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {"yahoo:A1": 1, "yahoo:A2": 1, "yahoo:A3": 1, "yahoo:A4": 1}


def _ucr(root: Path) -> dict[str, int]:
    base = root / "ucr"
    base.mkdir(parents=True)
    for i in (1, 2):
        values = _series(N_TRAIN + N_TEST, i, spike_at=450)
        name = f"00{i}_UCR_Anomaly_sine{i}_{N_TRAIN}_450_454.txt"
        (base / name).write_text("\n".join(f"{v:.6f}" for v in values) + "\n")
    return {"ucr": 2}


WRITERS = {"nasa": _nasa, "yahoo": _yahoo, "ucr": _ucr}


def _invoke(args: list[str]):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("family", sorted(WRITERS))
def test_config_runs_and_renders_each_subset_beside_orion(family, tmp_path):
    config = ROOT / "configs" / f"leaderboard-{family}.toml"
    planned = tomllib.loads(config.read_text(encoding="utf-8"))
    expected = WRITERS[family](tmp_path / "data")
    assert planned["datasets"] == list(expected)  # the config plans every subset of the family
    assert planned["profile"] == "fast" and planned["seeds"] == [0, 1, 2]

    out = tmp_path / "out"
    _invoke(["run", "--config", str(config), "--detectors", "zscore", "--data-dir",
             str(tmp_path / "data"), "--output", str(out), "--quiet", "--no-plots"])
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    board = tmp_path / f"docs/leaderboard-{family}"
    recorded = "git_commit" in json.loads((run / "environment.json").read_text())
    commit = [] if recorded else ["--commit", "abc1234"]  # a run from a checkout records its own
    _invoke(["leaderboard", "add", str(run), "--name", f"{family}-fast", *commit, "--dir",
             str(board)])
    page_path = tmp_path / f"docs/leaderboard-{family}.md"
    _invoke(["leaderboard", "render", "--config", str(config), "--output", str(page_path),
             str(board / f"{family}-fast.csv")])
    page = page_path.read_text(encoding="utf-8")

    for dataset, n_signals in expected.items():
        rows = {name: [source, *cells] for (name, source), cells in _rows(page, dataset).items()}
        assert f"{n_signals}/{n_signals}" in rows["zscore"]  # every signal, three seeds, scored
        for detector in planned["detectors"]:
            if detector != "zscore":
                assert "not run yet" in " ".join(rows[detector]), (dataset, detector)
        column = orion_column(dataset)
        assert column, dataset  # Orion reports every subset these configs plan
        for orion in orion_rows():
            row = rows[f"Orion 0.7.1: {orion['pipeline']}"]
            assert f"{orion[column]:.3f}" in row, (dataset, orion["pipeline"])
