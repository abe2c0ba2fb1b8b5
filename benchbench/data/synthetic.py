"""The embedded default benchmark ``synthetic``: labelled signals generated in code.

Every signal is univariate, and all but the ``constant_train`` one (below) are the sum of four
parts, evaluated at the step positions ``t = 0 .. n-1``:

* a level (about 4 to 6) plus a linear trend (a total drift of -1.5 to +1.5 over the signal);
* a seasonal part: one or two sinusoids, a main one with a period of 60 to 160 steps and an
  amplitude of 1.0 to 2.5, and sometimes a second one with a period of 50 to 200 steps and an
  amplitude of 0.3 to 0.8;
* Gaussian noise with a standard deviation of 0.08 to 0.2;
* zero to three injected anomalies, each labelled with the closed interval ``[start, end]`` of the
  steps it changes.

The shape parameters come from ``numpy.random.default_rng([seed, 0])``, the noise from
``default_rng(seed)`` and the random parts of the anomalies from ``default_rng([seed, 1])``, so a
signal depends only on its fixed seed, and the same signal built without its anomalies
(``inject=False``) is bit-identical outside the labelled intervals.

The injected anomaly types (:data:`ANOMALY_TYPES`):

``spike``
    a few steps (2 to 5) raised or lowered by ``magnitude`` times the seasonal amplitude.
``level_shift``
    the level moves by ``magnitude`` times the seasonal amplitude, with short (5-step) cosine ramps,
    and returns; the label covers both ramps and the shifted span.
``contextual``
    the main sinusoid is phase-shifted by ``magnitude`` periods (0.5: inverted) over whole periods
    starting at an upward zero crossing, so the values stay within the normal range and the waveform
    stays continuous; only the pattern breaks.
``frequency_change``
    the main sinusoid runs ``magnitude`` times faster; the span is rounded so that its phase is back
    in step at the end (continuous at both ends).
``variance_burst``
    extra Gaussian noise with ``magnitude`` times the normal standard deviation.
``flatline``
    the signal freezes at the value of the step before the span (a stuck sensor).
``amplitude_change``
    the seasonal part is scaled by ``magnitude`` under a smooth envelope (cosine tapers over the
    outer quarters of the span).

The suite (:data:`SUITE`) holds one signal kind per anomaly type (two spikes, level shifts and
contextual signals), two ``mixed`` signals with two types each, three ``clean`` signals with no
anomaly and one ``constant_train`` signal. Its anomalies lie away from the first and last 5% of
each signal (of the test part for ``constant_train``) and span 1% to 10% of it (spikes: 2 to 5
steps). The benchmark protocol is the NAB reference one: train = test = the whole signal, indexed
by step position (int64); except for ``constant_train``.

``constant_train``
    real telemetry's quirk of a channel that sits at one level for the whole training part and
    moves in the test part: no trend, seasonal part or noise, just the seed's level. The first
    ``n // 2`` steps are the train part, constant; the other steps are the test part, the same
    level but for its anomalies, each a ``level_shift`` of ``magnitude`` data units (with the
    usual cosine ramps; there is no seasonal amplitude to measure it in). Both parts are indexed
    by step position from 0 (as NASA's channels are), so an anomaly's ``start`` counts steps of
    the test part.

Nothing is generated at import; :class:`SyntheticDataset` builds a signal when it is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from benchbench.data import DataError, Signal

LICENSE = "generated in code (MIT, same as benchbench)"
CITATION = (
    "benchbench synthetic suite: signals generated in code by benchbench.data.synthetic "
    "(benchbench developers, MIT); cite benchbench with its version."
)

#: The anomaly types :func:`make_signal` can inject, in the order of the module docstring.
ANOMALY_TYPES = (
    "spike",
    "level_shift",
    "contextual",
    "frequency_change",
    "variance_burst",
    "flatline",
    "amplitude_change",
)

#: The values of :attr:`Signal.kind` a synthetic signal carries.
SIGNAL_KINDS = (
    "point_spikes",
    "level_shift",
    "contextual",
    "frequency_change",
    "variance_burst",
    "flatline",
    "amplitude_change",
    "mixed",
    "clean",
    "constant_train",
)

# Default magnitude of each anomaly type (see the module docstring for its meaning).
_DEFAULT_MAGNITUDE = {
    "spike": 3.0,
    "level_shift": 1.5,
    "contextual": 0.5,
    "frequency_change": 2.0,
    "variance_burst": 8.0,
    "flatline": 0.0,
    "amplitude_change": 2.5,
}

_RAMP_STEPS = 5  # length of each cosine ramp of a level shift
_MARGIN = 0.05  # fraction of the signal kept free of anomalies at each end (suite rule)


@dataclass(frozen=True)
class AnomalySpec:
    """One anomaly to inject.

    Attributes:
        type: one of :data:`ANOMALY_TYPES`.
        start: first step it changes.
        length: number of steps it changes (contextual and frequency_change spans are rounded, see
            the module docstring; the signal's label is the span actually changed).
        magnitude: type-specific strength (``None``: the type's default).
    """

    type: str
    start: int
    length: int
    magnitude: float | None = None


@dataclass(frozen=True)
class SignalSpec:
    """One signal of the suite: its name, kind, length, seed and anomalies."""

    name: str
    kind: str
    n: int
    seed: int
    anomalies: tuple[AnomalySpec, ...] = ()


@dataclass(frozen=True)
class Shape:
    """The anomaly-free shape of a signal (see :func:`shape_for_seed`)."""

    level: float
    drift: float
    periods: tuple[float, ...]
    amplitudes: tuple[float, ...]
    phases: tuple[float, ...]
    noise: float


def _a(type_: str, start: int, length: int, magnitude: float | None = None) -> AnomalySpec:
    return AnomalySpec(type_, start, length, magnitude)


#: The signals of the ``synthetic`` dataset, in their fixed order.
SUITE: tuple[SignalSpec, ...] = (
    SignalSpec(
        "spikes_1", "point_spikes", 2000, 101,
        (_a("spike", 420, 3, 3.0), _a("spike", 1010, 2, -3.0), _a("spike", 1580, 4, 2.5)),
    ),
    SignalSpec(
        "spikes_2", "point_spikes", 1500, 102,
        (_a("spike", 500, 5, 2.5), _a("spike", 1130, 3, -3.5)),
    ),
    SignalSpec("level_shift_1", "level_shift", 2500, 103, (_a("level_shift", 1150, 180, 1.5),)),
    SignalSpec("level_shift_2", "level_shift", 4500, 104, (_a("level_shift", 2900, 320, -1.2),)),
    SignalSpec("contextual_1", "contextual", 2000, 105, (_a("contextual", 900, 100, 0.5),)),
    SignalSpec("contextual_2", "contextual", 3000, 106, (_a("contextual", 1700, 200, 0.5),)),
    SignalSpec(
        "frequency_1", "frequency_change", 2500, 107, (_a("frequency_change", 1300, 200, 2.0),)
    ),
    SignalSpec("variance_1", "variance_burst", 2000, 108, (_a("variance_burst", 1200, 90, 8.0),)),
    SignalSpec("flatline_1", "flatline", 1800, 109, (_a("flatline", 700, 120),)),
    SignalSpec(
        "amplitude_1", "amplitude_change", 2200, 110, (_a("amplitude_change", 1000, 200, 2.5),)
    ),
    SignalSpec(
        "amplitude_2", "amplitude_change", 3500, 111, (_a("amplitude_change", 2300, 300, 0.2),)
    ),
    SignalSpec(
        "mixed_1", "mixed", 3000, 112,
        (_a("spike", 700, 3, 3.0), _a("level_shift", 1900, 200, 1.5)),
    ),
    SignalSpec(
        "mixed_2", "mixed", 2500, 113,
        (_a("variance_burst", 600, 100, 6.0), _a("flatline", 1700, 80)),
    ),
    SignalSpec("clean_1", "clean", 1500, 114),
    SignalSpec("clean_2", "clean", 3000, 115),
    SignalSpec("clean_3", "clean", 5000, 116),
    SignalSpec(
        "constant_train_1", "constant_train", 2000, 117, (_a("level_shift", 600, 25, 1.5),)
    ),
)  # fmt: skip


def shape_for_seed(seed: int) -> Shape:
    """The anomaly-free shape a seed gives (drawn from ``default_rng([seed, 0])``)."""
    rng = np.random.default_rng([seed, 0])
    level = 5.0 + float(rng.uniform(-1.0, 1.0))
    drift = float(rng.uniform(-1.5, 1.5))
    p1 = int(rng.integers(60, 161))
    a1 = float(rng.uniform(1.0, 2.5))
    f1 = float(rng.uniform(0.0, 2.0 * math.pi))
    two = bool(rng.random() < 0.5)
    p2 = int(rng.integers(50, 201))
    if abs(p2 - p1) < 20:
        p2 = p2 + 40 if p2 + 40 <= 200 else p2 - 40
    a2 = float(rng.uniform(0.3, 0.8))
    f2 = float(rng.uniform(0.0, 2.0 * math.pi))
    noise = float(rng.uniform(0.08, 0.2))
    if two:
        return Shape(level, drift, (float(p1), float(p2)), (a1, a2), (f1, f2), noise)
    return Shape(level, drift, (float(p1),), (a1,), (f1,), noise)


def build_signal(spec: SignalSpec, *, inject: bool = True, shape: Shape | None = None) -> Signal:
    """Generate the signal ``spec`` describes (``inject=False``: without its anomalies, no labels).

    Raises:
        ValueError: an anomaly of an unknown type, outside the signal or overlapping another.
    """
    n = int(spec.n)
    if n < 10:
        raise ValueError(f"synthetic signal {spec.name!r}: n must be at least 10, got {n}")
    shape = shape_for_seed(spec.seed) if shape is None else shape
    if spec.kind == "constant_train":
        return _constant_train(spec, shape, inject)
    t = np.arange(n, dtype=np.float64)
    base = shape.level + shape.drift * t / n
    main = shape.amplitudes[0] * np.sin(2.0 * np.pi * t / shape.periods[0] + shape.phases[0])
    rest = np.zeros(n)
    for period, amplitude, phase in zip(shape.periods[1:], shape.amplitudes[1:], shape.phases[1:]):
        rest = rest + amplitude * np.sin(2.0 * np.pi * t / period + phase)
    noise = shape.noise * np.random.default_rng(spec.seed).standard_normal(n)
    if not inject or not spec.anomalies:
        return _signal(spec, base + main + rest + noise, [])

    extra_noise = np.random.default_rng([spec.seed, 1]).standard_normal(n)
    scale = float(sum(shape.amplitudes))
    spans: list[tuple[int, int]] = []
    late: list[tuple[AnomalySpec, int, int, float]] = []  # spikes and flatlines, applied last
    for anomaly in spec.anomalies:
        if anomaly.type not in ANOMALY_TYPES:
            raise ValueError(
                f"synthetic signal {spec.name!r}: unknown anomaly type {anomaly.type!r}; "
                f"valid types: {', '.join(ANOMALY_TYPES)}"
            )
        magnitude = (
            _DEFAULT_MAGNITUDE[anomaly.type] if anomaly.magnitude is None else anomaly.magnitude
        )
        start, length = _actual_span(anomaly, shape, magnitude)
        if length < 1 or start < 1 or start + length > n:
            raise ValueError(
                f"synthetic signal {spec.name!r}: {anomaly.type} at [{start}, "
                f"{start + length - 1}] does not fit inside steps 1..{n - 1}"
            )
        stop = start + length
        span = slice(start, stop)
        if anomaly.type == "level_shift":
            ramp = min(_RAMP_STEPS / length, 0.5)
            base = base.copy()
            base[span] += magnitude * scale * _envelope(length, ramp)
        elif anomaly.type == "contextual":
            shift = 2.0 * np.pi * magnitude
            main = main.copy()
            main[span] = shape.amplitudes[0] * np.sin(
                2.0 * np.pi * t[span] / shape.periods[0] + shape.phases[0] + shift
            )
        elif anomaly.type == "frequency_change":
            local = start + magnitude * (t[span] - start)
            main = main.copy()
            main[span] = shape.amplitudes[0] * np.sin(
                2.0 * np.pi * local / shape.periods[0] + shape.phases[0]
            )
        elif anomaly.type == "variance_burst":
            noise = noise.copy()
            noise[span] += magnitude * shape.noise * extra_noise[span]
        elif anomaly.type == "amplitude_change":
            gain = 1.0 + (magnitude - 1.0) * _envelope(length, 0.25)
            main = main.copy()
            rest = rest.copy()
            main[span] *= gain
            rest[span] *= gain
        else:  # spike, flatline
            late.append((anomaly, start, stop, magnitude))
        spans.append((start, stop - 1))

    values = base + main + rest + noise
    for anomaly, start, stop, magnitude in late:
        if anomaly.type == "spike":
            values[start:stop] += magnitude * scale
        else:
            values[start:stop] = values[start - 1]

    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start <= end:
            raise ValueError(f"synthetic signal {spec.name!r}: anomalies overlap at step {start}")
    return _signal(spec, values, spans)


def _constant_train(spec: SignalSpec, shape: Shape, inject: bool) -> Signal:
    """A ``constant_train`` signal (see the module docstring): ``shape.level`` only, its test part
    moved by ``level_shift`` anomalies."""
    n_train = int(spec.n) // 2
    test = np.full(int(spec.n) - n_train, shape.level)
    spans: list[tuple[int, int]] = []
    for anomaly in spec.anomalies if inject else ():
        start, length = int(anomaly.start), int(anomaly.length)
        if anomaly.type != "level_shift":
            raise ValueError(
                f"synthetic signal {spec.name!r}: a constant_train signal takes level_shift "
                f"anomalies only, got {anomaly.type!r}"
            )
        if length < 1 or start < 1 or start + length > len(test):
            raise ValueError(
                f"synthetic signal {spec.name!r}: level_shift at [{start}, {start + length - 1}] "
                f"does not fit inside steps 1..{len(test) - 1} of the test part"
            )
        if any(start <= end and first <= start + length - 1 for first, end in spans):
            raise ValueError(f"synthetic signal {spec.name!r}: anomalies overlap at step {start}")
        magnitude = (
            _DEFAULT_MAGNITUDE["level_shift"] if anomaly.magnitude is None else anomaly.magnitude
        )
        test[start : start + length] += magnitude * _envelope(
            length, min(_RAMP_STEPS / length, 0.5)
        )
        spans.append((start, start + length - 1))
    return Signal(
        name=spec.name,
        train=np.full(n_train, shape.level),
        test=test,
        train_index=np.arange(n_train, dtype=np.int64),
        test_index=np.arange(len(test), dtype=np.int64),
        anomalies=[(float(a), float(b)) for a, b in sorted(spans)],
        source="generated",
        kind=spec.kind,
    )


def _actual_span(anomaly: AnomalySpec, shape: Shape, magnitude: float) -> tuple[int, int]:
    """The steps an anomaly changes: ``(start, length)`` after rounding to the waveform."""
    start, length = int(anomaly.start), int(anomaly.length)
    period = shape.periods[0]
    if anomaly.type == "contextual":
        # Move the start back to the previous upward zero crossing of the main sinusoid and round
        # the length to whole periods, so the shifted waveform joins the normal one smoothly.
        cycles = max(1, round(length / period))
        crossing = period * math.floor((start / period) + shape.phases[0] / (2.0 * math.pi))
        crossing -= period * shape.phases[0] / (2.0 * math.pi)
        start = math.ceil(crossing)
        length = round(cycles * period)
    elif anomaly.type == "frequency_change" and magnitude != 1.0:
        # The phase gained over the span, (magnitude - 1) * length / period cycles, must be whole.
        step = period / abs(magnitude - 1.0)
        length = round(max(1, round(length / step)) * step)
    return start, length


def _envelope(length: int, taper: float) -> np.ndarray:
    """A window of ``length`` steps, 1 in the middle, cosine tapers over ``taper`` of each end,
    positive everywhere (so every labelled step is changed)."""
    x = (np.arange(length, dtype=np.float64) + 1.0) / (length + 1.0)
    if taper <= 0.0:
        return np.ones(length)
    ramp = np.minimum(1.0, np.minimum(x, 1.0 - x) / taper)
    return 0.5 * (1.0 - np.cos(np.pi * ramp))


def _signal(spec: SignalSpec, values: np.ndarray, spans: list[tuple[int, int]]) -> Signal:
    n = len(values)
    return Signal(
        name=spec.name,
        train=values.copy(),
        test=values.copy(),
        train_index=np.arange(n, dtype=np.int64),
        test_index=np.arange(n, dtype=np.int64),
        anomalies=[(float(a), float(b)) for a, b in spans],
        source="generated",
        kind=spec.kind,
    )


def make_signal(
    kind: str,
    n: int = 2000,
    seed: int = 0,
    *,
    name: str | None = None,
    anomalies: Iterable[AnomalySpec] | None = None,
    inject: bool = True,
    level: float | None = None,
    drift: float | None = None,
    periods: Sequence[float] | None = None,
    amplitudes: Sequence[float] | None = None,
    noise: float | None = None,
) -> Signal:
    """Build one synthetic signal quickly (for tests and examples).

    Args:
        kind: one of :data:`SIGNAL_KINDS`; without ``anomalies`` it picks what is injected
            (``point_spikes``: 2 or 3 spikes, ``mixed``: two different types, ``clean``: none,
            ``constant_train``: one level shift in the test part, otherwise one anomaly of that
            type), placed from ``default_rng([seed, 2])``.
        n: number of steps (``constant_train``: of both parts together).
        seed: fixes the shape, the noise and the placement.
        name: the signal's name (default ``f"{kind}_{seed}"``).
        anomalies: the anomalies to inject instead of the placed ones.
        inject: ``False`` builds the same signal without anomalies (no labels).
        level, drift, periods, amplitudes, noise: override the seed's shape (``periods`` and
            ``amplitudes`` pair up; the phases stay the seed's, 0 for sinusoids it lacks).

    Raises:
        ValueError: an unknown kind, or anomalies that do not fit.
    """
    if kind not in SIGNAL_KINDS:
        raise ValueError(f"unknown synthetic kind {kind!r}; valid kinds: {', '.join(SIGNAL_KINDS)}")
    shape = shape_for_seed(seed)
    if periods is not None or amplitudes is not None:
        periods = tuple(float(p) for p in (shape.periods if periods is None else periods))
        amplitudes = tuple(
            float(a) for a in (shape.amplitudes if amplitudes is None else amplitudes)
        )
        if len(periods) != len(amplitudes) or not periods:
            raise ValueError("periods and amplitudes must pair up (same non-zero length)")
        phases = tuple(
            shape.phases[i] if i < len(shape.phases) else 0.0 for i in range(len(periods))
        )
        shape = Shape(shape.level, shape.drift, periods, amplitudes, phases, shape.noise)
    shape = Shape(
        shape.level if level is None else float(level),
        shape.drift if drift is None else float(drift),
        shape.periods,
        shape.amplitudes,
        shape.phases,
        shape.noise if noise is None else float(noise),
    )
    if anomalies is None:
        anomalies = _place(kind, n, seed, shape)
    spec = SignalSpec(name or f"{kind}_{seed}", kind, n, seed, tuple(anomalies))
    return build_signal(spec, inject=inject, shape=shape)


def _place(kind: str, n: int, seed: int, shape: Shape) -> tuple[AnomalySpec, ...]:
    """Anomalies for :func:`make_signal`: one per equal segment of the middle 84% of the signal
    (of its test part for ``constant_train``)."""
    rng = np.random.default_rng([seed, 2])
    if kind == "clean":
        return ()
    if kind == "constant_train":
        n = n - n // 2
        types = ["level_shift"]
    elif kind == "point_spikes":
        types = ["spike"] * int(rng.integers(2, 4))
    elif kind == "mixed":
        picked = rng.choice(len(ANOMALY_TYPES), size=2, replace=False)
        types = [ANOMALY_TYPES[int(i)] for i in picked]
    else:
        types = [kind]
    lo, hi = math.ceil(0.08 * n), math.floor(0.92 * n)
    width = (hi - lo) / len(types)
    placed = []
    for i, type_ in enumerate(types):
        seg_lo = lo + int(i * width)
        seg_len = int(width) - 1
        if type_ == "spike":
            length = int(rng.integers(2, 5))
        elif type_ in ("contextual", "frequency_change"):
            length = int(round(shape.periods[0]))
        else:
            length = max(2, round(n * float(rng.uniform(0.03, 0.07))))
        slack = seg_len - length
        if type_ == "contextual":
            slack -= length  # the start may move back by up to one period
            seg_lo += length
        if slack < 0:
            raise ValueError(f"n={n} is too short to place {len(types)} {type_} anomalies")
        placed.append(AnomalySpec(type_, seg_lo + int(rng.integers(0, slack + 1)), length))
    return tuple(placed)


def sine_with_spike(n: int = 500, spike_at: int = 250, seed: int = 0) -> Signal:
    """A small clean sine wave (period 50, amplitude 1, level 5, no trend, noise 0.05) with one
    3-step spike of +4 centred on ``spike_at``, labelled ``[spike_at - 1, spike_at + 1]``."""
    return make_signal(
        "point_spikes",
        n,
        seed,
        name="sine_with_spike",
        anomalies=[AnomalySpec("spike", spike_at - 1, 3, 4.0)],
        level=5.0,
        drift=0.0,
        periods=(50.0,),
        amplitudes=(1.0,),
        noise=0.05,
    )


class SyntheticDataset:
    """The ``synthetic`` dataset: the signals of :data:`SUITE`, generated when loaded.

    Args:
        data_dir: ignored (nothing is read or downloaded).
        subset: a ``+``-separated list of signal names or kinds to keep (``None`` or blank: all).

    Raises:
        ValueError: a subset entry that is neither a signal name nor a kind.
    """

    name = "synthetic"
    description = (
        f"Embedded generated benchmark: {len(SUITE)} univariate sinusoid+trend+noise signals with "
        "labelled spike, level-shift, contextual, frequency, variance, flatline and amplitude "
        "anomalies, and one constant in its train part"
    )
    LICENSE = LICENSE
    CITATION = CITATION

    def __init__(self, data_dir: object = None, subset: str | Sequence[str] | None = None) -> None:
        self._specs = {spec.name: spec for spec in SUITE}
        self._selected = list(self._specs)
        if subset is None:
            return
        items = subset.split("+") if isinstance(subset, str) else list(subset)
        wanted = [item.strip() for item in items if item.strip()]
        if not wanted:
            return
        kinds = {spec.kind for spec in SUITE}
        unknown = [w for w in wanted if w not in self._specs and w not in kinds]
        if unknown:
            raise ValueError(
                f"synthetic: unknown signal or kind {', '.join(map(repr, unknown))} in subset; "
                f"valid names: {', '.join(self._specs)}; "
                f"valid kinds: {', '.join(k for k in SIGNAL_KINDS if k in kinds)}"
            )
        keep = set(wanted)
        self._selected = [s.name for s in SUITE if s.name in keep or s.kind in keep]

    def present(self) -> bool:
        """Always: the signals are generated, nothing is read from disk."""
        return True

    def signal_names(self) -> list[str]:
        """The selected signals' names, in the suite's fixed order."""
        return list(self._selected)

    def load_signal(self, name: str) -> Signal:
        """Generate signal ``name``.

        Raises:
            DataError: ``name`` is not one of :meth:`signal_names`.
        """
        if name not in self._selected:
            raise DataError(
                f"synthetic: unknown signal {name!r}; valid names: {', '.join(self._selected)}"
            )
        return build_signal(self._specs[name])

    def __repr__(self) -> str:
        return f"SyntheticDataset({len(self._selected)} of {len(SUITE)} signals)"
