"""The ``bench`` command line. It wires options to the library and holds no logic of its own.

Exit status: 0 when every job succeeded, 1 when some job failed (a summary names them) or the
run could not go on (a full disk: the records already written are kept), 2 for a usage error
(unknown detector, bad option, unreadable config), 130 after Ctrl-C and 143 after SIGTERM (the
finished jobs are kept; the message names the ``--resume`` command).

Errors are one line; ``--verbose`` (``-v``, before or after the command name) also prints the
traceback, which a failed job keeps in its record and a run stopped by an unexpected error in
``<run>/error.log``.
"""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

import click

from benchbench import __version__
from benchbench.config import (
    ConfigError,
    RunConfig,
    apply_set,
    load_config_file,
    parse_seeds,
    split_list,
)
from benchbench.plugins import PluginError, load_registries

PLUGINS_DIR_ENV = "BENCHBENCH_PLUGINS_DIR"


def _registries(ctx: click.Context):
    obj = ctx.ensure_object(dict)
    if "registries" not in obj:
        try:
            obj["registries"] = load_registries(obj.get("plugins_dir"))
        except PluginError as exc:
            raise click.UsageError(str(exc)) from exc
    return obj["registries"]


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(dict)["verbose"] = True


_VERBOSE = click.option("--verbose", "-v", is_flag=True, expose_value=False, is_eager=True,
                        callback=_set_verbose,
                        help="Show the traceback of an error (it is always in the record or "
                             "the run folder's error.log).")


def _error_line(exc: BaseException) -> str:
    from benchbench.api import RunFailed

    if isinstance(exc, RunFailed):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return f"{type(exc).__name__}: {exc}"


class _Commands(click.Group):
    """The command group: an unexpected error becomes one line (with its traceback under
    ``--verbose``) and SIGTERM outside a run exits 143, as inside one."""

    def invoke(self, ctx: click.Context):
        from benchbench.api import Terminated

        try:
            return super().invoke(ctx)
        except Terminated:
            click.echo("terminated", err=True)
            ctx.exit(143)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - one line for the user, never a traceback
            verbose = bool(ctx.obj and ctx.obj.get("verbose"))
            if verbose:
                import traceback

                traceback.print_exception(type(exc), exc, exc.__traceback__)
            click.echo(f"Error: {_error_line(exc)}", err=True)
            log = getattr(exc, "log_path", None)
            if not verbose:
                click.echo(f"(the traceback is in {log}; --verbose shows it)" if log else
                           "(--verbose shows the traceback)", err=True)
            run_dir = getattr(exc, "run_dir", None)
            if run_dir is not None:
                click.echo(f"finished jobs are kept. Resume with: bench run --resume {run_dir}",
                           err=True)
            ctx.exit(1)


_METRIC = click.option(
    "--metric", default="overlap_f1", show_default=True, metavar="NAME",
    help="The metric of the heatmap, the rank analysis and the comparison: an interval "
         "metric's F1 (overlap_f1, affiliation_f1, ...; or without _f1) or a score-based one "
         "(auc_roc, auc_pr, vus_roc, vus_pr).")


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="benchbench")
@click.option("--plugins-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar=PLUGINS_DIR_ENV,
              help="Also load every *.py file in DIR as a plugin (env BENCHBENCH_PLUGINS_DIR).")
@_VERBOSE
@click.pass_context
def cli(ctx: click.Context, plugins_dir: Path | None) -> None:
    """benchbench: benchmark generative time-series anomaly detectors."""
    obj = ctx.ensure_object(dict)
    if plugins_dir is not None:
        obj["plugins_dir"] = str(plugins_dir)


def _explicit(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


@cli.command()
@click.option("--detectors", default="all", show_default=True,
              help="'all' or a comma-separated list of detector names.")
@click.option("--datasets", default="synthetic", show_default=True,
              help="Comma-separated dataset names (NAME or NAME:SUBSET).")
@click.option("--seeds", default="0", show_default=True, help="Comma-separated seeds, e.g. 0,1,2.")
@click.option("--device", default="auto", show_default=True,
              help="auto (CUDA when present), cpu, cuda or cuda:N.")
@click.option("--output", default="results", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output root folder.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data root (default: $BENCHBENCH_DATA or ./datasets).")
@click.option("--resume", "resume", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Finish an interrupted run folder (its saved config is used).")
@click.option("--retry-failed", is_flag=True, help="With --resume: rerun failed jobs too.")
@click.option("--set", "assignments", multiple=True, metavar="DETECTOR.PARAM=VALUE",
              help="Override a detector hyperparameter (repeatable), or threshold.PARAM=VALUE.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="TOML file with run settings (options override it).")
@click.option("--threshold", default="window", show_default=True,
              help="Thresholding rule: window (TadGAN's sliding window) or quantile.")
@click.option("--quick", is_flag=True,
              help="Smoke run: few signals per dataset and each detector's quick parameters.")
@click.option("--profile", default="default", show_default=True,
              help="Hyperparameter profile: default (each detector's default profile: its class "
                   "defaults, or the CPU-sized settings a detector registers, as tadgan and gan "
                   "do), paper (the reference's per-dataset settings, e.g. TadGAN's epochs "
                   "and scoring) or fast (tadgan and gan: the paper's epochs and scoring with the "
                   "default profile's narrower layers and training-window stride).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots (tables are still written).")
@click.option("--repeat", default="1", show_default=True, metavar="N",
              help="Repetitions of each seed; each gets its own derived random_state.")
@click.option("--threads", default="1", show_default=True, metavar="N",
              help="Torch threads per job (recorded; results depend on it).")
@click.option("--timeout", default=None, metavar="SECONDS",
              help="Per-job time limit; a job past it is recorded as a timeout.")
@click.option("--executor", default="auto", show_default=True,
              help="auto (process when more than one --threads-sized worker fits on the "
                   "cores, serial otherwise), serial, process (local worker processes) or dask "
                   "(Dask distributed).")
@click.option("--workers", type=int, default=None,
              help="process / local dask: worker processes (default: CPU cores / threads).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="dask: attach to this scheduler (tcp://host:8786) instead of a local cluster.")
@click.option("--jobs-per-gpu", type=int, default=1, show_default=True,
              help="With --device cuda: concurrent jobs on each GPU.")
@_VERBOSE
@click.pass_context
def run(ctx: click.Context, detectors: str, datasets: str, seeds: str, device: str, output: Path,
        data_dir: Path | None, resume: Path | None, retry_failed: bool,
        assignments: tuple[str, ...], config_file: Path | None, threshold: str, quick: bool,
        profile: str, quiet: bool, no_plots: bool, repeat: str, threads: str,
        timeout: str | None, executor: str, workers: int | None, scheduler: str | None,
        jobs_per_gpu: int) -> None:
    """Train and score detectors on benchmark signals; write records, tables and plots."""
    from benchbench.api import RunError, RunInterrupted, RunStopped, Terminated, run_benchmark
    from benchbench.config import positive_int, positive_seconds

    # a resumed run loads the plugins it was started with, unless --plugins-dir is given again
    registries = _registries(ctx) if resume is None or ctx.obj.get("plugins_dir") else None
    run_options = ("detectors", "datasets", "seeds", "device", "output", "data_dir",
                   "assignments", "config_file", "threshold", "quick", "profile", "repeat",
                   "threads", "timeout")
    try:
        if resume is not None:
            given = [n for n in run_options if _explicit(ctx, n)]
            if given:
                raise click.UsageError(
                    f"--resume uses the run's saved config; drop {', '.join(given)}"
                )
            config = None
        else:
            config = load_config_file(config_file) if config_file else RunConfig()
            for name, value in (("detectors", split_list(detectors)),
                                ("datasets", split_list(datasets)),
                                ("seeds", parse_seeds(seeds)), ("device", device),
                                ("output", str(output)), ("threshold", threshold),
                                ("profile", profile),
                                ("repeat", positive_int(repeat, "--repeat")),
                                ("threads", positive_int(threads, "--threads")),
                                ("timeout", timeout and positive_seconds(timeout, "--timeout"))):
                if _explicit(ctx, name) or not config_file:
                    setattr(config, name, value)
            if data_dir is not None:
                config.data_dir = str(data_dir)
            if quick:
                config.quick = True
            config.plugins_dir = ctx.obj.get("plugins_dir") or config.plugins_dir
            apply_set(config, list(assignments))
        outcome = run_benchmark(config, registries=registries, resume=resume,
                                retry_failed=retry_failed, quiet=quiet, plots=not no_plots,
                                executor=executor,
                                executor_options={"workers": workers, "scheduler": scheduler,
                                                  "jobs_per_gpu": jobs_per_gpu})
    except (ConfigError, RunError) as exc:
        raise click.UsageError(str(exc)) from exc
    except RunInterrupted as exc:
        terminated = isinstance(exc.cause, Terminated)
        click.echo(f"\n{'terminated' if terminated else 'interrupted'}; finished jobs are kept. "
                   f"Resume with: bench run --resume {exc.run_dir}", err=True)
        ctx.exit(143 if terminated else 130)
    except RunStopped as exc:
        kept = len(list((exc.run_dir / "records").glob("*.json")))
        click.echo(f"Error: {exc}", err=True)
        click.echo(f"stopped; the {kept} record(s) already written are kept. When it can be "
                   f"written again: {exc.resume}", err=True)
        ctx.exit(1)
    summary = outcome.summary
    if summary.skipped == summary.total:
        click.echo(f"nothing to run: all {summary.total} job(s) of {summary.run_dir} are "
                   "already recorded")
    elif not quiet:
        click.echo(outcome.report.headline)
    for line in outcome.report.warnings:
        click.echo(f"warning: {line}", err=True)
    click.echo(f"run folder: {outcome.summary.run_dir}")
    if outcome.summary.failed:
        click.echo(f"{len(outcome.summary.failed)} job(s) failed:", err=True)
        for record in outcome.summary.failed:
            click.echo(f"  {record['job_id']}: {record.get('error')}", err=True)
            if ctx.obj.get("verbose") and record.get("traceback"):
                click.echo(textwrap.indent(record["traceback"].rstrip(), "    "), err=True)
        if not ctx.obj.get("verbose"):
            click.echo("(each failed job's traceback is in its record; --verbose shows them)",
                       err=True)
        ctx.exit(1)


@cli.command("list")
@click.argument("what", type=click.Choice(["detectors", "datasets", "metrics"]))
@click.pass_context
def list_(ctx: click.Context, what: str) -> None:
    """List the registered detectors, datasets or metrics with the plugin each came from."""
    registry = getattr(_registries(ctx), what)
    entries = registry.entries()
    width = max([len(e.name) for e in entries] + [4])
    pwidth = max([len(e.plugin) for e in entries] + [6])
    click.echo(f"{'name':<{width}}  {'plugin':<{pwidth}}  description")
    for e in entries:
        click.echo(f"{e.name:<{width}}  {e.plugin:<{pwidth}}  {e.description}")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--no-plots", is_flag=True, help="Rebuild the tables only.")
@_METRIC
@_VERBOSE
def report(run_dir: Path, no_plots: bool, metric: str) -> None:
    """Rebuild results.csv, tables, plots and report.html of RUN_DIR from its job records.

    The score-based metrics (AUC-ROC/PR, VUS-ROC/PR) come from the stored scores, so a run made
    before they existed gains them without retraining."""
    from benchbench.report.build import build_report
    from benchbench.run.records import RunFolderError

    try:
        rep = build_report(run_dir, plots=not no_plots, metric=metric)
    except (FileNotFoundError, RunFolderError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    for line in rep.warnings:
        click.echo(f"warning: {line}", err=True)
    click.echo(rep.headline)
    planned = "" if rep.n_planned is None else f" of {rep.n_planned} planned job(s)"
    click.echo(f"{rep.n_records} record(s){planned}; wrote {len(rep.files)} file(s) in {run_dir}")


@cli.command()
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Markdown file to write (a .csv goes beside it) [default: "
                   "RUN_B/compare-<RUN_A name>.md].")
@_METRIC
@_VERBOSE
def compare(run_a: Path, run_b: Path, output: Path | None, metric: str) -> None:
    """Per-dataset F1 of RUN_B against RUN_A: difference and seed spread, printed and written."""
    from benchbench.report.compare import (
        CompareError,
        comparison,
        comparison_markdown,
        write_comparison,
    )

    try:
        result = comparison(run_a, run_b, metric=metric)
    except CompareError as exc:
        raise click.UsageError(str(exc)) from exc
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(comparison_markdown(result.table, run_a, run_b, metric=result.metric))
    for path in write_comparison(result.table, run_a, run_b, output, result.notes,
                                 metric=result.metric):
        click.echo(f"wrote {path}")


@cli.command("new-plugin")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where to create the NAME folder.")
def new_plugin(name: str, directory: Path) -> None:
    """Write a detector plugin package NAME: pyproject, detector, conformance tests, README."""
    from benchbench.scaffold import ScaffoldError, plugin_names
    from benchbench.scaffold import new_plugin as scaffold

    try:
        root = scaffold(name, directory)
    except ScaffoldError as exc:
        raise click.UsageError(str(exc)) from exc
    names = plugin_names(name)
    click.echo(f"wrote {root}: distribution {names.distribution}, module {names.module}, "
               f"detector {name!r}")
    click.echo(f"next: pip install -e {root} && (cd {root} && pytest) && "
               f"bench run --detectors {name} --quick")


@cli.group()
def datasets() -> None:
    """List the datasets with their local state, or fetch a public benchmark."""


_DATA_DIR_OPTION = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Data root (default: $BENCHBENCH_DATA or ./datasets).")


@datasets.command("list")
@_DATA_DIR_OPTION
@click.pass_context
def datasets_list(ctx: click.Context, data_dir: Path | None) -> None:
    """Name, signals, present locally or not, license and citation of every dataset."""
    from benchbench.config import resolve_data_dir
    from benchbench.data.catalog import describe_datasets

    root = resolve_data_dir(data_dir)
    for info in describe_datasets(_registries(ctx), root):
        if info.state == "incomplete":
            counts = f"{info.present_signals} of {info.signals} signals present (incomplete)"
        elif info.state == "present":
            counts = f"{info.signals} signals, present"
        else:
            counts = f"{'?' if info.signals is None else info.signals} signals, not present"
        click.echo(f"{info.name}: {counts} (plugin {info.plugin})")
        click.echo(f"    {info.description}")
        if info.license:
            click.echo(f"    license: {info.license}")
        if info.citation:
            click.echo(f"    cite: {info.citation}")
        if info.problem:
            click.echo(f"    problem: {info.problem}")


@datasets.command("fetch")
@click.argument("name")
@click.option("--mirror", default=None, metavar="URL",
              help="Base URL serving the upstream layout instead of the public location.")
@_DATA_DIR_OPTION
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def datasets_fetch(name: str, mirror: str | None, data_dir: Path | None, quiet: bool) -> None:
    """Download dataset NAME into the data root, verifying every file's sha256."""
    from benchbench.config import resolve_data_dir
    from benchbench.data.fetch import FetchError, fetch

    root = resolve_data_dir(data_dir)
    try:
        result = fetch(name, root, mirror=mirror, progress=not quiet)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    except FetchError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(result.summary())


@cli.group("leaderboard")
def leaderboard() -> None:
    """Keep the leaderboard page (docs/leaderboard.md) built from trimmed results.csv files."""


@leaderboard.command("add")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--name", required=True, help="Name of the entry: writes DIR/NAME.csv and NAME.json.")
@click.option("--commit", default=None, metavar="SHA",
              help="The git commit the run was made with, when its environment.json has none.")
@click.option("--command", "command", default=None, metavar="TEXT",
              help="The bench run command of the run [default: one equivalent to its "
                   "config.json].")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=None,
              help="Where the leaderboard's results files are kept [default: docs/leaderboard].")
@_VERBOSE
def leaderboard_add(run_dir: Path, name: str, commit: str | None, command: str | None,
                    directory: Path | None) -> None:
    """Copy RUN_DIR/results.csv, cut to the page's columns, with its provenance (commit,
    profile, CPU, versions, command) into DIR/NAME.csv and DIR/NAME.json."""
    from benchbench.report.leaderboard import LeaderboardError, add_results

    try:
        added = add_results(run_dir, name, directory, commit=commit, command=command)
    except LeaderboardError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"wrote {added.csv_path} ({added.rows} jobs) and {added.json_path} (commit "
               f"{added.provenance['commit']}); render the page with: bench leaderboard render")


@leaderboard.command("render")
@click.argument("results", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The page to write [default: docs/leaderboard.md].")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Run config whose detectors x datasets are the plan (a planned detector "
                   "without results shows as not run yet) [default: "
                   "configs/leaderboard-nab.toml when it exists].")
@_VERBOSE
def leaderboard_render(results: tuple[Path, ...], output: Path | None,
                       config_file: Path | None) -> None:
    """Write the leaderboard page from RESULTS.csv files [default: docs/leaderboard/*.csv]:
    overlap F1, VUS-PR, coverage, seconds and mean ranks per dataset, beside Orion 0.7.1's
    published rows."""
    from benchbench.report.leaderboard import LeaderboardError, write_leaderboard

    try:
        path = write_leaderboard(results, output, config=config_file)
    except LeaderboardError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"wrote {path}")


def _plugins_dir_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--plugins-dir" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--plugins-dir="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``bench`` script: load plugins (and their commands), then dispatch."""
    import os
    import warnings

    # one line per warning (data repairs, broken plugins), without the source line
    warnings.formatwarning = lambda message, category, *args, **kwargs: (
        f"{category.__name__}: {message}\n"
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    plugins_dir = _plugins_dir_from_argv(argv) or os.environ.get(PLUGINS_DIR_ENV)
    obj: dict = {}
    if plugins_dir and Path(plugins_dir).is_dir():
        obj["plugins_dir"] = plugins_dir
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        try:
            registries = load_registries(obj.get("plugins_dir"))
            obj["registries"] = registries
            registries.manager.hook.register_commands(cli=cli)
        except PluginError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        cli.main(args=argv, obj=obj, prog_name="bench")
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame) -> None:
    """SIGTERM handler of the ``bench`` command: stop the way Ctrl-C stops (exit 143)."""
    from benchbench.api import Terminated

    raise Terminated()
