"""The library entry point behind ``bench run``: plan, run (or resume) and report a benchmark."""

from __future__ import annotations

import datetime as _dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchbench.config import RunConfig
from benchbench.files import write_json
from benchbench.plugins import Registries, load_registries
from benchbench.report.build import Report, build_report
from benchbench.run.driver import RunSummary, execute, new_run_dir
from benchbench.run.jobs import Job
from benchbench.run.planning import PlanError, plan_jobs
from benchbench.run.records import RecordWriteError, RunFolderError, RunStore


class RunError(ValueError):
    """The run cannot start (bad configuration, unknown names, not a run folder)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, see :class:`Terminated`) stopped a run; finished jobs are recorded
    and ``--resume run_dir`` completes it. ``cause`` is the interruption that stopped it."""

    def __init__(self, run_dir: Path, cause: BaseException | None = None) -> None:
        super().__init__(str(run_dir))
        self.run_dir = run_dir
        self.cause = cause


class Terminated(KeyboardInterrupt):
    """Raised by a SIGTERM handler (the ``bench`` command installs one) so that a terminated
    run stops the way Ctrl-C stops it."""


class RunStopped(RuntimeError):
    """The run could not go on (a record or report could not be written, e.g. a full disk).
    The records written before are kept; ``resume`` is the command that finishes the run."""

    def __init__(self, run_dir: Path, message: str, resume: str) -> None:
        super().__init__(message)
        self.run_dir = run_dir
        self.resume = resume


class RunFailed(RuntimeError):
    """An unexpected error stopped the run; its traceback is in ``log_path`` (in the run
    folder), the records written before it are kept, and ``--resume`` finishes the run."""

    def __init__(self, run_dir: Path, message: str, log_path: Path | None) -> None:
        super().__init__(message)
        self.run_dir = run_dir
        self.log_path = log_path


def _log_error(run_dir: Path, exc: BaseException) -> Path | None:
    """Append ``exc``'s traceback to ``<run_dir>/error.log``; return the path (``None`` when
    even that cannot be written)."""
    import traceback

    path = run_dir / "error.log"
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}\n")
            fh.write(text)
    except OSError:
        return None
    return path


@dataclass
class RunOutcome:
    summary: RunSummary
    report: Report


def _check_names(config: RunConfig, registries: Registries, check_device: bool = True) -> None:
    from benchbench.evaluation.thresholding import THRESHOLDS

    if config.device != "auto" and check_device:
        from benchbench.torchkit import resolve_device

        try:
            resolve_device(config.device)
        except (RuntimeError, ValueError) as exc:
            raise RunError(f"--device {config.device}: {exc}") from exc
    if config.threshold not in THRESHOLDS:
        raise RunError(
            f"unknown threshold {config.threshold!r}; available: {', '.join(THRESHOLDS)}"
        )


def make_executor(executor, config: RunConfig, options: dict | None = None):
    """The executor to run with: an executor object as given, or one built by name (``None``:
    serial) with the run's device and thread count and ``options`` (workers, scheduler,
    jobs_per_gpu). Bad options or a missing Dask are a :class:`RunError`."""
    from benchbench.run.executors import ExecutorError, get_executor

    if executor is not None and not isinstance(executor, str):
        return executor
    try:
        return get_executor(executor or "serial", device=config.device, threads=config.threads,
                            **(options or {}))
    except ExecutorError as exc:
        raise RunError(str(exc)) from exc


def prepare_run(config: RunConfig, registries: Registries,
                check_device: bool = True) -> tuple[Path, list[Job]]:
    """Plan the jobs, create the run folder and save its config, environment and job list.

    ``check_device=False`` skips checking ``config.device`` on this machine (the jobs run on
    a remote cluster's workers, which may have GPUs the driver lacks).
    """
    from benchbench.run.environment import describe_environment

    _check_names(config, registries, check_device)
    try:
        jobs = plan_jobs(config, registries)
    except PlanError as exc:
        raise RunError(str(exc)) from exc
    if not jobs:
        raise RunError("nothing to run: no (detector, signal, seed) combination selected")
    check_output(Path(config.output))
    run_dir = new_run_dir(Path(config.output))
    store = RunStore(run_dir)
    write_json(store.config_path, config.to_dict())
    environment = describe_environment()
    environment["device_requested"] = config.device
    environment["seeds"] = config.seeds
    environment["repeat"] = config.repeat
    environment["threads_per_job"] = config.threads
    write_json(run_dir / "environment.json", environment)
    write_json(run_dir / "jobs.json", [j.to_dict() for j in jobs])
    return run_dir, jobs


def load_run(run_dir: Path) -> tuple[RunConfig, list[Job]]:
    """The saved config and planned jobs of an existing run folder.

    Raises:
        RunError: not a run folder, or its config.json or jobs.json is corrupt (named).
    """
    store = RunStore(run_dir)
    if not store.config_path.exists() or not store.jobs_path.exists():
        raise RunError(f"{run_dir}: not a benchbench run folder (no config.json / jobs.json)")
    try:
        config = RunConfig.from_dict(store.read_config(), source=str(store.config_path))
        jobs = store.planned_jobs() or []
    except RunFolderError as exc:
        raise RunError(f"{exc}; the run folder cannot be resumed") from None
    return config, jobs


def check_output(output: Path) -> None:
    """Fail before the run folder is made when the output root cannot hold one.

    Raises:
        RunError: naming the path and the reason (a file in the way, no permission, ...).
    """
    try:
        output.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise RunError(f"--output {output}: exists and is not a folder") from None
    except OSError as exc:
        raise RunError(f"--output {output}: cannot create the folder "
                       f"({exc.strerror or exc})") from None
    try:
        probe = tempfile.TemporaryFile(dir=output, prefix=".bench-write-test-")
    except OSError as exc:
        raise RunError(f"--output {output}: cannot write in the folder "
                       f"({exc.strerror or exc})") from None
    probe.close()


def run_benchmark(config: RunConfig | None, registries: Registries | None = None,
                  resume: Path | None = None, retry_failed: bool = False, quiet: bool = False,
                  plots: bool = True, progress=None, executor=None,
                  executor_options: dict | None = None) -> RunOutcome:
    """Run a benchmark described by ``config``, or finish the run folder ``resume``.

    ``executor`` is an executor object or a name (``auto``, ``serial``, ``process``, ``dask``; see
    :mod:`benchbench.run.executors`) built with ``executor_options``. A resumed run may use another
    executor than the one it started with: results do not depend on it. Resuming a finished run
    runs nothing, starts no executor and rewrites nothing (``summary.skipped == summary.total``).
    """
    from benchbench.report.render import headline_text
    from benchbench.run.executors import ExecutorError
    from benchbench.run.progress import Progress

    if resume is not None:
        config, jobs = load_run(Path(resume))
        run_dir = Path(resume)
        registries = registries or load_registries(config.plugins_dir)
        missing = sorted({j.detector for j in jobs} - set(registries.detectors.names()))
        if missing:
            raise RunError(f"{run_dir}: detector(s) {', '.join(missing)} are no longer "
                           "registered; load the plugins the run used (--plugins-dir?)")
    else:
        if config is None:
            raise RunError("a config is needed unless resuming")
        registries = registries or load_registries(config.plugins_dir)
    runner = make_executor(executor, config, executor_options)
    if resume is None:
        run_dir, jobs = prepare_run(config, registries,
                                    check_device=not getattr(runner, "remote", False))
    progress = progress or Progress(quiet=quiet)
    resume_command = f"bench run --resume {run_dir}"
    try:
        summary = execute(run_dir, jobs, registries, progress=progress, executor=runner,
                          retry_failed=retry_failed)
    except KeyboardInterrupt as exc:
        raise RunInterrupted(run_dir, exc) from None
    except ExecutorError as exc:  # e.g. a cluster without the workers the jobs need
        raise RunError(f"{exc} (the run folder {run_dir} can be resumed)") from exc
    except RecordWriteError as exc:
        raise RunStopped(run_dir, str(exc), resume_command) from None
    except Exception as exc:  # noqa: BLE001 - a harness bug: keep the records, log it, name it
        raise RunFailed(run_dir, f"{type(exc).__name__}: {exc}", _log_error(run_dir, exc)) from exc
    if summary.skipped == summary.total and (run_dir / "results.csv").exists():
        from benchbench.report.build import load_run_records

        # finished before: nothing to rewrite (the score metrics come from the report's cache)
        records = load_run_records(run_dir, score_metrics=True).records
        return RunOutcome(summary, Report(run_dir, len(records), headline_text(records), []))
    try:
        report = build_report(run_dir, plots=plots)
    except OSError as exc:  # every record is written; only the tables are left to make
        where = f"{exc.filename}: " if exc.filename else ""
        raise RunStopped(run_dir, f"cannot write the report: {where}{exc.strerror or exc}",
                         f"bench report {run_dir}") from None
    except Exception as exc:  # noqa: BLE001 - as above; the records are all written
        raise RunFailed(run_dir, f"{type(exc).__name__} while writing the report: {exc}",
                        _log_error(run_dir, exc)) from exc
    return RunOutcome(summary, report)
