"""Dask distributed (``--executor dask``).

``--scheduler ADDRESS`` attaches to a running cluster; without it a local cluster of ``--workers``
single-threaded worker processes is started and closed afterwards. A worker that dies fails its
job (the scheduler is told not to retry a task whose worker died, ``allowed-failures = 0``, on a
local cluster; an external scheduler uses its own setting and the job is recorded failed once the
scheduler gives up).

A job with a time limit runs in a child process of its Dask worker, which is ended when the job is
past its limit (Dask cannot stop a running task); the local cluster's workers are started as
non-daemon processes so that they may have children. On a cluster of your own, start the workers
with ``distributed.worker.daemon: false`` in their Dask config to use ``--timeout``.

GPUs: each job asks for the worker resource ``GPU=1``, and each GPU gets ``--jobs-per-gpu K``
single-threaded workers with ``--resources "GPU=1"`` (a local cluster starts them; on a cluster the
README's ``dask worker`` command does), so at most K jobs share a GPU and every job has a process
of its own (torch's thread count and global random state are per process).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from benchbench.run.executors.base import ExecutorError, OnStart, RunOne
from benchbench.run.executors.placement import cuda_count, default_workers, wants_gpu
from benchbench.run.jobs import Job, JobResult, lost_job_record


def dask_available() -> bool:
    return (importlib.util.find_spec("dask") is not None
            and importlib.util.find_spec("distributed") is not None)


def dask_worker_device(device: str, worker_name: Any, n_gpus: int) -> str:
    """The device a job runs on inside a Dask worker.

    A cluster's GPU worker normally sees one GPU (``CUDA_VISIBLE_DEVICES`` set per worker, as
    ``dask-cuda`` and the README's command do), so ``cuda`` is that GPU. A worker that sees
    several GPUs and has an integer name (the workers of a local cluster are named 0, 1, ...)
    takes GPU ``name % n_gpus``, so a local cluster's ``n_gpus x jobs_per_gpu`` workers spread
    evenly over the GPUs.
    """
    if not wants_gpu(device, n_gpus) or ":" in str(device) or n_gpus <= 1:
        return device
    if isinstance(worker_name, int) or str(worker_name).isdigit():
        return f"cuda:{int(worker_name) % n_gpus}"
    return device


def _prepare_local_worker() -> None:
    """In each worker of a local cluster (started by benchbench): leave Ctrl-C to the driver,
    tune malloc as the process executor's workers do (:mod:`benchbench.run.allocator`)."""
    from benchbench.run.allocator import tune_malloc

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_malloc()


def _dask_run_job(job: Job) -> JobResult:
    """Runs on a Dask worker: place the job on the worker's GPU if it uses one, then run it
    (in a child process of the worker when it has a time limit, see the module docstring)."""
    from benchbench.run.pipeline import run_job

    if wants_gpu(job.device, n_gpus := cuda_count()):
        from distributed import get_worker

        device = dask_worker_device(job.device, get_worker().name, n_gpus)
        job = dataclasses.replace(job, device=device)
    if job.timeout is None:
        return run_job(job)
    return _child_slot(job.threads, job.plugins_dir).run(run_job, job)


# per Dask worker process: its warm child process, by (threads, plugins_dir)
_CHILD_SLOTS: dict[tuple[int | None, str | None], Any] = {}


def _child_slot(threads: int | None, plugins_dir: str | None) -> Any:
    from benchbench.run.executors.process import WorkerSlot

    key = (threads, plugins_dir)
    if key not in _CHILD_SLOTS:
        try:
            _CHILD_SLOTS[key] = WorkerSlot(threads=threads, plugins_dir=plugins_dir)
        except AssertionError as exc:  # multiprocessing: "daemonic processes are not allowed"
            raise RuntimeError(
                "--timeout on Dask needs workers that may start processes: set "
                f"distributed.worker.daemon to false in the workers' Dask config ({exc})"
            ) from exc
    return _CHILD_SLOTS[key]


class DaskExecutor:
    """Runs jobs on Dask distributed (see the module docstring)."""

    name = "dask"
    in_process = False

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 threads: int | None = 1, device: str = "auto", jobs_per_gpu: int = 1,
                 **_: Any) -> None:
        if not dask_available():
            raise ExecutorError("--executor dask needs Dask distributed: "
                                "pip install 'benchbench[dask]' (or 'dask[distributed]')")
        if workers is not None and workers < 1:
            raise ExecutorError(f"--workers must be at least 1, got {workers}")
        if workers is not None and scheduler:
            raise ExecutorError("--workers starts a local cluster; with --scheduler the "
                                "cluster's own workers run the jobs (drop --workers)")
        if jobs_per_gpu < 1:
            raise ExecutorError(f"--jobs-per-gpu must be at least 1, got {jobs_per_gpu}")
        self.workers, self.scheduler, self.threads = workers, scheduler, threads
        self.device, self.jobs_per_gpu = device, jobs_per_gpu
        self.remote = bool(scheduler)  # jobs run on another machine's devices

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers, "scheduler": self.scheduler,
                "jobs_per_gpu": self.jobs_per_gpu}

    @contextlib.contextmanager
    def _client(self, gpu: bool, n_jobs: int) -> Iterator[Any]:
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler:
            with Client(self.scheduler) as client:
                yield client
            return
        # one job per worker process (torch's thread count and random state are per process);
        # on GPUs, jobs_per_gpu workers per GPU, worker i on GPU i % n_gpus (_dask_run_job)
        if gpu:
            gpus = 1 if ":" in str(self.device) else max(1, cuda_count())  # cuda:N: one GPU
            n_workers = gpus * self.jobs_per_gpu
            resources = {"resources": {"GPU": 1}}
        else:
            n_workers = self.workers or default_workers(self.threads)
            resources = {}
        # a job whose worker dies is not retried: it is recorded failed, the others go on
        # workers that are not daemons may start the child process a job with a time limit runs in
        with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                              "distributed.worker.daemon": False}):
            cluster = LocalCluster(n_workers=min(n_workers, n_jobs), threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR, **resources)
        try:
            with Client(cluster) as client:
                # Ctrl-C in a terminal reaches the local workers too: leave it to the driver,
                # which closes the cluster (this runs in each worker's main thread)
                with contextlib.suppress(Exception):
                    client.run(_prepare_local_worker)
                yield client
        finally:
            cluster.close()

    @staticmethod
    def _capacity(client: Any, gpu: bool) -> int:
        """Jobs the cluster runs at once: worker threads (GPU slots for GPU jobs)."""
        workers = client.scheduler_info().get("workers", {}).values()
        if gpu:
            return sum(min(w.get("nthreads", 1), int(w.get("resources", {}).get("GPU", 0)))
                       for w in workers)
        return sum(w.get("nthreads", 1) for w in workers)

    def run(self, jobs: Iterable[Job], run_one: RunOne,
            on_start: OnStart | None = None) -> Iterator[JobResult]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        pending = deque(jobs)
        if not pending:
            return
        gpu = wants_gpu(self.device, 0 if self.scheduler else cuda_count())
        resources = {"GPU": 1} if gpu else None
        with self._client(gpu, len(pending)) as client:
            if self.scheduler:
                client.wait_for_workers(1, timeout=60)
            if gpu and not self._capacity(client, gpu):
                raise ExecutorError(
                    f"--device {self.device}: no worker of the Dask cluster offers the resource "
                    'GPU; start the GPU workers with --resources "GPU=1" (see the README)')
            futures: dict[Any, Job] = {}
            running = as_completed()

            def submit_more() -> None:
                # as many jobs in flight as the cluster runs at once: Dask places each one, and
                # a worker that dies holds only the job it was running
                capacity = max(1, self._capacity(client, gpu))
                while pending and running.count() < capacity:
                    job = pending.popleft()
                    future = client.submit(_dask_run_job, job, pure=False, resources=resources,
                                           key=f"benchbench-job-{os.urandom(8).hex()}")
                    futures[future] = job
                    running.add(future)

            try:
                submit_more()
                for future in running:
                    job = futures.pop(future)
                    try:
                        result = future.result()
                    except KilledWorker as exc:
                        result = JobResult(lost_job_record(
                            job, f"worker: the Dask worker running the job died ({exc})"), None)
                    except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
                        result = JobResult(lost_job_record(
                            job, f"worker: {type(exc).__name__}: {exc}"), None)
                    future.release()
                    submit_more()
                    yield result
            finally:
                client.cancel(list(futures))
