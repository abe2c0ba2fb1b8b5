"""``--executor serial``: one job after the other.

Without a time limit the jobs run in the driver process itself (a run's training progress is
shown epoch by epoch). With ``--timeout`` they run one after the other in one child process
instead (:class:`~benchbench.run.executors.process.WorkerSlot`), so that a job past its limit can
be stopped by ending that process, wherever the job is; the child is replaced and the run goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from benchbench.run.executors.base import ExecutorError, OnStart, RunOne
from benchbench.run.jobs import Job, JobResult


class SerialExecutor:
    """Runs the jobs one after the other (see the module docstring)."""

    name = "serial"
    in_process = True  # jobs without a time limit: see isolated()

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 threads: int | None = 1, **_: Any) -> None:
        if workers is not None or scheduler:
            raise ExecutorError("--workers and --scheduler need --executor process or dask")
        self.threads = threads

    @staticmethod
    def isolated(jobs: Iterable[Job]) -> bool:
        """Whether these jobs run in a child process: when some job has a time limit."""
        return any(job.timeout is not None for job in jobs)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}

    def run(self, jobs: Iterable[Job], run_one: RunOne,
            on_start: OnStart | None = None) -> Iterator[JobResult]:
        jobs = list(jobs)
        if self.isolated(jobs):  # run_one is then the picklable run_job (the driver's choice)
            from benchbench.run.executors.process import WorkerSlot, run_in_slots

            slot = WorkerSlot(threads=self.threads, plugins_dir=jobs[0].plugins_dir)
            yield from run_in_slots([slot], jobs, run_one, on_start)
            return
        for job in jobs:
            if on_start is not None:
                on_start(job)
            yield run_one(job)
