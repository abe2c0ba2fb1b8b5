"""What a run folder shows: results.csv, tables, plots, report.html and run comparisons.

Everything here is computed from the job records alone
(:func:`benchbench.report.build.build_report`).
"""
