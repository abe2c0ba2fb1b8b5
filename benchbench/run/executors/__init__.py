"""Executors: how a list of jobs gets run (``bench run --executor auto|serial|process|dask``).

An executor receives the jobs and a ``run_one(job) -> JobResult`` function and yields each result as
it finishes, in any order. Only the driver (:func:`benchbench.run.driver.execute`) writes records,
so a worker that dies loses its own job only, and that job is yielded as a failed record.

* ``auto`` (default): ``process`` with ``cores // threads`` workers when more than one fits,
  ``serial`` otherwise (:func:`resolve_executor_name`).
* ``serial``: one job after the other in the driver process; with a ``--timeout``, in one child
  process instead, so that the limit can be enforced by ending that process
  (:mod:`~benchbench.run.executors.serial`).
* ``process``: local worker processes, kept warm across jobs
  (:mod:`~benchbench.run.executors.process`).
* ``dask``: Dask distributed (:mod:`~benchbench.run.executors.dask`).

A job past its ``timeout`` is stopped by ending the process it runs in (never by raising into a
thread) and recorded with ``status = "timeout"``; the run goes on. Jobs run with the run's torch
thread count under every executor, so CPU results are bit-identical whichever executor ran them.
"""

from __future__ import annotations

from typing import Any

from benchbench.run.executors.base import Executor, ExecutorError, OnStart, RunOne
from benchbench.run.executors.placement import default_workers

__all__ = ["NAMES", "Executor", "ExecutorError", "OnStart", "RunOne", "get_executor",
           "resolve_executor_name"]
NAMES = ("auto", "serial", "process", "dask")


def resolve_executor_name(name: str, threads: int | None = 1, workers: int | None = None) -> str:
    """``auto``: ``process`` when ``--workers`` is given or more than one ``threads``-thread
    worker fits on this machine's cores, ``serial`` otherwise; any other name as it is."""
    if name != "auto":
        return name
    return "process" if workers is not None or default_workers(threads) > 1 else "serial"


def get_executor(name: str, **options: Any) -> Executor:
    """An executor by name (``auto``, ``serial``, ``process``, ``dask``); options it does not use
    are ignored, bad ones raise :class:`ExecutorError`."""
    name = resolve_executor_name(name, options.get("threads", 1), options.get("workers"))
    if name == "serial":
        from benchbench.run.executors.serial import SerialExecutor as factory
    elif name == "process":
        from benchbench.run.executors.process import ProcessExecutor as factory
    elif name == "dask":
        from benchbench.run.executors.dask import DaskExecutor as factory
    else:
        raise ExecutorError(f"unknown executor {name!r}; available: {', '.join(NAMES)}")
    return factory(**options)
