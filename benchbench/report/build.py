"""Rebuild a run's outputs (results.csv, tables, plots, report.html) from its job records alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchbench.files import atomic_write
from benchbench.run.records import RunStore


@dataclass
class Report:
    run_dir: Path
    n_records: int
    headline: str
    files: list[Path]


def build_report(run_dir: Path | str, plots: bool = True) -> Report:
    """Write ``results.csv``, ``tables/``, ``plots/`` and ``report.html`` of a run folder.

    Everything comes from the job records; ``plots=False`` skips the figures (the page then says
    that each one was not drawn).

    A resumed or merged run reports exactly what an uninterrupted one does: nothing here depends
    on the order or the moment in which jobs finished.
    """
    from benchbench.report.aggregate import results_frame
    from benchbench.report.html import write_html_report
    from benchbench.report.plots import write_plots
    from benchbench.report.render import headline_text, write_tables

    run_dir = Path(run_dir)
    store = RunStore(run_dir)
    if not store.config_path.exists():
        raise FileNotFoundError(f"{run_dir}: not a benchbench run folder (no config.json)")
    records = store.load_records()
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
    return Report(run_dir, len(records), headline, files)
