"""Executors: how a list of jobs gets run (``bench run --executor serial|process|dask``).

An executor receives the jobs and a ``run_one(job) -> JobResult`` function and yields each result as
it finishes, in any order. Only the driver (:func:`benchbench.runner.execute`) writes records, so a
worker that dies loses its own job only, and that job is yielded as a failed record.

* ``serial`` (default): one job after the other in the driver process.
* ``process``: a pool of local worker processes (``--workers N``, started with ``spawn``, kept warm
  across jobs). Each worker is its own one-process pool, so a worker killed by the OS (out of
  memory, segfault) fails exactly the job it was running: the job is recorded as failed at stage
  ``worker`` with the exit signal, the worker is replaced and the run goes on. A job still running
  ``kill_grace`` seconds after its ``--timeout`` (stuck in native code) has its worker killed and is
  recorded as a timeout.
* ``dask``: Dask distributed does the distribution. ``--scheduler ADDRESS`` attaches to a running
  cluster; without it a local cluster of ``--workers`` single-threaded worker processes is started
  and closed afterwards. A worker that dies fails its job (the scheduler is told not to retry a
  task whose worker died, ``allowed-failures = 0``, on a local cluster; an external scheduler uses
  its own setting and the job is recorded failed once the scheduler gives up).

GPU placement (``--device cuda``, or ``auto`` on a machine with CUDA): the process executor gives
each visible GPU ``--jobs-per-gpu K`` worker slots and pins each slot's jobs to its device
(``cuda:0``, ``cuda:1``, ...); the Dask executor asks for the worker resource ``GPU=1`` per job, and
each GPU gets K single-threaded workers with ``--resources "GPU=1"`` (a local cluster starts them;
on a cluster the README's ``dask worker`` command does), so at most K jobs share a GPU and every
job has a process of its own (torch's thread count and global random state are per process, so
two jobs never run in one). Each record's ``device``
says where the job ran. Jobs run with the run's torch thread count (``RunConfig.threads``) under
every executor, so CPU results are bit-identical whichever executor ran them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from benchbench.runner import Job, JobResult, lost_job_record

RunOne = Callable[[Job], JobResult]
OnStart = Callable[[Job], None]


class ExecutorError(ValueError):
    """An executor cannot be built from the options given (a usage error)."""


class Executor(Protocol):
    """Runs jobs and yields their results as they finish."""

    name: str
    in_process: bool

    def run(self, jobs: Iterable[Job], run_one: RunOne,
            on_start: OnStart | None = None) -> Iterator[JobResult]: ...


class SerialExecutor:
    """Runs the jobs one after the other in this process (the default)."""

    name = "serial"
    in_process = True

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 **_: Any) -> None:
        if workers is not None or scheduler:
            raise ExecutorError("--workers and --scheduler need --executor process or dask")

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}

    def run(self, jobs: Iterable[Job], run_one: RunOne,
            on_start: OnStart | None = None) -> Iterator[JobResult]:
        for job in jobs:
            if on_start is not None:
                on_start(job)
            yield run_one(job)


# --------------------------------------------------------------------------------------------
# GPU placement
# --------------------------------------------------------------------------------------------


def wants_gpu(device: str, n_gpus: int) -> bool:
    """Whether jobs of this ``device`` setting go to GPUs (``cuda``, ``cuda:N``, or ``auto``
    when the machine has CUDA devices)."""
    name = str(device).strip().lower()
    return name.startswith("cuda") or (name == "auto" and n_gpus > 0)


def slot_devices(device: str, workers: int | None, n_gpus: int,
                 jobs_per_gpu: int = 1) -> list[str | None]:
    """The device of each local worker slot; ``None`` keeps the job's own ``device`` setting.

    On CPU: ``workers`` slots (default 1). On GPUs: ``jobs_per_gpu`` slots per visible GPU
    (only GPU N for ``cuda:N``), interleaved (``cuda:0, cuda:1, cuda:0, cuda:1`` ...) so that
    fewer ``workers`` than slots still spread over the GPUs; never more than ``jobs_per_gpu``
    slots share a GPU.
    """
    if not wants_gpu(device, n_gpus):
        return [None] * (workers or 1)
    name = str(device).strip().lower()
    gpus = [int(name.split(":", 1)[1])] if ":" in name else list(range(max(n_gpus, 1)))
    slots: list[str | None] = [f"cuda:{g}" for _ in range(jobs_per_gpu) for g in gpus]
    return slots[:workers] if workers else slots


def _cuda_count() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - no torch or a broken CUDA setup: place on CPU
        return 0


def _default_workers(threads: int | None) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, threads or 1))


# --------------------------------------------------------------------------------------------
# Local processes
# --------------------------------------------------------------------------------------------


def _exit_with_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:  # the driver was killed: do not outlive it
            os._exit(1)


def _init_worker(threads: int | None) -> None:
    """Worker process start: leave Ctrl-C to the driver, exit with it, set torch threads."""
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    import benchbench.runner  # noqa: F401 - warm the imports before the first job


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Slot:
    """One warm worker process (a one-process pool) and the job it is running."""

    def __init__(self, index: int, device: str | None, threads: int | None) -> None:
        self.index, self.device, self.threads = index, device, threads
        self.pool: Any = None
        self.process: Any = None
        self.warm: Any = None
        self.future: Any = None
        self.job: Job | None = None
        self.started = 0.0

    def start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=1,
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker, initargs=(self.threads,))
        self.process = None
        self.warm = self.pool.submit(os.getpid)  # starts the process; done when it is ready

    @property
    def ready(self) -> bool:
        return self.warm is not None and self.warm.done() and self.future is None

    def check_started(self) -> None:
        """After the warm-up call: keep the process handle; a worker that cannot start is fatal."""
        if self.process is None and self.warm is not None and self.warm.done():
            self.warm.result()  # raises if the worker could not start (broken install)
            procs = list(getattr(self.pool, "_processes", {}).values())
            self.process = procs[0] if procs else None

    def submit(self, run_one: RunOne, job: Job) -> Job:
        if self.device is not None:
            job = dataclasses.replace(job, device=self.device)
        self.job, self.started = job, time.monotonic()
        self.future = self.pool.submit(run_one, job)
        return job

    def take(self) -> Job:
        job, self.job, self.future = self.job, None, None
        assert job is not None
        return job

    def exit_description(self) -> str:
        if self.process is None:
            return _describe_exit(None)
        # The pool's management thread may be reaping the same process: its waitpid wins and
        # ours reads nothing for a moment, so look again until the status shows (5 s at most).
        deadline = time.monotonic() + 5.0
        while True:
            self.process.join(timeout=0.2)
            code = self.process.exitcode
            if code is not None or time.monotonic() > deadline:
                return _describe_exit(code)

    def kill(self) -> None:
        for proc in list(getattr(self.pool, "_processes", {}).values()) or [self.process]:
            if proc is not None and proc.is_alive():
                with contextlib.suppress(Exception):
                    proc.kill()

    def close(self, kill: bool = False) -> None:
        if self.pool is None:
            return
        if kill:
            self.kill()
        self.pool.shutdown(wait=not kill, cancel_futures=True)
        self.pool = None

    def restart(self) -> None:
        self.close(kill=True)
        self.start()


class ProcessExecutor:
    """Runs jobs in ``workers`` warm local processes (see the module docstring)."""

    name = "process"
    in_process = False

    def __init__(self, workers: int | None = None, threads: int | None = 1, device: str = "auto",
                 jobs_per_gpu: int = 1, kill_grace: float = 10.0, n_gpus: int | None = None,
                 scheduler: str | None = None, **_: Any) -> None:
        if scheduler:
            raise ExecutorError("--scheduler is for --executor dask")
        if workers is not None and workers < 1:
            raise ExecutorError(f"--workers must be at least 1, got {workers}")
        if jobs_per_gpu < 1:
            raise ExecutorError(f"--jobs-per-gpu must be at least 1, got {jobs_per_gpu}")
        self.workers, self.threads, self.device = workers, threads, device
        self.jobs_per_gpu, self.kill_grace, self.n_gpus = jobs_per_gpu, kill_grace, n_gpus

    def slots(self) -> list[str | None]:
        n_gpus = _cuda_count() if self.n_gpus is None else self.n_gpus
        workers = self.workers
        if workers is None and not wants_gpu(self.device, n_gpus):
            workers = _default_workers(self.threads)
        return slot_devices(self.device, workers, n_gpus, self.jobs_per_gpu)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers, "jobs_per_gpu": self.jobs_per_gpu}

    def run(self, jobs: Iterable[Job], run_one: RunOne,
            on_start: OnStart | None = None) -> Iterator[JobResult]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = deque(jobs)
        if not pending:
            return
        slots = [_Slot(i, dev, self.threads) for i, dev in enumerate(self.slots())]
        slots = slots[:len(pending)]
        interrupted = True
        try:
            for slot in slots:
                slot.start()
            while pending or any(s.future is not None for s in slots):
                for slot in slots:
                    slot.check_started()
                    if slot.ready and pending:
                        try:
                            job = slot.submit(run_one, pending[0])
                        except BrokenProcessPool:  # the idle worker died: replace it, retry
                            slot.future = slot.job = None
                            slot.restart()
                            continue
                        pending.popleft()
                        if on_start is not None:
                            on_start(job)
                waiting = [s.future for s in slots if s.future is not None]
                waiting += [s.warm for s in slots if s.process is None and s.warm is not None]
                wait(waiting, timeout=self._next_check(slots), return_when=FIRST_COMPLETED)
                for slot in slots:
                    result = self._collect(slot, BrokenProcessPool)
                    if result is not None:
                        yield result
            interrupted = False
        finally:
            for slot in slots:
                slot.close(kill=interrupted)

    def _hard_limit(self, job: Job | None) -> float | None:
        if job is None or job.timeout is None:
            return None
        return job.timeout + self.kill_grace

    def _next_check(self, slots: list[_Slot]) -> float | None:
        waits = [s.started + limit - time.monotonic() for s in slots
                 if s.future is not None and (limit := self._hard_limit(s.job)) is not None]
        return max(0.05, min(waits)) if waits else None

    def _collect(self, slot: _Slot, broken: type[BaseException]) -> JobResult | None:
        """The result of a slot's finished (or overdue) job, if any; replaces dead workers."""
        if slot.future is None:
            return None
        if slot.future.done():
            try:
                result = slot.future.result()
            except broken:
                job = slot.take()
                record = lost_job_record(
                    job, f"worker: the worker process died while running the job "
                         f"({slot.exit_description()}, e.g. out of memory or a crash)")
                slot.restart()
                return JobResult(record, None)
            except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
                job = slot.take()
                record = lost_job_record(job, f"worker: {type(exc).__name__}: {exc}")
                return JobResult(record, None)
            slot.take()
            return result
        limit = self._hard_limit(slot.job)
        if limit is not None and time.monotonic() - slot.started > limit:
            job = slot.take()
            slot.restart()
            record = lost_job_record(
                job, f"timeout: ran past {job.timeout:g} s and did not stop within "
                     f"{self.kill_grace:g} s more; its worker process was killed",
                status="timeout")
            return JobResult(record, None)
        return None


# --------------------------------------------------------------------------------------------
# Dask distributed
# --------------------------------------------------------------------------------------------


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


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _dask_run_job(job: Job) -> JobResult:
    """Runs on a Dask worker: place the job on the worker's GPU if it uses one, then run it."""
    from benchbench.runner import run_job

    if wants_gpu(job.device, n_gpus := _cuda_count()):
        from distributed import get_worker

        device = dask_worker_device(job.device, get_worker().name, n_gpus)
        job = dataclasses.replace(job, device=device)
    return run_job(job)


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
            gpus = 1 if ":" in str(self.device) else max(1, _cuda_count())  # cuda:N: one GPU
            n_workers = gpus * self.jobs_per_gpu
            resources = {"resources": {"GPU": 1}}
        else:
            n_workers = self.workers or _default_workers(self.threads)
            resources = {}
        # a job whose worker dies is not retried: it is recorded failed, the others go on
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            cluster = LocalCluster(n_workers=min(n_workers, n_jobs), threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR, **resources)
        try:
            with Client(cluster) as client:
                # Ctrl-C in a terminal reaches the local workers too: leave it to the driver,
                # which closes the cluster (this runs in each worker's main thread)
                with contextlib.suppress(Exception):
                    client.run(_ignore_sigint)
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
        gpu = wants_gpu(self.device, 0 if self.scheduler else _cuda_count())
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


EXECUTORS: dict[str, Callable[..., Executor]] = {
    "serial": SerialExecutor,
    "process": ProcessExecutor,
    "dask": DaskExecutor,
}


def get_executor(name: str, **options: Any) -> Executor:
    """An executor by name (``serial``, ``process``, ``dask``); options it does not use are
    ignored, bad ones raise :class:`ExecutorError`."""
    try:
        factory = EXECUTORS[name]
    except KeyError:
        raise ExecutorError(
            f"unknown executor {name!r}; available: {', '.join(EXECUTORS)}") from None
    return factory(**options)
