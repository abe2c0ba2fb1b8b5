"""Tests of benchbench.report.plots on hand-built records with score artifacts written to
tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchbench.files import safe_name
from benchbench.report.plots import (
    plot_f1_heatmap,
    plot_loss_curves,
    plot_seed_spread,
    plot_signal,
    write_plots,
)

try:  # tests/ as a rootdir-relative folder (default) or as a package
    from test_tables import build_records
except ImportError:  # pragma: no cover
    from tests.test_tables import build_records

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_MAGIC


def write_artifacts(run_dir: Path, records: list[dict[str, Any]]) -> None:
    """Write a small npz (index, values, scores) for every record that names one."""
    for k, rec in enumerate(records):
        rel = (rec.get("artifacts") or {}).get("scores")
        if not rel:
            continue
        rng = np.random.default_rng(k)
        n = rec["n_test"]
        index = np.arange(n, dtype=float)
        values = np.sin(index / 10.0)[:, None] + 0.1 * rng.standard_normal((n, 1))
        values[50:61] += 2.0
        scores = np.abs(rng.standard_normal(n)) * 0.2
        scores[52:59] += 1.5
        path = run_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, index=index, values=values, scores=scores)


@pytest.fixture()
def run(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    records = build_records()
    run_dir = tmp_path / "run"
    write_artifacts(run_dir, records)
    return run_dir, records


def _open_figures() -> list[int]:
    import matplotlib.pyplot as plt

    return list(plt.get_fignums())


def test_write_plots_writes_pngs(run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir, records = run
    paths = write_plots(run_dir, records)
    out = run_dir / "plots"
    expected = [
        out / "f1_heatmap.png",
        out / "quality_vs_cost.png",
        out / "seed_spread.png",
        out / "loss_curves.png",
        out / "signals" / "alpha__s1.png",
        out / "signals" / "alpha__s2.png",
        out / "signals" / "beta__b1.png",
    ]
    assert paths == expected
    assert all(_is_png(p) for p in paths)
    assert not [p for p in out.rglob("*") if p.is_file() and p.suffix != ".png"]  # no temp files
    assert _open_figures() == []  # every figure closed
    # the same records, shuffled, into another folder: the same files, byte for byte
    other = run_dir.parent / "elsewhere"
    again = write_plots(run_dir, list(reversed(records)), out_dir=other)
    assert [p.relative_to(other) for p in again] == [p.relative_to(out) for p in paths]
    heat = (out / "f1_heatmap.png").read_bytes()
    assert (other / "f1_heatmap.png").read_bytes() == heat


def test_failed_panel_and_missing_artifact(run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir, records = run
    # alpha/s2: gan's lowest seed (0) failed -> a "failed: ..." panel
    group = [r for r in records if r["signal"] == "s2"]
    path = run_dir / "one.png"
    plot_signal(run_dir, group, path)
    assert _is_png(path)
    # every artifact missing: the panels say so instead of crashing
    for rec in group:
        if rec["artifacts"]:
            (run_dir / rec["artifacts"]["scores"]).unlink()
    plot_signal(run_dir, group, run_dir / "two.png")
    assert _is_png(run_dir / "two.png")
    # a signal whose jobs all failed
    only_failed = [r for r in group if r["status"] == "failed"]
    plot_signal(run_dir, only_failed, run_dir / "three.png")
    assert _is_png(run_dir / "three.png")
    assert _open_figures() == []


def test_heatmap(run: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    _, records = run
    assert plot_f1_heatmap(records, tmp_path / "h.png") is True
    assert _is_png(tmp_path / "h.png")
    assert plot_f1_heatmap([], tmp_path / "empty.png") is False
    assert not (tmp_path / "empty.png").exists()


def test_loss_curves_skip_without_history(run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir, records = run
    assert plot_loss_curves(records, run_dir / "loss.png") is True
    assert _is_png(run_dir / "loss.png")

    no_history = [dict(r, history={}) for r in records]
    assert plot_loss_curves(no_history, run_dir / "none.png") is False
    assert not (run_dir / "none.png").exists()
    beta = [r for r in no_history if r["dataset"] == "beta"]  # one signal keeps this fast
    paths = write_plots(run_dir, beta, out_dir=run_dir / "p2")
    assert run_dir / "p2" / "loss_curves.png" not in paths
    assert not (run_dir / "p2" / "loss_curves.png").exists()
    assert _open_figures() == []


def test_seed_spread_needs_several_seeds(run: tuple[Path, list[dict[str, Any]]],
                                         tmp_path: Path) -> None:
    _, records = run
    assert plot_seed_spread(records, tmp_path / "spread.png") is True
    assert _is_png(tmp_path / "spread.png")
    one_seed = [r for r in records if r["seed"] == 0]
    assert plot_seed_spread(one_seed, tmp_path / "one.png") is False
    assert not (tmp_path / "one.png").exists()
    assert _open_figures() == []


def test_safe_names_unique() -> None:
    assert safe_name("alpha__s1") == "alpha__s1"
    a, b = safe_name("nab__art/daily jump"), safe_name("nab__art_daily_jump")
    assert a != b and b == "nab__art_daily_jump"
    assert a.startswith("nab__art_daily_jump-") and len(a) == len(b) + 9
    assert all(ch.isalnum() or ch in "._-" for ch in safe_name("x y/z:ü*"))
    assert len(safe_name("s" * 500)) <= 150


def test_signal_file_names_sanitised(tmp_path: Path) -> None:
    records = [r for r in build_records() if r["dataset"] == "beta"]
    for rec in records:
        rec["signal"] = "machine 1/2"
        if rec["artifacts"]:
            rec["artifacts"]["scores"] = rec["artifacts"]["scores"].replace("b1", "m12")
    write_artifacts(tmp_path, records)
    paths = write_plots(tmp_path, records)
    names = [p.name for p in paths if p.parent.name == "signals"]
    assert len(names) == 1 and names[0].startswith("beta__machine_1_2-")
    assert _is_png(paths[-1])


def test_quality_vs_cost(run: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    from benchbench.report.plots import plot_quality_vs_cost

    _, records = run
    assert plot_quality_vs_cost(records, tmp_path / "cost.png") is True
    assert _is_png(tmp_path / "cost.png")
    one_seed = [r for r in records if r["seed"] == 0]
    assert plot_quality_vs_cost(one_seed, tmp_path / "one.png") is True
    only_failed = [r for r in records if r["status"] == "failed"]
    assert plot_quality_vs_cost(only_failed, tmp_path / "none.png") is False
    assert not (tmp_path / "none.png").exists()
    assert _open_figures() == []


def test_log_axes_get_plain_tick_labels() -> None:
    # with mathtext parsing off, matplotlib's default log labels ($\mathdefault{10^{0}}$) would be
    # drawn verbatim
    import matplotlib.pyplot as plt

    from benchbench.report.plots import _plain_log_ticks

    fig, ax = plt.subplots()
    try:
        ax.plot([0.05, 0.5, 3.0], [0.02, 0.2, 5.0])
        ax.set_xscale("log")
        ax.set_yscale("log", base=2)
        _plain_log_ticks(fig)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        labels += [t.get_text() for t in ax.get_xticklabels(minor=True)]
        assert any(labels) and not any("$" in text for text in labels), labels
        assert ax.yaxis.get_major_formatter()._base == 2
    finally:
        plt.close(fig)


def test_names_with_dollar_signs_are_drawn_as_text(tmp_path: Path) -> None:
    records = [r for r in build_records() if r["dataset"] == "beta"]
    for rec in records:
        rec["signal"] = r"sig$\frac$x"  # invalid mathtext: would fail the figure if parsed
        rec["detector"] = "$" + rec["detector"]
    write_artifacts(tmp_path, records)
    paths = write_plots(tmp_path, records)
    assert paths and all(_is_png(p) for p in paths)
