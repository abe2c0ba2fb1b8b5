"""How a job travels: planned from a config, run through the pipeline by an executor, recorded.

:mod:`~benchbench.run.jobs` (the job and its record), :mod:`~benchbench.run.planning`,
:mod:`~benchbench.run.pipeline` (one job: load, preprocess, fit, score, threshold, metrics),
:mod:`~benchbench.run.driver` (runs the jobs that have no record, writes records),
:mod:`~benchbench.run.executors` (serial, process, dask) and :mod:`~benchbench.run.records`.
"""
