"""One job through the pipeline: load -> preprocess -> fit -> score -> threshold -> metrics.

Per job: load the signal -> preprocess (aggregate, impute, scale to [-1, 1]) -> fit on the train
part -> score the test part -> threshold the scores into intervals -> every registered metric
against the labelled intervals -> one record (written by the driver). A job that fails at any stage
becomes a record with ``status = "failed"``, the stage, a message naming detector and signal, and
the traceback; the run goes on. Time limits are the executors' (:mod:`benchbench.run.executors`):
a job past its ``timeout`` has the process it runs in ended, and is recorded as ``timeout``.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchbench.detector import check_scores, epoch_progress
from benchbench.plugins import Registries, load_registries
from benchbench.run.jobs import Job, JobResult, base_record, job_where, now
from benchbench.run.planning import open_dataset

EpochCallback = Callable[[int, int, dict[str, float]], None]


def build_detector(job: Job, registries: Registries):
    """Instantiate the job's detector with its overrides, ``random_state`` and ``device``."""
    factory = registries.detectors[job.detector].obj
    detector = factory()
    accepted = set(detector.get_params()) if hasattr(detector, "get_params") else set()
    extras = {k: v for k, v in (("random_state", job.random_state), ("device", job.device))
              if k in accepted}
    detector.set_params(**extras, **job.params)
    return detector


_REGISTRY_CACHE: dict[str | None, Registries] = {}


def _registries_for(plugins_dir: str | None) -> Registries:
    if plugins_dir not in _REGISTRY_CACHE:
        _REGISTRY_CACHE[plugins_dir] = load_registries(plugins_dir)
    return _REGISTRY_CACHE[plugins_dir]


def warm_up(plugins_dir: str | None = None) -> None:
    """Pay a fresh process's one-time costs of a job (plugins, the pipeline's imports) now.

    Worker processes call it when they start, so that a job's time limit measures its own work.
    """
    _registries_for(plugins_dir)
    import sklearn.base  # noqa: F401 - detectors' get_params/set_params, imported on first use

    import benchbench.data.preprocessing  # noqa: F401
    import benchbench.evaluation.affiliation  # noqa: F401
    import benchbench.evaluation.metrics  # noqa: F401
    import benchbench.evaluation.thresholding  # noqa: F401


def run_job(job: Job, registries: Registries | None = None,
            on_epoch: EpochCallback | None = None) -> JobResult:
    """Run one job through the whole pipeline; a failing job returns a failed record.

    The job runs with ``job.threads`` torch threads (restored afterwards). ``job.timeout`` is not
    enforced here: the executor ends the process a job runs in when it is past its limit.
    """
    from benchbench.run.allocator import malloc_state
    from benchbench.run.environment import cpu_kind

    record = base_record(job)
    record["malloc"] = malloc_state()  # tuned in the harness's own worker processes only
    record.update(cpu_kind())  # the CPU kind the job's floats depend on (run/environment.py)
    registries = registries or _registries_for(job.plugins_dir)
    with torch_threads(job.threads) as threads:
        record["threads"] = threads
        return _pipeline(job, record, registries, on_epoch)


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[int | None]:
    """Run the block with ``torch.set_num_threads(n)``; restore the previous count after it.

    ``None`` leaves torch as it is. Yields the thread count in force. Float results depend on
    the thread count, so it is part of the run's configuration (``RunConfig.threads``, default 1)
    and recorded in each job record.
    """
    if n is None:
        yield None
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


def _pipeline(job: Job, record: dict[str, Any], registries: Registries,
              on_epoch: EpochCallback | None) -> JobResult:
    from benchbench.data.preprocessing import preprocess
    from benchbench.evaluation.thresholding import apply_threshold

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
    record["finished_at"] = now()
    return JobResult(record, arrays)






