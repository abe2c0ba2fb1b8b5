"""Signals and datasets: the data model, the synthetic suite, preprocessing, loaders and fetch.

The data model (:class:`Signal`, :class:`Dataset`, :class:`DataError`) is what a dataset plugin
hands the runner; it lives in :mod:`benchbench.data.signal` and is importable from here.
"""

from benchbench.data.signal import DataError, Dataset, Interval, Signal

__all__ = ["DataError", "Dataset", "Interval", "Signal"]
