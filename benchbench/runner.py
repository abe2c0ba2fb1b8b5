"""Plan jobs (detector x signal x seed x repetition), run each through the pipeline, record them.

Per job: load the signal -> preprocess (aggregate, impute, scale to [-1, 1]) -> fit on the train
part -> score the test part -> threshold the scores into intervals -> every registered metric
against the labelled intervals -> one record, written atomically by the driver. A job that fails at
any stage becomes a record with ``status = "failed"``, the stage, a message naming detector and
signal, and the traceback; the run goes on. A job that runs past the run's ``timeout`` is recorded
with ``status = "timeout"``; one whose worker process dies is recorded failed at stage ``worker``
(by the executor, see :mod:`benchbench.executors`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchbench.config import QUICK_SIGNALS, RunConfig
from benchbench.detector import check_scores, epoch_progress
from benchbench.plugins import Registries, load_registries

EpochCallback = Callable[[int, int, dict[str, float]], None]


class PlanError(ValueError):
    """The run cannot be planned (unknown detector or dataset, dataset fails to list signals)."""


@dataclass(frozen=True)
class Job:
    """One unit of work: one detector on one signal with one seed (and repetition of it)."""

    dataset: str
    signal: str
    detector: str
    seed: int
    random_state: int
    params: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    threshold: str = "window"
    threshold_params: dict[str, Any] = field(default_factory=dict)
    data_dir: str = "datasets"
    plugins_dir: str | None = None
    repetition: int = 0
    threads: int | None = None
    timeout: float | None = None

    @property
    def job_id(self) -> str:
        return job_id(self.dataset, self.signal, self.detector, self.seed, self.repetition)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def job_id(dataset: str, signal: str, detector: str, seed: int, repetition: int = 0) -> str:
    """A file-safe, unique id; names needing sanitising get a short hash to stay unique.

    Repetition 0 adds nothing, so the ids of runs without ``--repeat`` stay as they were.
    """
    raw = f"{dataset}__{signal}__{detector}__s{seed}" + (f"__r{repetition}" if repetition else "")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", raw)
    if safe != raw or len(safe) > 150:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
        safe = f"{safe[:140]}-{digest}"
    return safe


def derive_random_state(seed: int, dataset: str, signal: str, detector: str,
                        repetition: int = 0) -> int:
    """The job's random_state: a hash of the run seed, dataset, signal, detector and repetition.

    32 bits of SHA-256, so it is the same on every machine and Python. Repetition 0 hashes as
    before repetitions existed, so earlier runs keep their random states.
    """
    text = f"{seed}|{dataset}|{signal}|{detector}" + (f"|r{repetition}" if repetition else "")
    text = text.encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def split_dataset_spec(spec: str) -> tuple[str, str | None]:
    name, _, subset = spec.partition(":")
    return name, (subset or None)


def resolve_detectors(config: RunConfig, registries: Registries) -> list[str]:
    names = config.detectors
    if not names or names == ["all"] or "all" in names:
        return registries.detectors.names()
    unknown = [n for n in names if n not in registries.detectors]
    if unknown:
        raise PlanError(
            f"unknown detector(s) {', '.join(unknown)}; "
            f"available: {', '.join(registries.detectors.names())}"
        )
    return list(dict.fromkeys(names))


def open_dataset(spec: str, data_dir: Path, registries: Registries):
    name, subset = split_dataset_spec(spec)
    if name not in registries.datasets:
        raise PlanError(
            f"unknown dataset {name!r}; available: {', '.join(registries.datasets.names())}"
        )
    return registries.datasets[name].obj(data_dir, subset)


def known_profiles(registries: Registries) -> list[str]:
    """``default`` plus every profile some registered detector defines (``paper`` for TadGAN)."""
    names = {"default"}
    for name in registries.detectors.names():
        names.update(registries.detectors[name].options.get("profiles") or {})
    return sorted(names)


def profile_params(name: str, config: RunConfig, registries: Registries, dataset: str,
                   signal: str) -> dict[str, Any]:
    """The run profile's hyperparameters for one detector on one signal.

    A profile is what the detector registered for it: ``register(..., profiles={"paper": fn})``
    with ``fn(dataset, signal) -> {param: value}`` (``dataset`` without its subset). A detector
    that registered nothing for the profile keeps its class defaults; so does every detector under
    ``default`` unless it registered a ``default`` profile (TadGAN's CPU-sized settings).
    """
    fn = (registries.detectors[name].options.get("profiles") or {}).get(config.profile)
    return dict(fn(split_dataset_spec(dataset)[0], signal)) if fn is not None else {}


def detector_params(name: str, config: RunConfig, registries: Registries) -> dict[str, Any]:
    """Overrides for one detector: its ``--quick`` parameters, then the user's ``--set``/config."""
    params: dict[str, Any] = {}
    if config.quick:
        params.update(registries.detectors[name].options.get("quick_params") or {})
    params.update(config.params.get(name, {}))
    return params


def plan_jobs(config: RunConfig, registries: Registries) -> list[Job]:
    """Every (dataset, signal, detector, seed, repetition) job of a run, in a fixed order."""
    detectors = resolve_detectors(config, registries)
    if config.profile not in known_profiles(registries):
        raise PlanError(f"unknown profile {config.profile!r}; available: "
                        f"{', '.join(known_profiles(registries))}")
    unknown_params = sorted(set(config.params) - set(detectors))
    if unknown_params:
        raise PlanError(f"parameters given for detector(s) not in this run: {unknown_params}")
    params = {name: detector_params(name, config, registries) for name in detectors}
    for name, overrides in params.items():
        try:  # unknown parameter names are a usage error now, not a failed job per signal
            registries.detectors[name].obj().set_params(**overrides)
        except Exception as exc:  # a broken third-party factory is a usage error, not a crash
            raise PlanError(f"detector {name!r}: {type(exc).__name__}: {exc}") from exc
    data_dir = config.resolved_data_dir()
    jobs = []
    for spec in config.datasets:
        try:
            dataset = open_dataset(spec, data_dir, registries)
            signals = list(dataset.signal_names())
        except PlanError:
            raise
        except Exception as exc:
            raise PlanError(f"dataset {spec!r}: cannot list its signals: {exc}") from exc
        if config.quick:
            signals = signals[:QUICK_SIGNALS]
        for signal in signals:
            for detector in detectors:
                for seed in config.seeds:
                    for rep in range(config.repeat):
                        jobs.append(Job(
                            dataset=spec,
                            signal=signal,
                            detector=detector,
                            seed=seed,
                            random_state=derive_random_state(seed, spec, signal, detector, rep),
                            # profile first: --quick and the user's settings override it
                            params={**profile_params(detector, config, registries, spec, signal),
                                    **params[detector]},
                            device=config.device,
                            threshold=config.threshold,
                            threshold_params=dict(config.threshold_params),
                            data_dir=str(data_dir),
                            plugins_dir=config.plugins_dir,
                            repetition=rep,
                            threads=config.threads,
                            timeout=config.timeout,
                        ))
    return jobs


def build_detector(job: Job, registries: Registries):
    """Instantiate the job's detector with its overrides, ``random_state`` and ``device``."""
    factory = registries.detectors[job.detector].obj
    detector = factory()
    accepted = set(detector.get_params()) if hasattr(detector, "get_params") else set()
    extras = {k: v for k, v in (("random_state", job.random_state), ("device", job.device))
              if k in accepted}
    detector.set_params(**extras, **job.params)
    return detector


@dataclass
class JobResult:
    """What a job hands back to the driver: its record and the arrays to keep beside it."""

    record: dict[str, Any]
    arrays: dict[str, np.ndarray] | None = None


_REGISTRY_CACHE: dict[str | None, Registries] = {}


def _registries_for(job: Job) -> Registries:
    if job.plugins_dir not in _REGISTRY_CACHE:
        _REGISTRY_CACHE[job.plugins_dir] = load_registries(job.plugins_dir)
    return _REGISTRY_CACHE[job.plugins_dir]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def job_where(job: Job) -> str:
    """How messages name a job: ``detector 'x' on signal dataset/signal``."""
    return f"detector {job.detector!r} on signal {job.dataset}/{job.signal}"


def base_record(job: Job) -> dict[str, Any]:
    """The record of a job before it ran: identity, seeds, settings; status ``failed``."""
    return {
        "job_id": job.job_id, "dataset": job.dataset, "signal": job.signal,
        "detector": job.detector, "seed": job.seed, "repetition": job.repetition,
        "random_state": job.random_state, "threads": job.threads, "timeout": job.timeout,
        "status": "failed", "stage": None, "error": None, "traceback": None,
        "kind": "", "metrics": {}, "expected": [], "detected": [],
        "fit_seconds": None, "score_seconds": None, "device": None,
        "params": dict(job.params), "history": {}, "n_train": None, "n_test": None,
        "threshold": job.threshold, "started_at": _now(),
    }


def lost_job_record(job: Job, error: str, status: str = "failed") -> dict[str, Any]:
    """The record of a job whose worker died or was killed (written by the driver)."""
    record = base_record(job)
    record.update(status=status, stage="worker", error=f"{error} ({job_where(job)})",
                  finished_at=_now())
    return record


def run_job(job: Job, registries: Registries | None = None,
            on_epoch: EpochCallback | None = None) -> JobResult:
    """Run one job through the whole pipeline; a failing job returns a failed record.

    The job runs with ``job.threads`` torch threads and under ``job.timeout`` seconds (see
    :mod:`benchbench.jobcontrol`); past it the record says ``status = "timeout"``. The process's
    malloc is tuned for training loops first (:mod:`benchbench.allocator`, recorded as
    ``malloc``).
    """
    from benchbench.allocator import tune_malloc
    from benchbench.jobcontrol import JobTimeout, time_limit, torch_threads

    record = base_record(job)
    record["malloc"] = tune_malloc()  # once per process; see benchbench.allocator
    # one-time costs of a fresh worker (plugins, torch and pipeline imports) stay outside the
    # limit, which measures the job's own work
    registries = registries or _registries_for(job)
    import benchbench.preprocessing  # noqa: F401
    import benchbench.thresholding  # noqa: F401

    try:
        with torch_threads(job.threads) as threads, time_limit(job.timeout):
            record["threads"] = threads
            return _pipeline(job, record, registries, on_epoch)
    except JobTimeout:
        record["status"] = "timeout"
        record["error"] = (f"timeout: {job_where(job)} ran past {job.timeout:g} s "
                           f"(stopped in stage {record['stage']})")
        record["traceback"] = traceback.format_exc()
        record["finished_at"] = _now()
        return JobResult(record, None)


def _pipeline(job: Job, record: dict[str, Any], registries: Registries,
              on_epoch: EpochCallback | None) -> JobResult:
    from benchbench.preprocessing import preprocess
    from benchbench.thresholding import apply_threshold

    where = job_where(job)
    stage = record["stage"] = "load"
    arrays = None
    try:
        dataset = open_dataset(job.dataset, Path(job.data_dir), registries)
        signal = dataset.load_signal(job.signal)
        record["kind"] = signal.kind
        record["expected"] = [list(iv) for iv in signal.anomalies]
        stage = record["stage"] = "preprocess"
        prepared = preprocess(signal)
        record["n_train"], record["n_test"] = len(prepared.train), len(prepared.test)
        stage = record["stage"] = "init"
        detector = build_detector(job, registries)
        record["params"] = detector.get_params() if hasattr(detector, "get_params") else {}
        stage = record["stage"] = "fit"
        started = time.perf_counter()
        with epoch_progress(on_epoch or (lambda *a: None)):
            detector.fit(prepared.train)
        record["fit_seconds"] = time.perf_counter() - started
        record["history"] = getattr(detector, "history_", {}) or {}
        record["device"] = str(getattr(detector, "device_", "cpu"))
        stage = record["stage"] = "score"
        started = time.perf_counter()
        scores = check_scores(detector.score(prepared.test), len(prepared.test), where)
        record["score_seconds"] = time.perf_counter() - started
        stage = record["stage"] = "threshold"
        detected = apply_threshold(job.threshold, scores, prepared.test_index,
                                   **job.threshold_params)
        record["detected"] = [[float(s), float(e), float(v)] for s, e, v in detected]
        stage = record["stage"] = "metrics"
        metrics = {}
        for entry in registries.metrics.entries():
            result = entry.obj(signal.anomalies, detected, prepared.test_index)
            metrics[entry.name] = result.to_dict()
        record["metrics"] = metrics
        record["status"] = "ok"
        record["stage"] = "done"
        arrays = {"index": np.asarray(prepared.test_index), "values": prepared.test,
                  "scores": scores}
    except Exception as exc:
        record["stage"] = stage
        message = str(exc) if where in str(exc) else f"{where}: {exc}"
        record["error"] = f"{stage} failed: {type(exc).__name__}: {message}"
        record["traceback"] = traceback.format_exc()
    record["finished_at"] = _now()
    return JobResult(record, arrays)


def new_run_dir(output: Path) -> Path:
    """A fresh ``<output>/<UTC timestamp>`` folder (suffixed if that name is taken)."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    output.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        candidate = output / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a run folder under {output}")


@dataclass
class RunSummary:
    run_dir: Path
    total: int
    skipped: int
    ok: int
    failed: list[dict[str, Any]]


def execute(run_dir: Path, jobs: list[Job], registries: Registries, progress=None,
            executor=None, retry_failed: bool = False) -> RunSummary:
    """Run the jobs that have no record yet in ``run_dir`` and write each record as it finishes.

    Jobs already recorded are skipped (failed ones too, unless ``retry_failed``), which is what
    makes ``--resume`` finish an interrupted run and makes rerunning a finished run a no-op (the
    executor is not even started then). Only this function, in the driver, writes records.
    """
    from benchbench.executors import SerialExecutor
    from benchbench.records import RunStore

    store = RunStore(run_dir)
    store.remove_partial_writes()  # left by a driver killed mid-write; their jobs rerun
    done = store.finished()
    todo = [j for j in jobs
            if j.job_id not in done or (retry_failed and done[j.job_id] != "ok")]
    executor = executor or SerialExecutor()

    def run_here(job: Job) -> JobResult:
        return run_job(job, registries, on_epoch=progress.epoch if progress else None)

    # an executor that runs jobs in other processes gets the module-level, picklable run_job,
    # which loads the plugins there from job.plugins_dir
    run_one = run_here if getattr(executor, "in_process", False) else run_job
    on_start = progress.job_started if progress is not None else None
    if progress is not None:
        progress.start(len(todo), skipped=len(jobs) - len(todo))
    try:
        if todo:
            with contextlib.closing(executor.run(todo, run_one, on_start=on_start)) as results:
                for result in results:
                    result.record.setdefault("executor", executor.name)
                    store.write_record(result.record, result.arrays)
                    if progress is not None:
                        progress.job_finished(result.record)
    finally:
        if progress is not None:
            progress.close()
    planned = {j.job_id for j in jobs}
    records = [r for r in store.load_records() if r["job_id"] in planned]
    failed = [r for r in records if r.get("status") != "ok"]
    return RunSummary(run_dir, len(jobs), len(jobs) - len(todo), len(records) - len(failed),
                      failed)
