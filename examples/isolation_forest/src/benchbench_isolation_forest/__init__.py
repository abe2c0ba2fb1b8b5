"""benchbench plugin ``benchbench-isolation-forest``: registers the ``isolation_forest`` detector.

A third-party plugin exactly as anyone would write one: its own distribution, the entry point
``[project.entry-points.benchbench] isolation_forest = "benchbench_isolation_forest"`` and this
module's ``register_detectors`` hook. Importing it is cheap (scikit-learn loads inside ``fit``).
"""

from benchbench.hookspecs import hookimpl
from benchbench_isolation_forest.detector import WindowIsolationForest

__all__ = ["QUICK_PARAMS", "WindowIsolationForest", "register_detectors"]

#: What ``bench run --quick`` uses: fewer trees and a coarser training stride.
QUICK_PARAMS = {"n_estimators": 25, "train_step": 4}


@hookimpl
def register_detectors(register):
    """Register ``isolation_forest`` with its ``--quick`` settings."""
    register(
        "isolation_forest",
        WindowIsolationForest,
        quick_params=QUICK_PARAMS,
        description="Isolation Forest on rolling windows (scikit-learn): the non-generative "
        "baseline",
    )
