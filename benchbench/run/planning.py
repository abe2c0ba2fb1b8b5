"""Plan a run: every (dataset, signal, detector, seed, repetition) job, in a fixed order.

Planning resolves the names in the config against the plugin registries, applies the profile,
``--quick`` and ``--set`` parameters, and checks those parameters on each detector before any job
runs (a bad name is a usage error, not a failed job per signal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchbench.config import QUICK_SIGNALS, RunConfig
from benchbench.plugins import Registries
from benchbench.run.jobs import Job, derive_random_state


class PlanError(ValueError):
    """The run cannot be planned (unknown detector or dataset, dataset fails to list signals)."""


def split_dataset_spec(spec: str) -> tuple[str, str | None]:
    name, _, subset = spec.partition(":")
    return name, (subset or None)


def resolve_detectors(config: RunConfig, registries: Registries) -> list[str]:
    names = config.detectors
    if not names or names == ["all"] or "all" in names:
        return registries.detectors.names()
    unknown = [n for n in names if n not in registries.detectors]
    if unknown:
        raise PlanError(
            f"unknown detector(s) {', '.join(unknown)}; "
            f"available: {', '.join(registries.detectors.names())}"
        )
    return list(dict.fromkeys(names))


def open_dataset(spec: str, data_dir: Path, registries: Registries):
    name, subset = split_dataset_spec(spec)
    if name not in registries.datasets:
        raise PlanError(
            f"unknown dataset {name!r}; available: {', '.join(registries.datasets.names())}"
        )
    return registries.datasets[name].obj(data_dir, subset)


def known_profiles(registries: Registries) -> list[str]:
    """``default`` plus every profile some registered detector defines (``paper`` for TadGAN)."""
    names = {"default"}
    for name in registries.detectors.names():
        names.update(registries.detectors[name].options.get("profiles") or {})
    return sorted(names)


def profile_params(name: str, config: RunConfig, registries: Registries, dataset: str,
                   signal: str) -> dict[str, Any]:
    """The run profile's hyperparameters for one detector on one signal.

    A profile is what the detector registered for it: ``register(..., profiles={"paper": fn})``
    with ``fn(dataset, signal) -> {param: value}`` (``dataset`` without its subset). A detector
    that registered nothing for the profile keeps its class defaults; so does every detector under
    ``default`` unless it registered a ``default`` profile (TadGAN's CPU-sized settings).
    """
    fn = (registries.detectors[name].options.get("profiles") or {}).get(config.profile)
    return dict(fn(split_dataset_spec(dataset)[0], signal)) if fn is not None else {}


def detector_params(name: str, config: RunConfig, registries: Registries) -> dict[str, Any]:
    """Overrides for one detector: its ``--quick`` parameters, then the user's ``--set``/config."""
    params: dict[str, Any] = {}
    if config.quick:
        params.update(registries.detectors[name].options.get("quick_params") or {})
    params.update(config.params.get(name, {}))
    return params


def plan_jobs(config: RunConfig, registries: Registries) -> list[Job]:
    """Every (dataset, signal, detector, seed, repetition) job of a run, in a fixed order."""
    detectors = resolve_detectors(config, registries)
    if config.profile not in known_profiles(registries):
        raise PlanError(f"unknown profile {config.profile!r}; available: "
                        f"{', '.join(known_profiles(registries))}")
    unknown_params = sorted(set(config.params) - set(detectors))
    if unknown_params:
        raise PlanError(f"parameters given for detector(s) not in this run: {unknown_params}")
    params = {name: detector_params(name, config, registries) for name in detectors}
    for name, overrides in params.items():
        try:  # unknown parameter names are a usage error now, not a failed job per signal
            registries.detectors[name].obj().set_params(**overrides)
        except Exception as exc:  # a broken third-party factory is a usage error, not a crash
            raise PlanError(f"detector {name!r}: {type(exc).__name__}: {exc}") from exc
    data_dir = config.resolved_data_dir()
    jobs = []
    for spec in config.datasets:
        try:
            dataset = open_dataset(spec, data_dir, registries)
            signals = list(dataset.signal_names())
        except PlanError:
            raise
        except Exception as exc:
            raise PlanError(f"dataset {spec!r}: cannot list its signals: {exc}") from exc
        if config.quick:
            signals = signals[:QUICK_SIGNALS]
        for signal in signals:
            for detector in detectors:
                for seed in config.seeds:
                    for rep in range(config.repeat):
                        jobs.append(Job(
                            dataset=spec,
                            signal=signal,
                            detector=detector,
                            seed=seed,
                            random_state=derive_random_state(seed, spec, signal, detector, rep),
                            # profile first: --quick and the user's settings override it
                            params={**profile_params(detector, config, registries, spec, signal),
                                    **params[detector]},
                            device=config.device,
                            threshold=config.threshold,
                            threshold_params=dict(config.threshold_params),
                            data_dir=str(data_dir),
                            plugins_dir=config.plugins_dir,
                            repetition=rep,
                            threads=config.threads,
                            timeout=config.timeout,
                        ))
    return jobs
