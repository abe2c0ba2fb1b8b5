"""The unit of work and its record: one detector on one signal with one seed (and repetition).

A :class:`Job` is what the planner makes, an executor ships and the pipeline runs; a record (a
plain dict, written as JSON by the driver) is what a job leaves behind, ok or not. Its id and its
``random_state`` are derived from its identity alone, so a rerun or a resumed run finds the same
ones on every machine.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from benchbench.files import safe_name


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
    """A file-safe, unique id (:func:`benchbench.files.safe_name` of the job's identity).

    Repetition 0 adds nothing, so the ids of runs without ``--repeat`` stay as they were.
    """
    raw = f"{dataset}__{signal}__{detector}__s{seed}" + (f"__r{repetition}" if repetition else "")
    return safe_name(raw)


def derive_random_state(seed: int, dataset: str, signal: str, detector: str,
                        repetition: int = 0) -> int:
    """The job's random_state: a hash of the run seed, dataset, signal, detector and repetition.

    32 bits of SHA-256, so it is the same on every machine and Python. Repetition 0 hashes as
    before repetitions existed, so earlier runs keep their random states.
    """
    text = f"{seed}|{dataset}|{signal}|{detector}" + (f"|r{repetition}" if repetition else "")
    text = text.encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


@dataclass
class JobResult:
    """What a job hands back to the driver: its record and the arrays to keep beside it."""

    record: dict[str, Any]
    arrays: dict[str, np.ndarray] | None = None


def now() -> str:
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
        "threshold": job.threshold, "started_at": now(),
    }


def lost_job_record(job: Job, error: str, status: str = "failed") -> dict[str, Any]:
    """The record of a job whose worker died or was killed (written by the driver)."""
    record = base_record(job)
    record.update(status=status, stage="worker", error=f"{error} ({job_where(job)})",
                  finished_at=now())
    return record
