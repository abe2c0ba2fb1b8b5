"""bench compare: per-dataset F1 differences between two runs, judged against the seed spread."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.files import write_json
from benchbench.report.compare import (
    COLUMNS,
    CompareError,
    compare_runs,
    comparison,
    comparison_markdown,
)
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


def signals(n: int, comps: tuple, detector: str = "ae", seeds=(0, 1)) -> list[dict]:
    return [make_record("d", f"s{i}", detector, seed, comps) for i in range(n) for seed in seeds]


def test_paired_wilcoxon_over_the_shared_signals(tmp_path):
    # B finds both anomalies of each of 8 signals, A one of two: 8 of 8 signals better in B
    a = fake_run(tmp_path / "a", signals(8, (1, 1, 1, 2)))
    b = fake_run(tmp_path / "b", signals(8, (2, 2, 2, 2)))
    row = compare_runs(a, b).iloc[0]
    assert row["signals"] == 8 and row["wilcoxon_p"] == pytest.approx(2 / 2**8)
    assert row["effect"] == pytest.approx(1.0)
    reverse = compare_runs(b, a).iloc[0]
    assert reverse["effect"] == pytest.approx(-1.0) and reverse["wilcoxon_p"] == row["wilcoxon_p"]
    same = compare_runs(a, a).iloc[0]
    assert (same["wilcoxon_p"], same["effect"]) == (1.0, 0.0) and same["verdict"] == "noise"


def test_few_signals_are_never_significant(tmp_path):
    # 5 signals all better: the smallest two-sided p there is, 2 / 2**5 > 0.05
    a = fake_run(tmp_path / "a", signals(5, (1, 1, 1, 2)))
    b = fake_run(tmp_path / "b", signals(5, (2, 2, 2, 2)))
    row = compare_runs(a, b).iloc[0]
    assert row["verdict"] == "beyond noise" and row["wilcoxon_p"] == pytest.approx(1 / 16)


def test_a_failed_job_leaves_its_signal_out_of_the_test(tmp_path):
    recs_b = signals(8, (2, 2, 2, 2))
    recs_b[0] = make_record("d", "s0", "ae", 0, None)
    a = fake_run(tmp_path / "a", signals(8, (1, 1, 1, 2)))
    b = fake_run(tmp_path / "b", recs_b)
    result = comparison(a, b)
    assert result.table.loc[0, "wilcoxon_p"] == pytest.approx(2 / 2**7)  # 7 signals tested
    assert ("the paired tests leave out 1 (signal, detector) pair with a failed job (or no "
            "value) in A or B") in result.notes


def test_metric_chooses_what_is_compared(tmp_path):
    # make_record's point-adjusted metric is always perfect: no difference on it
    a = fake_run(tmp_path / "a", signals(8, (1, 1, 1, 2)))
    b = fake_run(tmp_path / "b", signals(8, (2, 2, 2, 2)))
    result = comparison(a, b, metric="point_adjusted_f1")
    assert result.metric == "point_adjusted"
    row = result.table.iloc[0]
    assert (row["f1_a"], row["f1_b"], row["diff"], row["wilcoxon_p"]) == (1.0, 1.0, 0.0, 1.0)
    text = comparison_markdown(result.table, a, b, result.notes, result.metric)
    assert text.startswith("# point_adjusted F1: b (B) against a (A)")
    header = next(line for line in text.splitlines() if line.startswith("| dataset"))
    assert "| spread | wilcoxon_p | effect | verdict" in " ".join(header.split())
    head = comparison(a, b).table.iloc[0]
    assert head["diff"] == pytest.approx(1.0 - 2 / 3)


def test_unknown_metric_names_it_and_the_run(tmp_path):
    a = fake_run(tmp_path / "a", signals(2, (1, 1, 1, 2)))
    with pytest.raises(CompareError) as err:
        comparison(a, a, metric="nonsense")
    message = str(err.value)
    assert str(a) in message and "'nonsense'" in message and "overlap" in message


def _write_scores(run: Path, records: list[dict], good: bool) -> None:
    """Scores files for make_record's jobs (labels at 50-60 and 120-130 of 200 steps): high
    there when ``good``, else high elsewhere."""
    index = np.arange(200)
    inside = ((index >= 50) & (index <= 60)) | ((index >= 120) & (index <= 130))
    for i, rec in enumerate(records):
        scores = np.where(inside == good, 1.0, 0.0) + 0.001 * ((index * (i + 1)) % 7)
        path = run / rec["artifacts"]["scores"]
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, index=index, values=np.zeros((200, 1)), scores=scores)


def test_score_metric_reads_the_scores_files(tmp_path):
    recs = signals(6, (1, 1, 1, 1), seeds=(0,))
    a, b = fake_run(tmp_path / "a", recs), fake_run(tmp_path / "b", recs)
    _write_scores(a, recs, good=False)
    _write_scores(b, recs, good=True)
    row = compare_runs(a, b, metric="auc_roc").iloc[0]
    assert row["f1_a"] < 0.1 and row["f1_b"] > 0.9 and row["effect"] == pytest.approx(1.0)
    assert row["wilcoxon_p"] == pytest.approx(2 / 2**6)


def test_notes_name_different_settings_and_parameters(tmp_path):
    def run(folder, config, params):
        recs = [{**rec, "params": {**params, "random_state": seed, "device": "cpu"}}
                for seed, rec in enumerate(one_signal({0: (1, 1, 1, 1), 1: (1, 1, 1, 1)}))]
        folder = fake_run(folder, recs)
        write_json(RunStore(folder).config_path, {"detectors": ["ae"], **config})
        return folder

    a = run(tmp_path / "a", {"profile": "paper", "threads": 1}, {"hidden": 100, "step": 1})
    b = run(tmp_path / "b", {"profile": "fast", "threads": 1}, {"hidden": 32, "step": 1})
    notes = comparison(a, b).notes
    assert "the runs ran with different settings: profile A 'paper', B 'fast'" in notes
    assert "ae ran with different parameters: hidden A 100, B 32" in notes
    same = run(tmp_path / "c", {"profile": "paper", "threads": 1}, {"hidden": 100, "step": 1})
    assert not [n for n in comparison(a, same).notes if "different" in n]  # seeds, devices aside
