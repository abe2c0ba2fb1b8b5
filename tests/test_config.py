"""Run configuration: TOML files, --set values, seeds."""

from __future__ import annotations

import pytest

from benchbench.config import (
    ConfigError,
    RunConfig,
    apply_set,
    load_config_file,
    parse_seeds,
    parse_value,
)


@pytest.mark.parametrize("text, value", [
    ("5", 5), ("0.5", 0.5), ("true", True), ('"x"', "x"), ("[1, 2]", [1, 2]), ("cpu", "cpu"),
])
def test_set_values_parse_as_toml_literals(text, value):
    assert parse_value(text) == value


def test_apply_set_targets_detector_and_threshold():
    config = RunConfig()
    apply_set(config, ["autoencoder.epochs=3", "threshold.k=3.5"])
    assert config.params == {"autoencoder": {"epochs": 3}}
    assert config.threshold_params == {"k": 3.5}


@pytest.mark.parametrize("bad", ["epochs=3", "autoencoder.epochs", ".x=1"])
def test_apply_set_rejects_malformed(bad):
    with pytest.raises(ConfigError, match="DETECTOR.PARAM=VALUE"):
        apply_set(RunConfig(), [bad])


@pytest.mark.parametrize("value, seeds", [("0,1,2", [0, 1, 2]), (3, [3]), ([4, 5], [4, 5])])
def test_parse_seeds(value, seeds):
    assert parse_seeds(value) == seeds


@pytest.mark.parametrize("value", ["a", "1,1", "-1", "", "0,,1", "0,1,", ",0", 1.5, True,
                                   [0, 1.5], [True], "1.5"])
def test_parse_seeds_rejects(value):
    with pytest.raises(ConfigError, match="--seeds"):
        parse_seeds(value)


@pytest.mark.parametrize("data, message", [
    ({"detectors": 5}, "detectors must be a string or a list of strings, got 5"),
    ({"datasets": ["synthetic", 3]}, "datasets must be a string or a list of strings"),
    ({"device": 0}, "device must be a string, got 0"),
    ({"quick": 1}, "quick must be true or false, got 1"),
    ({"output": ["a"]}, "output must be a string"),
    ({"threshold_params": 3}, "threshold_params must be a table"),
    ({"params": [1]}, "params must be a table of detector tables"),
    ({"params": {"zscore": 3}}, r"params.zscore must be a table .*\[params.zscore\]"),
    ({"repeat": 1.5}, "repeat: need a positive integer, got 1.5"),
    ({"timeout": "soon"}, "timeout: need a number of seconds"),
])
def test_from_dict_names_the_key_and_the_type(data, message):
    with pytest.raises(ConfigError, match=f"run.toml: {message}"):
        RunConfig.from_dict(data, source="run.toml")


def test_config_file_round_trip(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('detectors = "autoencoder, zscore"\nseeds = [0, 1]\n'
                    '[params.autoencoder]\nepochs = 2\n')
    config = load_config_file(path)
    assert config.detectors == ["autoencoder", "zscore"] and config.seeds == [0, 1]
    assert RunConfig.from_dict(config.to_dict()) == config


def test_config_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("detectors = [\n")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_config_file(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("detector = 'x'\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_config_file(unknown)
    with pytest.raises(ConfigError, match="not found"):
        load_config_file(tmp_path / "missing.toml")


def test_config_file_records_where_each_parameter_came_from(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[params.zscore]\nwindow = 3\n[threshold_params]\nk = 2.0\n")
    config = load_config_file(path)
    assert config.param_sources == {
        ("zscore", "window"): f"config file {path}: [params.zscore] window",
        ("threshold", "k"): f"config file {path}: [threshold_params] k",
    }
    apply_set(config, ["zscore.window=4"])
    assert config.param_sources[("zscore", "window")] == "--set zscore.window=4"


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCHBENCH_DATA", str(tmp_path))
    assert RunConfig().resolved_data_dir() == tmp_path
    assert RunConfig(data_dir="x").resolved_data_dir().name == "x"
