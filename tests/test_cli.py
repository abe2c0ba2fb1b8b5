"""The ``bench`` command line: commands, exit codes, --plugins-dir, config, resume after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benchbench.cli import cli, main

SMALL = ["--datasets", "synthetic:spikes_1+clean_1", "--quiet", "--no-plots"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", [[], ["run"], ["list"], ["report"]])
def test_every_command_has_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.parametrize("what, expected", [
    ("detectors", ["autoencoder", "zscore", "benchbench_plugins.autoencoder"]),
    ("datasets", ["synthetic", "benchbench.builtins"]),
    ("metrics", ["overlap", "range_based", "point_adjusted"]),
])
def test_list_shows_name_plugin_and_description(what, expected):
    result = invoke("list", what)
    assert result.exit_code == 0
    for text in expected:
        assert text in result.output


def test_loose_plugin_file_is_listed_and_runs(tmp_path, plugins_dir):
    listed = invoke("--plugins-dir", str(plugins_dir), "list", "detectors")
    assert "absolute" in listed.output and "test_detectors.py" in listed.output
    result = invoke("--plugins-dir", str(plugins_dir), "run", "--detectors", "absolute",
                    "--output", str(tmp_path / "out"), *SMALL)
    assert result.exit_code == 0, result.output
    assert "run folder:" in result.output


def test_failed_job_gives_exit_status_1_and_a_summary(tmp_path, plugins_dir):
    result = CliRunner().invoke(
        cli, ["--plugins-dir", str(plugins_dir), "run", "--detectors", "exploding,absolute",
              "--output", str(tmp_path / "out"), *SMALL])
    assert result.exit_code == 1
    assert "2 job(s) failed" in result.output and "boom in fit" in result.output


@pytest.mark.parametrize("args, message", [
    (["run", "--detectors", "nope"], "unknown detector"),
    (["run", "--seeds", "a,b"], "seeds"),
    (["run", "--set", "novalue"], "DETECTOR.PARAM=VALUE"),
    (["run", "--threshold", "magic"], "unknown threshold"),
    (["run", "--datasets", "nowhere"], "unknown dataset"),
    (["list", "things"], "Invalid value"),
    (["run", "--device", "tpu"], "--device tpu"),
    (["run", "--set", "autoencoder.epoch=3"], "has no parameter 'epoch'"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(cli, [*args, "--output", str(tmp_path)] if args[0] == "run"
                                else args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_cuda_request_without_cuda_is_a_usage_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = CliRunner().invoke(cli, ["run", "--device", "cuda", "--output", str(tmp_path)])
    assert result.exit_code == 2 and "CUDA is not available" in result.output


def test_set_and_config_file_reach_the_detector(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(textwrap.dedent(f"""
        detectors = ["zscore"]
        datasets = ["synthetic:clean_1"]
        output = "{tmp_path / 'out'}"
        [params.zscore]
        window = 20
    """))
    result = invoke("run", "--config", str(config), "--set", "zscore.window=30", "--quiet",
                    "--no-plots")
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "out").iterdir()
    records = list((run_dir / "records").glob("*.json"))
    assert len(records) == 1 and '"window": 30' in records[0].read_text()


def test_resume_rejects_new_run_options(tmp_path):
    (tmp_path / "run").mkdir()
    result = CliRunner().invoke(cli, ["run", "--resume", str(tmp_path / "run"),
                                      "--detectors", "zscore"])
    assert result.exit_code == 2 and "drop detectors" in result.output


def test_report_rebuilds_tables(tmp_path):
    result = invoke("run", "--detectors", "zscore", "--output", str(tmp_path / "out"), *SMALL)
    assert result.exit_code == 0
    (run_dir,) = (tmp_path / "out").iterdir()
    table = run_dir / "tables" / "f1_by_dataset.md"
    before = table.read_text()
    table.unlink()
    rebuilt = invoke("report", str(run_dir), "--no-plots")
    assert rebuilt.exit_code == 0 and table.read_text() == before


def test_main_runs_the_group(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["list", "metrics"])
    assert exc.value.code == 0
    assert "overlap" in capsys.readouterr().out


SLEEPY = '''
import time
from benchbench.hookspecs import hookimpl
from benchbench_plugins.zscore import RollingZScore

class Sleepy(RollingZScore):
    """zscore that takes its time, so a run can be killed midway."""

    def fit(self, X, y=None):
        time.sleep(0.4)
        return super().fit(X, y)

@hookimpl
def register_detectors(register):
    register("sleepy", Sleepy)
'''


def _comparable(run_dir: Path) -> dict[str, pd.DataFrame]:
    tables = {}
    for name in ("f1_by_dataset.csv", "f1_by_signal.csv"):
        frame = pd.read_csv(run_dir / "tables" / name)
        tables[name] = frame[[c for c in frame.columns if "seconds" not in c and "_s_" not in c]]
    results = pd.read_csv(run_dir / "results.csv")
    tables["results"] = results.drop(columns=[c for c in results.columns if "seconds" in c])
    return tables


@pytest.mark.parametrize("executor", [
    [], pytest.param(["--executor", "process", "--workers", "2"], marks=pytest.mark.slow)])
def test_sigkill_midway_then_resume_equals_an_uninterrupted_run(tmp_path, executor):
    plugin_dir = tmp_path / "p"
    plugin_dir.mkdir()
    (plugin_dir / "sleepy.py").write_text(SLEEPY)
    args = ["--plugins-dir", str(plugin_dir), "run", "--detectors", "sleepy,zscore",
            "--datasets", "synthetic:spikes_1+clean_1+level_shift_1+variance_1", "--seeds",
            "0,1", "--quiet", "--no-plots", *executor]
    env = {**os.environ, "BENCHBENCH_LOAD_PLUGINS": ""}
    command = [sys.executable, "-c", "from benchbench.cli import main; main()"]

    killed_out = tmp_path / "killed"
    proc = subprocess.Popen([*command, *args, "--output", str(killed_out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    records: list[Path] = []
    while time.monotonic() < deadline:
        records = list(killed_out.glob("*/records/*.json"))
        if len(records) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (run_dir,) = killed_out.iterdir()
    n_before = len(list((run_dir / "records").glob("*.json")))
    assert 3 <= n_before < 16, "the run should have been killed midway"

    resumed = subprocess.run([*command, "run", "--resume", str(run_dir), "--quiet", "--no-plots",
                              *executor], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    clean = subprocess.run([*command, *args, "--output", str(tmp_path / "clean")], env=env,
                           capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    (clean_dir,) = (tmp_path / "clean").iterdir()

    results = pd.read_csv(run_dir / "results.csv")
    assert len(results) == 16
    assert not results.duplicated(["dataset", "signal", "detector", "seed"]).any()
    assert not list((run_dir / "records").glob(".*.tmp"))
    got, want = _comparable(run_dir), _comparable(clean_dir)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name])


@pytest.mark.parametrize("executor", [
    [], pytest.param(["--executor", "process", "--workers", "2"], marks=pytest.mark.slow)])
def test_ctrl_c_stops_gracefully_and_resume_completes(tmp_path, executor):
    plugin_dir = tmp_path / "p"
    plugin_dir.mkdir()
    (plugin_dir / "sleepy.py").write_text(SLEEPY)
    env = {**os.environ, "BENCHBENCH_LOAD_PLUGINS": ""}
    command = [sys.executable, "-c", "from benchbench.cli import main; main()"]
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*command, "--plugins-dir", str(plugin_dir), "run", "--detectors", "sleepy",
         "--datasets", "synthetic:spikes_1+clean_1+level_shift_1+variance_1", "--output",
         str(out), "--no-plots", *executor],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell that starts a job in the background (`cmd &`, as some CI runners do) makes its
        # children ignore SIGINT, and Python then never raises KeyboardInterrupt: undo that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not list(out.glob("*/records/*.json")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Resume with: bench run --resume" in stderr
    (run_dir,) = out.iterdir()
    kept = len(list((run_dir / "records").glob("*.json")))
    assert 1 <= kept < 4
    resumed = subprocess.run([*command, "run", "--resume", str(run_dir), "--quiet",
                              "--no-plots", *executor], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert len(list((run_dir / "records").glob("*.json"))) == 4
