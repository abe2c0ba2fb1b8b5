"""What every job runs under, whichever executor runs it: a torch thread count and a time limit.

* :func:`torch_threads` sets ``torch.set_num_threads`` for the duration of a job and restores the
  previous count. Float results depend on the thread count, so it is part of the run's
  configuration (``RunConfig.threads``, default 1) and recorded in each job record: the same
  config gives bit-identical CPU metrics in the driver, in a process pool and on Dask workers.
* :func:`time_limit` raises :class:`JobTimeout` in the calling thread once ``seconds`` have
  passed. A watchdog thread injects the exception (``PyThreadState_SetAsyncExc``), so it works in
  any thread (the driver's main thread, a Dask worker's task thread); it takes effect at the next
  Python bytecode, so a job blocked inside one long native call (a single huge matrix product, a
  ``time.sleep``) stops only when that call returns. The process executor backs it with a hard
  limit: a worker still busy a grace period after the limit is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator


class JobTimeout(BaseException):
    """A job ran past its time limit.

    A ``BaseException`` so that a detector's own ``except Exception`` cannot swallow it; the runner
    catches it and records the job with ``status = "timeout"``.
    """

    def __init__(self, seconds: float | None = None) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _inject(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`JobTimeout` (with ``.seconds``) in this thread after ``seconds``.

    ``None`` means no limit. The clock starts when the block starts: the watchdog thread is
    started first and armed inside the block's ``try``, so the exception cannot arrive while the
    watchdog is still starting (on a busy machine that takes longer than a short limit). Leaving
    the block early cancels the watchdog; an exception already injected but not yet raised when
    the block ends is withdrawn, so it never escapes later.
    """
    if seconds is None:
        yield
        return
    thread_id = threading.get_ident()
    lock = threading.Lock()
    fired = False
    armed, finished = threading.Event(), threading.Event()

    def watch() -> None:
        nonlocal fired
        armed.wait()
        if finished.wait(seconds):
            return
        with lock:
            if not finished.is_set():
                fired = True
                _inject(thread_id, JobTimeout)

    watchdog = threading.Thread(target=watch, name="benchbench-time-limit", daemon=True)
    watchdog.start()
    try:
        try:
            armed.set()
            yield
        finally:
            with lock:
                finished.set()
                if fired:
                    _inject(thread_id, None)  # withdraw it if it has not been raised yet
            armed.set()  # (a watchdog never armed still ends)
    except JobTimeout:
        raise JobTimeout(seconds) from None


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[int | None]:
    """Run the block with ``torch.set_num_threads(n)``; restore the previous count after it.

    ``None`` leaves torch as it is. Yields the thread count in force.
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
