"""The run folder on disk: configuration, environment and one record per job, written atomically.

Layout (see ``results/README.md``)::

    <run>/config.json         resolved configuration (detectors, datasets, seeds, parameters)
    <run>/environment.json    package versions, Python, platform, device, threads
    <run>/jobs.json           the planned jobs (so a resumed run knows what is left)
    <run>/records/<job>.json  one record per finished job (ok or failed)
    <run>/scores/<job>.npz    test index, scaled test values and scores of an ok job
    <run>/results.csv, tables/, plots/   rebuilt from the records by ``bench report``

Each file is written to a temporary name in the same folder, flushed to disk and renamed into place,
so a run killed at any moment leaves either the whole record or none of it. The JSON record is
written after its scores file, so a record on disk always has its artifacts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from benchbench.files import atomic_write, read_json, write_json
from benchbench.run.jobs import Job

RECORDS = "records"
SCORES = "scores"


class RunStore:
    """Reads and writes one run folder."""

    def __init__(self, run_dir: Path | str) -> None:
        self.run_dir = Path(run_dir)

    @property
    def config_path(self) -> Path:
        return self.run_dir / "config.json"

    def record_path(self, job_id: str) -> Path:
        return self.run_dir / RECORDS / f"{job_id}.json"

    def scores_path(self, job_id: str) -> Path:
        return self.run_dir / SCORES / f"{job_id}.npz"

    def write_record(self, record: dict[str, Any], arrays: dict[str, np.ndarray] | None) -> None:
        """Write a job's scores (if any) and then its record, each atomically.

        Raises:
            RecordWriteError: a file could not be written (disk full, no permission); it names
                the path and the cause, and nothing half-written is left behind.
        """
        job_id = record["job_id"]
        path = self.scores_path(job_id)
        try:
            if arrays:
                def save(fh: Any) -> None:
                    np.savez_compressed(fh, **arrays)

                atomic_write(path, save, mode="wb")
                record = {**record, "artifacts": {"scores": f"{SCORES}/{job_id}.npz"}}
            path = self.record_path(job_id)
            write_json(path, record)
        except OSError as exc:
            raise RecordWriteError(path, exc) from None

    def remove_partial_writes(self) -> list[Path]:
        """Delete the temporary files of writes cut short (a driver killed between writing a
        record's temporary file and renaming it); return what was removed. The job itself has no
        record then, so a resumed run runs it again."""
        removed = []
        for folder in (self.run_dir / RECORDS, self.run_dir / SCORES):
            for path in sorted(folder.glob(".*.tmp")) if folder.is_dir() else []:
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    def load_records(self) -> list[dict[str, Any]]:
        """Every readable record of the run, sorted by job id (see :meth:`scan_records` for the
        files that could not be read)."""
        return self.scan_records()[0]

    def scan_records(self) -> tuple[list[dict[str, Any]], list[Path]]:
        """``(records, corrupt)``: every readable record, sorted by job id, and the record files
        that are not one (truncated or invalid JSON, not an object, no ``job_id``, or a
        ``job_id`` that is not the file's name). A corrupt record's job counts as not run."""
        folder = self.run_dir / RECORDS
        records, corrupt = [], []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                record = read_json(path)
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                corrupt.append(path)
                continue
            if not isinstance(record, dict) or record.get("job_id") != path.stem:
                corrupt.append(path)
                continue
            records.append(record)
        return records, corrupt

    @property
    def jobs_path(self) -> Path:
        return self.run_dir / "jobs.json"

    def planned_jobs(self) -> list[Job] | None:
        """The jobs the run planned (``jobs.json``), or ``None`` for a folder without one.

        Raises:
            RunFolderError: ``jobs.json`` exists but is not a readable list of jobs.
        """
        if not self.jobs_path.exists():
            return None
        return [Job(**entry) for entry in self._read_list(self.jobs_path, "a list of jobs")]

    def _read_list(self, path: Path, what: str) -> list[dict[str, Any]]:
        try:
            data = read_json(path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunFolderError(path, f"cannot be read ({_reason(exc)})") from None
        if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
            raise RunFolderError(path, f"is not {what}")
        try:
            [Job(**entry) for entry in data]
        except TypeError as exc:
            raise RunFolderError(path, f"is not {what} ({exc})") from None
        return data

    def read_config(self) -> dict[str, Any]:
        """The saved configuration (``config.json``) as a dict.

        Raises:
            RunFolderError: it is missing, unreadable or not a JSON object.
        """
        try:
            data = read_json(self.config_path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunFolderError(self.config_path, f"cannot be read ({_reason(exc)})") from None
        if not isinstance(data, dict):
            raise RunFolderError(self.config_path, "is not a JSON object")
        return data


class RecordWriteError(OSError):
    """A job's record or scores file could not be written; names the file and the cause."""

    def __init__(self, path: Path, cause: OSError) -> None:
        reason = cause.strerror or str(cause)
        super().__init__(cause.errno, f"cannot write {path}: {reason}")
        self.path = path

    def __str__(self) -> str:
        return self.strerror


class RunFolderError(ValueError):
    """A file of a run folder (config.json, jobs.json) is missing or corrupt; names the file."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return getattr(exc, "strerror", None) or str(exc)
