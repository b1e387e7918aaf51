"""Configs: every bundled one loads, mistakes are errors, `extends` merges."""

import pytest

from baselines.config import bundled_configs, config_path, from_dict, load_config
from baselines.finetune import check
from benchmark.errors import SommelierError
from tests.baselines_support import tiny_raw


@pytest.mark.parametrize("name", bundled_configs())
def test_bundled_configs_load(name):
    config = load_config(name)
    assert config.name == name
    # a randomly initialised backbone must be visible in the config's and the entry's names
    if config.model.backbone.random is not None and config.kind != "constant":
        assert name.startswith(("tiny-", "throughput-"))
        assert "random" in config.entry.name.lower()


def test_the_experiments_of_the_issue_exist():
    expected = {"sdss-only", "mixed", "max-overlap", "high-quality-sdss", "lora",
                "tiny-cpu-sdss", "tiny-cpu-mixed", "constant-sdss", "linear-probe-sdss"}
    assert expected <= set(bundled_configs())
    assert load_config("mixed").data.mix == {"sdss": 0.5, "decals": 0.5}
    assert load_config("max-overlap").data.overlap_only
    assert load_config("lora").stages[1].backbone == "lora"
    assert load_config("study-sdss-only").model.output == "sigmoid"


def test_extends_merges_nested_keys(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("extends: sdss-only\nname: child\nmodel: {image_size: 112}\n")
    config = load_config(child)
    assert config.model.image_size == 112
    assert config.model.backbone.source == "facebook/dinov2-base"  # kept from the parent


@pytest.mark.parametrize("over, message", [
    ({"modle": {}}, "unknown key"),
    ({"data": {"mixx": {}}}, "unknown key"),
    ({"training": {"batch_size": "16"}}, "expected int"),
    ({"training": {"batch_size": True}}, "expected int"),
    ({"data": {"mix": {"ukidss": 1.0}}}, "not a training survey"),
    ({"features": "nine"}, "unknown feature set"),
    ({"model": {"backbone": {"source": "x", "random": {}}}}, "exactly one"),
])
def test_mistakes_are_errors(tmp_path, over, message):
    with pytest.raises(SommelierError, match=message):
        from_dict(tiny_raw(tmp_path, **over))


@pytest.mark.parametrize("over, message", [
    ({"stages": []}, "no training stages"),
    ({"stages": [{"name": "x", "epochs": 0}]}, "at least one epoch"),
    ({"stages": [{"name": "x", "epochs": 1, "backbone": "thawed"}]}, "stage backbone mode"),
    ({"loss": {"name": "multinomial"}, "model": {"output": "sigmoid"}}, "needs `model.output"),
    ({"loss": {"name": "l1"}}, "unknown loss"),
])
def test_configs_that_cannot_train_are_refused_before_reading_data(tmp_path, over, message):
    with pytest.raises(SommelierError, match=message):
        check(from_dict(tiny_raw(tmp_path, **over)), world=1)


def test_yaml_floats_without_a_dot_are_floats(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("extends: tiny-cpu-sdss\nname: c\ntraining: {weight_decay: 1e-4}\n")
    assert load_config(path).training.weight_decay == pytest.approx(1e-4)


def test_unknown_config_names_the_bundled_ones():
    with pytest.raises(SommelierError, match="tiny-cpu-sdss"):
        config_path("no-such-config")
