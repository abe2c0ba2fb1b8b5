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
(``5``, ``0.1``, ``true``, ``"text"``, ``[1, 2]``); anything else is taken as a string. Their
names and values are checked against the detector (or threshold rule) when the run is planned,
before a run folder is made (:mod:`benchbench.run.planning`); the message then names where the
value came from (``--set autoencoder.epochs=-1``, or the config file and its table).

A value of the wrong type in the file (``detectors = 5``) is a :class:`ConfigError` naming the
file, the key and the type it takes.
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

    def __post_init__(self) -> None:
        #: Where each detector or threshold parameter was set, for messages: ``(detector or
        #: "threshold", param) -> "--set autoencoder.epochs=5"`` or the config file and table.
        #: Filled by :func:`apply_set` and :func:`load_config_file`; not saved.
        self.param_sources: dict[tuple[str, str], str] = {}

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
        _check_types(data, source)
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
        return cls(**data)

    def resolved_data_dir(self) -> Path:
        return resolve_data_dir(self.data_dir)


_STRING = (str,), "a string"
_STRINGS = (str, list), "a string or a list of strings"
_PATH = (str, type(None)), "a string (a path)"
#: What each key of a config file takes, where :meth:`RunConfig.from_dict` does not convert it
#: (seeds, repeat, threads and timeout have their own parsers): (types, how a message says it).
_KEY_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "detectors": _STRINGS, "datasets": _STRINGS, "device": _STRING, "profile": _STRING,
    "output": _STRING, "threshold": _STRING, "data_dir": _PATH, "plugins_dir": _PATH,
    "quick": ((bool,), "true or false"),
    "threshold_params": ((dict,), "a table of name = value pairs ([threshold_params])"),
    "params": ((dict,), "a table of detector tables ([params.<detector>])"),
}


def _check_types(data: dict[str, Any], source: str) -> None:
    """Raise :class:`ConfigError` naming ``source``, the key and the type it takes for a value
    of the wrong type."""
    for key, (types, expected) in _KEY_TYPES.items():
        if key not in data:
            continue
        value = data[key]
        items = value if isinstance(value, list) else []
        if not isinstance(value, types) or not all(isinstance(v, str) for v in items):
            raise ConfigError(f"{source}: {key} must be {expected}, got {value!r}")
    for name, table in (data.get("params") or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: params.{name} must be a table of name = value pairs "
                              f"([params.{name}]), got {table!r}")


def resolve_data_dir(value: str | Path | None = None) -> Path:
    """The data root: ``value``, else ``$BENCHBENCH_DATA``, else ``./datasets``."""
    return Path(value or os.environ.get(DATA_ENV) or "datasets")


def split_list(text: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_seeds(value: Any, source: str = "--seeds") -> list[int]:
    """Seeds from ``"0,1,2"``, ``[0, 1, 2]`` or ``3``; duplicates, negatives, empty items
    (``"0,,1"``) and non-integers (``1.5``, ``true``) are errors."""
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",")]
        if value.strip() and "" in items:
            raise ConfigError(f"{source}: empty seed in {value!r} (two commas in a row, or a "
                              "comma at an end); give integers separated by commas, e.g. 0,1,2")
        items = [part for part in items if part]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not all(_is_seed_text(s) or isinstance(s, int) and not isinstance(s, bool)
               for s in items):
        raise ConfigError(f"{source}: seeds must be integers, got {value!r}")
    seeds = [int(s) for s in items]
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ConfigError(f"{source}: need distinct non-negative integer seeds, got {value!r}")
    return seeds


def _is_seed_text(item: Any) -> bool:
    return isinstance(item, str) and item.strip().lstrip("+-").isdigit()


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
        target, param = target.strip(), param.strip()
        value = parse_value(raw.strip())
        if target == "threshold":
            config.threshold_params[param] = value
        else:
            config.params.setdefault(target, {})[param] = value
        config.param_sources[(target, param)] = f"--set {item.strip()}"


def load_config_file(path: Path) -> RunConfig:
    """Read a TOML run configuration."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
    config = RunConfig.from_dict(data, source=f"config file {path}")
    for name, table in config.params.items():
        for param in table:
            config.param_sources[(name, param)] = f"config file {path}: [params.{name}] {param}"
    for param in config.threshold_params:
        config.param_sources[("threshold", param)] = (
            f"config file {path}: [threshold_params] {param}"
        )
    return config
