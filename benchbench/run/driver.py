"""The driver: make a run folder, run the jobs that have no record yet, write each record.

Only the driver writes records, whichever executor runs the jobs, so a worker that dies loses
its own job only; jobs already recorded are skipped, which is what ``--resume`` relies on.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchbench.plugins import Registries
from benchbench.run.jobs import Job, JobResult
from benchbench.run.pipeline import run_job


class RecordWarning(UserWarning):
    """A record of the run folder was found corrupt and is being replaced."""


def new_run_dir(output: Path) -> Path:
    """A fresh ``<output>/<UTC timestamp>`` folder (suffixed if that name is taken)."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    output.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        candidate = output / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a run folder under {output}")


@dataclass
class RunSummary:
    run_dir: Path
    total: int
    skipped: int
    ok: int
    failed: list[dict[str, Any]]


def execute(run_dir: Path, jobs: list[Job], registries: Registries, progress=None,
            executor=None, retry_failed: bool = False) -> RunSummary:
    """Run the jobs that have no record yet in ``run_dir`` and write each record as it finishes.

    Jobs already recorded are skipped (failed ones too, unless ``retry_failed``), which is what
    makes ``--resume`` finish an interrupted run and makes rerunning a finished run a no-op (the
    executor is not even started then). Only this function, in the driver, writes records.
    """
    from benchbench.run.executors.serial import SerialExecutor
    from benchbench.run.records import RunStore

    store = RunStore(run_dir)
    store.remove_partial_writes()  # left by a driver killed mid-write; their jobs rerun
    records, corrupt = store.scan_records()
    planned = {j.job_id for j in jobs}
    for path in corrupt:
        if path.stem in planned:
            warnings.warn(f"{path}: corrupt record (not a readable job record); its job runs "
                          "again and the record is replaced", RecordWarning, stacklevel=2)
    done = {r["job_id"]: r.get("status", "failed") for r in records}
    todo = [j for j in jobs
            if j.job_id not in done or (retry_failed and done[j.job_id] != "ok")]
    executor = executor or SerialExecutor()

    def run_here(job: Job) -> JobResult:
        return run_job(job, registries, on_epoch=progress.epoch if progress else None)

    # an executor that runs jobs in other processes (the serial one too, for jobs with a time
    # limit) gets the module-level, picklable run_job, which loads the plugins there from
    # job.plugins_dir
    in_process = getattr(executor, "in_process", False)
    if in_process and getattr(executor, "isolated", lambda jobs: False)(todo):
        in_process = False
    run_one = run_here if in_process else run_job
    on_start = progress.job_started if progress is not None else None
    if progress is not None:
        progress.start(len(todo), skipped=len(jobs) - len(todo))
    try:
        if todo:
            with contextlib.closing(executor.run(todo, run_one, on_start=on_start)) as results:
                for result in results:
                    result.record.setdefault("executor", executor.name)
                    store.write_record(result.record, result.arrays)
                    if progress is not None:
                        progress.job_finished(result.record)
    finally:
        if progress is not None:
            progress.close()
    records = [r for r in store.load_records() if r["job_id"] in planned]
    failed = [r for r in records if r.get("status") != "ok"]
    return RunSummary(run_dir, len(jobs), len(jobs) - len(todo), len(records) - len(failed),
                      failed)
