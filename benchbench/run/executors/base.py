"""What every executor is: the protocol, its usage error and the callables it is handed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from benchbench.run.jobs import Job, JobResult

RunOne = Callable[[Job], JobResult]
OnStart = Callable[[Job], None]


class ExecutorError(ValueError):
    """An executor cannot be built from the options given (a usage error)."""


class Executor(Protocol):
    """Runs jobs and yields their results as they finish.

    ``in_process`` says whether ``run_one`` is called in this process (then it may be any
    callable, e.g. one that reports training progress); otherwise it must be picklable.
    """

    name: str
    in_process: bool

    def describe(self) -> dict[str, Any]: ...

    def run(self, jobs: Iterable[Job], run_one: RunOne,
            on_start: OnStart | None = None) -> Iterator[JobResult]: ...
