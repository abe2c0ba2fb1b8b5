"""Rebuild a run's outputs (results.csv, tables, plots, report.html) from its job records alone.

Coverage is always stated: the records are set against the planned jobs (``jobs.json``), and a
planned job without a readable record (none was written, or the file is corrupt) enters every
table as a ``missing`` entry (:func:`benchbench.report.aggregate.missing_record`) and is named in
the report's warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchbench.files import atomic_write
from benchbench.run.records import RunStore

#: How many missing jobs the warnings name one by one before they just count the rest.
NAMED_MISSING = 5


@dataclass
class Report:
    """What :func:`build_report` wrote: the files, the headline text and the coverage.

    ``n_records`` counts the readable records; ``n_planned`` the jobs of ``jobs.json`` (``None``
    for a folder without one); ``n_missing`` the planned jobs without a readable record;
    ``warnings`` one line each, for the terminal (``bench report`` prints them to stderr).
    """

    run_dir: Path
    n_records: int
    headline: str
    files: list[Path]
    warnings: list[str] = field(default_factory=list)
    n_planned: int | None = None
    n_missing: int = 0


@dataclass
class RunRecords:
    """A run's records set against its planned jobs (see :func:`load_run_records`).

    ``records``: the readable records plus one ``missing`` entry per planned job without one,
    sorted by job id; ``n_records``: the readable ones; ``n_planned``: the planned jobs (``None``
    without ``jobs.json``); ``missing``: the missing entries; ``warnings``: one line each.
    """

    records: list[dict[str, Any]]
    n_records: int
    n_planned: int | None
    missing: list[dict[str, Any]]
    warnings: list[str]


def _job_name(entry: dict[str, Any]) -> str:
    rep = entry.get("repetition") or 0
    return (f"{entry['dataset']} / {entry['signal']} / {entry['detector']} / seed {entry['seed']}"
            + (f" rep. {rep}" if rep else ""))


def load_run_records(run_dir: Path | str) -> RunRecords:
    """The records of a run folder with a ``missing`` entry for each planned job that has none.

    A planned job (``jobs.json``) whose record file is absent is missing with the error
    ``no record``; one whose file cannot be read (truncated, not a record of that job) with
    ``corrupt record <path>``. The warnings say ``incomplete: N of M jobs missing``, name the
    first :data:`NAMED_MISSING` of them and count the rest; they also name a corrupt record file
    of a job that is not planned, and a folder without ``jobs.json`` (coverage unknown). Records
    of jobs outside the plan are kept.

    Raises:
        benchbench.run.records.RunFolderError: ``jobs.json`` exists but is corrupt.
    """
    from benchbench.report.aggregate import coverage_line, missing_record

    store = RunStore(run_dir)
    records, corrupt = store.scan_records()
    planned = store.planned_jobs()
    warnings: list[str] = []
    if planned is None:
        warnings.append(f"{store.jobs_path}: no such file, so the records cannot be checked "
                        "against the planned jobs (coverage unknown)")
        planned = []
        n_planned = None
    else:
        n_planned = len(planned)
    corrupt_by_id = {path.stem: path for path in corrupt}
    have = {rec["job_id"] for rec in records}
    kinds = {(r.get("dataset"), r.get("signal")): r.get("kind") for r in records if r.get("kind")}
    missing = []
    for job in planned:
        if job.job_id in have:
            continue
        path = corrupt_by_id.pop(job.job_id, None)
        error = "no record" if path is None else f"corrupt record {path}"
        missing.append(missing_record(job, error, kinds.get((job.dataset, job.signal))))
    every = sorted(records + missing, key=lambda r: str(r["job_id"]))
    line = coverage_line(every) if n_planned is not None else None
    if line:
        warnings.append(f"{line} (no record, or a corrupt one): the tables count them as "
                        "`missing` and leave them out of every score; `bench run --resume "
                        f"{store.run_dir}` runs them")
        for entry in missing[:NAMED_MISSING]:
            warnings.append(f"missing job {_job_name(entry)}: {entry['error']}")
        if len(missing) > NAMED_MISSING:
            warnings.append(f"... and {len(missing) - NAMED_MISSING} more missing jobs "
                            "(results.csv lists each with status missing)")
    for path in sorted(corrupt_by_id.values()):
        warnings.append(f"corrupt record {path} (not a planned job): left out")
    return RunRecords(every, len(records), n_planned, missing, warnings)


def build_report(run_dir: Path | str, plots: bool = True) -> Report:
    """Write ``results.csv``, ``tables/``, ``plots/`` and ``report.html`` of a run folder.

    Everything comes from the job records, set against the planned jobs by
    :func:`load_run_records`: missing jobs are rows with status ``missing`` in ``results.csv``,
    are counted in every table and named in :attr:`Report.warnings`. ``plots=False`` skips the
    figures (the page then says that each one was not drawn).

    A resumed or merged run reports exactly what an uninterrupted one does: nothing here depends
    on the order or the moment in which jobs finished.

    Raises:
        FileNotFoundError: the folder has no ``config.json``.
        benchbench.run.records.RunFolderError: its ``jobs.json`` is corrupt.
    """
    from benchbench.report.aggregate import results_frame
    from benchbench.report.html import write_html_report
    from benchbench.report.plots import write_plots
    from benchbench.report.render import headline_text, write_tables

    run_dir = Path(run_dir)
    store = RunStore(run_dir)
    if not store.config_path.exists():
        raise FileNotFoundError(f"{run_dir}: not a benchbench run folder (no config.json)")
    loaded = load_run_records(run_dir)
    records = loaded.records
    files: list[Path] = []
    frame = results_frame(records)
    csv_path = run_dir / "results.csv"
    atomic_write(csv_path, lambda fh: frame.to_csv(fh, index=False))
    files.append(csv_path)
    if records:
        files.extend(write_tables(records, run_dir / "tables").values())
        if plots:
            files.extend(write_plots(run_dir, records))
    files.append(write_html_report(run_dir, records, run_dir / "plots" if plots else None))
    headline = headline_text(records) if records else "no finished jobs"
    return Report(run_dir, loaded.n_records, headline, files, loaded.warnings, loaded.n_planned,
                  len(loaded.missing))
