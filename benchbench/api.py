"""The library entry point behind ``bench run``: plan, run (or resume) and report a benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchbench.config import RunConfig
from benchbench.files import read_json, write_json
from benchbench.plugins import Registries, load_registries
from benchbench.report.build import Report, build_report
from benchbench.run.driver import RunSummary, execute, new_run_dir
from benchbench.run.jobs import Job
from benchbench.run.planning import PlanError, plan_jobs
from benchbench.run.records import RunStore


class RunError(ValueError):
    """The run cannot start (bad configuration, unknown names, not a run folder)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; finished jobs are recorded and ``--resume run_dir`` completes it."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(str(run_dir))
        self.run_dir = run_dir


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
    """The saved config and planned jobs of an existing run folder."""
    store = RunStore(run_dir)
    if not store.config_path.exists() or not (run_dir / "jobs.json").exists():
        raise RunError(f"{run_dir}: not a benchbench run folder (no config.json / jobs.json)")
    config = RunConfig.from_dict(read_json(store.config_path), source=str(store.config_path))
    jobs = [Job(**j) for j in read_json(run_dir / "jobs.json")]
    return config, jobs


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
    try:
        summary = execute(run_dir, jobs, registries, progress=progress, executor=runner,
                          retry_failed=retry_failed)
    except KeyboardInterrupt:
        raise RunInterrupted(run_dir) from None
    except ExecutorError as exc:  # e.g. a cluster without the workers the jobs need
        raise RunError(f"{exc} (the run folder {run_dir} can be resumed)") from exc
    if summary.skipped == summary.total and (run_dir / "results.csv").exists():
        records = RunStore(run_dir).load_records()  # finished before: nothing to rewrite
        return RunOutcome(summary, Report(run_dir, len(records), headline_text(records), []))
    report = build_report(run_dir, plots=plots)
    return RunOutcome(summary, report)
