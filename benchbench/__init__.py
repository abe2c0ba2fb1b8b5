"""benchbench: a benchmark harness for generative time-series anomaly detectors.

What a plugin author needs is importable from here::

    from benchbench import BaseDetector, hookimpl

``hookimpl`` marks a plugin's hook functions (:mod:`benchbench.hookspecs`), ``BaseDetector`` is
the detector contract (:mod:`benchbench.detector`), ``Signal`` and ``DataError`` the data model of
a dataset plugin (:mod:`benchbench.data`), ``MetricResult`` what a metric plugin returns
(:mod:`benchbench.evaluation.metrics`). The conformance kit is :mod:`benchbench.testing`.
"""

from benchbench.data import DataError, Signal
from benchbench.detector import BaseDetector
from benchbench.evaluation.metrics import MetricResult
from benchbench.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["BaseDetector", "DataError", "MetricResult", "Signal", "__version__", "hookimpl"]
