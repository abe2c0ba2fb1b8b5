"""The leaderboard page (``docs/leaderboard.md``), rendered from trimmed ``results.csv`` files.

Two steps, both behind ``bench leaderboard``:

* :func:`add_results` (``bench leaderboard add RUN_DIR --name NAME``) copies a run folder's
  ``results.csv``, cut to the columns the page needs (:data:`COLUMNS`; every value kept as text,
  unchanged), to ``<dir>/NAME.csv`` and writes its provenance beside it as ``<dir>/NAME.json``:
  the run folder's name, the git commit (recorded in ``environment.json`` as ``git_commit`` or
  ``commit``, with ``git_dirty`` noted as uncommitted changes, else given with ``--commit``),
  the profile, seeds, detectors and datasets of ``config.json``, the CPU (``cpu_model``,
  ``cpu_capability``), the benchbench and torch versions, the devices the jobs ran on, the job
  count by status and the ``bench run`` command (given with ``--command``, else one equivalent
  to ``config.json``).
* :func:`render_leaderboard` (``bench leaderboard render [RESULTS.csv ...]``) builds the page from
  those files alone, and from the plan: a run config (``configs/leaderboard-nab.toml``) whose
  detectors x datasets are what the page should cover.

The page holds, per dataset (subset), one row per detector and results file: overlap F1 (per
seed micro over the subset's signals, tp / fp / fn of the ok jobs summed; mean ± population std
over seeds), VUS-PR (per seed the mean over the ok jobs that have it, i.e. the signals whose test
part has both classes; mean ± std over seeds), the seeds, coverage (signals scored / planned: a
signal is scored when every one of its jobs is ok; a job with any other status, ``missing``
included, leaves its signal planned-not-scored) and the mean seconds per job (fit + score: one
signal, one seed). A detector of the plan with no row in any file is shown as ``not run yet``
with ``0/N`` signals (N from the files' rows of that dataset, ``?`` when none has any). Orion
0.7.1's published rows (:mod:`benchbench.report.reference`) follow where the dataset matches one
of its columns. A table of each row's mean rank across the datasets (by overlap F1 and by
VUS-PR; rank 1 the best, ties share the average rank) comes first, and a list of the results
files with their provenance. Nothing in it is typed by hand; a test renders it again from the
committed files and fails when the committed page differs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchbench.evaluation.metrics import MetricResult
from benchbench.files import atomic_write, read_json, write_json
from benchbench.report.reference import (
    ORION_CAVEAT,
    ORION_SOURCE,
    ORION_VERSION,
    orion_column,
    orion_rows,
    orion_seconds,
    orion_signals,
)
from benchbench.report.render import format_mean_std, to_markdown

__all__ = ["COLUMNS", "DEFAULT_DIR", "DEFAULT_CONFIG", "DEFAULT_OUTPUT", "LeaderboardError",
           "Added", "add_results", "run_command", "load_results", "render_leaderboard",
           "write_leaderboard"]

#: The columns of ``results.csv`` the page needs, in the order the trimmed files keep them.
COLUMNS: tuple[str, ...] = ("dataset", "signal", "detector", "seed", "repetition", "status",
                            "overlap_tp", "overlap_fp", "overlap_fn", "vus_pr", "fit_seconds",
                            "score_seconds")

#: Where ``bench leaderboard add`` writes and ``render`` reads by default (relative to the
#: current folder: a checkout's root).
DEFAULT_DIR = Path("docs/leaderboard")
DEFAULT_CONFIG = Path("configs/leaderboard-nab.toml")
DEFAULT_OUTPUT = Path("docs/leaderboard.md")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_COMMIT = re.compile(r"^[0-9a-fA-F]{4,40}$")
_NOT_RUN = "not run yet"


class LeaderboardError(ValueError):
    """A leaderboard input cannot be used; the message names the file (or option) and why."""


# --------------------------------------------------------------------------------------------
# bench leaderboard add
# --------------------------------------------------------------------------------------------


@dataclass
class Added:
    """What :func:`add_results` wrote: the trimmed results, the provenance and the row count."""

    csv_path: Path
    json_path: Path
    rows: int
    provenance: dict[str, Any]


def _toml_value(value: Any) -> str:
    """A ``--set`` value written so that ``bench run`` parses it back to ``value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def run_command(config: Mapping[str, Any]) -> str:
    """A ``bench run`` command equivalent to a run's ``config.json`` (without its machine's data
    and output folders): detectors, datasets, seeds, profile, threads, and the settings that
    differ from the defaults (repeat, threshold, timeout, quick, ``--set`` parameters)."""
    def joined(key: str) -> str:
        value = config.get(key) or []
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    args = ["bench", "run", "--detectors", joined("detectors"), "--datasets", joined("datasets"),
            "--seeds", joined("seeds"), "--profile", str(config.get("profile", "default")),
            "--threads", str(config.get("threads", 1))]
    if int(config.get("repeat") or 1) != 1:
        args += ["--repeat", str(config["repeat"])]
    if config.get("threshold", "window") != "window":
        args += ["--threshold", str(config["threshold"])]
    if config.get("timeout") is not None:
        args += ["--timeout", f"{config['timeout']:g}"]
    if config.get("quick"):
        args.append("--quick")
    for detector, table in sorted((config.get("params") or {}).items()):
        for param, value in sorted(table.items()):
            args += ["--set", f"{detector}.{param}={_toml_value(value)}"]
    for param, value in sorted((config.get("threshold_params") or {}).items()):
        args += ["--set", f"threshold.{param}={_toml_value(value)}"]
    return " ".join(shlex.quote(a) for a in args)


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path)
    except FileNotFoundError:
        raise LeaderboardError(f"{path}: not found") from None
    except (OSError, ValueError) as exc:
        raise LeaderboardError(f"{path}: cannot be read as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise LeaderboardError(f"{path}: not a JSON object")
    return data


def _run_provenance(run_dir: Path, commit: str | None, command: str | None) -> dict[str, Any]:
    """The provenance of a run folder from its ``config.json`` and ``environment.json``; the
    commit is ``None`` when the run recorded none and none was given."""
    config = _read_object(run_dir / "config.json")
    env = _read_object(run_dir / "environment.json")
    recorded = env.get("git_commit") or env.get("commit")
    if commit is not None and not _COMMIT.match(commit):
        raise LeaderboardError(f"--commit {commit!r}: not a git commit (4 to 40 hex digits)")
    if recorded and commit and not str(recorded).startswith(commit) and \
            not commit.startswith(str(recorded)):
        raise LeaderboardError(f"--commit {commit}: {run_dir / 'environment.json'} records "
                               f"commit {recorded}; drop --commit or give that one")
    packages = env.get("packages") if isinstance(env.get("packages"), dict) else {}
    return {
        "run": run_dir.resolve().name,
        "commit": str(recorded) if recorded else commit,
        "commit_from": "environment.json" if recorded else ("--commit" if commit else None),
        **({"uncommitted_changes": True} if recorded and env.get("git_dirty") else {}),
        "profile": config.get("profile", "default"),
        "threads": config.get("threads", 1),
        "seeds": config.get("seeds"),
        "repeat": config.get("repeat", 1),
        "detectors": config.get("detectors"),
        "datasets": config.get("datasets"),
        "cpu_model": env.get("cpu_model"),
        "cpu_capability": env.get("cpu_capability"),
        "benchbench": packages.get("benchbench"),
        "torch": packages.get("torch"),
        "command": command or run_command(config),
        "command_from": "--command" if command else "config.json",
    }


def add_results(run_dir: Path | str, name: str, directory: Path | str | None = None,
                commit: str | None = None, command: str | None = None) -> Added:
    """Copy ``run_dir/results.csv`` cut to :data:`COLUMNS` to ``directory/NAME.csv`` and write its
    provenance to ``directory/NAME.json`` (see the module docstring); an earlier pair of that
    name is replaced. ``directory`` ``None``: :data:`DEFAULT_DIR`.

    Raises:
        LeaderboardError: ``name`` is not a plain file name; ``results.csv``, ``config.json`` or
            ``environment.json`` is absent or unreadable; ``results.csv`` lacks a column (a run
            reported before VUS-PR existed: ``bench report RUN_DIR`` rebuilds it); the run
            recorded no commit and ``commit`` is ``None``, or a different one.
    """
    run_dir, directory = Path(run_dir), Path(directory or DEFAULT_DIR)
    if not _NAME.match(name):
        raise LeaderboardError(f"--name {name!r}: use letters, digits and . _ - (it names "
                               f"{directory / (name + '.csv')})")
    source = run_dir / "results.csv"
    try:
        with source.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            lacking = [c for c in COLUMNS if c not in header]
            if lacking:
                raise LeaderboardError(
                    f"{source}: no column {', '.join(lacking)}; rebuild it with the current "
                    f"code: bench report {run_dir} --no-plots")
            rows, devices = [], set()
            for row in reader:
                rows.append({c: row[c] for c in COLUMNS})
                devices.add(row.get("device") or "")
    except FileNotFoundError:
        raise LeaderboardError(f"{source}: not found; write it with: bench report {run_dir} "
                               "--no-plots") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LeaderboardError(f"{source}: cannot be read ({exc})") from None
    provenance = _run_provenance(run_dir, commit, command)
    if provenance["commit"] is None:
        raise LeaderboardError(f"{run_dir / 'environment.json'} records no git commit: give the "
                               "commit the run was made with, --commit SHA")
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    provenance = {"name": name, **provenance, "jobs": len(rows),
                  "statuses": dict(sorted(statuses.items())),
                  "devices": sorted(devices - {""})}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    csv_path, json_path = directory / f"{name}.csv", directory / f"{name}.json"
    atomic_write(csv_path, lambda fh: fh.write(buffer.getvalue()))
    write_json(json_path, provenance)
    return Added(csv_path, json_path, len(rows), provenance)


# --------------------------------------------------------------------------------------------
# Reading the results files
# --------------------------------------------------------------------------------------------


@dataclass
class Results:
    """One results file: its name on the page, path, rows (numbers converted) and provenance
    (``None`` when none was recorded)."""

    name: str
    path: Path
    frame: pd.DataFrame
    provenance: dict[str, Any] | None


def _numbers(df: pd.DataFrame, column: str, path: Path, integer: bool = False) -> pd.Series:
    """``df[column]`` as floats (empty cells NaN); a cell that is not a number (or, with
    ``integer``, not a non-negative whole number) is a :class:`LeaderboardError` naming the file,
    line and column."""
    text = df[column].astype(str).str.strip()
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (text != "") & values.isna()
    if integer:
        bad |= values.notna() & ((values < 0) | (values != values.round()))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        kind = "a non-negative integer" if integer else "a number"
        raise LeaderboardError(f"{path}: line {i + 2}: {column} {df[column].iloc[i]!r} is not "
                               f"{kind}")
    return values.astype(float)


def _sidecar(path: Path) -> dict[str, Any] | None:
    """The provenance of a results file: ``NAME.json`` beside ``NAME.csv``; for a run folder's
    own ``results.csv``, what its ``config.json`` and ``environment.json`` say; else ``None``."""
    side = path.with_suffix(".json")
    if side.is_file():
        return _read_object(side)
    if path.name == "results.csv" and (path.parent / "config.json").is_file():
        return _run_provenance(path.parent, None, None)
    return None


def load_results(path: Path | str) -> Results:
    """Read one results file (a trimmed ``NAME.csv`` or a run's ``results.csv``).

    Raises:
        LeaderboardError: the file is absent, not a CSV, lacks a column of :data:`COLUMNS`, has a
            cell that is not a number where one belongs, or an ok row without its overlap tp /
            fp / fn; or its ``NAME.json`` is not a JSON object. The message names the file (and
            line).
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise LeaderboardError(f"{path}: not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LeaderboardError(f"{path}: not a readable CSV file ({exc})") from None
    lacking = [c for c in COLUMNS if c not in df.columns]
    if lacking:
        raise LeaderboardError(f"{path}: no column {', '.join(lacking)} (bench leaderboard add "
                               "writes them all)")
    df = df[list(COLUMNS)].copy()
    for col in ("dataset", "signal", "detector", "status"):
        df[col] = df[col].astype(str).str.strip()
    for col in ("seed", "repetition", "overlap_tp", "overlap_fp", "overlap_fn"):
        df[col] = _numbers(df, col, path, integer=True)
    for col in ("vus_pr", "fit_seconds", "score_seconds"):
        df[col] = _numbers(df, col, path)
    df["repetition"] = df["repetition"].fillna(0)
    ok = df["status"] == "ok"
    counts = df[["overlap_tp", "overlap_fp", "overlap_fn"]]
    lost = ok & counts.isna().any(axis=1)
    if lost.any():
        i = int(np.flatnonzero(lost.to_numpy())[0])
        raise LeaderboardError(f"{path}: line {i + 2}: an ok job without overlap_tp / fp / fn")
    provenance = _sidecar(path)
    name = (provenance or {}).get("name") or (
        path.parent.name if path.name == "results.csv" else path.stem)
    return Results(str(name), path, df, provenance)


# --------------------------------------------------------------------------------------------
# The figures of the page
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One (dataset, detector, results file) of the page; ``source`` ``None``: not run yet.
    ``failed`` counts its jobs whose status is neither ok nor missing."""

    dataset: str
    detector: str
    source: str | None
    f1: float = math.nan
    f1_std: float = math.nan
    vus_pr: float = math.nan
    vus_pr_std: float = math.nan
    ok_seeds: int = 0
    vus_seeds: int = 0
    scored: int = 0
    planned: int | None = None
    seconds: float = math.nan
    failed: int = 0


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return math.nan, math.nan
    return float(np.mean(vals)), float(np.std(vals, ddof=0))


def _row(dataset: str, detector: str, source: str, jobs: pd.DataFrame) -> Row:
    ok = jobs[jobs["status"] == "ok"]
    f1s, vus = [], []
    for _, seed in ok.groupby(["seed", "repetition"], sort=True, dropna=False):
        tp, fp, fn = (float(seed[c].sum()) for c in ("overlap_tp", "overlap_fp", "overlap_fn"))
        f1s.append(float(MetricResult.from_counts(tp, fp, fn).f1))
        present = seed["vus_pr"].dropna()
        vus.append(float(present.mean()) if len(present) else math.nan)
    all_ok = jobs.assign(ok=jobs["status"] == "ok").groupby("signal")["ok"].all()
    f1, f1_std = _mean_std(f1s)
    vus_mean, vus_std = _mean_std(vus)
    seconds = (ok["fit_seconds"] + ok["score_seconds"]).dropna()
    return Row(dataset, detector, source, f1, f1_std, vus_mean, vus_std, len(f1s),
               sum(not math.isnan(v) for v in vus), int(all_ok.sum()), int(len(all_ok)),
               float(seconds.mean()) if len(seconds) else math.nan,
               int((~jobs["status"].isin(["ok", "missing"])).sum()))


def _rows(results: Sequence[Results], plan: tuple[list[str], list[str]] | None
          ) -> tuple[list[str], list[Row]]:
    """The page's datasets (the plan's first, in its order, then the others sorted) and rows."""
    rows: list[Row] = []
    signals: dict[str, set[str]] = {}
    for res in results:
        for (dataset, detector), jobs in res.frame.groupby(["dataset", "detector"], sort=True):
            rows.append(_row(str(dataset), str(detector), res.name, jobs))
            signals.setdefault(str(dataset), set()).update(jobs["signal"])
    detectors, datasets = plan or ([], [])
    found = sorted({r.dataset for r in rows} - set(datasets))
    have = {(r.dataset, r.detector) for r in rows}
    for dataset in datasets:
        for detector in detectors:
            if (dataset, detector) not in have:
                n = len(signals[dataset]) if dataset in signals else None
                rows.append(Row(dataset, detector, None, planned=n))
    return list(dict.fromkeys(datasets)) + found, rows


def _ranks(datasets: Sequence[str], rows: Sequence[Row], attr: str) -> dict[int, list[float]]:
    """``id(row) -> [its rank in each dataset where it has a value of attr]``."""
    from scipy.stats import rankdata

    ranks: dict[int, list[float]] = {id(r): [] for r in rows}
    for dataset in datasets:
        scored = [r for r in rows if r.dataset == dataset and not math.isnan(getattr(r, attr))]
        if scored:
            values = rankdata([-getattr(r, attr) for r in scored], method="average")
            for r, rank in zip(scored, values):
                ranks[id(r)].append(float(rank))
    return ranks


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def _rel(path: Path, page_dir: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(page_dir).resolve())).as_posix()
    except ValueError:  # another drive
        return Path(path).resolve().as_posix()


def _code(text: Any) -> str:
    """Inline Markdown code, fenced with enough backticks for the text."""
    text = str(text)
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _f1_cell(row: Row) -> str:
    if row.source is None:
        return "missing"
    if row.ok_seeds == 0:
        return "failed" if row.failed else "missing"
    text = format_mean_std(row.f1, row.f1_std, row.ok_seeds)
    return text + " (partial)" if row.planned is not None and row.scored < row.planned else text


def _vus_cell(row: Row) -> str:
    if row.source is None:
        return "missing"
    return format_mean_std(row.vus_pr, row.vus_pr_std, row.vus_seeds)


def _signals_cell(row: Row) -> str:
    return f"{row.scored}/{'?' if row.planned is None else row.planned}"


def _seconds_cell(value: float) -> str:
    return "" if math.isnan(value) else format(value, ".2f")


def _short_commit(commit: str) -> str:
    """A hex commit shortened as git's ``--short`` default (7 digits); other text as is. The
    provenance file keeps the whole one."""
    return commit[:7] if _COMMIT.match(commit) else commit


def _provenance_line(res: Results, page_dir: Path) -> str:
    link = f"[{res.name}]({_rel(res.path, page_dir)})"
    side = res.path.with_suffix(".json")
    prov = res.provenance
    if prov is None:
        return f"- {link}: provenance not recorded (no {side.name} beside it)."
    if side.is_file():
        link += f" ([provenance]({_rel(side, page_dir)}))"

    def get(key: str) -> str:
        value = prov.get(key)
        return "not recorded" if value in (None, "", []) else str(value)

    cpu = get("cpu_model") + (f" ({prov['cpu_capability']})" if prov.get("cpu_capability") else "")
    devices = ", ".join(prov.get("devices") or []) or "not recorded"
    statuses = prov.get("statuses") or {}
    jobs = f"{prov.get('jobs', len(res.frame))} jobs"
    if statuses:
        jobs += " (" + ", ".join(f"{n} {s}" for s, n in statuses.items()) + ")"
    threads = get("threads")
    how = ("as given to bench leaderboard add" if prov.get("command_from") == "--command"
           else "equivalent to the run's config.json")
    commit = _code(_short_commit(get("commit"))) + (" with uncommitted changes"
                                     if prov.get("uncommitted_changes") else "")
    return (f"- {link}: run {_code(get('run'))}, commit {commit}, profile "
            f"{get('profile')}, CPU {cpu}, device {devices}, threads {threads} per job, "
            f"benchbench {get('benchbench')}, torch {get('torch')}; {jobs}. Command ({how}): "
            f"{_code(get('command'))}")


def _rank_table(datasets: Sequence[str], rows: Sequence[Row]) -> pd.DataFrame:
    by_f1, by_vus = _ranks(datasets, rows, "f1"), _ranks(datasets, rows, "vus_pr")
    groups: dict[tuple[str, str | None], list[Row]] = {}
    for r in rows:
        groups.setdefault((r.detector, r.source), []).append(r)

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else math.nan

    entries = []
    for (detector, source), members in groups.items():
        f1_ranks = [x for r in members for x in by_f1[id(r)]]
        vus_ranks = [x for r in members for x in by_vus[id(r)]]
        planned = [r.planned for r in members]
        signals = (f"{sum(r.scored for r in members)}/"
                   + ("?" if None in planned else str(sum(p for p in planned if p is not None))))
        entries.append((mean(f1_ranks), mean(vus_ranks), detector, source or "",
                        {"detector": detector, "results": source or _NOT_RUN,
                         "overlap F1 rank": "" if not f1_ranks else f"{mean(f1_ranks):.2f}",
                         "VUS-PR rank": "" if not vus_ranks else f"{mean(vus_ranks):.2f}",
                         "datasets ranked": f"{len(f1_ranks)}/{len(members)}",
                         "signals": signals}))
    entries.sort(key=lambda e: (math.isnan(e[0]), e[0], math.isnan(e[1]), e[1], e[2], e[3]))
    return pd.DataFrame([e[-1] for e in entries],
                        columns=["detector", "results", "overlap F1 rank", "VUS-PR rank",
                                 "datasets ranked", "signals"])


_HEADER = ["detector", "results", "overlap F1", "VUS-PR", "seeds", "signals", "s / signal"]


def _dataset_table(dataset: str, rows: Sequence[Row]) -> pd.DataFrame:
    ours = sorted((r for r in rows if r.dataset == dataset),
                  key=lambda r: (r.source is None, math.isnan(r.f1), -r.f1 if r.f1 == r.f1 else 0,
                                 r.detector, r.source or ""))
    table = [[r.detector, r.source or _NOT_RUN, _f1_cell(r), _vus_cell(r),
              str(r.ok_seeds) if r.source else "", _signals_cell(r), _seconds_cell(r.seconds)]
             for r in ours]
    column = orion_column(dataset)
    if column is not None:
        seconds, signals = orion_seconds(), orion_signals()
        for ref in orion_rows():
            table.append([f"Orion {ORION_VERSION}: {ref['pipeline']}", "published",
                          format(float(ref[column]), ".3f"), "", "",
                          str(signals.get(column, "")),
                          format(seconds[(str(ref["pipeline"]), column)], ".0f")
                          if (ref["pipeline"], column) in seconds else ""])
    return pd.DataFrame(table, columns=_HEADER, dtype=object)


def _plan(config: Path) -> tuple[tuple[list[str], list[str]], str, str]:
    """The plan of a run config, ``(detectors, datasets)``, a sentence saying it, and its
    profile."""
    from benchbench.config import ConfigError, load_config_file

    try:
        cfg = load_config_file(config)
    except ConfigError as exc:
        raise LeaderboardError(str(exc)) from None
    detectors = list(dict.fromkeys(d for d in cfg.detectors if d != "all"))
    datasets = list(dict.fromkeys(cfg.datasets))
    text = (f"Plan: detectors {', '.join(detectors) or '(those of the results files)'} on "
            f"{', '.join(datasets)}, seeds {', '.join(map(str, cfg.seeds))}, profile "
            f"{cfg.profile}.")
    return (detectors, datasets), text, cfg.profile


def _profile_note(loaded: Sequence[Results], profile: str) -> str | None:
    """Sentences on the results files that ran with another profile than the plan's: a
    ``default`` one stands for the plan's rows of the detectors that register neither profile
    (they run their class defaults under both); any other is a different setting."""
    other: dict[str, list[str]] = {}
    for r in loaded:
        ran = (r.provenance or {}).get("profile")
        if ran not in (None, profile):
            other.setdefault(ran, []).append(r.name)
    parts = []
    if profile != "default" and "default" in other:
        parts.append(f"{', '.join(other.pop('default'))} ran with profile default: a detector "
                     f"that registers neither a default nor a {profile} profile runs its class "
                     f"defaults under both, so its rows there stand for the plan's.")
    for ran, names in other.items():
        parts.append(f"{', '.join(names)} ran with profile {ran}: another setting than the "
                     f"plan's profile {profile}, shown beside the plan's rows.")
    return " ".join(parts) or None


def render_leaderboard(results: Iterable[Path | str], page_dir: Path | str = DEFAULT_OUTPUT.parent,
                       config: Path | str | None = None) -> str:
    """The leaderboard page as Markdown (see the module docstring).

    Args:
        results: the results files (trimmed ``NAME.csv`` files, or run folders' ``results.csv``),
            each read by :func:`load_results`; the page lists them in this order.
        page_dir: the folder the page will be written to: its links to the results files, their
            provenance and the config are relative to it.
        config: a run config (TOML) whose detectors x datasets are the plan; ``None``: the
            detectors and datasets of the results files only. ``detectors = "all"`` cannot be
            expanded here: the plan then holds no detector that is not in some results file.

    Raises:
        LeaderboardError: no results file, one that cannot be used (:func:`load_results`), the
            same name twice, or a config that cannot be read.
    """
    paths = [Path(p) for p in results]
    if not paths:
        raise LeaderboardError("no results files: give RESULTS.csv files, or add a run with "
                               "bench leaderboard add RUN_DIR --name NAME")
    loaded = [load_results(p) for p in paths]
    names = [r.name for r in loaded]
    for name in names:
        if names.count(name) > 1:
            same = [str(r.path) for r in loaded if r.name == name]
            raise LeaderboardError(f"two results files are both named {name!r}: "
                                   f"{', '.join(same)}")
    plan, plan_text, profile = (_plan(Path(config)) if config is not None
                                else (None, None, None))
    datasets, rows = _rows(loaded, plan)
    page_dir = Path(page_dir)

    out = ["# Leaderboard", ""]
    what = ("the results files listed below" if config is None else
            f"the results files listed below and the plan in "
            f"[{Path(config).name}]({_rel(Path(config), page_dir)})")
    out += [f"Rendered by `bench leaderboard render` from {what}: every figure comes from those "
            "files or from the Orion figures benchbench ships (`benchbench/report/reference/`). "
            "Do not edit it by hand; `tests/test_leaderboard.py` fails when the page differs "
            "from what the files give.", ""]
    if plan_text:
        out += [plan_text, ""]
    out += ["## Results files", ""]
    out += [_provenance_line(r, page_dir) for r in loaded] + [""]
    note = _profile_note(loaded, profile) if profile is not None else None
    if note:
        out += [note, ""]
    out += ["## Mean rank across datasets", "", to_markdown(_rank_table(datasets, rows)).rstrip(),
            "", "Per dataset, rank 1 is the best overlap F1 (VUS-PR) among the rows that have one; "
            "ties share the average rank. The mean is over the datasets ranked; `signals` sums "
            "scored/planned over them. Orion's rows are not ranked.", ""]
    for dataset in datasets:
        out += [f"## {dataset}", "", to_markdown(_dataset_table(dataset, rows)).rstrip(), ""]
    seconds = orion_seconds()
    overall = ", ".join(f"{p} {s:.0f}" for (p, c), s in seconds.items() if c == "all")
    out += ["## How the figures are made", "",
            "- overlap F1: per seed, the F1 of the overlap tp, fp and fn summed over the "
            "dataset's ok jobs (micro); mean ± population std over seeds. (partial): some "
            "planned signal is not scored, so the F1 is over fewer signals.",
            "- VUS-PR: per seed, the mean over the ok jobs that have it (the signals whose test "
            "part has both normal and anomalous timesteps); mean ± population std over seeds.",
            "- seeds: the seeds (replicates) with an ok job. signals: scored/planned; a signal "
            "is scored when every one of its jobs is ok, and a job with any other status "
            "(failed, timeout, missing) leaves it planned-not-scored. "
            f"{_NOT_RUN}: a detector of the plan without rows in any results file (0 of the "
            "dataset's signals in the files, ? when no file has the dataset).",
            "- s / signal: mean fit + score seconds of an ok job (one signal, one seed), on the "
            "CPU named for its results file.",
            f"- Orion {ORION_VERSION} rows: published overlap F1 ({ORION_SOURCE}); signals: "
            "Orion's count for that subset; s / signal: Orion's elapsed seconds per signal "
            f"(hardware not stated; overall means: {overall}). {ORION_CAVEAT}", ""]
    return "\n".join(out)


def write_leaderboard(results: Iterable[Path | str] = (), output: Path | str | None = None,
                      config: Path | str | None = None) -> Path:
    """Write :func:`render_leaderboard` to ``output`` (``None``: :data:`DEFAULT_OUTPUT`)
    atomically; return its path.

    With no ``results``, the ``*.csv`` files of :data:`DEFAULT_DIR` (sorted by name); with no
    ``config``, :data:`DEFAULT_CONFIG` when it exists.

    Raises:
        LeaderboardError: as :func:`render_leaderboard`; also a ``config`` that does not exist.
    """
    paths = [Path(p) for p in results] or sorted(DEFAULT_DIR.glob("*.csv"))
    if config is not None and not Path(config).is_file():
        raise LeaderboardError(f"--config {config}: not found")
    if config is None and DEFAULT_CONFIG.is_file():
        config = DEFAULT_CONFIG
    output = Path(output or DEFAULT_OUTPUT)
    text = render_leaderboard(paths, output.parent, config)
    atomic_write(output, lambda fh: fh.write(text))
    return output
