"""report.html: self-contained (every image embedded), complete tables, escaped names."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.config import QUICK_SIGNALS
from benchbench.data.synthetic import SyntheticDataset
from benchbench.plugins import load_registries
from benchbench.report.html import render_html
from benchbench.run.records import RunStore

try:  # tests/ as a rootdir-relative folder (default) or as a package
    from test_plots import write_artifacts
    from test_tables import build_records
except ImportError:  # pragma: no cover
    from tests.test_plots import write_artifacts
    from tests.test_tables import build_records

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
XSS = "<img src=x onerror=alert(1)>"
# heatmap, critical-difference diagram (one dataset), quality against cost, loss curves (+ the
# seed spread with seeds)
FIXED_FIGURES = 4


class Page(HTMLParser):
    """The parts of report.html the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.imgs: list[dict[str, str]] = []
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.tables: list[dict] = []
        self.text: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for key in ("src", "href"):
            if key in attrs and not str(attrs[key]).startswith(("#", "data:")):
                self.urls.append(attrs[key])
        if tag == "img":
            self.imgs.append(attrs)
        elif tag == "table":
            self.tables.append({"class": attrs.get("class"), "dataset": attrs.get("data-dataset"),
                                "rows": []})
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if not self._in_head:
                self.tables[-1]["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def tables(page: Page, css: str, dataset: str | None = None) -> list[dict]:
    return [t for t in page.tables if t["class"] == css
            and (dataset is None or t["dataset"] == dataset)]


def assert_self_contained(page: Page) -> None:
    assert page.imgs, "no figure in the report"
    for img in page.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,"), src[:80]
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
    assert page.urls == []  # no link, stylesheet or script to fetch
    assert not {"script", "link", "iframe", "object", "embed"} & set(page.tags)


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def only_run(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    """`bench run --detectors all --quick` on synthetic: every built-in detector, 3 signals."""
    out = tmp_path_factory.mktemp("quick")
    mp = pytest.MonkeyPatch()
    mp.setenv("BENCHBENCH_LOAD_PLUGINS", "")
    try:
        invoke("run", "--detectors", "all", "--datasets", "synthetic", "--quick", "--quiet",
               "--output", str(out))
    finally:
        mp.undo()
    return only_run(out)


def check_full_report(run_dir: Path, n_signals: int, n_seeds: int = 1) -> None:
    detectors = load_registries(load_entry_points=False).detectors.names()
    page = parse(run_dir / "report.html")
    assert_self_contained(page)
    assert len(page.imgs) == FIXED_FIGURES + (n_seeds > 1) + n_signals
    alts = [img["alt"] for img in page.imgs]
    assert ("per-seed F1 by detector" in alts) == (n_seeds > 1)
    assert "critical-difference diagram of overlap_f1 on synthetic" in alts
    assert (run_dir / "plots" / "critical_difference_overlap.png").is_file()
    (headline,) = tables(page, "headline", "synthetic")
    assert [row[0] for row in headline["rows"]] == detectors
    assert all(row[1] not in ("", "n/a", "failed") for row in headline["rows"])
    (signals,) = tables(page, "signals", "synthetic")
    expected = SyntheticDataset(Path("."), None).signal_names()[:n_signals]
    assert sorted(row[0] for row in signals["rows"]) == sorted(expected)
    assert all(len(row) == 2 + len(detectors) for row in signals["rows"])
    (seeds,) = tables(page, "seeds")
    assert [row[1] for row in seeds["rows"]] == detectors
    assert all(row[2] == str(n_seeds) for row in seeds["rows"])
    assert not tables(page, "failed-jobs")
    text = " ".join(page.text)
    for heading in ("Headline F1 by dataset", "F1 by signal", "F1 heatmap",
                    "Quality against cost", "Per-seed spread", "Loss curves",
                    "Detections per signal"):
        assert heading in text


def test_report_of_every_builtin_detector_quick(quick_run: Path):
    check_full_report(quick_run, QUICK_SIGNALS)


@pytest.mark.slow
def test_report_of_every_builtin_detector_full_synthetic(tmp_path):
    invoke("run", "--detectors", "all", "--datasets", "synthetic", "--quiet",
           "--output", str(tmp_path))
    check_full_report(only_run(tmp_path), len(SyntheticDataset(tmp_path, None).signal_names()))


def test_bench_report_rebuilds_the_page(quick_run: Path):
    page = quick_run / "report.html"
    before = page.read_text(encoding="utf-8")
    page.unlink()
    invoke("report", str(quick_run))
    assert page.read_text(encoding="utf-8") == before
    records = RunStore(quick_run).load_records()
    bare = Page()
    bare.feed(render_html(quick_run, records, figures_dir=None))  # what --no-plots writes
    assert bare.imgs == [] and tables(bare, "headline", "synthetic")
    assert "not drawn in this report" in " ".join(bare.text)


def test_failed_jobs_listed_and_order_independent(tmp_path):
    records = build_records()
    write_artifacts(tmp_path, records)
    from benchbench.report.plots import write_plots

    write_plots(tmp_path, records)
    html = render_html(tmp_path, records, tmp_path / "plots")
    assert html == render_html(tmp_path, list(reversed(records)), tmp_path / "plots")
    page = Page()
    page.feed(html)
    assert_self_contained(page)
    assert "per-seed F1 by detector" in [img["alt"] for img in page.imgs]  # two seeds here
    (failed,) = tables(page, "failed-jobs")
    assert [row[:4] for row in failed["rows"]] == [["alpha", "s2", "gan", "0"]]
    (alpha,) = tables(page, "headline", "alpha")
    assert [row[0] for row in alpha["rows"]] == ["ae", "gan"]
    assert alpha["rows"][1][13] == "1"  # one failed job


def _xss_dataset(folder: Path) -> None:
    folder.mkdir()
    t = np.arange(600)
    v = np.sin(t / 10.0) + 0.05 * np.random.default_rng(0).standard_normal(600)
    v[400:405] += 3.0
    lines = ["timestamp,value"] + [f"{a},{b:.6f}" for a, b in zip(t, v)]
    (folder / f"{XSS}.csv").write_text("\n".join(lines) + "\n")
    (folder / "labels.json").write_text(json.dumps({f"{XSS}.csv": [[395, 410]]}))


def test_signal_named_like_markup_is_text(tmp_path):
    data = tmp_path / "data"
    _xss_dataset(data)
    invoke("run", "--detectors", "zscore", "--datasets", f"csv:{data}", "--quiet",
           "--output", str(tmp_path / "out"))
    report = only_run(tmp_path / "out") / "report.html"
    raw = report.read_text(encoding="utf-8")
    assert XSS not in raw and "&lt;img src=x onerror=alert(1)&gt;" in raw
    page = parse(report)
    assert_self_contained(page)  # the only <img> tags are the embedded figures
    (signals,) = tables(page, "signals")
    assert signals["rows"][0][0] == XSS  # shown as text
    assert any(XSS in text for text in page.text)
