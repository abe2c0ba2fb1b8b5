"""Coverage is always stated: a planned job without a readable record is `missing`, counted and
named by `bench report`; `bench compare` compares only what both runs have and says what it left
out, and when the runs come from different CPU kinds; names in Markdown tables are escaped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.files import read_json, write_json
from benchbench.report.aggregate import dataset_table
from benchbench.report.build import NAMED_MISSING, load_run_records
from benchbench.report.compare import comparison
from benchbench.report.render import to_markdown, write_tables
from benchbench.run.jobs import Job, job_id
from benchbench.run.records import RunStore

try:  # tests/ as a rootdir-relative folder (default) or as a package
    from test_tables import make_record
except ImportError:  # pragma: no cover
    from tests.test_tables import make_record

SIGNALS = ("clean_1", "mixed_1", "spikes_1")
DATASET = "synthetic:spikes_1+clean_1+mixed_1"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """`bench run` of zscore on three synthetic signals (one job each), made once."""
    out = tmp_path_factory.mktemp("coverage")
    mp = pytest.MonkeyPatch()
    mp.setenv("BENCHBENCH_LOAD_PLUGINS", "")
    try:
        result = invoke("run", "--detectors", "zscore", "--datasets", DATASET, "--quiet",
                        "--no-plots", "--executor", "serial", "--output", str(out))
    finally:
        mp.undo()
    assert result.exit_code == 0, result.output
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


@pytest.fixture
def run(base_run: Path, tmp_path: Path) -> Path:
    """A fresh copy of the three-signal run, to damage."""
    return Path(shutil.copytree(base_run, tmp_path / base_run.name))


def record_of(run_dir: Path, signal: str) -> Path:
    (path,) = (run_dir / "records").glob(f"*__{signal}__zscore__s0*.json")
    return path


def report(run_dir: Path):
    result = invoke("report", str(run_dir), "--no-plots")
    assert "Traceback" not in result.output
    return result


def check_missing_report(run_dir: Path, signal: str, why: str, kept: list[Path]) -> None:
    result = report(run_dir)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "warning: incomplete: 1 of 3 jobs missing" in out
    warned = [line for line in out.splitlines() if line.startswith("warning: missing job")]
    assert len(warned) == 1 and f"/ {signal} / zscore / seed 0" in warned[0] and why in warned[0]
    assert "incomplete: 1 of 3 jobs missing" in out.split("overlap F1 by dataset")[0]
    row = next(line for line in out.splitlines() if "zscore" in line and "/3" in line)
    assert "2/3" in row and "*" in row  # signals scored/planned; F1 over those only
    assert "* over the scored signals only" in out
    # tables: coverage in the numbers and in the text
    table = pd.read_csv(run_dir / "tables" / "f1_by_dataset.csv").iloc[0]
    assert (table["signals_scored"], table["signals"], table["missing"]) == (2, 3, 1)
    md = (run_dir / "tables" / "f1_by_dataset.md").read_text(encoding="utf-8")
    assert "(partial)" in md and "| missing |" in md and "2/3" in md
    assert "incomplete: 1 of 3 jobs missing" in md
    by_signal = (run_dir / "tables" / "f1_by_signal.md").read_text(encoding="utf-8")
    assert next(line for line in by_signal.splitlines() if f"| {signal} " in line).rstrip(
        " |").endswith("missing")
    # results.csv: the job is a row with status missing and the reason
    results = pd.read_csv(run_dir / "results.csv")
    assert len(results) == 3
    gone = results[results["status"] == "missing"]
    assert list(gone["signal"]) == [signal] and why in gone.iloc[0]["error"]
    # the page says it too
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "incomplete: 1 of 3 jobs missing" in page and "Missing jobs" in page
    assert all(path.is_file() for path in kept)  # the other records are still there


def test_deleted_record_is_missing_and_named(run: Path):
    path = record_of(run, "clean_1")
    kept = [record_of(run, s) for s in SIGNALS if s != "clean_1"]
    before = pd.read_csv(run / "tables" / "f1_by_dataset.csv").iloc[0]
    assert before["signals_scored"] == 3 and before["missing"] == 0
    path.unlink()
    check_missing_report(run, "clean_1", "no record", kept)


def test_half_truncated_record_is_missing_and_named(run: Path):
    path = record_of(run, "mixed_1")
    kept = [record_of(run, s) for s in SIGNALS if s != "mixed_1"]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    check_missing_report(run, "mixed_1", f"corrupt record {path}", kept)
    assert path.is_file()  # the report does not delete it; a resumed run replaces it


def test_complete_run_reports_full_coverage(run: Path):
    result = report(run)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and "incomplete" not in result.output
    assert "3/3" in result.output and "*" not in result.output.split("---")[-1]
    assert "3 record(s) of 3 planned job(s)" in result.output


def _fake_run(folder: Path, n_signals: int, recorded: int) -> Path:
    """A run folder planning ``n_signals`` jobs of which the first ``recorded`` have records."""
    store = RunStore(folder)
    write_json(store.config_path, {"detectors": ["ae"]})
    jobs = [Job("d", f"s{i:02d}", "ae", 0, 0) for i in range(n_signals)]
    write_json(store.jobs_path, [job.to_dict() for job in jobs])
    for job in jobs[:recorded]:
        rec = make_record("d", job.signal, "ae", 0, (1, 1, 1, 1))
        rec["job_id"] = job.job_id
        store.write_record(rec, None)
    return folder


def test_many_missing_jobs_named_up_to_a_few_then_counted(tmp_path: Path):
    run_dir = _fake_run(tmp_path / "run", n_signals=9, recorded=1)
    result = report(run_dir)
    assert result.exit_code == 0, result.output
    named = [line for line in result.output.splitlines() if line.startswith("warning: missing job")]
    assert len(named) == NAMED_MISSING
    assert f"... and {8 - NAMED_MISSING} more missing jobs" in result.output
    assert "incomplete: 8 of 9 jobs missing" in result.output
    assert "1/9" in result.output
    assert record_of_fake(run_dir).is_file()


def record_of_fake(run_dir: Path) -> Path:
    return RunStore(run_dir).record_path(job_id("d", "s00", "ae", 0))


def test_corrupt_jobs_json_is_one_usage_error(tmp_path: Path):
    run_dir = _fake_run(tmp_path / "run", n_signals=2, recorded=1)
    (run_dir / "jobs.json").write_text('[{"dataset": "d", ', encoding="utf-8")
    result = report(run_dir)
    assert result.exit_code == 2
    assert "jobs.json" in result.output and "cannot be read" in result.output
    assert record_of_fake(run_dir).is_file()


def test_signal_scored_only_when_every_seed_is_ok():
    records = [make_record("d", "s1", "ae", seed, (1, 1, 1, 1)) for seed in (0, 1)]
    records += [make_record("d", "s2", "ae", 0, (1, 1, 1, 1)),
                make_record("d", "s2", "ae", 1, None)]
    row = dataset_table(records).iloc[0]
    assert (row["signals_scored"], row["signals"], row["failed"], row["missing"]) == (1, 2, 1, 0)


# ------------------------------------------------------------------------------------------------
# bench compare


def _keep_only(run_dir: Path, signals: set[str]) -> Path:
    """Make ``run_dir`` a run of ``signals`` alone: its plan and records."""
    store = RunStore(run_dir)
    jobs = [j for j in read_json(store.jobs_path) if j["signal"] in signals]
    write_json(store.jobs_path, jobs)
    for path in (run_dir / "records").glob("*.json"):
        if read_json(path)["signal"] not in signals:
            path.unlink()
    return run_dir


def _copy(base: Path, to: Path) -> Path:
    return Path(shutil.copytree(base, to))


def test_compare_different_signal_sets_compares_the_shared_jobs(base_run: Path, tmp_path: Path):
    a = _copy(base_run, tmp_path / "a")
    b = _keep_only(_copy(base_run, tmp_path / "b"), {"spikes_1"})
    result = invoke("compare", str(a), str(b))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    first = result.output.splitlines()[0]
    assert first.startswith("note: the runs cover different signals: A 3, B 1")
    assert "(2 only in A, 0 only in B)" in first
    assert "left out: 2 of 3 jobs of A, 0 of 1 job of B" in result.output
    table = pd.read_csv(b / "compare-a.csv")
    assert len(table) == 1 and table.loc[0, "signals"] == 1
    assert table.loc[0, "diff"] == pytest.approx(0.0)  # the same job in both runs
    assert table.loc[0, "verdict"] == "one seed: unknown"
    assert "the runs cover different signals" in (b / "compare-a.md").read_text()
    assert len(list((a / "records").glob("*.json"))) == 3


def test_compare_leaves_out_a_signal_missing_in_one_run(base_run: Path, tmp_path: Path):
    a = _copy(base_run, tmp_path / "a")
    b = _copy(base_run, tmp_path / "b")
    record_of(b, "clean_1").unlink()
    result = comparison(a, b)
    assert not any("different signals" in note for note in result.notes)
    assert any(note.startswith("B is incomplete: 1 of 3 jobs missing") for note in result.notes)
    assert "left out: 1 of 3 jobs of A, 1 of 3 jobs of B" in result.notes[-1]
    assert result.table.loc[0, "signals"] == 2 and result.table.loc[0, "diff"] == 0.0


def _set_cpu(run_dir: Path, model: str | None, capability: str | None) -> None:
    path = run_dir / "environment.json"
    env = json.loads(path.read_text())
    for key, value in (("cpu_model", model), ("cpu_capability", capability)):
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    write_json(path, env)


@pytest.mark.parametrize("cpu_a, cpu_b, expect", [
    (("Xeon X", "AVX512"), ("EPYC Y", "AVX2"), "not bit-comparable across CPU kinds"),
    (("Xeon X", "AVX512"), ("Xeon X", "AVX2"), "not bit-comparable across CPU kinds"),
    (("Xeon X", "AVX512"), ("Xeon X", "AVX512"), None),
    ((None, None), ("Xeon X", "AVX512"), "A unknown, B AVX512 (Xeon X)"),
    ((None, None), (None, None), None),
])
def test_compare_names_different_cpu_kinds(base_run: Path, tmp_path: Path, cpu_a, cpu_b, expect):
    a, b = _copy(base_run, tmp_path / "a"), _copy(base_run, tmp_path / "b")
    _set_cpu(a, *cpu_a)
    _set_cpu(b, *cpu_b)
    result = invoke("compare", str(a), str(b))
    assert result.exit_code == 0 and "Traceback" not in result.output
    cpu_notes = [line for line in result.output.splitlines()
                 if line.startswith("note:") and "CPU kind" in line]
    if expect is None:
        assert cpu_notes == []
    else:
        assert len(cpu_notes) == 1 and expect in cpu_notes[0]
        if "bit-comparable across" in expect:
            assert f"A {cpu_a[1]} ({cpu_a[0]}), B {cpu_b[1]} ({cpu_b[0]})" in cpu_notes[0]


# ------------------------------------------------------------------------------------------------
# Markdown escaping


def test_markdown_tables_escape_html_in_names(tmp_path: Path):
    df = pd.DataFrame({"signal": ["<b>x</b>", "a&b"], "f1": [0.5, 0.25]})
    text = to_markdown(df)
    assert "<b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text and "a&amp;b" in text
    records = [make_record("d", "<b>x</b>", "<i>det</i>", 0, (1, 1, 1, 1))]
    for name, path in write_tables(records, tmp_path).items():
        if name.endswith(".md"):
            md = path.read_text(encoding="utf-8")
            assert "<b>" not in md and "<i>" not in md, name
    assert "&lt;b&gt;x&lt;/b&gt;" in (tmp_path / "f1_by_signal.md").read_text(encoding="utf-8")
    assert "&lt;i&gt;det&lt;/i&gt;" in (tmp_path / "f1_by_dataset.md").read_text(encoding="utf-8")


def test_load_run_records_without_jobs_json_says_coverage_unknown(tmp_path: Path):
    run_dir = _fake_run(tmp_path / "run", n_signals=2, recorded=2)
    (run_dir / "jobs.json").unlink()
    loaded = load_run_records(run_dir)
    assert loaded.n_planned is None and loaded.missing == [] and loaded.n_records == 2
    assert any("jobs.json" in w and "coverage unknown" in w for w in loaded.warnings)
