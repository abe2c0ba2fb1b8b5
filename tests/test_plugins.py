"""The plugin manager: built-ins, entry points, loose files, duplicates and broken plugins.

One test per hook, named after it (test_register_detectors, ...), keeps every hook exercised.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from benchbench import hookspecs
from benchbench.plugins import (
    DEFAULT_PLUGINS,
    PluginError,
    PluginLoadWarning,
    get_plugin_manager,
    load_registries,
)


def _write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def _fake_distribution(site: Path, dist: str, module: str, source: str, ep_name: str) -> None:
    """Install a tiny distribution by hand: a module, and dist-info with an entry point."""
    _write(site / f"{module}.py", source)
    info = site / f"{dist}-1.2.3.dist-info"
    _write(info / "METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    _write(info / "entry_points.txt", f"[benchbench]\n{ep_name} = {module}\n")


DETECTOR_PLUGIN = """
from benchbench.hookspecs import hookimpl
from benchbench_plugins.zscore import RollingZScore

class {cls}(RollingZScore):
    '''{doc}'''

@hookimpl
def register_detectors(register):
    register("{name}", {cls})
"""


def test_default_plugins_register_builtins():
    reg = load_registries(load_entry_points=False)
    assert {"autoencoder", "zscore"} <= set(reg.detectors.names())
    assert "synthetic" in reg.datasets
    assert {"overlap", "pointwise", "weighted_segment", "point_adjusted", "range_based"} <= set(
        reg.metrics.names()
    )
    assert reg.detectors["autoencoder"].plugin == "benchbench_plugins.autoencoder"
    assert reg.detectors["autoencoder"].options["quick_params"]
    assert set(DEFAULT_PLUGINS) <= {reg.manager.get_name(p) for p in reg.manager.get_plugins()}


def test_register_detectors(tmp_path):
    _write(tmp_path / "p" / "mine.py", DETECTOR_PLUGIN.format(cls="Mine", doc="My detector.",
                                                              name="mine"))
    reg = load_registries(tmp_path / "p", load_entry_points=False)
    entry = reg.detectors["mine"]
    assert entry.description == "My detector."
    assert entry.plugin.endswith("mine.py")


def test_register_datasets(tmp_path):
    _write(tmp_path / "p" / "data.py", """
        from benchbench.hookspecs import hookimpl
        from benchbench.data.synthetic import SyntheticDataset

        @hookimpl
        def register_datasets(register):
            register("synthetic_copy", SyntheticDataset, description="a copy")
    """)
    reg = load_registries(tmp_path / "p", load_entry_points=False)
    dataset = reg.datasets["synthetic_copy"].obj(tmp_path, None)
    assert len(dataset.signal_names()) >= 10


def test_register_metrics(tmp_path):
    _write(tmp_path / "p" / "metric.py", """
        from benchbench.hookspecs import hookimpl
        from benchbench.evaluation.metrics import MetricResult

        def detections_count(expected, detected, index):
            '''Counts detections as false positives (a toy).'''
            return MetricResult.from_counts(0, len(detected), len(expected))

        @hookimpl
        def register_metrics(register):
            register("toy", detections_count)
    """)
    reg = load_registries(tmp_path / "p", load_entry_points=False)
    assert reg.metrics["toy"].description.startswith("Counts detections")


def test_register_commands(tmp_path):
    _write(tmp_path / "p" / "cmd.py", """
        import click
        from benchbench.hookspecs import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command(name="hello")
            def hello():
                '''Say hello.'''
                click.echo("hello from a plugin")
    """)
    from benchbench.cli import cli, main

    try:
        with pytest.raises(SystemExit) as exc:
            main(["--plugins-dir", str(tmp_path / "p"), "hello"])
        assert exc.value.code == 0
        assert "hello" in cli.commands
        result = CliRunner().invoke(cli, ["hello"])
        assert "hello from a plugin" in result.output
    finally:
        cli.commands.pop("hello", None)
    assert isinstance(cli, click.Group)


def test_every_hook_has_a_test_named_after_it():
    hooks = [n for n in dir(hookspecs) if n.startswith("register_")]
    assert hooks
    for name in hooks:
        assert f"test_{name}" in globals(), f"hook {name} has no test_{name}"


def test_duplicate_name_names_both_plugins(tmp_path):
    _write(tmp_path / "p" / "a.py", DETECTOR_PLUGIN.format(cls="A", doc="a", name="same"))
    _write(tmp_path / "p" / "b.py", DETECTOR_PLUGIN.format(cls="B", doc="b", name="same"))
    with pytest.raises(PluginError) as exc:
        load_registries(tmp_path / "p", load_entry_points=False)
    assert "a.py" in str(exc.value) and "b.py" in str(exc.value)


def test_duplicate_of_builtin_is_rejected(tmp_path):
    _write(tmp_path / "p" / "c.py", DETECTOR_PLUGIN.format(cls="C", doc="c", name="zscore"))
    with pytest.raises(PluginError, match="benchbench_plugins.zscore"):
        load_registries(tmp_path / "p", load_entry_points=False)


def test_broken_plugin_file_warns_and_others_load(tmp_path):
    _write(tmp_path / "p" / "broken.py", "import does_not_exist_anywhere\n")
    _write(tmp_path / "p" / "fine.py", DETECTOR_PLUGIN.format(cls="F", doc="f", name="fine"))
    with pytest.warns(PluginLoadWarning, match="broken.py"):
        reg = load_registries(tmp_path / "p", load_entry_points=False)
    assert "fine" in reg.detectors and "autoencoder" in reg.detectors


def test_entry_point_plugin_loads_with_its_distribution_name(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "bench-extra", "bench_extra",
                       DETECTOR_PLUGIN.format(cls="X", doc="x", name="extra"), "extra")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("BENCHBENCH_LOAD_PLUGINS")
    reg = load_registries()
    assert reg.detectors["extra"].plugin == "bench-extra 1.2.3"


def test_load_plugins_env_restricts_entry_points(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "bench-one", "bench_one",
                       DETECTOR_PLUGIN.format(cls="One", doc="1", name="one"), "one")
    _fake_distribution(tmp_path, "bench-two", "bench_two",
                       DETECTOR_PLUGIN.format(cls="Two", doc="2", name="two"), "two")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BENCHBENCH_LOAD_PLUGINS", "bench-two")
    reg = load_registries()
    assert "two" in reg.detectors and "one" not in reg.detectors
    monkeypatch.setenv("BENCHBENCH_LOAD_PLUGINS", "")
    reg = load_registries()
    assert "two" not in reg.detectors and "one" not in reg.detectors


def test_broken_entry_point_warns_with_its_name(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "bench-bad", "bench_bad", "raise ImportError('nope')\n", "bad")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("BENCHBENCH_LOAD_PLUGINS")
    with pytest.warns(PluginLoadWarning, match="'bad'.*bench-bad"):
        reg = load_registries()
    assert "autoencoder" in reg.detectors


def test_builtin_plugin_that_fails_to_import_is_an_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "benchbench_plugins.lstm_ar", None)
    with pytest.raises(PluginError, match="built-in benchbench plugin 'benchbench_plugins.lstm_ar' "
                                          "failed to import.*installation is broken"):
        load_registries(load_entry_points=False)


def test_builtin_plugin_whose_hook_raises_is_an_error(monkeypatch):
    import benchbench.builtins

    @hookspecs.hookimpl
    def register_metrics(register):
        raise RuntimeError("metrics gone")

    monkeypatch.setattr(benchbench.builtins, "register_metrics", register_metrics)
    with pytest.raises(PluginError, match="'benchbench.builtins': its register_metrics hook "
                                          "failed: RuntimeError: metrics gone"):
        load_registries(load_entry_points=False)


RAISING = """
from benchbench.hookspecs import hookimpl
from benchbench_plugins.zscore import RollingZScore
from benchbench.data.synthetic import SyntheticDataset

@hookimpl
def register_datasets(register):
    register("{name}_data", SyntheticDataset)

@hookimpl
def register_detectors(register):
    register("{name}", RollingZScore)
    raise RuntimeError("boom")
"""


def test_raising_hook_of_a_plugin_file_drops_all_it_registered(tmp_path):
    _write(tmp_path / "p" / "raiser.py", RAISING.format(name="raiser"))
    _write(tmp_path / "p" / "fine.py", DETECTOR_PLUGIN.format(cls="F", doc="f", name="fine"))
    with pytest.warns(PluginLoadWarning, match="raiser.py' failed in its register_detectors hook "
                                               "and is skipped: RuntimeError: boom"):
        reg = load_registries(tmp_path / "p", load_entry_points=False)
    assert "raiser" not in reg.detectors and "raiser_data" not in reg.datasets
    assert "fine" in reg.detectors and "zscore" in reg.detectors
    assert "benchbench_local_plugins.raiser" not in {
        reg.manager.get_name(p) for p in reg.manager.get_plugins()}


def test_raising_hook_of_an_entry_point_names_its_distribution(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "bench-raise", "bench_raise", RAISING.format(name="r"), "r")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("BENCHBENCH_LOAD_PLUGINS")
    with pytest.warns(PluginLoadWarning, match="'bench-raise 1.2.3' failed in its "
                                               "register_detectors hook"):
        reg = load_registries()
    assert "r" not in reg.detectors and "autoencoder" in reg.detectors


def test_registration_rule_broken_inside_a_hook_is_still_an_error(tmp_path):
    _write(tmp_path / "p" / "bad.py", DETECTOR_PLUGIN.format(cls="B", doc="b", name="a:b"))
    with pytest.raises(PluginError, match="invalid name"):
        load_registries(tmp_path / "p", load_entry_points=False)


def test_plugin_manager_uses_project_markers():
    pm = get_plugin_manager(load_entry_points=False)
    assert pm.project_name == "benchbench"
    assert hookspecs.hookimpl.project_name == "benchbench"
