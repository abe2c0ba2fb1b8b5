"""Plan a run: every (dataset, signal, detector, seed, repetition) job, in a fixed order.

Planning resolves the names in the config against the plugin registries, applies the profile,
``--quick`` and ``--set`` parameters, and checks those parameters before any job runs: a bad name
or value is a usage error (:class:`PlanError`), not a failed job per signal. Each detector is built
with the parameters its jobs get and its ``check_params`` (the contract's validation step, see
:meth:`benchbench.detector.BaseDetector.check_params`) is called where it has one; the threshold
parameters are checked against the rule
(:func:`benchbench.evaluation.thresholding.check_threshold_params`). The message names where the
offending value came from: ``--set tadgan.epochs=-1``, the config file and table, ``--quick`` or
the profile.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from benchbench.config import QUICK_SIGNALS, RunConfig
from benchbench.plugins import Registries
from benchbench.run.jobs import Job, derive_random_state


class PlanError(ValueError):
    """The run cannot be planned (unknown detector or dataset, a parameter the detector or the
    threshold rule rejects, dataset fails to list signals)."""


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


def _blame(name: str, params: dict[str, Any], message: str, config: RunConfig,
           registries: Registries, where: str = "") -> str:
    """Where the parameters that ``message`` names came from: the user's ``--set`` or config
    file entries first, then ``--quick``'s or the profile's values they were combined with."""
    own = config.params.get(name, {})
    quick = (registries.detectors[name].options.get("quick_params") or {}) if config.quick else {}
    given: list[str] = []
    others: list[str] = []
    for k in (k for k in params if re.search(rf"\b{re.escape(k)}\b", message)):
        if k in own and (name, k) in config.param_sources:
            given.append(config.param_sources[(name, k)])
        elif k in own:  # set through the API: no --set or file to name
            others.append(f"{k}={params[k]!r}")
        elif k in quick:
            others.append(f"{k}={params[k]!r} from --quick")
        else:
            others.append(f"{k}={params[k]!r} from profile {config.profile!r}{where}")
    head = "; ".join(given) or f"detector {name!r}"
    return f"{head} (with {', '.join(others)})" if others else head


def check_detector_params(name: str, params: dict[str, Any], config: RunConfig,
                          registries: Registries, where: str = "") -> None:
    """Build detector ``name`` with ``params`` and call its ``check_params`` where it has one
    (a third-party detector not derived from ``BaseDetector`` may lack it); an unknown name, a
    value it rejects or a factory that fails is a :class:`PlanError` naming the source of the
    value (see :func:`_blame`; ``where`` names the dataset and signal of a profile's values)."""
    try:
        detector = registries.detectors[name].obj()
        if params:  # (set_params imports scikit-learn)
            detector.set_params(**params)
        check = getattr(detector, "check_params", None)
        if callable(check):
            check()
    except Exception as exc:  # a broken third-party factory is a usage error too, not a crash
        message = str(exc) if isinstance(exc, (ValueError, TypeError)) else (
            f"{type(exc).__name__}: {exc}")
        raise PlanError(f"{_blame(name, params, message, config, registries, where)}: "
                        f"{message}") from exc


def check_threshold(config: RunConfig) -> None:
    """:func:`~benchbench.evaluation.thresholding.check_threshold_params` on the run's threshold
    parameters; a rejected one is a :class:`PlanError` naming its ``--set`` or config entry."""
    from benchbench.evaluation.thresholding import check_threshold_params

    try:
        check_threshold_params(config.threshold, config.threshold_params)
    except ValueError as exc:
        named = [config.param_sources.get(("threshold", k), f"threshold parameter {k}")
                 for k in config.threshold_params if re.search(rf"\b{re.escape(k)}\b", str(exc))]
        raise PlanError(f"{'; '.join(named) or f'--threshold {config.threshold}'}: {exc}") from exc


def plan_jobs(config: RunConfig, registries: Registries) -> list[Job]:
    """Every (dataset, signal, detector, seed, repetition) job of a run, in a fixed order.

    Raises:
        PlanError: an unknown name, a parameter a detector or the threshold rule rejects (before
            the datasets are opened, unless the detector has values for the run's profile: those
            may depend on the signal, so they are checked signal by signal), or a dataset that
            cannot list its signals.
    """
    detectors = resolve_detectors(config, registries)
    if config.profile not in known_profiles(registries):
        raise PlanError(f"unknown profile {config.profile!r}; available: "
                        f"{', '.join(known_profiles(registries))}")
    unknown_params = sorted(set(config.params) - set(detectors))
    if unknown_params:
        sources = [source for (name, _), source in config.param_sources.items()
                   if name in unknown_params]
        raise PlanError(f"{'; '.join(sources) or 'parameters'}: given for detector(s) not in "
                        f"this run: {', '.join(unknown_params)} (the run's detectors: "
                        f"{', '.join(detectors)})")
    check_threshold(config)
    params = {name: detector_params(name, config, registries) for name in detectors}
    checked: set[tuple[str, str]] = set()
    for name, overrides in params.items():
        if config.profile not in (registries.detectors[name].options.get("profiles") or {}):
            check_detector_params(name, overrides, config, registries)
            checked.add((name, repr(sorted(overrides.items()))))
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
                # profile first: --quick and the user's settings override it
                job_params = {**profile_params(detector, config, registries, spec, signal),
                              **params[detector]}
                key = (detector, repr(sorted(job_params.items())))
                if key not in checked:
                    check_detector_params(detector, job_params, config, registries,
                                          f" on {spec} signal {signal}")
                    checked.add(key)
                for seed in config.seeds:
                    for rep in range(config.repeat):
                        jobs.append(Job(
                            dataset=spec,
                            signal=signal,
                            detector=detector,
                            seed=seed,
                            random_state=derive_random_state(seed, spec, signal, detector, rep),
                            params=dict(job_params),
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
