"""The built-in datasets and metrics, registered through the same hooks a third party uses."""

from __future__ import annotations

from benchbench.hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    from benchbench.data.synthetic import SyntheticDataset

    register(
        "synthetic",
        SyntheticDataset,
        description="Embedded default benchmark: generated, labelled signals (no download)",
    )
    from benchbench.data.loaders import DATASETS

    for name, cls in DATASETS.items():
        register(name, cls, description=cls.description)


@hookimpl
def register_metrics(register):
    from benchbench.evaluation.affiliation import affiliation
    from benchbench.evaluation.metrics import BUILTIN_METRICS

    for name, function in BUILTIN_METRICS.items():
        register(name, function)
    # affiliation builds on metrics.py's helpers, so metrics.py cannot list it without an import
    # circle: it is registered here, beside them
    register("affiliation", affiliation)
