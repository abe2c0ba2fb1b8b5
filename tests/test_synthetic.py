"""Tests of the embedded ``synthetic`` benchmark (benchbench.data.synthetic)."""

from __future__ import annotations

import numpy as np
import pytest

from benchbench.data import DataError, Signal, synthetic
from benchbench.data.synthetic import (
    SIGNAL_KINDS,
    SUITE,
    AnomalySpec,
    SyntheticDataset,
    build_signal,
    make_signal,
    sine_with_spike,
)


@pytest.fixture(scope="module")
def signals() -> dict[str, Signal]:
    dataset = SyntheticDataset()
    return {name: dataset.load_signal(name) for name in dataset.signal_names()}


def _spans(signal: Signal) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in signal.anomalies]


def test_dataset_attributes() -> None:
    dataset = SyntheticDataset(data_dir="/nonexistent", subset=None)
    assert dataset.name == "synthetic"
    assert dataset.description and "\n" not in dataset.description
    assert dataset.signal_names() == [spec.name for spec in SUITE]
    assert synthetic.LICENSE.startswith("generated in code")
    assert synthetic.CITATION


def test_suite_size_and_kinds(signals: dict[str, Signal]) -> None:
    assert len(signals) == len(SUITE) == 17
    kinds = [s.kind for s in signals.values()]
    assert set(kinds) == set(SIGNAL_KINDS)
    assert kinds.count("clean") >= 2
    assert kinds.count("mixed") >= 2
    for name, signal in signals.items():
        assert signal.name == name
        assert name.replace("_", "").isalnum() and name.islower()
        assert signal.kind in SIGNAL_KINDS
        if signal.kind == "clean":
            assert signal.anomalies == []
        else:
            assert 1 <= len(signal.anomalies) <= 3
        if signal.kind == "point_spikes":
            assert 2 <= len(signal.anomalies) <= 3
        if signal.kind == "mixed":
            types = {a.type for a in next(s for s in SUITE if s.name == name).anomalies}
            assert len(types) == 2


def test_shapes_lengths_and_protocol(signals: dict[str, Signal]) -> None:
    lengths = []
    for signal in signals.values():
        n = len(signal.test)
        lengths.append(n)
        assert 1000 <= n <= 5000
        assert signal.train.shape == signal.test.shape == (n, 1)
        assert signal.train.dtype == signal.test.dtype == np.float64
        if signal.kind != "constant_train":  # its own split: see test_constant_train_signal
            np.testing.assert_array_equal(signal.train, signal.test)
        np.testing.assert_array_equal(signal.test_index, np.arange(n))
        np.testing.assert_array_equal(signal.train_index, np.arange(len(signal.train)))
        assert signal.test_index.dtype == signal.train_index.dtype == np.int64
        assert np.isfinite(signal.test).all()
        assert -15.0 < signal.test.min() and signal.test.max() < 20.0
        assert signal.interval is None
    assert max(lengths) >= 4000
    assert len(set(lengths)) >= 5


def test_labels_inside_and_within_suite_rules(signals: dict[str, Signal]) -> None:
    for signal in signals.values():
        n = len(signal.test)
        spans = _spans(signal)
        assert spans == sorted(spans)
        for (_, end), (next_start, _) in zip(spans, spans[1:]):
            assert end < next_start
        for start, end in spans:
            assert 0 <= start <= end < n
            assert start >= 0.05 * n and end <= 0.95 * n, (signal.name, start, end)
            length = end - start + 1
            if length <= 5:  # a spike
                assert signal.kind in ("point_spikes", "mixed")
                assert length >= 2
            else:
                assert 0.01 * n <= length <= 0.1 * n, (signal.name, start, end)


def test_deterministic(signals: dict[str, Signal]) -> None:
    again = SyntheticDataset()
    for name, signal in signals.items():
        other = again.load_signal(name)
        assert other.test.tobytes() == signal.test.tobytes()
        assert other.train.tobytes() == signal.train.tobytes()
        assert other.anomalies == signal.anomalies


def test_signals_are_distinct(signals: dict[str, Signal]) -> None:
    firsts = {round(float(s.test[0, 0]), 9) for s in signals.values()}
    assert len(firsts) == len(signals)
    seeds = [spec.seed for spec in SUITE]
    assert len(set(seeds)) == len(seeds)


def test_anomalies_change_only_their_interval(signals: dict[str, Signal]) -> None:
    for spec in SUITE:
        signal = signals[spec.name]
        plain = build_signal(spec, inject=False)
        assert plain.anomalies == []
        values, reference = signal.test[:, 0], plain.test[:, 0]
        inside = np.zeros(len(values), dtype=bool)
        for start, end in _spans(signal):
            inside[start : end + 1] = True
            diff = np.abs(values[start : end + 1] - reference[start : end + 1])
            # Every labelled step changes noticeably on average, and nearly every one changes.
            assert diff.mean() > 0.1, (spec.name, start, end)
            assert np.count_nonzero(diff) >= 0.9 * (end - start + 1), (spec.name, start, end)
        np.testing.assert_array_equal(values[~inside], reference[~inside], err_msg=spec.name)


def test_clean_signal_has_no_anomaly_effect(signals: dict[str, Signal]) -> None:
    for spec in SUITE:
        if spec.kind == "clean":
            plain = build_signal(spec, inject=False)
            assert signals[spec.name].test.tobytes() == plain.test.tobytes()


def test_anomaly_types_behave(signals: dict[str, Signal]) -> None:
    def values(name: str) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        spec = next(s for s in SUITE if s.name == name)
        signal = signals[name]
        return signal.test[:, 0], build_signal(spec, inject=False).test[:, 0], _spans(signal)[0]

    v, ref, (a, b) = values("flatline_1")
    assert np.all(v[a : b + 1] == v[a - 1])

    v, ref, (a, b) = values("variance_1")
    assert np.std(np.diff(v[a : b + 1])) > 3 * np.std(np.diff(ref[a : b + 1]))

    v, ref, (a, b) = values("contextual_1")  # the pattern breaks, the range does not
    assert ref.min() - 0.5 <= v[a : b + 1].min() and v[a : b + 1].max() <= ref.max() + 0.5

    v, ref, (a, b) = values("level_shift_1")
    middle = slice(a + 10, b - 10)
    assert abs(np.mean(v[middle] - ref[middle])) > 1.0

    v, ref, (a, b) = values("amplitude_1")
    assert np.ptp(v[a : b + 1]) > 1.5 * np.ptp(ref[a : b + 1])

    v, ref, (a, b) = values("spikes_1")
    assert np.max(np.abs(v[a : b + 1] - ref[a : b + 1])) > 3.0


def test_subsets() -> None:
    assert SyntheticDataset(subset="clean_1").signal_names() == ["clean_1"]
    clean = [s.name for s in SUITE if s.kind == "clean"]
    assert SyntheticDataset(subset="clean").signal_names() == clean
    mixed = SyntheticDataset(subset=" spikes_1 + clean ").signal_names()
    assert mixed == ["spikes_1", *clean]  # suite order, not subset order
    assert SyntheticDataset(subset="").signal_names() == [s.name for s in SUITE]


def test_unknown_subset_entry() -> None:
    with pytest.raises(ValueError, match="nope") as info:
        SyntheticDataset(subset="clean_1+nope")
    assert "spikes_1" in str(info.value) and "clean" in str(info.value)


def test_unknown_signal_name() -> None:
    with pytest.raises(DataError, match="nope") as info:
        SyntheticDataset().load_signal("nope")
    assert "spikes_1" in str(info.value)
    with pytest.raises(DataError, match="spikes_1"):
        SyntheticDataset(subset="clean").load_signal("spikes_1")


def test_make_signal_every_kind() -> None:
    for kind in SIGNAL_KINDS:
        signal = make_signal(kind, 1200, seed=3)
        again = make_signal(kind, 1200, seed=3)
        assert signal.kind == kind
        assert signal.test.tobytes() == again.test.tobytes()
        assert (signal.anomalies == []) == (kind == "clean")
        plain = make_signal(kind, 1200, seed=3, inject=False)
        n_test = 600 if kind == "constant_train" else 1200
        assert signal.test.shape == (n_test, 1)
        inside = np.zeros(n_test, dtype=bool)
        for a, b in _spans(signal):
            assert 0 < a <= b < n_test
            inside[a : b + 1] = True
        np.testing.assert_array_equal(signal.test[~inside], plain.test[~inside])
    with pytest.raises(ValueError, match="valid kinds"):
        make_signal("wobble", 1000, 0)


def test_make_signal_bad_anomalies() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        make_signal("flatline", 1000, 0, anomalies=[AnomalySpec("flatline", 990, 50)])
    with pytest.raises(ValueError, match="overlap"):
        make_signal(
            "mixed",
            1000,
            0,
            anomalies=[AnomalySpec("spike", 500, 3), AnomalySpec("variance_burst", 480, 50)],
        )
    with pytest.raises(ValueError, match="unknown anomaly type"):
        make_signal("mixed", 1000, 0, anomalies=[AnomalySpec("wobble", 500, 3)])


def test_sine_with_spike() -> None:
    signal = sine_with_spike()
    assert signal.test.shape == (500, 1)
    assert signal.anomalies == [(249.0, 251.0)]
    values = signal.test[:, 0]
    assert values[250] - np.median(values) > 2.5
    outside = np.r_[values[:249], values[252:]]
    assert outside.max() < 6.5 and outside.min() > 3.5
    assert sine_with_spike().test.tobytes() == signal.test.tobytes()
    assert sine_with_spike(n=300, spike_at=100).anomalies == [(99.0, 101.0)]


def test_constant_train_signal(signals: dict[str, Signal]) -> None:
    signal = signals["constant_train_1"]
    assert signal.kind == "constant_train"
    train, test = signal.train[:, 0], signal.test[:, 0]
    assert len(train) == len(test) == 1000
    assert np.ptp(train) == 0  # one level for the whole train part
    (a, b), = _spans(signal)
    level = train[0]
    outside = np.r_[test[:a], test[b + 1 :]]
    assert np.all(outside == level)  # the test part sits at that level but for its anomaly
    assert np.all(test[a : b + 1] > level) and test[a : b + 1].max() == pytest.approx(level + 1.5)


def test_constant_train_preprocesses_to_zero_and_a_departure() -> None:
    from benchbench.data.preprocessing import preprocess

    signal = SyntheticDataset(subset="constant_train").load_signal("constant_train_1")
    prepared = preprocess(signal)
    assert np.all(prepared.train == 0)
    (a, b), = _spans(signal)
    departure = prepared.test[a : b + 1, 0]
    assert np.all(departure > 0) and np.all(np.isfinite(prepared.test))
    assert np.all(np.delete(prepared.test[:, 0], np.arange(a, b + 1)) == 0)


def test_constant_train_bad_anomalies() -> None:
    with pytest.raises(ValueError, match="level_shift anomalies only"):
        make_signal("constant_train", 1000, 0, anomalies=[AnomalySpec("spike", 100, 3)])
    with pytest.raises(ValueError, match="does not fit inside steps 1..499 of the test part"):
        make_signal("constant_train", 1000, 0, anomalies=[AnomalySpec("level_shift", 480, 30)])
    with pytest.raises(ValueError, match="overlap"):
        make_signal("constant_train", 1000, 0, anomalies=[
            AnomalySpec("level_shift", 100, 30), AnomalySpec("level_shift", 120, 30)])
