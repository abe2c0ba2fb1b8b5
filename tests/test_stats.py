"""Statistical comparison of detectors (benchbench.report.stats, .cd_diagram) on hand-made
frames with hand-worked expected numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchbench.report.cd_diagram import (
    critical_difference_path,
    plot_critical_difference,
    write_critical_difference,
)
from benchbench.report.stats import (
    PairTest,
    RankAnalysis,
    StatsError,
    holm,
    not_different_groups,
    paired_wilcoxon,
    rank_analysis,
    rank_biserial,
    signal_coverage,
    signal_scores,
)

try:  # tests/ as a rootdir-relative folder (default) or as a package
    from test_tables import make_record
except ImportError:  # pragma: no cover
    from tests.test_tables import make_record


def job_frame(values: dict[str, list[float]], dataset: str = "d", seeds: int = 3,
              column: str = "overlap_f1") -> pd.DataFrame:
    """A per-job frame: ``values[detector][i]`` is the detector's value on signal ``s<i>``, the
    same for every seed."""
    rows = [{"dataset": dataset, "signal": f"s{i:02d}", "detector": det, "seed": seed,
             "repetition": 0, "status": "ok", column: v}
            for det, vals in values.items() for i, v in enumerate(vals) for seed in range(seeds)]
    return pd.DataFrame(rows)


CLEAR = {"best": [0.9 + 0.01 * i for i in range(10)],
         "middle": [0.5 + 0.01 * i for i in range(10)],
         "worst": [0.1 + 0.01 * i for i in range(10)]}


def test_clear_order_is_significant_and_the_diagram_separates_it(tmp_path: Path):
    frame = job_frame(CLEAR)
    an = rank_analysis(signal_scores(frame, "overlap"))["d"]
    assert an.detectors == ["best", "middle", "worst"]
    assert list(an.ranks) == [1.0, 2.0, 3.0] and an.n_signals == 10
    # every signal ranks alike: chi2 = n (k - 1) = 20, p = exp(-10) with 2 df
    assert an.friedman_statistic == pytest.approx(20.0)
    assert an.friedman_p == pytest.approx(math.exp(-10)) and an.friedman_p < 0.05
    # 10 wins of 10: exact two-sided p = 2 / 2**10; Holm over 3 pairs: 3 times that
    assert [p.p for p in an.pairs] == pytest.approx([2 / 1024] * 3)
    assert [p.p_holm for p in an.pairs] == pytest.approx([6 / 1024] * 3)
    assert all(p.significant and p.effect == 1.0 for p in an.pairs)
    assert an.groups == []  # no bar: each detector differs from the others
    files = write_critical_difference(tmp_path, frame, "overlap")
    png = tmp_path / "plots" / "critical_difference_overlap.png"
    assert png in files and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "tables" / "ranks_overlap.md").read_text()
    assert "Pairs that differ at alpha 0.05 (3 of 3)" in md and "| best" in md
    ranks = pd.read_csv(tmp_path / "tables" / "ranks_overlap.csv")
    assert list(ranks["detector"]) == ["best", "middle", "worst"]
    assert ranks["friedman_p"].iloc[0] == pytest.approx(math.exp(-10))
    pairs = pd.read_csv(tmp_path / "tables" / "pairs_overlap.csv")
    assert pairs["significant"].all() and len(pairs) == 3


def test_identical_detectors_differ_in_nothing(tmp_path: Path):
    same = [0.2, 0.5, 0.7, 1.0, 0.0, 0.3, 0.9, 0.4, 0.6, 0.8]
    frame = job_frame({"a": same, "b": list(same), "c": list(same)})
    an = rank_analysis(signal_scores(frame, "overlap"))["d"]
    assert list(an.ranks) == [2.0, 2.0, 2.0]
    assert (an.friedman_statistic, an.friedman_p) == (0.0, 1.0)
    assert all(p.p == 1.0 and p.p_holm == 1.0 and not p.significant and p.effect == 0.0
               and p.ties == 10 for p in an.pairs)
    assert an.significant_pairs() == [] and an.groups == [("a", "b", "c")]
    write_critical_difference(tmp_path, frame, "overlap_f1")  # _f1 or not: the same files
    assert (tmp_path / "plots" / "critical_difference_overlap.png").is_file()
    assert "No pair differs at alpha 0.05 (3 pair(s) tested)" in (
        tmp_path / "tables" / "ranks_overlap.md").read_text()


def test_ranks_with_ties_by_hand():
    # s0: a = b > c -> 1.5 1.5 3;  s1: b > a = c -> 2.5 1 2.5;  s2: all tie -> 2 2 2
    per_signal = pd.DataFrame(
        [("d", s, det, v) for s, row in enumerate([(1.0, 1.0, 0.0), (0.5, 0.7, 0.5),
                                                   (0.2, 0.2, 0.2)])
         for det, v in zip("abc", row)],
        columns=["dataset", "signal", "detector", "value"])
    an = rank_analysis(per_signal)["d"]
    assert dict(an.ranks) == {"b": 1.5, "a": 2.0, "c": 2.5}
    # rank sums a 6, b 4.5, c 7.5: 12 / (n k (k+1)) * sum R^2 - 3 n (k+1) = 1.5; ties (2, 2, 3)
    # correct it by 1 - sum(t^3 - t) / (n k (k^2 - 1)) = 1 - 36 / 72, so chi2 = 3, p = e^-1.5
    assert an.friedman_statistic == pytest.approx(3.0)
    assert an.friedman_p == pytest.approx(math.exp(-1.5))
    pair = next(p for p in an.pairs if {p.a, p.b} == {"a", "b"})
    assert (pair.a, pair.wins, pair.ties, pair.losses) == ("b", 1, 2, 0)


def test_float_noise_is_a_tie():
    per_signal = pd.DataFrame({"dataset": "d", "signal": ["s0", "s0"], "detector": ["a", "b"],
                               "value": [1 / 3, 1 - 2 / 3]})
    assert 1 / 3 != 1 - 2 / 3
    assert dict(rank_analysis(per_signal)["d"].ranks) == {"a": 1.5, "b": 1.5}


def test_few_detectors_or_signals_have_no_friedman():
    two = rank_analysis(signal_scores(job_frame({"a": CLEAR["best"], "b": CLEAR["worst"]}),
                                      "overlap"))["d"]
    assert two.friedman_p is None and two.friedman_statistic is None and len(two.pairs) == 1
    one_signal = rank_analysis(signal_scores(job_frame({k: v[:1] for k, v in CLEAR.items()}),
                                             "overlap"))["d"]
    assert one_signal.friedman_p is None and one_signal.n_signals == 1
    assert all(p.p == 1.0 for p in one_signal.pairs)  # one difference: nothing to test
    lone = rank_analysis(signal_scores(job_frame({"a": CLEAR["best"]}), "overlap"))
    assert lone == {}  # one detector: nothing to rank


def test_five_signals_can_never_be_significant(tmp_path: Path):
    frame = job_frame({k: v[:5] for k, v in CLEAR.items()})
    an = rank_analysis(signal_scores(frame, "overlap"))["d"]
    assert all(p.p == pytest.approx(2 / 32) and not p.significant for p in an.pairs)
    write_critical_difference(tmp_path, frame)
    assert ("With 5 signal(s) and 3 pair(s) no pair can differ at alpha 0.05: the smallest "
            "Holm-adjusted p possible is 0.188.") in (tmp_path / "tables" / "ranks_overlap.md"
                                                       ).read_text()


def test_failed_and_missing_jobs_leave_the_signal_out():
    frame = job_frame(CLEAR)
    frame.loc[(frame["detector"] == "middle") & (frame["signal"] == "s03")
              & (frame["seed"] == 1), ["status", "overlap_f1"]] = ["failed", math.nan]
    frame.loc[(frame["detector"] == "worst") & (frame["signal"] == "s07")
              & (frame["seed"] == 0), ["status", "overlap_f1"]] = ["missing", math.nan]
    broken = job_frame({"broken": [math.nan] * 10})
    broken["status"] = "failed"
    frame = pd.concat([frame, broken])
    per_signal = signal_scores(frame, "overlap")
    assert set(per_signal["signal"]) == {f"s{i:02d}" for i in range(10)} - {"s03", "s07"}
    assert set(per_signal["detector"]) == {"best", "middle", "worst"}
    # a value is the mean over seeds
    means = per_signal.set_index(["signal", "detector"])["value"]
    assert means[("s00", "best")] == pytest.approx(0.9)
    cov = signal_coverage(frame, "overlap")["d"]
    assert cov.left_out_detectors == ["broken"]
    assert cov.left_out_signals == {"s03": ["middle"], "s07": ["worst"]}
    assert "broken" in cov.note() and "s03, s07" in cov.note()
    assert rank_analysis(per_signal)["d"].n_signals == 8


def test_mean_over_seeds_before_ranking():
    # a beats b on seed 0 by 0.4 and loses on seeds 1, 2 by 0.1: mean 0.0667 above b
    rows = [{"dataset": "d", "signal": "s0", "detector": det, "seed": seed, "status": "ok",
             "overlap_f1": v}
            for seed, (va, vb) in enumerate([(0.9, 0.5), (0.4, 0.5), (0.4, 0.5)])
            for det, v in (("a", va), ("b", vb))]
    per_signal = signal_scores(pd.DataFrame(rows), "overlap")
    assert per_signal.set_index("detector")["value"].to_dict() == pytest.approx(
        {"a": 1.7 / 3, "b": 0.5})
    assert rank_analysis(per_signal)["d"].detectors == ["a", "b"]


def test_unknown_metric_names_it_and_what_there_is(tmp_path: Path):
    frame = job_frame(CLEAR)
    with pytest.raises(StatsError) as err:
        write_critical_difference(tmp_path, frame, "vus_pr")
    assert "'vus_pr'" in str(err.value) and "overlap" in str(err.value)
    assert not (tmp_path / "plots").exists() and not (tmp_path / "tables").exists()


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01, 2 * 0.03, max(0.06, 1 * 0.04)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]).size == 0


def test_rank_biserial_and_paired_wilcoxon_by_hand():
    # |d| ranks: 0 -> 1, 1 -> 2, 2 -> 3, 3 -> 4; R+ = 2 + 4, R- = 3; (6 - 3) / 10
    assert rank_biserial(np.array([1.0, -2.0, 0.0, 3.0])) == pytest.approx(0.3)
    # one better signal among 99 ties is a small effect, not a perfect one
    assert rank_biserial(np.r_[np.zeros(99), 0.1]) == pytest.approx(100 / 5050)
    assert paired_wilcoxon(np.ones(4), np.ones(4)) == (0.0, 1.0, 0.0)
    assert all(math.isnan(v) for v in paired_wilcoxon(np.array([]), np.array([])))
    stat, p, effect = paired_wilcoxon(np.arange(8.0) + 1, np.zeros(8))
    assert (stat, effect) == (0.0, 1.0) and p == pytest.approx(2 / 256)


def _analysis(order: list[str], differ: set[tuple[str, str]]) -> RankAnalysis:
    ranks = pd.Series(range(1, len(order) + 1), index=order, dtype="float64")
    pairs = [PairTest(a, b, 0.0, 0.01, 0.01, 1.0, (a, b) in differ, 1, 0, 0)
             for i, a in enumerate(order) for b in order[i + 1:]]
    return RankAnalysis("d", ranks, ranks, 10, 1.0, 0.01, pairs, 0.05)


def test_groups_are_maximal_runs_in_rank_order():
    an = _analysis(list("abcd"), {("a", "c"), ("a", "d"), ("b", "d")})
    assert not_different_groups(an) == [("a", "b"), ("b", "c"), ("c", "d")]
    # a and c do not differ, but b between them differs from both: no bar may pass over b
    an = _analysis(list("abc"), {("a", "b"), ("b", "c")})
    assert not_different_groups(an) == []
    assert not_different_groups(_analysis(list("abc"), set())) == [("a", "b", "c")]


def test_several_datasets_get_a_diagram_each_with_safe_names(tmp_path: Path):
    frame = pd.concat([job_frame(CLEAR, dataset="alpha"),
                       job_frame({"x$1$": [0.5] * 10, "y": [0.4] * 10}, dataset="b/$eta")])
    files = write_critical_difference(tmp_path, frame, "overlap")
    names = sorted(p.name for p in files if p.suffix == ".png")
    assert names[0] == "critical_difference_overlap_alpha.png"
    assert names[1].startswith("critical_difference_overlap_b__eta-")
    assert critical_difference_path(tmp_path / "plots", "overlap", "b/$eta", True).name == \
        names[1]
    ranks = pd.read_csv(tmp_path / "tables" / "ranks_overlap.csv")
    assert set(ranks["dataset"]) == {"alpha", "b/$eta"}


def test_records_work_like_their_frame(tmp_path: Path):
    # overlap components (tp-ish): a finds 2 of 2, b 1 of 2, c none, on each of 6 signals
    comps = {"a": (2, 2, 2, 2), "b": (1, 1, 1, 2), "c": (0, 1, 0, 2)}
    records = [make_record("d", f"s{i}", det, seed, comps[det])
               for i in range(6) for det in "abc" for seed in (0, 1)]
    records[0] = make_record("d", "s0", "a", 0, None)  # failed: s0 is left out
    files = write_critical_difference(tmp_path, records)
    ranks = pd.read_csv(tmp_path / "tables" / "ranks_overlap.csv")
    assert list(ranks["detector"]) == ["a", "b", "c"] and ranks["signals"].iloc[0] == 5
    md = (tmp_path / "tables" / "ranks_overlap.md").read_text()
    assert "1 signal(s) not scored by every detector are left out (s0)" in md
    assert tmp_path / "plots" / "critical_difference_overlap.png" in files


def test_plot_needs_two_detectors(tmp_path: Path):
    an = _analysis(["a"], set())
    with pytest.raises(ValueError, match="needs 2 detectors"):
        plot_critical_difference(an, tmp_path / "x.png")
