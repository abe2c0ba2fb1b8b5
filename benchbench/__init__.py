"""benchbench: a benchmark harness for generative time-series anomaly detectors."""

__version__ = "0.1.0"
