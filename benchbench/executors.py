"""Executors: how a list of jobs gets run.

The seam where parallel executors plug in. An executor receives the jobs and a picklable
``run_one(job) -> JobResult`` function and yields each result as it finishes, in any order. Only the
driver (:func:`benchbench.runner.run`) writes records, so a worker that dies loses its own job only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

J = TypeVar("J")
R = TypeVar("R")


class Executor(Protocol):
    """Runs jobs and yields their results as they finish."""

    name: str

    def run(self, jobs: Iterable[J], run_one: Callable[[J], R]) -> Iterator[R]: ...


class SerialExecutor:
    """Runs the jobs one after the other in this process (the default)."""

    name = "serial"

    def run(self, jobs: Iterable[J], run_one: Callable[[J], R]) -> Iterator[R]:
        for job in jobs:
            yield run_one(job)


EXECUTORS: dict[str, Callable[..., Executor]] = {"serial": SerialExecutor}


def get_executor(name: str, **options: object) -> Executor:
    """An executor by name (``serial``)."""
    try:
        factory = EXECUTORS[name]
    except KeyError:
        raise ValueError(f"unknown executor {name!r}; available: {', '.join(EXECUTORS)}") from None
    return factory(**options)
