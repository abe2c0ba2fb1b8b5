"""Usage errors found before any work, and plugins that fail to load.

A bad ``--set`` value, threshold parameter, config file value or ``--seeds`` list is a usage error
(exit 2): one line naming the parameter (and where it was set) and what it accepts, no traceback,
and no run folder under ``--output``. A built-in plugin that fails to import is an error; a
third-party plugin whose hook raises is skipped with a warning naming it and the hook.

The catalogue of every case and what the user sees is docs/faults.md.
"""

from __future__ import annotations

import inspect
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchbench.cli import cli, main
from benchbench.config import RunConfig, apply_set
from benchbench.detector import BaseDetector, check_param_value, param_kinds
from benchbench.plugins import PluginLoadWarning, load_registries
from benchbench.run.planning import PlanError, plan_jobs

ONE = "synthetic:spikes_1"


def bench(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def usage_error(out: Path, *args: str, detectors: str = "zscore") -> str:
    """Run ``bench run`` with ``args``; check exit 2, one error line and no run folder; return
    the error line."""
    result = bench("run", "--detectors", detectors, "--datasets", ONE, "--quiet", "--no-plots",
                   "--output", str(out), *args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert not out.exists() or not any(out.iterdir()), "a run folder was made"
    return errors[0]


# -- --set DETECTOR.PARAM=VALUE ---------------------------------------------------------------
def test_set_negative_integer_names_the_setting_and_the_range(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "zscore.window=-1")
    assert "--set zscore.window=-1" in line and "window must be an integer >= 1" in line


def test_set_text_for_an_integer_names_the_setting(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "zscore.window=abc")
    assert "--set zscore.window=abc" in line and "got 'abc'" in line


def test_set_fraction_for_an_integer_names_the_setting(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "zscore.min_periods=1.5")
    assert "--set zscore.min_periods=1.5" in line and "min_periods must be an integer" in line


def test_set_bool_for_an_integer_is_rejected(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "zscore.window=true")
    assert "--set zscore.window=true" in line and "got True" in line


def test_set_text_for_a_number_says_a_number(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "autoencoder.forget_bias=high",
                       detectors="autoencoder")
    assert "--set autoencoder.forget_bias=high" in line
    assert "forget_bias must be a number, got 'high'" in line


def test_set_epochs_of_tadgan_names_the_setting(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "tadgan.epochs=-1", detectors="tadgan")
    assert "--set tadgan.epochs=-1" in line and "TadGAN: epochs must be an integer >= 1" in line


def test_set_value_clashing_with_quick_names_both(tmp_path):
    line = usage_error(tmp_path / "out", "--quick", "--set", "autoencoder.score_step=60",
                       detectors="autoencoder")
    assert "--set autoencoder.score_step=60" in line
    assert "window_size=50 from --quick" in line and "must not exceed window_size" in line


def test_set_unknown_parameter_names_the_setting(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "zscore.windw=3")
    assert "--set zscore.windw=3" in line and "no parameter 'windw'" in line


def test_set_for_a_detector_not_in_the_run_names_it(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "zscor.window=3")
    assert "--set zscor.window=3" in line and "not in this run" in line and "zscore" in line


# -- --set threshold.PARAM=VALUE --------------------------------------------------------------
def test_set_unknown_threshold_parameter_lists_the_valid_ones(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "threshold.kk=3")
    assert "--set threshold.kk=3" in line and "no parameter 'kk'" in line
    assert "anomaly_padding" in line


def test_set_threshold_parameter_of_the_other_rule_is_rejected(tmp_path):
    line = usage_error(tmp_path / "out", "--threshold", "quantile", "--set", "threshold.k=3")
    assert "'quantile' threshold has no parameter 'k'" in line


def test_set_threshold_value_of_the_wrong_type(tmp_path):
    line = usage_error(tmp_path / "out", "--set", "threshold.k=abc")
    assert "--set threshold.k=abc" in line and "k must be a number, got 'abc'" in line


def test_set_threshold_value_out_of_range(tmp_path):
    line = usage_error(tmp_path / "out", "--threshold", "quantile",
                       "--set", "threshold.quantile=2")
    assert "--set threshold.quantile=2" in line and "quantile must be in [0, 1]" in line


# -- config file and --seeds ------------------------------------------------------------------
def config_error(tmp_path: Path, text: str) -> str:
    """:func:`usage_error` of ``bench run --config run.toml`` holding ``text``."""
    config = tmp_path / "run.toml"
    config.write_text(textwrap.dedent(text))
    return usage_error(tmp_path / "out", "--config", str(config))


def test_config_value_of_the_wrong_type_names_file_table_and_parameter(tmp_path):
    line = config_error(tmp_path, '[params.zscore]\nwindow = "wide"\n')
    assert "run.toml: [params.zscore] window" in line and "got 'wide'" in line


def test_config_key_of_the_wrong_type_names_key_and_type(tmp_path):
    line = config_error(tmp_path, "detectors = 5\n")
    assert "run.toml: detectors must be a string or a list of strings, got 5" in line


def test_config_params_not_a_table_names_the_key(tmp_path):
    line = config_error(tmp_path, "params = 5\n")
    assert "run.toml: params must be a table" in line


def test_config_quick_not_a_bool_names_the_key(tmp_path):
    line = config_error(tmp_path, 'quick = "yes"\n')
    assert "run.toml: quick must be true or false, got 'yes'" in line


def test_config_threshold_parameter_names_the_file(tmp_path):
    line = config_error(tmp_path, "[threshold_params]\nkk = 3\n")
    assert "run.toml: [threshold_params] kk" in line and "no parameter 'kk'" in line


def test_config_fractional_seed_names_the_key(tmp_path):
    line = config_error(tmp_path, "seeds = [0, 1.5]\n")
    assert "run.toml: seeds must be integers" in line


def test_seeds_with_an_empty_item_are_a_usage_error(tmp_path):
    line = usage_error(tmp_path / "out", "--seeds", "0,,1")
    assert "--seeds: empty seed in '0,,1'" in line


def test_seeds_with_a_trailing_comma_are_a_usage_error(tmp_path):
    line = usage_error(tmp_path / "out", "--seeds", "0,1,")
    assert "empty seed" in line


# -- the validation step of the detector contract ---------------------------------------------
class Plain(BaseDetector):
    """Unannotated: the kinds come from the defaults."""

    def __init__(self, size=5, scale=0.5, flag=True, mode="a", extra=None, random_state=0):
        self._store(locals())


class Annotated(BaseDetector):
    def __init__(self, size: int | None = 5, rate: float = 1e-3, items: list[int] | None = None,
                 odd: int = None) -> None:
        self._store(locals())


def kinds(cls: type, name: str):
    return param_kinds(inspect.signature(cls.__init__).parameters[name])


@pytest.mark.parametrize("cls, name, expected", [
    (Plain, "size", ("int",)), (Plain, "scale", ("float",)), (Plain, "flag", ("bool",)),
    (Plain, "mode", ("str",)), (Plain, "extra", None),
    (Annotated, "size", ("int", "None")), (Annotated, "rate", ("float",)),
    (Annotated, "items", None), (Annotated, "odd", ("int", "None")),
])
def test_param_kinds_from_annotation_else_default(cls, name, expected):
    assert kinds(cls, name) == expected


@pytest.mark.parametrize("params, message", [
    ({"size": 1.5}, "size must be an integer, got 1.5"),
    ({"size": True}, "size must be an integer, got True"),
    ({"scale": "x"}, "scale must be a number, got 'x'"),
    ({"flag": 1}, "flag must be true or false, got 1"),
    ({"mode": 3}, "mode must be a string, got 3"),
])
def test_check_params_rejects_a_value_of_the_wrong_kind(params, message):
    with pytest.raises(ValueError, match=f"Plain: {message}"):
        Plain(**params).check_params()


def test_check_params_accepts_numpy_numbers_ints_for_floats_and_anything_for_none():
    import numpy as np

    Plain(size=np.int64(3), scale=2, extra=[1, 2]).check_params()
    Annotated(size=None, rate=np.float32(0.1), items=[1], odd=None).check_params()
    with pytest.raises(ValueError, match="odd must be an integer or None"):
        check_param_value("Annotated", inspect.signature(Annotated).parameters["odd"], "x")


def test_detector_own_message_wins_when_it_names_the_parameter():
    from benchbench_plugins.lstm_ar.detector import LSTMAutoregressive

    with pytest.raises(ValueError, match="levels must be an integer >= 2, got 256.0"):
        LSTMAutoregressive(levels=256.0).check_params()


THIRD_PARTY = '''
import numpy as np
from benchbench.detector import BaseDetector
from benchbench.hookspecs import hookimpl


class Bare:
    """Not a BaseDetector: no check_params, so planning skips the check."""

    def __init__(self, width=3, random_state=0):
        self.width, self.random_state = width, random_state

    def get_params(self, deep=True):
        return {"width": self.width, "random_state": self.random_state}

    def set_params(self, **params):
        for key, value in params.items():
            setattr(self, key, value)
        return self


class Unannotated(BaseDetector):
    """An integer default: integers only."""

    def __init__(self, width=3, random_state=0):
        self._store(locals())


@hookimpl
def register_detectors(register):
    register("bare", Bare)
    register("unannotated", Unannotated)
    register("profiled", Unannotated, profiles={"wide": lambda dataset, signal: {"width": 2.5}})
'''


def third_party(tmp_path: Path, name: str, params: dict, profile: str = "default") -> list:
    """``plan_jobs`` of detector ``name`` of :data:`THIRD_PARTY` with ``params``."""
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    (folder / "third.py").write_text(THIRD_PARTY)
    registries = load_registries(folder, load_entry_points=False)
    config = RunConfig(detectors=[name], datasets=[ONE], params={name: params}, profile=profile)
    return plan_jobs(config, registries)


def test_third_party_detector_without_check_params_is_planned(tmp_path):
    (job,) = third_party(tmp_path, "bare", {"width": 1.5})
    assert job.params == {"width": 1.5}


def test_third_party_base_detector_gets_the_kind_check(tmp_path):
    with pytest.raises(PlanError, match=r"detector 'unannotated' \(with width=1.5\): "
                                        r"Unannotated: width must be an integer, got 1.5"):
        third_party(tmp_path, "unannotated", {"width": 1.5})


def test_profile_value_names_the_profile_dataset_and_signal(tmp_path):
    with pytest.raises(PlanError, match=r"detector 'profiled' \(with width=2.5 from profile "
                                        r"'wide' on synthetic:spikes_1 signal spikes_1\)"):
        third_party(tmp_path, "profiled", {}, profile="wide")


def test_api_params_without_a_source_name_the_detector():
    config = RunConfig(detectors=["zscore"], datasets=[ONE], params={"zscore": {"window": 0}})
    with pytest.raises(PlanError, match=r"detector 'zscore' \(with window=0\): RollingZScore"):
        plan_jobs(config, load_registries(load_entry_points=False))


def test_apply_set_records_where_each_value_came_from():
    config = RunConfig()
    apply_set(config, ["zscore.window=3", "threshold.k=2"])
    assert config.param_sources == {("zscore", "window"): "--set zscore.window=3",
                                    ("threshold", "k"): "--set threshold.k=2"}
    assert "param_sources" not in config.to_dict()


# -- plugins ----------------------------------------------------------------------------------
RAISING_HOOK = '''
from benchbench.hookspecs import hookimpl
from benchbench_plugins.zscore import RollingZScore


@hookimpl
def register_detectors(register):
    register("half_registered", RollingZScore)
    raise RuntimeError("boom in the hook")


@hookimpl
def register_datasets(register):
    raise AssertionError("never called: the plugin was skipped")
'''

RAISING_COMMANDS = '''
import click
from benchbench.hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    @cli.command(name="half_command")
    def half_command():
        click.echo("half")

    raise ValueError("commands broke")
'''


def test_built_in_plugin_that_fails_to_import_is_an_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "benchbench_plugins.tadgan", None)  # import fails
    result = bench("list", "detectors")
    assert result.exit_code == 2, result.output
    assert "built-in benchbench plugin 'benchbench_plugins.tadgan' failed to import" in (
        result.output)
    assert "installation is broken" in result.output


def test_built_in_plugin_failure_stops_a_run_of_all_detectors(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "benchbench_plugins.vae", None)
    with pytest.raises(SystemExit) as exc:
        main(["run", "--detectors", "all", "--output", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "'benchbench_plugins.vae' failed to import" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_third_party_hook_that_raises_is_skipped_with_a_warning(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "raising.py").write_text(RAISING_HOOK)
    with pytest.warns(PluginLoadWarning, match=r"raising.py' failed in its register_detectors "
                                               r"hook and is skipped: RuntimeError: boom"):
        result = bench("--plugins-dir", str(folder), "list", "detectors")
    assert result.exit_code == 0, result.output
    assert "zscore" in result.output and "half_registered" not in result.output


def test_third_party_commands_hook_that_raises_leaves_the_cli_working(tmp_path, capsys):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "commands.py").write_text(RAISING_COMMANDS)
    try:
        with pytest.warns(PluginLoadWarning, match="commands.py' failed in its "
                                                   "register_commands hook"):
            with pytest.raises(SystemExit) as exc:
                main(["--plugins-dir", str(folder), "list", "detectors"])
        assert exc.value.code == 0
        assert "zscore" in capsys.readouterr().out
        assert "half_command" not in cli.commands
    finally:
        cli.commands.pop("half_command", None)
