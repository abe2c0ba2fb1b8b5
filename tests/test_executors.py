"""Executors: serial / process / Dask give the same numbers, dead workers and timeouts are
recorded, GPU placement, repetitions, Ctrl-C and usage errors."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchbench.api import RunError, run_benchmark
from benchbench.cli import cli
from benchbench.config import RunConfig
from benchbench.plugins import load_registries
from benchbench.report.aggregate import dataset_table
from benchbench.run.executors import get_executor
from benchbench.run.executors.dask import dask_available, dask_worker_device
from benchbench.run.executors.placement import slot_devices
from benchbench.run.executors.process import ProcessExecutor
from benchbench.run.jobs import Job, JobResult, derive_random_state, job_id
from benchbench.run.pipeline import torch_threads
from benchbench.run.planning import plan_jobs
from benchbench.run.progress import Progress
from benchbench.run.records import RunStore

THREE = "synthetic:spikes_1+clean_1+level_shift_1"
needs_dask = pytest.mark.skipif(not dask_available(), reason="dask[distributed] not installed")

TROUBLE = '''
import os, signal, time
from benchbench.hookspecs import hookimpl
from benchbench_plugins.zscore import RollingZScore

class Crashing(RollingZScore):
    """Kills its own process on spikes_1 (as the OOM killer or a segfault would)."""

    def fit(self, X, y=None):
        if len(X) == self.crash_length:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(X, y)

class Sleepy(RollingZScore):
    """Sleeps 30 s in fit on spikes_1 (one long call: only ending its process stops it)."""

    def fit(self, X, y=None):
        if len(X) == self.crash_length:
            time.sleep(30)
        return super().fit(X, y)

@hookimpl
def register_detectors(register):
    for cls in (Crashing, Sleepy):
        cls.crash_length = CRASH_LENGTH
        register(cls.__name__.lower(), cls)
'''


def _spikes_train_length() -> int:
    from benchbench.data.preprocessing import preprocess
    from benchbench.data.synthetic import SyntheticDataset

    return len(preprocess(SyntheticDataset(None, "spikes_1").load_signal("spikes_1")).train)


@pytest.fixture(scope="module")
def trouble_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("trouble")
    (folder / "trouble.py").write_text(
        TROUBLE.replace("CRASH_LENGTH", str(_spikes_train_length())))
    return folder


def _config(tmp_path: Path, **kw) -> RunConfig:
    base = dict(detectors=["zscore"], datasets=[THREE], output=str(tmp_path / "results"))
    base.update(kw)
    return RunConfig(**base)


def _run(config: RunConfig, **kw):
    return run_benchmark(config, progress=Progress(quiet=True), plots=False, **kw)


def _records(outcome) -> dict[str, dict]:
    return {r["job_id"]: r for r in RunStore(outcome.summary.run_dir).load_records()}


# --------------------------------------------------------------------------------------------
# same numbers whichever executor runs the jobs
# --------------------------------------------------------------------------------------------


@needs_dask
def test_serial_process_and_dask_give_identical_metrics(tmp_path):
    cfg = _config(tmp_path, detectors=["zscore", "autoencoder"],
                  datasets=["synthetic:spikes_1+clean_1"], seeds=[0, 1],
                  params={"autoencoder": {"epochs": 2, "window_size": 40, "hidden_size": 8,
                                          "batch_size": 32}})
    runs = {
        "serial": _run(cfg),
        "process": _run(cfg, executor="process", executor_options={"workers": 2}),
        "dask": _run(cfg, executor="dask", executor_options={"workers": 2}),
    }
    got = {name: _records(out) for name, out in runs.items()}
    want = got["serial"]
    assert len(want) == 8 and all(r["status"] == "ok" for r in want.values())
    for name in ("process", "dask"):
        assert set(got[name]) == set(want), name
        for jid, rec in want.items():
            other = got[name][jid]
            assert other["executor"] == name and other["threads"] == 1
            for key in ("metrics", "detected", "random_state", "seed", "repetition"):
                assert other[key] == rec[key], (name, jid, key)
    # the tables agree too (fit seconds aside)
    tables = {name: dataset_table(list(recs.values())).drop(columns=["fit_s_mean"])
              for name, recs in got.items()}
    assert tables["process"].equals(tables["serial"]) and tables["dask"].equals(tables["serial"])


@pytest.mark.slow
@needs_dask
def test_dask_attaches_to_an_existing_cluster(tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        cfg = _config(tmp_path)
        out = _run(cfg, executor="dask", executor_options={"scheduler": cluster.scheduler_address})
        records = _records(out)
        assert len(records) == 3 and all(r["status"] == "ok" for r in records.values())
        # jobs asking for a GPU on a cluster that offers none: a clear error, not a hang
        with pytest.raises(RunError, match="resource GPU"):
            _run(_config(tmp_path, device="cuda"), executor="dask",
                 executor_options={"scheduler": cluster.scheduler_address})


# --------------------------------------------------------------------------------------------
# a worker killed by the OS; timeouts
# --------------------------------------------------------------------------------------------


def _check_one_lost(outcome, detector: str, status: str, text: str) -> dict:
    records = _records(outcome)
    assert len(records) == 3
    lost = [r for r in records.values() if r["status"] != "ok"]
    assert len(lost) == 1, [r["error"] for r in lost]
    (rec,) = lost
    assert rec["signal"] == "spikes_1" and rec["status"] == status
    assert text in rec["error"] and detector in rec["error"] and "spikes_1" in rec["error"]
    assert outcome.summary.ok == 2
    return rec


def test_killed_worker_fails_its_job_only(tmp_path, trouble_dir):
    cfg = _config(tmp_path, detectors=["crashing"], plugins_dir=str(trouble_dir))
    out = _run(cfg, executor="process", executor_options={"workers": 2})
    rec = _check_one_lost(out, "crashing", "failed", "SIGKILL")
    assert rec["stage"] == "worker" and "worker process died" in rec["error"]


@pytest.mark.slow
@needs_dask
def test_killed_dask_worker_fails_its_job_only(tmp_path, trouble_dir):
    cfg = _config(tmp_path, detectors=["crashing"], plugins_dir=str(trouble_dir))
    out = _run(cfg, executor="dask", executor_options={"workers": 2})
    rec = _check_one_lost(out, "crashing", "failed", "worker")
    assert rec["stage"] == "worker"


@pytest.mark.parametrize("executor", [
    "serial", "process", pytest.param("dask", marks=[pytest.mark.slow, needs_dask])])
def test_timeout_ends_the_jobs_process_and_the_run_goes_on(tmp_path, trouble_dir, executor):
    args = ["run", "--detectors", "sleepy", "--datasets", THREE, "--timeout", "5",
            "--executor", executor, "--output", str(tmp_path / "results"), "--quiet",
            "--no-plots"]
    if executor != "serial":
        args += ["--workers", "2"]
    result = CliRunner().invoke(cli, ["--plugins-dir", str(trouble_dir), *args])
    assert result.exit_code == 1, result.output
    (run_dir,) = (tmp_path / "results").iterdir()
    records = {r["job_id"]: r for r in RunStore(run_dir).load_records()}
    assert len(records) == 3
    lost = [r for r in records.values() if r["status"] != "ok"]
    assert [r["signal"] for r in lost] == ["spikes_1"], [r["error"] for r in lost]
    (rec,) = lost
    assert rec["status"] == "timeout" and "(limit 5 s)" in rec["error"]
    # the message says how long the job really ran
    assert f"stopped after {rec['elapsed_seconds']:.1f} s" in rec["error"]
    assert "sleepy" in rec["error"] and "spikes_1" in rec["error"]
    # stopped at the limit, not when the 30 s sleep ended
    assert 5 <= rec["elapsed_seconds"] < 15, rec["elapsed_seconds"]


def test_torch_threads_sets_and_restores_the_count():
    import torch

    before = torch.get_num_threads()
    with torch_threads(1) as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_an_idle_worker_that_dies_is_replaced():
    executor = ProcessExecutor(workers=1, threads=None)
    jobs = [Job("d", f"s{i}", "x", 0, i) for i in range(3)]
    results = executor.run(jobs, _device_of)
    first = next(results).record
    os.kill(first["pid"], signal.SIGKILL)  # killed between two jobs
    time.sleep(1.5)  # the pool notices the death before the next job is handed to it
    rest = [r.record for r in results]
    assert [r["job_id"] for r in rest] == [j.job_id for j in jobs[1:]]
    assert all("status" not in r for r in rest)  # ran, not recorded as lost


# --------------------------------------------------------------------------------------------
# GPU placement (fake device counts: no GPU here)
# --------------------------------------------------------------------------------------------


def test_slot_devices_cpu_and_gpu():
    assert slot_devices("cpu", 3, n_gpus=2) == [None, None, None]
    assert slot_devices("auto", 2, n_gpus=0) == [None, None]
    assert slot_devices("auto", None, n_gpus=2) == ["cuda:0", "cuda:1"]
    assert slot_devices("cuda", None, n_gpus=2, jobs_per_gpu=2) == [
        "cuda:0", "cuda:1", "cuda:0", "cuda:1"]
    assert slot_devices("cuda", 3, n_gpus=2, jobs_per_gpu=2) == ["cuda:0", "cuda:1", "cuda:0"]
    assert slot_devices("cuda", 8, n_gpus=2, jobs_per_gpu=1) == ["cuda:0", "cuda:1"]
    assert slot_devices("cuda:1", None, n_gpus=2, jobs_per_gpu=3) == ["cuda:1"] * 3


def _device_of(job: Job) -> JobResult:
    """A stand-in for run_job that reports where the job was placed (runs in a worker)."""
    time.sleep(0.2)
    return JobResult({"job_id": job.job_id, "device": job.device, "pid": os.getpid()})


def test_process_executor_pins_each_slot_to_its_gpu():
    jobs = [Job("d", f"s{i}", "x", 0, i, device="cuda") for i in range(6)]
    executor = ProcessExecutor(device="cuda", jobs_per_gpu=1, n_gpus=2, threads=None)
    results = [r.record for r in executor.run(jobs, _device_of)]
    assert sorted(r["job_id"] for r in results) == sorted(j.job_id for j in jobs)
    by_pid: dict[int, set] = {}
    for r in results:
        by_pid.setdefault(r["pid"], set()).add(r["device"])
    assert sorted(d for devices in by_pid.values() for d in devices) == ["cuda:0", "cuda:1"]
    assert all(len(devices) == 1 for devices in by_pid.values())  # a worker keeps its GPU


@pytest.mark.slow
@needs_dask
def test_dask_local_gpu_cluster_runs_jobs_with_gpu_resources(tmp_path, monkeypatch):
    import benchbench.run.executors.dask as dask_executor
    from benchbench.run.executors.dask import DaskExecutor
    from benchbench.run.pipeline import run_job

    monkeypatch.setattr(dask_executor, "cuda_count", lambda: 2)  # the driver "sees" two GPUs
    jobs = plan_jobs(_config(tmp_path, device="cuda"), load_registries(load_entry_points=False))
    results = list(DaskExecutor(device="cuda", jobs_per_gpu=1).run(jobs, run_job))
    # zscore ignores its device, so the jobs run on these CPU-only workers all the same
    assert sorted(r.record["job_id"] for r in results) == sorted(j.job_id for j in jobs)
    assert all(r.record["status"] == "ok" for r in results)


def test_dask_worker_device():
    assert dask_worker_device("cuda", 3, n_gpus=2) == "cuda:1"
    assert dask_worker_device("cuda", "tcp://gpu-node:4000", n_gpus=2) == "cuda"
    assert dask_worker_device("cuda", 0, n_gpus=1) == "cuda"
    assert dask_worker_device("cuda:0", 1, n_gpus=2) == "cuda:0"
    assert dask_worker_device("cpu", 1, n_gpus=2) == "cpu"


# --------------------------------------------------------------------------------------------
# seeds and repetitions
# --------------------------------------------------------------------------------------------


def test_repeat_adds_repetitions_with_their_own_random_state(tmp_path):
    reg = load_registries(load_entry_points=False)
    jobs = plan_jobs(_config(tmp_path, datasets=["synthetic:spikes_1"], seeds=[0, 1], repeat=3),
                     reg)
    assert [(j.seed, j.repetition) for j in jobs] == [(s, r) for s in (0, 1) for r in range(3)]
    assert len({j.random_state for j in jobs}) == 6 and len({j.job_id for j in jobs}) == 6
    first = jobs[0]
    # repetition 0 keeps the ids and random states of runs made before --repeat existed
    assert first.job_id == job_id("synthetic:spikes_1", "spikes_1", "zscore", 0)
    assert first.random_state == derive_random_state(0, "synthetic:spikes_1", "spikes_1",
                                                     "zscore")
    assert jobs[1].random_state == derive_random_state(0, "synthetic:spikes_1", "spikes_1",
                                                       "zscore", 1)
    assert all(j.threads == 1 for j in jobs)


def test_repetitions_are_replicates_in_the_tables(tmp_path):
    cfg = _config(tmp_path, datasets=["synthetic:spikes_1"], repeat=2,
                  detectors=["autoencoder"],
                  params={"autoencoder": {"epochs": 1, "window_size": 40, "hidden_size": 8}})
    out = run_benchmark(cfg, progress=Progress(quiet=True), plots=True)
    records = _records(out)
    assert sorted((r["seed"], r["repetition"]) for r in records.values()) == [(0, 0), (0, 1)]
    row = dataset_table(list(records.values())).iloc[0]
    assert row["seeds"] == 2 and row["ok_seeds"] == 2
    assert (out.summary.run_dir / "plots" / "seed_spread.png").exists()
    results = (out.summary.run_dir / "results.csv").read_text().splitlines()
    assert results[0].startswith("dataset,signal,kind,detector,seed,repetition,status")


# --------------------------------------------------------------------------------------------
# command line: options, usage errors, nothing to do, Ctrl-C with workers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--executor", "cluster"], "unknown executor 'cluster'"),
    (["--executor", "process", "--workers", "0"], "--workers must be at least 1"),
    (["--executor", "serial", "--workers", "2"], "need --executor process or dask"),
    (["--executor", "process", "--scheduler", "tcp://x:1"], "--scheduler is for"),
    (["--repeat", "0"], "--repeat"),
    (["--threads", "two"], "--threads"),
    (["--timeout", "-3"], "--timeout"),
])
def test_executor_usage_errors_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["run", *args, "--output", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not list(tmp_path.iterdir())  # no run folder was created


def test_missing_dask_is_a_usage_error(tmp_path, monkeypatch):
    import benchbench.run.executors.dask as dask_executor

    monkeypatch.setattr(dask_executor, "dask_available", lambda: False)
    result = CliRunner().invoke(cli, ["run", "--executor", "dask", "--output", str(tmp_path)])
    assert result.exit_code == 2 and "pip install 'benchbench[dask]'" in result.output
    with pytest.raises(RunError, match="needs Dask"):
        _run(_config(tmp_path), executor="dask")


def test_options_reach_the_records_and_a_finished_run_does_nothing(tmp_path):
    out = tmp_path / "out"
    args = ["run", "--detectors", "zscore", "--datasets", "synthetic:spikes_1", "--quiet",
            "--no-plots", "--output", str(out), "--repeat", "2", "--threads", "1",
            "--timeout", "120", "--executor", "process", "--workers", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (run_dir,) = out.iterdir()
    records = RunStore(run_dir).load_records()
    assert [(r["repetition"], r["threads"], r["timeout"], r["executor"]) for r in records] == [
        (0, 1, 120.0, "process"), (1, 1, 120.0, "process")]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["repeat"] == 2 and config["threads"] == 1 and config["timeout"] == 120.0
    before = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.is_file()}
    again = CliRunner().invoke(cli, ["run", "--resume", str(run_dir), "--executor", "process"])
    assert again.exit_code == 0, again.output
    assert "nothing to run: all 2 job(s)" in again.output
    assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.is_file()} == before


def test_get_executor_by_name():
    assert get_executor("serial").name == "serial"
    assert get_executor("process", workers=2).workers == 2


def test_config_file_keys_are_checked():
    from benchbench.config import ConfigError

    cfg = RunConfig.from_dict({"repeat": 3, "threads": "2", "timeout": 90})
    assert (cfg.repeat, cfg.threads, cfg.timeout) == (3, 2, 90.0)
    assert RunConfig().threads == 1 and RunConfig().timeout is None
    for bad in ({"repeat": 0}, {"threads": True}, {"timeout": "soon"}, {"timeout": 0}):
        with pytest.raises(ConfigError):
            RunConfig.from_dict(bad)


def test_progress_names_the_repetition():
    import io

    stream = io.StringIO()
    progress = Progress(stream=stream, interactive=False)
    progress.start(1)
    job = Job("d", "s", "x", 0, 1, repetition=2)
    progress.job_started(job)
    progress.job_finished({"detector": "x", "dataset": "d", "signal": "s", "seed": 0,
                           "repetition": 2, "status": "timeout", "error": "timeout: ..."})
    assert "x on d/s seed 0 rep 2: TIMEOUT" in stream.getvalue()
