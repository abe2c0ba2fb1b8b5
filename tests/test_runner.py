"""The runner: jobs, records, failures recorded not raised, resume, bad input per job."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchbench.api import RunError, run_benchmark
from benchbench.config import RunConfig
from benchbench.data import Signal
from benchbench.hookspecs import hookimpl
from benchbench.plugins import load_registries
from benchbench.run.jobs import Job, derive_random_state, job_id
from benchbench.run.pipeline import run_job
from benchbench.run.planning import plan_jobs
from benchbench.run.progress import Progress
from benchbench.run.records import RunStore

TWO_SIGNALS = "synthetic:spikes_1+clean_1"


def _config(tmp_path: Path, plugins_dir: Path | None = None, **kw) -> RunConfig:
    base = dict(detectors=["zscore"], datasets=[TWO_SIGNALS], seeds=[0],
                output=str(tmp_path / "results"), plugins_dir=str(plugins_dir) if plugins_dir
                else None)
    base.update(kw)
    return RunConfig(**base)


def _run(config: RunConfig, **kw):
    return run_benchmark(config, progress=Progress(quiet=True), plots=False, **kw)


def test_plan_is_detector_by_signal_by_seed(tmp_path, plugins_dir):
    reg = load_registries(plugins_dir, load_entry_points=False)
    cfg = _config(tmp_path, plugins_dir, detectors=["zscore", "absolute"], seeds=[0, 1])
    jobs = plan_jobs(cfg, reg)
    assert len(jobs) == 2 * 2 * 2
    assert len({j.job_id for j in jobs}) == 8
    assert len({j.random_state for j in jobs}) == 8


def test_random_state_is_derived_deterministically():
    a = derive_random_state(0, "synthetic", "spikes_1", "autoencoder")
    assert a == derive_random_state(0, "synthetic", "spikes_1", "autoencoder")
    assert a != derive_random_state(1, "synthetic", "spikes_1", "autoencoder")
    assert 0 <= a < 2**32


def test_job_id_is_file_safe_and_unique():
    a = job_id("nab:Art", "<img src=x>", "gan", 0)
    b = job_id("nab:Art", "<img_src=x>", "gan", 0)
    assert a != b and "/" not in a and "<" not in a


def test_run_writes_one_record_per_job_and_tables(tmp_path, plugins_dir):
    out = run_benchmark(_config(tmp_path, plugins_dir, detectors=["zscore", "absolute"]),
                        progress=Progress(quiet=True))
    run_dir = out.summary.run_dir
    records = RunStore(run_dir).load_records()
    assert len(records) == 4 and all(r["status"] == "ok" for r in records)
    rec = records[0]
    for key in ("metrics", "detected", "expected", "fit_seconds", "score_seconds", "device",
                "seed", "random_state", "traceback", "history"):
        assert key in rec
    assert set(rec["metrics"]) >= {"overlap", "pointwise", "range_based"}
    for name in ("config.json", "environment.json", "jobs.json", "results.csv"):
        assert (run_dir / name).exists(), name
    for stem in ("f1_by_dataset", "f1_by_signal"):
        for ext in ("csv", "md", "tex"):
            assert (run_dir / "tables" / f"{stem}.{ext}").exists()
    assert (run_dir / "plots" / "f1_heatmap.png").exists()
    assert len(list((run_dir / "plots" / "signals").glob("*.png"))) == 2
    env = json.loads((run_dir / "environment.json").read_text())
    assert env["packages"]["torch"] and env["seeds"] == [0]
    assert "zscore" in out.report.headline


def test_failing_detector_is_recorded_and_run_goes_on(tmp_path, plugins_dir):
    out = _run(_config(tmp_path, plugins_dir, detectors=["exploding", "absolute"]))
    records = {r["job_id"]: r for r in RunStore(out.summary.run_dir).load_records()}
    failed = [r for r in records.values() if r["status"] == "failed"]
    assert len(failed) == 2 and out.summary.ok == 2
    for r in failed:
        assert r["detector"] == "exploding" and r["stage"] == "fit"
        assert "boom in fit" in r["error"] and "Traceback" in r["traceback"]
        assert f"signal {r['dataset']}/{r['signal']}" in r["error"]


@pytest.mark.parametrize("detector, message", [
    ("wrong_shape", "expected"),
    ("nan_scores", "NaN"),
])
def test_contract_breaking_scores_fail_the_job_with_a_clear_error(tmp_path, plugins_dir,
                                                                  detector, message):
    out = _run(_config(tmp_path, plugins_dir, detectors=[detector], datasets=["synthetic:clean_1"]))
    (record,) = RunStore(out.summary.run_dir).load_records()
    assert record["status"] == "failed" and record["stage"] == "score"
    assert message in record["error"] and detector in record["error"]
    assert "clean_1" in record["error"]


class _BadData:
    """A dataset of deliberately broken signals."""

    name = "bad"
    description = "broken signals"

    def __init__(self, data_dir, subset):
        pass

    def signal_names(self):
        return ["short", "constant", "all_nan", "good"]

    def load_signal(self, name):
        n = {"short": 30}.get(name, 400)
        t = np.arange(n)
        values = np.sin(t / 10.0)
        if name == "constant":
            values = np.full(n, 3.0)
        if name == "all_nan":
            values = np.full(n, np.nan)
        return Signal(name, values, values, t, t, [(100, 110)], source=f"bad/{name}.csv")


class _BadDataPlugin:
    @hookimpl
    def register_datasets(self, register):
        register("bad", _BadData)


def test_bad_signals_fail_their_own_jobs_only(tmp_path):
    reg = load_registries(load_entry_points=False)
    reg.manager.register(_BadDataPlugin(), name="bad-data")
    from benchbench.plugins import Registry, _collect

    reg.datasets = Registry("dataset")
    _collect(reg.manager, "register_datasets", reg.datasets)
    cfg = _config(tmp_path, detectors=["autoencoder"], datasets=["bad"],
                  params={"autoencoder": {"window_size": 50, "epochs": 1}})
    out = _run(cfg, registries=reg)
    records = {r["signal"]: r for r in RunStore(out.summary.run_dir).load_records()}
    assert records["good"]["status"] == "ok"
    assert "30" in records["short"]["error"] and records["short"]["stage"] == "fit"
    assert "constant" in records["constant"]["error"]
    assert "bad/constant.csv" in records["constant"]["error"]
    assert "finite" in records["all_nan"]["error"]
    for name in ("short", "constant", "all_nan"):
        assert "autoencoder" in records[name]["error"] and name in records[name]["error"]


def test_resume_skips_finished_jobs(tmp_path, plugins_dir):
    cfg = _config(tmp_path, plugins_dir, detectors=["zscore", "absolute"])
    out = _run(cfg)
    run_dir = out.summary.run_dir
    store = RunStore(run_dir)
    first = {r["job_id"]: r["finished_at"] for r in store.load_records()}
    victim = sorted(first)[0]
    store.record_path(victim).unlink()
    # what a driver killed between writing and renaming leaves behind
    partial = store.record_path(victim).with_name(f".{victim}.json.abc123.tmp")
    partial.write_text("{\"job_id\": ")
    again = _run(None, resume=run_dir)
    assert not partial.exists()
    assert again.summary.skipped == 3 and again.summary.ok == 4
    after = {r["job_id"]: r["finished_at"] for r in store.load_records()}
    assert set(after) == set(first)
    assert all(after[k] == first[k] for k in first if k != victim)
    # a finished run resumed does nothing
    third = _run(None, resume=run_dir)
    assert third.summary.skipped == 4


def test_resume_of_a_non_run_folder_is_an_error(tmp_path):
    with pytest.raises(RunError, match="not a benchbench run folder"):
        _run(None, resume=tmp_path)


def test_same_seeds_give_identical_records(tmp_path):
    cfg = _config(tmp_path, detectors=["autoencoder"], datasets=["synthetic:spikes_1"],
                  params={"autoencoder": {"epochs": 1, "window_size": 40}})
    a = RunStore(_run(cfg).summary.run_dir).load_records()
    b = RunStore(_run(cfg).summary.run_dir).load_records()
    assert [r["metrics"] for r in a] == [r["metrics"] for r in b]
    assert [r["detected"] for r in a] == [r["detected"] for r in b]


def test_unknown_detector_is_a_run_error(tmp_path):
    with pytest.raises(RunError, match="unknown detector"):
        _run(_config(tmp_path, detectors=["nope"]))


def test_run_job_directly_returns_a_record(tmp_path):
    reg = load_registries(load_entry_points=False)
    job = Job("synthetic:spikes_1", "spikes_1", "zscore", 0, 1, data_dir=str(tmp_path))
    result = run_job(job, reg)
    assert result.record["status"] == "ok", result.record["error"]
    assert result.arrays["scores"].shape == (result.record["n_test"],)


def test_paper_profile_sets_per_signal_params_under_the_users(tmp_path):
    reg = load_registries(load_entry_points=False)
    cfg = _config(tmp_path, detectors=["tadgan", "zscore"], profile="paper",
                  params={"tadgan": {"epochs": 2}})
    jobs = {(j.detector, j.signal): j for j in plan_jobs(cfg, reg)}
    tadgan_job = jobs[("tadgan", "spikes_1")]
    assert tadgan_job.params["train_step"] == 1 and tadgan_job.params["error_type"] == "dtw"
    assert tadgan_job.params["epochs"] == 2  # --set wins over the profile
    assert jobs[("zscore", "spikes_1")].params == {}  # no paper profile: its defaults
    default = {(j.detector, j.signal): j
               for j in plan_jobs(_config(tmp_path, detectors=["tadgan", "zscore"]), reg)}
    assert default[("tadgan", "spikes_1")].params["encoder_hidden"] == 32  # its CPU profile
    assert default[("zscore", "spikes_1")].params == {}
    quick = {(j.detector, j.signal): j
             for j in plan_jobs(_config(tmp_path, detectors=["tadgan"], quick=True), reg)}
    assert quick[("tadgan", "spikes_1")].params["epochs"] == 2  # --quick over the profile


def test_unknown_profile_is_a_run_error(tmp_path):
    with pytest.raises(RunError, match="unknown profile 'fancy'; available: default, fast, paper"):
        _run(_config(tmp_path, profile="fancy"))
