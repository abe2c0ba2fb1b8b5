"""Rebuild a run's outputs (results.csv, tables, plots, report.html) from its job records and
score files alone.

Coverage is always stated: the records are set against the planned jobs (``jobs.json``), and a
planned job without a readable record (none was written, or the file is corrupt) enters every
table as a ``missing`` entry (:func:`benchbench.report.aggregate.missing_record`) and is named in
the report's warnings.

The score-based metrics (AUC-ROC, AUC-PR, VUS-ROC, VUS-PR) are computed here, at report time, from
each ok job's ``scores/<job>.npz`` and its record's labelled intervals
(:func:`add_score_metrics`), for new and old runs alike; so is the affiliation metric of a record
written before the run registered it. A job whose scores file cannot be read has neither, and the
warnings name the file. What was computed is kept in ``scores/score_metrics.json``
(:data:`SCORE_CACHE`), keyed by the content of each job's inputs and of the metric code, so a
report rebuilt later computes only what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchbench.evaluation.metrics import HEADLINE
from benchbench.files import atomic_write, read_json, write_json
from benchbench.run.records import SCORES, RunStore

#: How many missing jobs the warnings name one by one before they just count the rest.
NAMED_MISSING = 5

#: How many jobs with unreadable scores the warnings name one by one before counting the rest.
NAMED_UNSCORED = 5

#: The cache of :func:`add_score_metrics`, relative to the run folder: per job the fingerprint of
#: its inputs (scores file, labelled and detected intervals) and what was computed from them.
SCORE_CACHE = f"{SCORES}/score_metrics.json"


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


def _job_scores(run_dir: Path, rec: Mapping[str, Any], affiliation_too: bool
                ) -> tuple[dict[str, float], dict[str, float] | None]:
    """``(score_metrics, affiliation)`` of one ok job from its scores file: the score metrics are
    ``{}`` when its test part has one class only; ``affiliation`` is ``None`` unless asked for.

    Raises:
        benchbench.report.plots.ScoresError: the scores file cannot be used, or its scores or the
            record's intervals are invalid (NaN scores, an interval with start > end); the
            message names the file (``path`` is ``None`` when the record names none).
    """
    from benchbench.evaluation.affiliation import affiliation
    from benchbench.evaluation.score_metrics import labels_from_intervals, score_metrics
    from benchbench.report.plots import ScoresError, load_scores

    arrays = load_scores(run_dir, rec)
    expected = rec.get("expected") or []
    try:
        labels = labels_from_intervals(expected, arrays["index"])
        both = bool(labels.any() and not labels.all())
        scores = score_metrics(arrays["scores"], labels) if both else {}
        found = None
        if affiliation_too:
            detected = [d[:2] for d in rec.get("detected") or []]
            found = affiliation(expected, detected, arrays["index"]).to_dict()
    except (TypeError, ValueError) as exc:
        raise ScoresError(Path(run_dir) / rec["artifacts"]["scores"], str(exc)) from None
    return scores, found


def _code_key() -> str:
    """A fingerprint of the code the cached values come from (the metric modules' sources)."""
    from benchbench.evaluation import affiliation, metrics, score_metrics

    digest = hashlib.blake2b(digest_size=16)
    for module in (score_metrics, affiliation, metrics):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _input_key(run_dir: Path, rec: Mapping[str, Any], affiliation_too: bool) -> str | None:
    """A fingerprint of one job's inputs; ``None`` when its scores file cannot be read."""
    rel = (rec.get("artifacts") or {}).get("scores")
    try:
        data = (Path(run_dir) / rel).read_bytes() if rel else None
    except OSError:
        data = None
    if data is None:
        return None
    digest = hashlib.blake2b(data, digest_size=16)
    intervals = [rec.get("expected") or [], rec.get("detected") if affiliation_too else None]
    digest.update(json.dumps(intervals, default=str).encode())
    return digest.hexdigest()


class _Cache:
    """The entries of :data:`SCORE_CACHE` for one report: read once, written when changed."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / SCORE_CACHE
        self.code = _code_key()
        self.old: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        try:
            data = read_json(self.path)
        except (OSError, ValueError):  # none yet, or unreadable: computed afresh
            data = {}
        if isinstance(data, dict) and data.get("code") == self.code:
            jobs = data.get("jobs")
            self.old = jobs if isinstance(jobs, dict) else {}

    def get(self, job_id: str, key: str | None) -> tuple[dict, dict | None] | None:
        entry = self.old.get(job_id)
        if key is None or not isinstance(entry, dict) or entry.get("key") != key:
            return None
        scores, found = entry.get("score_metrics"), entry.get("affiliation")
        if not isinstance(scores, dict) or not (found is None or isinstance(found, dict)):
            return None
        self.new[job_id] = entry
        return scores, found

    def put(self, job_id: str, key: str | None, scores: dict, found: dict | None) -> None:
        if key is not None:
            self.new[job_id] = {"key": key, "score_metrics": scores, "affiliation": found}

    def save(self) -> None:
        if self.new == self.old:
            return
        try:
            write_json(self.path, {"code": self.code, "jobs": self.new})
        except OSError:  # a cache only: the report itself does not depend on it
            pass


def _scored_record(run_dir: Path, rec: Mapping[str, Any], cache: _Cache | None
                   ) -> tuple[dict[str, Any], str | None]:
    """One record of :func:`add_score_metrics` and the warning about it (``None`` if none)."""
    from benchbench.report.aggregate import SCORE_KEY
    from benchbench.report.plots import ScoresError

    if rec.get("status") != "ok":
        return dict(rec), None
    metrics = dict(rec.get("metrics") or {})
    lacks_affiliation = "affiliation" not in metrics
    job_id = str(rec.get("job_id"))
    key = _input_key(run_dir, rec, lacks_affiliation) if cache else None
    try:
        hit = cache.get(job_id, key) if cache else None
        scores, found = hit if hit else _job_scores(run_dir, rec, lacks_affiliation)
        if cache and not hit:
            cache.put(job_id, key, scores, found)
    except ScoresError as exc:
        what = "score-based metrics" + (" and affiliation" if lacks_affiliation else "")
        where = exc.path or f"record {RunStore(run_dir).record_path(str(rec.get('job_id')))}"
        return dict(rec), (f"{where}: {exc.reason}; the {what} of job {_job_name(rec)} are "
                           "missing")
    if found is not None:
        metrics["affiliation"] = found
    return {**rec, "metrics": metrics, SCORE_KEY: scores}, None


def add_score_metrics(run_dir: Path | str, records: Iterable[Mapping[str, Any]],
                      cache: bool = True) -> tuple[list[dict[str, Any]], list[str]]:
    """The records with the score-based metrics of every ok job, and the warnings.

    For each ok record: its ``scores/<job>.npz`` (``index``, ``scores``) and its ``expected``
    intervals give per-timestep labels (:func:`~benchbench.evaluation.score_metrics.
    labels_from_intervals`) and :func:`~benchbench.evaluation.score_metrics.score_metrics` (TSB-AD's
    defaults: buffers 0..100, 250 thresholds), stored under the record's
    :data:`~benchbench.report.aggregate.SCORE_KEY`; a job whose test part has one class only gets
    an empty mapping (left out of those metrics, see :mod:`benchbench.report.aggregate`). A
    record without an ``affiliation`` metric (a run made before it was registered) gains it,
    computed from its ``expected`` and ``detected`` intervals and the file's index. A job whose
    file cannot be read (absent, truncated, not matching) or whose scores are invalid gets
    neither, and a warning names the file and the job: the first :data:`NAMED_UNSCORED`, then a
    count. Other records pass unchanged; the inputs are not modified (changed records are
    copies).

    With ``cache`` (the default) what was computed is kept in :data:`SCORE_CACHE` and taken from
    there while a job's scores file, its intervals and the metric code are unchanged (a content
    fingerprint, not a timestamp); entries of jobs no longer among ``records`` are dropped.
    """
    import sklearn

    run_dir = Path(run_dir)
    out: list[dict[str, Any]] = []
    problems: list[str] = []
    # score_metrics validates its inputs itself: scikit-learn's own checks of the arguments of
    # roc_auc_score and average_precision_score would add half again to the cost of a big run
    kept = _Cache(run_dir) if cache else None
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        for rec in records:
            scored, problem = _scored_record(run_dir, rec, kept)
            out.append(scored)
            if problem:
                problems.append(problem)
    if kept:
        kept.save()
    warnings = problems[:NAMED_UNSCORED]
    if len(problems) > NAMED_UNSCORED:
        warnings.append(f"... and {len(problems) - NAMED_UNSCORED} more jobs whose scores cannot "
                        "be read: their score-based metrics are missing (results.csv leaves them "
                        "empty)")
    return out, warnings


def load_run_records(run_dir: Path | str, score_metrics: bool = False) -> RunRecords:
    """The records of a run folder with a ``missing`` entry for each planned job that has none.

    A planned job (``jobs.json``) whose record file is absent is missing with the error
    ``no record``; one whose file cannot be read (truncated, not a record of that job) with
    ``corrupt record <path>``. The warnings say ``incomplete: N of M jobs missing``, name the
    first :data:`NAMED_MISSING` of them and count the rest; they also name a corrupt record file
    of a job that is not planned, and a folder without ``jobs.json`` (coverage unknown). Records
    of jobs outside the plan are kept. With ``score_metrics`` the records also carry the
    score-based metrics, and the affiliation metric where it was not recorded
    (:func:`add_score_metrics`, whose warnings follow).

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
    if score_metrics:
        every, scored = add_score_metrics(store.run_dir, every)
        warnings += scored
    return RunRecords(every, len(records), n_planned, missing, warnings)


def build_report(run_dir: Path | str, plots: bool = True, metric: str = HEADLINE) -> Report:
    """Write ``results.csv``, ``tables/``, ``plots/`` and ``report.html`` of a run folder.

    Everything comes from the job records, set against the planned jobs by
    :func:`load_run_records`: missing jobs are rows with status ``missing`` in ``results.csv``,
    are counted in every table and named in :attr:`Report.warnings`. The score-based metrics
    come from the jobs' score files (:func:`add_score_metrics`); a file that cannot be read is
    named in the warnings. ``plots=False`` skips the figures (the page then says that each one
    was not drawn). ``metric`` chooses the metric of the heatmap: any name of
    :func:`benchbench.report.aggregate.metric_choices` (an interval metric's F1, ``overlap_f1``
    or ``overlap``, the default; or a score-based metric such as ``vus_pr``).

    A resumed or merged run reports exactly what an uninterrupted one does: nothing here depends
    on the order or the moment in which jobs finished.

    Raises:
        FileNotFoundError: the folder has no ``config.json``.
        benchbench.run.records.RunFolderError: its ``jobs.json`` is corrupt.
        ValueError: an unknown ``metric`` (nothing is written); the message lists the valid
            names.
    """
    from benchbench.report.aggregate import resolve_metric, results_frame
    from benchbench.report.cd_diagram import write_critical_difference
    from benchbench.report.html import write_html_report
    from benchbench.report.plots import write_plots
    from benchbench.report.render import headline_text, write_tables

    run_dir = Path(run_dir)
    store = RunStore(run_dir)
    if not store.config_path.exists():
        raise FileNotFoundError(f"{run_dir}: not a benchbench run folder (no config.json)")
    loaded = load_run_records(run_dir)
    metric = resolve_metric(metric, loaded.records)  # before any work: a typo fails at once
    records, unscored = add_score_metrics(run_dir, loaded.records)
    files: list[Path] = []
    frame = results_frame(records)
    csv_path = run_dir / "results.csv"
    atomic_write(csv_path, lambda fh: frame.to_csv(fh, index=False))
    files.append(csv_path)
    if records:
        files.extend(write_tables(records, run_dir / "tables").values())
        files.extend(write_critical_difference(run_dir, frame, metric=metric, plots=plots))
        if plots:
            files.extend(write_plots(run_dir, records, metric=metric))
    files.append(write_html_report(run_dir, records, run_dir / "plots" if plots else None,
                                   metric=metric))
    headline = headline_text(records) if records else "no finished jobs"
    return Report(run_dir, loaded.n_records, headline, files, loaded.warnings + unscored,
                  loaded.n_planned, len(loaded.missing))
