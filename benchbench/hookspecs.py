"""The hooks a benchbench plugin may implement (pluggy, project name ``benchbench``).

A plugin is a module (or object) with functions decorated by ``@hookimpl``. Each ``register_*`` hook
receives a ``register`` callback; the host rejects duplicate names and remembers which plugin
registered what.
"""

import pluggy

hookspec = pluggy.HookspecMarker("benchbench")
hookimpl = pluggy.HookimplMarker("benchbench")


@hookspec
def register_detectors(register):
    """Register detectors:
    ``register(name, factory, *, quick_params=None, profiles=None, description=None)``.

    ``factory`` is a detector class (see :mod:`benchbench.detector`) called with keyword
    hyperparameters; ``quick_params`` are the overrides ``bench run --quick`` applies;
    ``profiles`` maps a ``bench run --profile`` name to ``fn(dataset, signal) -> {param: value}``
    (see :func:`benchbench.run.planning.profile_params`).
    """


@hookspec
def register_datasets(register):
    """Register datasets: ``register(name, factory, *, description=None)``.

    ``factory(data_dir, subset)`` returns a :class:`benchbench.data.Dataset`; ``data_dir`` is the
    data root (a :class:`pathlib.Path`) and ``subset`` the part after ``:`` in ``name:subset``.
    """


@hookspec
def register_metrics(register):
    """Register metrics: ``register(name, function, *, description=None)``.

    ``function(expected, detected, index)`` returns a
    :class:`benchbench.evaluation.metrics.MetricResult`.
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``bench`` command line: ``cli`` is its :class:`click.Group`."""
