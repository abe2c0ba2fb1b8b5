"""``report.html``: one self-contained page to read a run (tables and figures, no network).

The page holds, in this order: the headline table of each dataset (overlap F1 with the affiliation
F1 and the score-based metrics beside it; below it Orion 0.7.1's published overlap F1 when the
dataset matches one of Orion's columns, e.g. ``nab:Art``), the per-signal F1 tables, the heatmap
(of overlap F1, or of the metric ``bench report --metric`` chose), F1 against fit time (quality
against cost), the per-seed spread, the training loss curves and one detection plot per signal,
then the failed jobs and the missing ones (planned, but without a readable record). When jobs are
missing, a warning under the title says ``incomplete: N of M jobs missing`` and the tables count
them. Figures are the PNGs that :func:`benchbench.report.plots.write_plots` drew into ``plots/``,
embedded as base64 ``data:`` URIs; the style sheet is inline and there is no script, so the file
opens offline and can be mailed alone.

Every text that comes from the run (dataset, signal, detector and kind names, which come from data
files and plugins; error messages) is escaped with :func:`html.escape`, so a signal file named
``<img src=x onerror=alert(1)>.csv`` shows as that text, never as markup. Like the tables, the page
is a function of the records alone (sorted first), so a resumed run reports what an uninterrupted
one does.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchbench.evaluation.metrics import HEADLINE
from benchbench.files import atomic_write, read_json
from benchbench.report.aggregate import (
    MISSING,
    SCORE_LABELS,
    SCORE_METRICS,
    _first_line,
    coverage_line,
    dataset_table,
    job_status,
    metric_column,
    metric_label,
    resolve_metric,
    seed_table,
    sort_records,
)
from benchbench.report.render import (
    REFERENCE_TITLE,
    f1_micro_cell,
    reference_table,
    score_cell,
    signal_display_table,
    signals_cell,
)

__all__ = ["REPORT_FILE", "render_html", "write_html_report"]

REPORT_FILE = "report.html"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1250px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.failed { color: #b00; }
.warning { color: #b00; font-weight: 600; }
img { max-width: 100%; border: 1px solid #eee; }
.note { color: #555; font-size: .9em; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: .15em 1em; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
nav ul { columns: 2; }
"""


def _e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any, fmt: str = ".3f") -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "n/a" if math.isnan(number) else format(number, fmt)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, css: str,
           numeric: Sequence[bool] | None = None, attrs: Mapping[str, str] | None = None) -> str:
    """An escaped ``<table class=css>`` with one ``<tr>`` per row (cells given as text)."""
    numeric = numeric or [False] * len(header)
    extra = "".join(f' {k}="{_e(v)}"' for k, v in (attrs or {}).items())
    out = [f'<table class="{_e(css)}"{extra}>', "<thead><tr>"]
    out += [f"<th>{_e(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = []
        for value, is_num in zip(row, numeric):
            text = "" if value is None else str(value)
            classes = (["num"] if is_num else []) + (["failed"] if text in ("failed", MISSING)
                                                      else [])
            cls = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{cls}>{_e(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _img(path: Path | None, alt: str) -> str:
    """An ``<img>`` with the PNG at ``path`` embedded, or a note when it was not drawn."""
    if path is None or not Path(path).is_file():
        return f'<p class="note">{_e(alt)}: no figure (not drawn in this report).</p>'
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _headline_section(df: pd.DataFrame) -> list[str]:
    affiliation = metric_column("affiliation")
    header = ["detector", "F1 micro", "F1 macro", "precision", "recall", "affiliation F1",
              *(SCORE_LABELS[m] for m in SCORE_METRICS), "score signals", "signals", "seeds",
              "failed jobs", "missing jobs", "fit s / job"]
    numeric = [False] + [True] * (len(header) - 1)
    out = ['<h2 id="headline">Headline F1 by dataset</h2>',
           f'<p class="note">{_e(HEADLINE)} F1: micro over the signals (tp / fp / fn summed), '
           "mean &plusmn; population std over seeds; macro: mean of per-signal F1. Affiliation "
           "F1 (Huet et al. 2022): precision and recall from the distance of the detections to "
           "each labelled event, pooled over the dataset's events. AUC-ROC, AUC-PR, VUS-ROC and "
           "VUS-PR come from the raw scores, independent of the thresholding: per seed the mean "
           "over the signals whose test part has both normal and anomalous timesteps (score "
           "signals), then mean &plusmn; std over seeds. Failed jobs and missing jobs (planned, "
           "but without a readable record) are excluded from the scores and counted in their own "
           "columns; signals: scored / planned (a signal is scored when all its jobs are ok); an "
           "F1 marked (partial) is over the scored jobs only.</p>"]
    for dataset in sorted(df["dataset"].unique()):
        sub = df[df["dataset"] == dataset]
        rows = []
        for _, r in sub.iterrows():
            rows.append([r["detector"], f1_micro_cell(r), _num(r[f"{HEADLINE}_f1_macro"]),
                         _num(r[f"{HEADLINE}_precision"]), _num(r[f"{HEADLINE}_recall"]),
                         _num(r[affiliation]) if affiliation in r else "n/a",
                         *(score_cell(r, m) for m in SCORE_METRICS), int(r["score_signals"]),
                         signals_cell(r), int(r["seeds"]), int(r["failed"]), int(r["missing"]),
                         _num(r["fit_s_mean"], ".2f")])
        out.append(f"<h3>{_e(dataset)}</h3>")
        out.append(_table(header, rows, css="headline", numeric=numeric,
                          attrs={"data-dataset": dataset}))
        out += _reference_rows(str(dataset))
    return out


def _reference_rows(dataset: str) -> list[str]:
    """Orion 0.7.1's published overlap F1 for ``dataset`` when it matches one of Orion's columns
    (:func:`benchbench.report.render.reference_table`); nothing otherwise."""
    from benchbench.report.reference import ORION_CAVEAT, ORION_SOURCE, orion_column, orion_signals

    table = reference_table([dataset])
    if table is None:
        return []
    column = orion_column(dataset)
    signals = orion_signals().get(str(column))
    counted = f", {signals} signals there" if signals is not None else ""
    rows = [[r["pipeline"], _num(r[dataset])] for _, r in table.iterrows()]
    return [f'<p class="note">{_e(REFERENCE_TITLE)}: Orion\'s column {_e(column)}{counted}; '
            f"{_e(ORION_SOURCE)}. {_e(ORION_CAVEAT)}</p>",
            _table(["pipeline", "overlap F1 (published)"], rows, css="reference",
                   numeric=[False, True], attrs={"data-dataset": dataset})]


def _signal_section(records: Sequence[Mapping[str, Any]]) -> list[str]:
    df = signal_display_table(records)
    out = ['<h2 id="signals">F1 by signal</h2>',
           '<p class="note">Overlap F1 of each job, mean over its ok seeds.</p>']
    detectors = [c for c in df.columns if c not in ("dataset", "signal", "kind")]
    for dataset in sorted(df["dataset"].unique()):
        sub = df[df["dataset"] == dataset]
        rows = [[r["signal"], r["kind"], *(r[d] for d in detectors)] for _, r in sub.iterrows()]
        out.append(f"<h3>{_e(dataset)}</h3>")
        out.append(_table(["signal", "kind", *detectors], rows, css="signals",
                          numeric=[False, False] + [True] * len(detectors),
                          attrs={"data-dataset": dataset}))
    return out


def _seed_section(records: Sequence[Mapping[str, Any]], figure: Path | None) -> list[str]:
    df = seed_table(records)
    micro = f"{HEADLINE}_f1_micro"
    rows = []
    for (dataset, detector), sub in df.groupby(["dataset", "detector"], sort=True):
        values = sub[micro].to_numpy(dtype=float)
        reps = sub["repetition"] if "repetition" in sub else [0] * len(sub)  # bench run --repeat
        labels = [f"{s}" if not r else f"{s} (rep. {r})" for s, r in zip(sub["seed"], reps)]
        seeds = ", ".join(f"{label}: {_num(v)}" for label, v in zip(labels, values))
        finite = values[~pd.isna(values)]
        spread = _num(finite.max() - finite.min()) if len(finite) else "n/a"
        std = _num(finite.std()) if len(finite) else "n/a"
        rows.append([dataset, detector, len(values), seeds, std, spread])
    several = bool(len(df)) and int(df.groupby(["dataset", "detector"]).size().max()) > 1
    picture = (_img(figure, "per-seed F1 by detector") if several else
               '<p class="note">One seed per detector: no spread to show. Run with '
               "<code>--seeds 0,1,2</code> to judge differences against seed noise.</p>")
    return ['<h2 id="seeds">Per-seed spread</h2>',
            '<p class="note">Each seed\'s micro F1; a difference between detectors (or runs, see '
            "<code>bench compare</code>) smaller than this spread is noise.</p>",
            picture,
            _table(["dataset", "detector", "replicates", "F1 per seed", "std", "max - min"], rows,
                   css="seeds", numeric=[False, False, True, False, True, True])]


def _ranks_section(records: Sequence[Mapping[str, Any]], metric: str,
                   figs: Path | None) -> list[str]:
    """Per dataset: the critical-difference diagram of ``metric``, the average ranks with the
    Friedman test, and the pairs that differ (:mod:`benchbench.report.stats`)."""
    from benchbench.report.aggregate import results_frame
    from benchbench.report.cd_diagram import critical_difference_path
    from benchbench.report.stats import (
        ALPHA,
        canonical_metric,
        rank_analysis,
        signal_scores,
        value_column,
    )

    frame = results_frame(records)
    name, label = canonical_metric(frame, metric), value_column(frame, metric)
    analyses = rank_analysis(signal_scores(frame, metric))
    parts = [f'<h2 id="ranks">Average ranks by {_e(label)}</h2>',
             '<p class="note">Rank 1 = best on a signal (mean over seeds; ties share the average '
             "rank), over the signals every detector scored. Friedman test over the detectors; "
             "bars join detectors that no pairwise Wilcoxon signed-rank test (Holm-corrected, "
             f"alpha {ALPHA:g}) separates. Few signals make every test weak. Tables: "
             f"tables/ranks_{_e(name)}.md.</p>"]
    if not analyses:
        parts.append('<p class="note">Not analysed: fewer than 2 detectors scored a common '
                     "signal.</p>")
    several = frame["dataset"].astype(str).nunique() > 1
    for dataset, an in analyses.items():
        parts.append(f'<h3>{_e(dataset)}</h3>')
        path = None if figs is None else critical_difference_path(figs, name, dataset, several)
        parts.append(_img(path, f"critical-difference diagram of {label} on {dataset}"))
        friedman = ("not defined (fewer than 3 detectors or 2 signals)"
                    if an.friedman_p is None else f"p = {an.friedman_p:.3g}")
        parts.append(f'<p class="note">{an.n_signals} signal(s); Friedman: {_e(friedman)}.</p>')
        rows = [[det, _num(an.ranks[det], ".2f"), _num(an.means[det])] for det in an.detectors]
        parts.append(_table(["detector", "average rank", "mean"], rows, css="ranks",
                            numeric=[False, True, True]))
        sig = an.significant_pairs()
        if sig:
            rows = [[pair.a, pair.b, f"{pair.wins}/{pair.ties}/{pair.losses}",
                     _num(pair.p_holm, ".3g"), _num(pair.effect, ".2f")] for pair in sig]
            parts.append(_table(["better", "worse", "wins/ties/losses", "p (Holm)", "effect"],
                                rows, css="pairs", numeric=[False, False, False, True, True]))
        else:
            parts.append(f'<p class="note">No pair differs at alpha {ALPHA:g}.</p>')
    return parts


def _failed_section(records: Sequence[Mapping[str, Any]]) -> list[str]:
    failed = [r for r in records if job_status(r) == "failed"]
    missing = [r for r in records if job_status(r) == MISSING]
    out = []
    if failed:
        rows = [[r.get("dataset"), r.get("signal"), r.get("detector"), r.get("seed"),
                 r.get("stage"), _first_line(r.get("error")) or ""] for r in failed]
        out += ['<h2 id="failed">Failed jobs</h2>',
                _table(["dataset", "signal", "detector", "seed", "stage", "error"], rows,
                       css="failed-jobs")]
    if missing:
        rows = [[r.get("dataset"), r.get("signal"), r.get("detector"), r.get("seed"),
                 r.get("repetition") or 0, r.get("error") or ""] for r in missing]
        out += ['<h2 id="missing">Missing jobs</h2>',
                '<p class="note">Planned jobs without a readable record: they are left out of '
                "every score. <code>bench run --resume RUN_DIR</code> runs them.</p>",
                _table(["dataset", "signal", "detector", "seed", "repetition", "why"], rows,
                       css="missing-jobs")]
    return out


def _meta(run_dir: Path, records: Sequence[Mapping[str, Any]]) -> str:
    items: list[tuple[str, Any]] = [("run folder", run_dir.resolve().name)]
    try:
        config = read_json(run_dir / "config.json")
    except (OSError, ValueError):
        config = {}
    try:
        env = read_json(run_dir / "environment.json")
    except (OSError, ValueError):
        env = {}
    for key in ("detectors", "datasets", "seeds", "threshold", "quick"):
        if key in config:
            value = config[key]
            items.append((key, ", ".join(map(str, value)) if isinstance(value, list) else value))
    versions = env.get("packages") if isinstance(env.get("packages"), Mapping) else {}
    for key in ("benchbench", "torch"):
        if key in versions:
            items.append((key, versions[key]))
    for key in ("python", "platform", "cpu_count", "cuda_available", "device_requested"):
        if key in env and not isinstance(env[key], (Mapping, list)):
            items.append((key.replace("_", " "), env[key]))
    statuses = [job_status(r) for r in records]
    items.append(("jobs", f"{len(records)} ({statuses.count('ok')} ok, "
                          f"{statuses.count('failed')} failed, {statuses.count(MISSING)} missing)"))
    for key in ("cpu_model", "cpu_capability"):
        if key in env and env[key] is not None:
            items.append((key.replace("_", " "), env[key]))
    return ('<dl class="meta">'
            + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>")


def render_html(run_dir: Path | str, records: Iterable[Mapping[str, Any]],
                figures_dir: Path | str | None = None, metric: str = HEADLINE) -> str:
    """The report page of a run as one string.

    Args:
        run_dir: the run folder (its ``config.json`` and ``environment.json`` fill the header).
        records: the run's job records, any order; the score-based metrics show where they carry
            them (:func:`benchbench.report.build.add_score_metrics`), ``n/a`` elsewhere.
        figures_dir: the folder :func:`benchbench.report.plots.write_plots` drew into (``plots/``);
            ``None``: no figures, each figure's place says so.
        metric: the metric the heatmap shows (as given to ``write_plots``), named in its heading.

    Raises:
        ValueError: an unknown ``metric`` (see :func:`benchbench.report.aggregate.resolve_metric`).
    """
    from benchbench.report.plots import signal_plot_path

    run_dir = Path(run_dir)
    recs = sort_records(records)
    figs = Path(figures_dir) if figures_dir is not None else None
    heat = metric_label(resolve_metric(metric, recs))

    def figure(name: str) -> Path | None:
        return None if figs is None else figs / name

    df = dataset_table(recs, metrics=[])
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>benchbench run {_e(run_dir.resolve().name)}</title>",
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>benchbench run {_e(run_dir.resolve().name)}</h1>"]
    coverage = coverage_line(recs)
    if coverage:
        parts.append(f'<p class="warning">{_e(coverage)} (planned, but no readable record): '
                     "they are left out of every score below.</p>")
    parts += [_meta(run_dir, recs),
             "<nav><ul>"
             '<li><a href="#headline">Headline F1 by dataset</a></li>'
             '<li><a href="#signals">F1 by signal</a></li>'
             f'<li><a href="#heatmap">{_e(heat)} heatmap</a></li>'
             '<li><a href="#ranks">Average ranks and critical differences</a></li>'
             '<li><a href="#cost">Quality against cost</a></li>'
             '<li><a href="#seeds">Per-seed spread</a></li>'
             '<li><a href="#losses">Loss curves</a></li>'
             '<li><a href="#detections">Detections per signal</a></li>'
             "</ul></nav>"]
    if not recs:
        parts.append('<p class="note">No finished jobs yet.</p>')
    else:
        parts += _headline_section(df)
        parts += _signal_section(recs)
        parts += [f'<h2 id="heatmap">{_e(heat)} heatmap</h2>',
                  _img(figure("f1_heatmap.png"), f"{heat} heatmap, detector by dataset")]
        parts += _ranks_section(recs, metric, figs)
        parts += ['<h2 id="cost">Quality against cost</h2>',
                  '<p class="note">Micro F1 against the mean fit time of a job, per detector and '
                  "dataset (error bars: std over seeds).</p>",
                  _img(figure("quality_vs_cost.png"), "F1 against fit time")]
        parts += _seed_section(recs, figure("seed_spread.png"))
        has_history = any(r.get("status") == "ok" and r.get("history") for r in recs)
        parts += ['<h2 id="losses">Loss curves</h2>',
                  _img(figure("loss_curves.png"), "training losses per epoch of each detector")
                  if has_history else
                  '<p class="note">No detector recorded a training loss history.</p>']
        parts.append('<h2 id="detections">Detections per signal</h2>')
        parts.append('<p class="note">Top panel: the scaled test values, labelled anomalies in '
                     "red. Below: each detector's scores (lowest seed), detections in blue.</p>")
        seen: set[tuple[str, str]] = set()
        for rec in recs:
            key = (str(rec.get("dataset", "")), str(rec.get("signal", "")))
            if key in seen:
                continue
            seen.add(key)
            parts.append(f'<h3 class="signal">{_e(key[0])} / {_e(key[1])}</h3>')
            path = None if figs is None else signal_plot_path(figs, *key)
            parts.append(_img(path, f"detections on {key[0]} / {key[1]}"))
        parts += _failed_section(recs)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_html_report(run_dir: Path | str, records: Iterable[Mapping[str, Any]],
                      figures_dir: Path | str | None = None, metric: str = HEADLINE) -> Path:
    """Write :func:`render_html` to ``<run_dir>/report.html`` atomically; return its path."""
    path = Path(run_dir) / REPORT_FILE
    text = render_html(run_dir, records, figures_dir, metric)
    atomic_write(path, lambda fh: fh.write(text))
    return path
