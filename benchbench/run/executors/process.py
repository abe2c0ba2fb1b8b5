"""Local worker processes (``--executor process``), kept warm across jobs.

Each worker slot is a one-process :class:`pebble.ProcessPool` (started with ``spawn``), so that
a slot can be pinned to a GPU and so that whatever happens to a worker touches exactly the job it
was running:

* a worker killed by the OS (out of memory, segfault) fails that job: it is recorded as failed at
  stage ``worker`` with the exit signal, pebble starts a fresh worker and the run goes on;
* a job past its ``timeout`` has its worker ended by pebble (wherever it is, native code
  included) and is recorded with ``status = "timeout"``; the slot gets a fresh worker.

The timeout clock starts when the worker takes the job, after its start-up (imports), so the
limit measures the job's own work.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from benchbench.run.executors.base import ExecutorError, OnStart, RunOne
from benchbench.run.executors.placement import (
    cuda_count,
    default_workers,
    slot_devices,
    wants_gpu,
)
from benchbench.run.jobs import Job, JobResult, lost_job_record


def _exit_with_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:  # the driver was killed: do not outlive it
            os._exit(1)


def _init_worker(threads: int | None, plugins_dir: str | None) -> None:
    """Worker process start: tune malloc (:mod:`benchbench.run.allocator`), leave Ctrl-C to the
    driver, exit with it, set torch threads, load the plugins and the pipeline's imports before
    the first job."""
    from benchbench.run.allocator import tune_malloc

    tune_malloc()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    from benchbench.run.pipeline import warm_up

    warm_up(plugins_dir)


def describe_exit(code: int | None) -> str:
    """``killed by signal SIGKILL``, ``exit code 3`` or ``exit status unknown``."""
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def timeout_record(job: Job, elapsed: float) -> dict[str, Any]:
    """The record of a job whose process was ended at its time limit, ``elapsed`` seconds
    after the job was handed to it."""
    record = lost_job_record(job, f"timeout: stopped after {elapsed:.1f} s (limit "
                                  f"{job.timeout:g} s); the process it ran in was ended",
                             status="timeout")
    record["elapsed_seconds"] = elapsed
    return record


class WorkerSlot:
    """One warm worker process (a one-process pebble pool) and the job it is running."""

    def __init__(self, device: str | None = None, threads: int | None = None,
                 plugins_dir: str | None = None) -> None:
        self.device, self.threads, self.plugins_dir = device, threads, plugins_dir
        self.future: Any = None
        self.job: Job | None = None
        self.started = 0.0
        self.warm: Any = None
        self.ever_started = False
        self._start()

    def _start(self) -> None:
        """A fresh one-process pool (also after pebble gave the previous one up)."""
        from pebble import ProcessPool

        self.pool = ProcessPool(max_workers=1, initializer=_init_worker,
                                initargs=(self.threads, self.plugins_dir),
                                context=multiprocessing.get_context("spawn"))
        self._warm_up()

    def _restart(self) -> None:
        self.pool.stop()
        self.pool.join()
        self._start()

    def _warm_up(self) -> None:
        # a trivial call that returns once a (new) worker has started and imported everything,
        # so that a job's time limit never counts the start-up of its process
        self.warm = self.pool.schedule(os.getpid)

    @property
    def busy(self) -> Any:
        """What this slot waits for: its job, or the start of its worker (``None``: idle)."""
        if self.future is not None:
            return self.future
        if self.warm is None and not self.pool.active:
            # pebble gives a pool up when its worker dies while idle (killed between two jobs)
            self._restart()
        if self.warm is not None and not self.warm.done():
            return self.warm
        return None

    @property
    def idle(self) -> bool:
        return self.busy is None

    def submit(self, run_one: RunOne, job: Job) -> Job:
        """Start ``job`` (on this slot's device, if it has one); returns the job as started."""
        if self.device is not None:
            job = dataclasses.replace(job, device=self.device)
        self.job, self.started = job, time.monotonic()
        self.future = self.pool.schedule(run_one, args=(job,), timeout=job.timeout)
        return job

    def collect(self) -> JobResult | None:
        """The finished job's result (a lost-job record if its worker died or timed out)."""
        from pebble import ProcessExpired

        if self.warm is not None and self.warm.done():
            self._check_started()
        if self.future is None or not self.future.done():
            return None
        future, job = self.future, self.job
        self.future = self.job = None
        assert job is not None
        try:
            return future.result()
        except FutureTimeout:
            self._warm_up()  # pebble starts a fresh worker in place of the ended one
            return JobResult(timeout_record(job, time.monotonic() - self.started), None)
        except ProcessExpired as exc:
            self._warm_up()
            return JobResult(lost_job_record(
                job, f"worker: the worker process died while running the job "
                     f"({describe_exit(exc.exitcode)}, e.g. out of memory or a crash)"), None)
        except BrokenProcessPool as exc:
            if not self.ever_started:
                raise ExecutorError(f"a worker process could not start: {exc}") from exc
            self._restart()  # its worker died as the job was handed to it
            return JobResult(lost_job_record(
                job, f"worker: the worker process died as the job started ({exc})"), None)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            return JobResult(lost_job_record(job, f"worker: {type(exc).__name__}: {exc}"), None)

    def _check_started(self) -> None:
        """A worker that cannot start (a broken installation) stops the run with its reason;
        one killed while idle is simply replaced."""
        from pebble import ProcessExpired

        warm, self.warm = self.warm, None
        try:
            warm.result()
            self.ever_started = True
        except ProcessExpired:
            self._warm_up()
        except BrokenProcessPool as exc:
            if not self.ever_started:
                raise ExecutorError(f"a worker process could not start: {exc}") from exc
            self._restart()

    def run(self, run_one: RunOne, job: Job) -> JobResult:
        """Run one job here and wait for its result."""
        while not self.idle:
            wait([self.busy])
            self.collect()
        self.submit(run_one, job)
        wait([self.future])
        result = self.collect()
        assert result is not None
        return result

    def close(self, kill: bool = False) -> None:
        if kill:
            self.pool.stop()
        else:
            self.pool.close()
        self.pool.join()


def run_in_slots(slots: list[WorkerSlot], jobs: Iterable[Job], run_one: RunOne,
                 on_start: OnStart | None = None) -> Iterator[JobResult]:
    """Hand the jobs to the idle slots in order and yield each result as it finishes.

    Leaving early (Ctrl-C, an error, the generator closed) stops every worker at once;
    finishing normally lets them exit.
    """
    pending = deque(jobs)
    finished = False
    try:
        while pending or not all(s.idle for s in slots):
            for slot in slots:
                if slot.idle and pending:
                    job = slot.submit(run_one, pending.popleft())
                    if on_start is not None:
                        on_start(job)
            wait([s.busy for s in slots if not s.idle], return_when=FIRST_COMPLETED)
            for slot in slots:
                result = slot.collect()
                if result is not None:
                    yield result
        finished = True
    finally:
        for slot in slots:
            slot.close(kill=not finished)


class ProcessExecutor:
    """Runs jobs in ``workers`` warm local processes (see the module docstring)."""

    name = "process"
    in_process = False

    def __init__(self, workers: int | None = None, threads: int | None = 1, device: str = "auto",
                 jobs_per_gpu: int = 1, n_gpus: int | None = None,
                 scheduler: str | None = None, **_: Any) -> None:
        if scheduler:
            raise ExecutorError("--scheduler is for --executor dask")
        if workers is not None and workers < 1:
            raise ExecutorError(f"--workers must be at least 1, got {workers}")
        if jobs_per_gpu < 1:
            raise ExecutorError(f"--jobs-per-gpu must be at least 1, got {jobs_per_gpu}")
        self.workers, self.threads, self.device = workers, threads, device
        self.jobs_per_gpu, self.n_gpus = jobs_per_gpu, n_gpus

    def slots(self) -> list[str | None]:
        """The device of each worker slot (``None``: the job's own setting)."""
        n_gpus = cuda_count() if self.n_gpus is None else self.n_gpus
        workers = self.workers
        if workers is None and not wants_gpu(self.device, n_gpus):
            workers = default_workers(self.threads)
        return slot_devices(self.device, workers, n_gpus, self.jobs_per_gpu)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers, "jobs_per_gpu": self.jobs_per_gpu}

    def run(self, jobs: Iterable[Job], run_one: RunOne,
            on_start: OnStart | None = None) -> Iterator[JobResult]:
        jobs = list(jobs)
        if not jobs:
            return
        devices = self.slots()[:len(jobs)]
        slots = [WorkerSlot(device, self.threads, jobs[0].plugins_dir) for device in devices]
        yield from run_in_slots(slots, jobs, run_one, on_start)
