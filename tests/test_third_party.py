"""Third-party plugins for real: `bench new-plugin`, pip install, own tests, `bench` sees them.

The packages are installed with pip (offline: ``--no-index --no-deps --no-build-isolation``, built
with this environment's setuptools) into a throwaway ``--target`` folder that only the
subprocesses of a test put on their path, so the test environment itself is never changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.scaffold import ScaffoldError, plugin_names

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "isolation_forest"


def pip_install(package: Path, target: Path) -> None:
    pytest.importorskip("setuptools", reason="building a plugin needs setuptools")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
         str(package)],
        capture_output=True, text=True, env={**os.environ, "PIP_CONSTRAINT": ""},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def run_python(args: list[str], site: Path, cwd: Path, timeout: float = 300):
    """``python ARGS`` with the throwaway install on the path and every plugin allowed to load."""
    env = {k: v for k, v in os.environ.items() if k != "BENCHBENCH_LOAD_PLUGINS"}
    env.update(PYTHONPATH=str(site), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def check_installed_plugin(package: Path, detector: str, distribution: str, tmp_path: Path,
                           run_it: bool = True) -> None:
    """Install ``package``, run its own tests, find it in `bench list detectors`, run it."""
    site = tmp_path / "site"
    pip_install(package, site)
    assert list(site.glob(f"{distribution.replace('-', '_')}-*.dist-info"))
    tests = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider"], site, cwd=package)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout
    listed = run_python(["-m", "benchbench", "list", "detectors"], site, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (line,) = [ln for ln in listed.stdout.splitlines() if ln.split()[:1] == [detector]]
    assert line.split()[1:3] == [distribution, "0.1.0"]  # the plugin column: its distribution
    if not run_it:
        return
    run = run_python(["-m", "benchbench", "run", "--detectors", detector, "--quick", "--quiet",
                      "--output", str(tmp_path / "out")], site, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (next((tmp_path / "out").iterdir()) / "report.html").is_file()


def scaffold(tmp_path: Path) -> Path:
    result = CliRunner().invoke(cli, ["new-plugin", "my_det", "--dir", str(tmp_path / "src")])
    assert result.exit_code == 0, result.output
    package = tmp_path / "src" / "my_det"
    assert {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()} == {
        "pyproject.toml", "README.md", "src/benchbench_my_det/__init__.py",
        "src/benchbench_my_det/detector.py", "tests/test_my_det.py"}
    return package


def test_new_plugin_installs_passes_its_own_tests_and_is_listed(tmp_path):
    check_installed_plugin(scaffold(tmp_path), "my_det", "benchbench-my-det", tmp_path,
                           run_it=False)


@pytest.mark.slow
def test_new_plugin_installed_runs_quick(tmp_path):
    check_installed_plugin(scaffold(tmp_path), "my_det", "benchbench-my-det", tmp_path)


@pytest.mark.slow
def test_example_plugin_installs_passes_its_own_tests_and_runs(tmp_path):
    check_installed_plugin(EXAMPLE, "isolation_forest", "benchbench-isolation-forest", tmp_path)


@pytest.mark.parametrize("name", ["My-Det", "1abc", "class", "a b", "x" * 41, "", "a__b", "ab_"])
def test_new_plugin_rejects_bad_names(tmp_path, name):
    with pytest.raises(ScaffoldError, match="invalid plugin name"):
        plugin_names(name)
    result = CliRunner().invoke(cli, ["new-plugin", name, "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "invalid plugin name" in result.output
    assert list(tmp_path.iterdir()) == []


def test_new_plugin_never_overwrites(tmp_path):
    existing = tmp_path / "taken"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["new-plugin", "taken", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


def test_plugin_names():
    names = plugin_names("spectral_residual")
    assert (names.module, names.distribution, names.cls) == (
        "benchbench_spectral_residual", "benchbench-spectral-residual",
        "SpectralResidualDetector")


def test_help():
    result = CliRunner().invoke(cli, ["new-plugin", "--help"])
    assert result.exit_code == 0 and "--dir" in result.output
