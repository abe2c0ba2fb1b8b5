"""bench compare: per-dataset F1 differences between two runs, judged against the seed spread."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.files import write_json
from benchbench.report.compare import COLUMNS, CompareError, compare_runs
from benchbench.run.records import RunStore

try:  # tests/ as a rootdir-relative folder (default) or as a package
    from test_tables import make_record
except ImportError:  # pragma: no cover
    from tests.test_tables import make_record


def fake_run(folder: Path, records: list[dict]) -> Path:
    """A run folder holding just a config and the given records."""
    store = RunStore(folder)
    write_json(store.config_path, {"detectors": ["ae"]})
    for rec in records:
        store.write_record(rec, None)
    return folder


def one_signal(f1_by_seed: dict[int, tuple], dataset="d", detector="ae") -> list[dict]:
    return [make_record(dataset, "s1", detector, seed, comps)
            for seed, comps in f1_by_seed.items()]


def test_difference_within_and_beyond_the_seed_spread(tmp_path):
    # A: F1 1.0 and 0.0 over two seeds -> mean 0.5, std 0.5;  B: 0.8 twice -> std 0
    a = fake_run(tmp_path / "a", one_signal({0: (1, 1, 1, 1), 1: (0, 1, 0, 1)})
                 + one_signal({0: (1, 1, 1, 1), 1: (1, 1, 1, 1)}, detector="gan"))
    b = fake_run(tmp_path / "b", one_signal({0: (2, 3, 2, 2), 1: (2, 3, 2, 2)})
                 + one_signal({0: (0, 1, 0, 1), 1: (0, 1, 0, 1)}, detector="gan"))
    df = compare_runs(a, b)
    assert list(df.columns) == COLUMNS
    ae, gan = df.iloc[0], df.iloc[1]
    assert (ae["detector"], gan["detector"]) == ("ae", "gan")
    assert ae["f1_a"] == pytest.approx(0.5) and ae["std_a"] == pytest.approx(0.5)
    assert ae["f1_b"] == pytest.approx(0.8) and ae["diff"] == pytest.approx(0.3)
    assert ae["spread"] == pytest.approx(math.hypot(0.5, 0.0))
    assert ae["verdict"] == "noise"
    assert gan["diff"] == pytest.approx(-1.0) and gan["verdict"] == "beyond noise"


def test_one_seed_and_missing_rows(tmp_path):
    a = fake_run(tmp_path / "a", one_signal({0: (1, 1, 1, 1)}))
    b = fake_run(tmp_path / "b", one_signal({0: (0, 1, 0, 1)})
                 + one_signal({0: (1, 1, 1, 1)}, detector="new"))
    df = compare_runs(a, b).set_index("detector")
    assert df.loc["ae", "verdict"] == "one seed: unknown"
    assert df.loc["new", "verdict"] == "only in B" and df.loc["new", "seeds_a"] == 0


def test_cli_prints_and_writes(tmp_path):
    a = fake_run(tmp_path / "a", one_signal({0: (1, 1, 1, 1), 1: (1, 1, 1, 1)}))
    b = fake_run(tmp_path / "b", one_signal({0: (0, 1, 0, 1), 1: (0, 1, 0, 1)}))
    result = CliRunner().invoke(cli, ["compare", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert "| d" in result.output and "-1.000" in result.output and "beyond noise" in result.output
    md, csv = b / "compare-a.md", b / "compare-a.csv"
    # the notes go to stderr first; the file holds them as a list above the table
    assert result.output.startswith("note: compared 1 (signal, detector) pair")
    assert "left out: 0 of 2 jobs of A, 0 of 2 jobs of B" in result.output
    text = md.read_text()
    notes = [line for line in text.splitlines() if line.startswith("- ")]
    assert notes and all(f"note: {n[2:]}" in result.output for n in notes)
    assert text.splitlines()[0] in result.output  # the title
    assert text[text.index("| dataset"):] in result.output  # the table, as written
    frame = pd.read_csv(csv)
    assert list(frame.columns) == COLUMNS and frame.loc[0, "diff"] == pytest.approx(-1.0)
    out = tmp_path / "elsewhere" / "cmp.md"
    result = CliRunner().invoke(cli, ["compare", str(a), str(b), "--output", str(out)])
    assert result.exit_code == 0 and out.is_file() and out.with_suffix(".csv").is_file()


@pytest.mark.parametrize("which", ["missing", "not_a_run", "empty_run"])
def test_not_a_run_is_a_usage_error(tmp_path, which):
    good = fake_run(tmp_path / "good", one_signal({0: (1, 1, 1, 1)}))
    bad = tmp_path / which
    if which != "missing":
        bad.mkdir()
    if which == "empty_run":
        write_json(bad / "config.json", {})
    with pytest.raises(CompareError):
        compare_runs(good, bad)
    result = CliRunner().invoke(cli, ["compare", str(good), str(bad)])
    assert result.exit_code == 2
    assert str(bad) in result.output and ("not a benchbench run" in result.output
                                          or "no finished job" in result.output)


def test_help():
    result = CliRunner().invoke(cli, ["compare", "--help"])
    assert result.exit_code == 0 and "seed spread" in result.output
