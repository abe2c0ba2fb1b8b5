"""Run configuration: defaults, a TOML file, ``--set`` overrides, and the saved resolved form.

A TOML config file holds any of::

    detectors = ["autoencoder", "zscore"]     # or "all"
    datasets = ["synthetic"]
    seeds = [0, 1, 2]
    repeat = 1                               # repetitions of each seed (--repeat)
    device = "auto"                          # auto | cpu | cuda | cuda:N
    threads = 1                              # torch threads per job (recorded; see below)
    timeout = 600.0                          # seconds per job; omit for no limit
    quick = false
    profile = "default"                      # default | paper (per-dataset reference settings)
    output = "results"
    data_dir = "datasets"
    threshold = "window"                     # window | quantile

    [threshold_params]
    k = 4.0

    [params.autoencoder]                     # detector hyperparameters
    epochs = 20

``threads`` is the torch thread count every job runs with, whichever executor runs it (float
results depend on it, so it is part of the run's definition and recorded in each job record); 1
gives the same numbers on any machine and lets N workers share N cores without oversubscription.

Command-line options override the file; ``--set autoencoder.epochs=5`` overrides one detector
hyperparameter (``--set threshold.k=3`` one threshold parameter). Values are parsed as TOML literals
(``5``, ``0.1``, ``true``, ``"text"``, ``[1, 2]``); anything else is taken as a string.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10
    import tomli as tomllib

DATA_ENV = "BENCHBENCH_DATA"
QUICK_SIGNALS = 3  # signals per dataset in a --quick run


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the file or option."""


@dataclass
class RunConfig:
    """Everything that defines a run. Saved resolved as ``config.json`` in the run folder."""

    detectors: list[str] = field(default_factory=lambda: ["all"])
    datasets: list[str] = field(default_factory=lambda: ["synthetic"])
    seeds: list[int] = field(default_factory=lambda: [0])
    repeat: int = 1
    device: str = "auto"
    threads: int = 1
    timeout: float | None = None
    quick: bool = False
    profile: str = "default"
    output: str = "results"
    data_dir: str | None = None
    plugins_dir: str | None = None
    threshold: str = "window"
    threshold_params: dict[str, Any] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> RunConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        data = dict(data)
        for key in ("detectors", "datasets"):
            if key in data and isinstance(data[key], str):
                data[key] = split_list(data[key])
        if "seeds" in data:
            data["seeds"] = parse_seeds(data["seeds"], source)
        for key in ("repeat", "threads"):
            if key in data:
                data[key] = positive_int(data[key], f"{source}: {key}")
        if data.get("timeout") is not None:
            data["timeout"] = positive_seconds(data["timeout"], f"{source}: timeout")
        if "params" in data and not all(isinstance(v, dict) for v in data["params"].values()):
            raise ConfigError(f"{source}: [params.<detector>] tables must hold key = value pairs")
        return cls(**data)

    def resolved_data_dir(self) -> Path:
        return resolve_data_dir(self.data_dir)


def resolve_data_dir(value: str | Path | None = None) -> Path:
    """The data root: ``value``, else ``$BENCHBENCH_DATA``, else ``./datasets``."""
    return Path(value or os.environ.get(DATA_ENV) or "datasets")


def split_list(text: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_seeds(value: Any, source: str = "--seeds") -> list[int]:
    """Seeds from ``"0,1,2"``, ``[0, 1, 2]`` or ``3``; duplicates and negatives are errors."""
    if isinstance(value, int):
        items: list[Any] = [value]
    elif isinstance(value, str):
        items = split_list(value)
    else:
        items = list(value)
    try:
        seeds = [int(s) for s in items]
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: seeds must be integers, got {value!r}") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ConfigError(f"{source}: need distinct non-negative integer seeds, got {value!r}")
    return seeds


def positive_int(value: Any, source: str) -> int:
    """``value`` as an integer >= 1 (``"3"`` and ``3`` alike)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{source}: need a positive integer, got {value!r}") from None
    if number < 1 or isinstance(value, bool):
        raise ConfigError(f"{source}: need a positive integer, got {value!r}")
    return number


def positive_seconds(value: Any, source: str) -> float:
    """``value`` as a number of seconds > 0."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: need a number of seconds, got {value!r}") from None
    if not seconds > 0 or seconds == float("inf") or isinstance(value, bool):
        raise ConfigError(f"{source}: need a positive number of seconds, got {value!r}")
    return seconds


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as a TOML literal, falling back to the raw string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_set(config: RunConfig, assignments: list[str]) -> None:
    """Apply ``detector.param=value`` (or ``threshold.param=value``) assignments in place."""
    for item in assignments:
        key, sep, raw = item.partition("=")
        target, dot, param = key.strip().partition(".")
        if not sep or not dot or not target or not param:
            raise ConfigError(
                f"--set {item!r}: expected DETECTOR.PARAM=VALUE, e.g. autoencoder.epochs=5"
            )
        value = parse_value(raw.strip())
        if target == "threshold":
            config.threshold_params[param] = value
        else:
            config.params.setdefault(target, {})[param] = value


def load_config_file(path: Path) -> RunConfig:
    """Read a TOML run configuration."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
    return RunConfig.from_dict(data, source=f"config file {path}")
