"""The example plugin examples/isolation_forest, once pip-installed into this environment.

CI installs it (`tox -e examples`, which sets BENCHBENCH_REQUIRE_EXAMPLES=1 so a missing install
fails instead of skipping); elsewhere these tests skip unless it is installed
(`pip install ./examples/isolation_forest`). tests/test_third_party.py installs it into a
throwaway folder instead (slow).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

DISTRIBUTION = "benchbench-isolation-forest"

try:
    VERSION = importlib.metadata.version(DISTRIBUTION)
except importlib.metadata.PackageNotFoundError:
    if os.environ.get("BENCHBENCH_REQUIRE_EXAMPLES"):
        raise RuntimeError(f"BENCHBENCH_REQUIRE_EXAMPLES is set but {DISTRIBUTION} is not "
                           "installed: pip install ./examples/isolation_forest") from None
    pytest.skip(f"{DISTRIBUTION} is not installed (pip install ./examples/isolation_forest)",
                allow_module_level=True)


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed `bench` script (python -m benchbench where there is none), loading only
    the example among the third-party plugins."""
    script = Path(sys.executable).parent / "bench"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "benchbench"]
    env = {**os.environ, "BENCHBENCH_LOAD_PLUGINS": DISTRIBUTION, "OMP_NUM_THREADS": "1",
           "MPLBACKEND": "Agg"}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_bench_lists_isolation_forest_from_its_distribution(tmp_path):
    listed = bench("list", "detectors", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (line,) = [ln for ln in listed.stdout.splitlines() if ln.startswith("isolation_forest ")]
    assert line.split()[1:3] == [DISTRIBUTION, VERSION]


def test_bench_runs_isolation_forest_quick(tmp_path):
    run = bench("run", "--detectors", "isolation_forest", "--quick", "--quiet", "--output",
                str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    (run_dir,) = (tmp_path / "out").iterdir()
    results = (run_dir / "results.csv").read_text()
    assert results.count("isolation_forest") == 3 and ",failed," not in results
