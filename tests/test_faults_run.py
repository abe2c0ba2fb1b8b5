"""Faults during a run, and a run folder that cannot be used: one message naming the file and the
cause, nothing already written lost, the way back (``--resume``) named, the documented exit status.

The catalogue of every case and what the user sees is docs/faults.md.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.run.driver import RecordWarning
from benchbench.run.records import RunStore

THREE = "synthetic:spikes_1+clean_1+mixed_1"
SLEEPY = '''
import time
import numpy as np
from benchbench import BaseDetector, hookimpl


class Sleepy(BaseDetector):
    def __init__(self, random_state=0):
        self.random_state = random_state

    def fit(self, X, y=None):
        self._validate(X, fitting=True)
        self._start_history()
        time.sleep(1.0)
        self.fitted_ = True
        return self

    def score(self, X):
        X = self._validate(X, fitting=False)
        return np.abs(X).max(axis=1)


@hookimpl
def register_detectors(register):
    register("sleepy", Sleepy)
'''


def bench(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def small_run(out: Path, *extra: str) -> Path:
    result = bench("run", "--detectors", "zscore", "--datasets", THREE, "--executor", "serial",
                   "--quiet", "--no-plots", "--output", str(out), *extra)
    assert result.exit_code == 0, result.output
    (run_dir,) = out.iterdir()
    return run_dir


def records_of(run_dir: Path) -> list[str]:
    return sorted(p.name for p in (run_dir / "records").glob("*.json"))


# ----------------------------------------------------------------------------- disk full


def test_disk_full_while_writing_a_record_keeps_the_others_and_names_the_resume(
        tmp_path, monkeypatch):
    import benchbench.run.records as records

    real = records.write_json
    calls = []

    def write_json(path, data):
        calls.append(Path(path).stem)
        if len(calls) == 2:  # the second record hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(records, "write_json", write_json)
    out = tmp_path / "out"
    result = bench("run", "--detectors", "zscore", "--datasets", THREE, "--executor", "serial",
                   "--quiet", "--no-plots", "--output", str(out))
    assert result.exit_code == 1, result.output
    (run_dir,) = out.iterdir()
    assert "No space left on device" in result.output
    assert f"cannot write {run_dir / 'records' / calls[1]}.json" in result.output
    assert f"bench run --resume {run_dir}" in result.output
    assert "1 record(s) already written are kept" in result.output
    assert records_of(run_dir) == [f"{calls[0]}.json"]
    assert not list((run_dir / "records").glob(".*.tmp"))

    monkeypatch.setattr(records, "write_json", real)
    resumed = bench("run", "--resume", str(run_dir), "--quiet", "--no-plots")
    assert resumed.exit_code == 0, resumed.output
    assert len(records_of(run_dir)) == 3


def test_a_real_write_failure_is_one_line_and_the_records_stay(tmp_path):
    """Not simulated: the record folder made read-only by the file system (a file where the
    scores folder should be), so writing the first record fails for real."""
    out = tmp_path / "out"
    run_dir = small_run(out)
    (run_dir / "records").rename(run_dir / "kept")
    (run_dir / "records").write_text("not a folder")  # writing any record now fails
    result = bench("run", "--resume", str(run_dir), "--quiet", "--no-plots")
    assert result.exit_code == 1, result.output
    assert f"cannot write {run_dir / 'records'}" in result.output
    assert f"bench run --resume {run_dir}" in result.output
    assert len(list((run_dir / "kept").glob("*.json"))) == 3


# ----------------------------------------------------------------------------- unexpected error


def test_an_unexpected_error_is_one_line_with_its_traceback_in_error_log(tmp_path, monkeypatch):
    import benchbench.api as api

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the report")

    monkeypatch.setattr(api, "build_report", broken)
    out = tmp_path / "out"
    result = bench("run", "--detectors", "zscore", "--datasets", THREE, "--executor", "serial",
                   "--quiet", "--no-plots", "--output", str(out))
    assert result.exit_code == 1
    (run_dir,) = out.iterdir()
    assert "Error: RuntimeError while writing the report: a bug in the report" in result.output
    log = run_dir / "error.log"
    assert f"the traceback is in {log}" in result.output
    assert "Traceback" in log.read_text() and "a bug in the report" in log.read_text()
    assert len(records_of(run_dir)) == 3

    shown = CliRunner().invoke(cli, ["-v", "run", "--detectors", "zscore", "--datasets",
                                     "synthetic:spikes_1", "--executor", "serial", "--quiet",
                                     "--no-plots", "--output", str(tmp_path / "v")])
    assert shown.exit_code == 1
    assert "Traceback" in shown.output and "a bug in the report" in shown.output


def test_failed_jobs_tracebacks_are_shown_only_with_verbose(tmp_path, plugins_dir):
    args = ["--plugins-dir", str(plugins_dir), "run", "--detectors", "exploding",
            "--datasets", "synthetic:spikes_1", "--executor", "serial", "--quiet", "--no-plots"]
    quiet = bench(*args, "--output", str(tmp_path / "a"))
    assert quiet.exit_code == 1 and "boom in fit" in quiet.output
    assert "--verbose shows them" in quiet.output
    verbose = CliRunner().invoke(cli, [*args, "--output", str(tmp_path / "b"), "--verbose"])
    assert verbose.exit_code == 1
    assert "Traceback" in verbose.output and "RuntimeError: boom in fit" in verbose.output


# ----------------------------------------------------------------------------- run folder


@pytest.mark.parametrize("name, content, problem", [
    ("config.json", '{"detectors": ["zsc', "cannot be read (invalid JSON at line 1"),
    ("config.json", "[1, 2]", "is not a JSON object"),
    ("jobs.json", '[{"dataset": "synthetic"', "cannot be read (invalid JSON"),
    ("jobs.json", '{"a": 1}', "is not a list of jobs"),
    ("jobs.json", '[{"dataset": "synthetic"}]', "is not a list of jobs"),
])
def test_resume_with_a_corrupt_config_or_job_list_names_the_file(tmp_path, name, content,
                                                                  problem):
    run_dir = small_run(tmp_path / "out")
    (run_dir / name).write_text(content)
    result = bench("run", "--resume", str(run_dir), "--quiet")
    assert result.exit_code == 2, result.output
    assert f"{run_dir / name}: {problem}" in result.output
    assert len(records_of(run_dir)) == 3


def test_resume_names_each_corrupt_record_it_replaces(tmp_path):
    run_dir = small_run(tmp_path / "out")
    first, second, _ = sorted((run_dir / "records").glob("*.json"))
    text = first.read_text()
    first.write_text(text[: len(text) // 2])  # cut in half
    second.write_text(json.dumps({"job_id": "someone_else"}))
    with pytest.warns(RecordWarning) as caught:  # `bench` prints each as one line
        result = bench("run", "--resume", str(run_dir), "--quiet", "--no-plots")
    assert result.exit_code == 0, result.output
    messages = [str(w.message) for w in caught]
    for path in (first, second):
        assert f"{path}: corrupt record (not a readable job record); its job runs again and " \
               "the record is replaced" in messages
        assert json.loads(path.read_text())["status"] == "ok"


# ----------------------------------------------------------------------------- --output


def test_output_under_a_file_is_a_usage_error_before_any_work(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = bench("run", "--detectors", "zscore", "--datasets", THREE, "--quiet",
                   "--output", str(blocker / "results"))
    assert result.exit_code == 2, result.output
    assert f"--output {blocker / 'results'}: cannot create the folder" in result.output
    result = bench("run", "--detectors", "zscore", "--datasets", THREE, "--quiet",
                   "--output", str(blocker))
    assert result.exit_code == 2  # click's own check, naming the option and the path
    assert "'--output'" in result.output and f"{blocker}' is a file" in result.output
    config = tmp_path / "run.toml"  # the same path from a config file: our check
    config.write_text(f'detectors = ["zscore"]\noutput = "{blocker}"\n')
    result = bench("run", "--config", str(config), "--datasets", THREE, "--quiet")
    assert result.exit_code == 2, result.output
    assert f"--output {blocker}: exists and is not a folder" in result.output


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file permissions do not bind root (or this OS)")
def test_read_only_output_is_a_usage_error_before_any_work(tmp_path):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = bench("run", "--detectors", "zscore", "--datasets", THREE, "--quiet",
                       "--output", str(folder))
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 2, result.output
    assert f"--output {folder}: cannot write in the folder" in result.output
    assert list(folder.iterdir()) == []


# ----------------------------------------------------------------------------- SIGTERM


@pytest.mark.parametrize("executor, group", [
    (["--executor", "serial"], False),
    (["--executor", "process", "--workers", "2"], True),  # scancel/timeout: the whole group
])
def test_sigterm_stops_like_ctrl_c_and_resume_completes(tmp_path, executor, group):
    plugin_dir = tmp_path / "p"
    plugin_dir.mkdir()
    (plugin_dir / "sleepy.py").write_text(SLEEPY)
    env = {**os.environ, "BENCHBENCH_LOAD_PLUGINS": ""}
    command = [sys.executable, "-c", "from benchbench.cli import main; main()"]
    out = tmp_path / "out"
    signals = "synthetic:spikes_1+clean_1+level_shift_1+variance_1+mixed_1+amplitude_1"
    proc = subprocess.Popen(
        [*command, "--plugins-dir", str(plugin_dir), "run", "--detectors", "sleepy",
         "--datasets", signals, "--output", str(out), "--no-plots", *executor],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=group)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not list(out.glob("*/records/*.json")):
        time.sleep(0.05)
    if group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "terminated; finished jobs are kept" in stderr
    assert "Traceback" not in stderr
    (run_dir,) = out.iterdir()
    store = RunStore(run_dir)
    kept = store.load_records()
    assert 1 <= len(kept) < 6
    # the workers ended by the same SIGTERM left no 'worker died' records behind
    assert all(r["status"] == "ok" for r in kept), [r["error"] for r in kept]
    assert f"Resume with: bench run --resume {run_dir}" in stderr
    resumed = subprocess.run([*command, "run", "--resume", str(run_dir), "--quiet",
                              "--no-plots", "--executor", "serial"], env=env,
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert len(store.load_records()) == 6


# ----------------------------------------------------------------------------- CPU kind


def test_environment_and_records_name_the_cpu_kind(tmp_path):
    import torch

    run_dir = small_run(tmp_path / "out")
    environment = json.loads((run_dir / "environment.json").read_text())
    capability = torch.backends.cpu.get_cpu_capability()
    assert environment["cpu_capability"] == capability
    assert "cpu_model" in environment
    for record in RunStore(run_dir).load_records():
        assert record["cpu_capability"] == capability
        assert record["cpu_model"] == environment["cpu_model"]


# ----------------------------------------------------------------------------- git commit


def test_git_commit_of_a_checkout_root_and_nothing_elsewhere(tmp_path):
    from benchbench.run.environment import git_commit

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    (repo / "benchbench").mkdir(parents=True)
    tracked = repo / "benchbench" / "x.py"
    tracked.write_text("a = 1\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert git_commit(repo) == {"git_commit": head, "git_dirty": False}
    tracked.write_text("a = 2\n")
    assert git_commit(repo) == {"git_commit": head, "git_dirty": True}
    assert git_commit(repo / "benchbench") == {}  # inside a checkout, but not its root
    assert git_commit(tmp_path) == {}  # not a checkout


def test_environment_json_records_the_commit_when_run_from_a_checkout(tmp_path):
    from benchbench.run.environment import git_commit

    expected = git_commit()
    run_dir = small_run(tmp_path / "out")
    environment = json.loads((run_dir / "environment.json").read_text())
    assert {k: environment[k] for k in expected} == expected
    assert ("git_commit" in environment) == bool(expected)
