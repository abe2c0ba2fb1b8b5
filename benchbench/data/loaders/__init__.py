"""Loaders of public anomaly benchmarks and of the user's own CSV folders.

Each module holds one dataset class with the constructor ``Cls(data_dir, subset)`` (the data root
and the text after ``name:`` on the command line), the attributes ``name``, ``description``,
``LICENSE`` and ``CITATION``, and the methods ``present()``, ``signal_names()``,
``missing_signals()`` and ``load_signal(name)`` (see :class:`benchbench.data.Dataset`):

* ``nab``: :class:`~benchbench.data.loaders.nab.NABDataset`, the Numenta Anomaly Benchmark;
* ``nasa``: :class:`~benchbench.data.loaders.nasa.NASADataset`, SMAP / MSL telemetry (telemanom);
* ``ucr``: :class:`~benchbench.data.loaders.ucr.UCRDataset`, the UCR Time Series Anomaly Archive;
* ``yahoo``: :class:`~benchbench.data.loaders.yahoo.YahooDataset`, Yahoo! Webscope S5
  (user-supplied);
* ``csv``: :class:`~benchbench.data.loaders.csvdir.CSVDirDataset`, a folder of timestamp,value
  files.

The four corpus loaders build on :class:`~benchbench.data.loaders.common.CorpusLoader` (the
constructor, with ``root=``, subset entries, where the corpus is, the "not found" message), NAB and
Yahoo on its :class:`~benchbench.data.loaders.common.FolderCorpus` (folder and ``<folder>/<name>``
subsets), and all five on its :class:`~benchbench.data.loaders.common.Listed` (a file the
corpus's labels file lists stays planned when missing on disk, and fails when loaded; notes
about the corpus are warned once, when listing); each module keeps what is its own. Bad data is
repaired with a :class:`~benchbench.data.loaders.common.DataWarning` or rejected with a
:class:`benchbench.data.DataError` naming the file (see :mod:`benchbench.data.loaders.common`).
The modules read nothing at import, and constructing a dataset reads nothing either.
"""

from __future__ import annotations

from benchbench.data.loaders.common import DataWarning
from benchbench.data.loaders.csvdir import CSVDirDataset
from benchbench.data.loaders.nab import NABDataset
from benchbench.data.loaders.nasa import NASADataset
from benchbench.data.loaders.ucr import UCRDataset
from benchbench.data.loaders.yahoo import YahooDataset

#: Registration name -> dataset class.
DATASETS = {
    "nab": NABDataset,
    "nasa": NASADataset,
    "ucr": UCRDataset,
    "yahoo": YahooDataset,
    "csv": CSVDirDataset,
}

__all__ = [
    "DATASETS",
    "CSVDirDataset",
    "DataWarning",
    "NABDataset",
    "NASADataset",
    "UCRDataset",
    "YahooDataset",
]
