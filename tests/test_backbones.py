"""Backbone families: timm encoders (ConvNeXt, EfficientNet) build from a config, train and
round-trip through checkpoints like DINOv2; pretrained weights that saw UKIDSS must be declared
in the submission entry.

The timm tests need `timm` (an optional extra) and skip without it. The real Zoobot path,
`hf_hub:mwalmsley/zoobot-encoder-convnext_nano`, is exercised offline: a tiny random encoder is
put in a Hugging Face cache under that repo id and the Hub is switched off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from baselines.backbone import FAMILIES, family_of, ukidss_exposure
from baselines.config import BackboneConfig, bundled_configs, load_config
from baselines.losses import LOSSES, LossContext
from baselines.model import load_model, new_model, save_model
from baselines.predict import predict
from baselines.train import train
from benchmark.errors import SommelierError
from tests.baselines_support import bench, cache, tiny_config  # noqa: F401 (fixtures)

ZOOBOT = "mwalmsley/zoobot-encoder-convnext_nano"
TINY_TIMM = ("test_convnext", "test_efficientnet")  # timm's own test-sized models
needs_timm = pytest.mark.skipif(
    __import__("importlib").util.find_spec("timm") is None, reason="timm is not installed")


def _timm_config(cache: Path, name: str, pretrained: bool = False, **over):
    backbone = {"source": None, "random": None, "timm": name, "pretrained": pretrained}
    return tiny_config(cache, model={"backbone": backbone, "pooling": "global"}, **over)


def _images(n: int = 4, size: int = 32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=generator)


def test_each_backbone_key_selects_one_family():
    assert family_of(BackboneConfig(source="facebook/dinov2-base")) == "dinov2"
    assert family_of(BackboneConfig(random={"hidden_size": 32})) == "dinov2"
    assert family_of(BackboneConfig(timm="convnext_nano")) == "timm"
    keys = [k for family in FAMILIES.values() for k in family.keys]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("raw, message", [
    ({"source": "facebook/dinov2-base", "timm": "convnext_nano"}, "exactly one"),
    ({}, "exactly one"),
    ({"source": "facebook/dinov2-base", "pretrained": False}, "applies to `timm`"),
])
def test_backbone_mistakes_are_one_line_errors(raw, message):
    with pytest.raises(SommelierError, match=message):
        BackboneConfig(**raw)


def test_weights_that_saw_ukidss_must_be_declared(tmp_path):
    config = _timm_config(tmp_path, f"hf_hub:{ZOOBOT}", pretrained=True)
    with pytest.raises(SommelierError, match="saw_ukidss: true"):
        new_model(config, seed=0)  # refused before anything is downloaded
    assert ukidss_exposure(BackboneConfig(timm=f"hf_hub:{ZOOBOT}", pretrained=False)) is None
    assert ukidss_exposure(BackboneConfig(timm="convnext_nano")) is None


@pytest.mark.parametrize("name", bundled_configs())
def test_bundled_configs_declare_what_their_weights_saw(name):
    config = load_config(name)
    assert config.entry.saw_ukidss == (ukidss_exposure(config.model.backbone) is not None)


@needs_timm
@pytest.mark.parametrize("name", TINY_TIMM)
def test_a_random_timm_encoder_runs_a_forward_pass_and_a_training_step(tmp_path, name):
    config = _timm_config(tmp_path, name)
    model = new_model(config, seed=0)
    assert model.spec.family == "timm" and "randomly initialised" in model.spec.pretraining
    x = model.prepare(_images())
    fractions = model.fractions(model(x))
    assert fractions.shape == (4, len(config.feature_names))
    assert torch.all((fractions >= 0) & (fractions <= 1))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    targets = torch.rand(4, len(config.feature_names))
    ctx = LossContext(model.layout, model.output, config.loss)
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    loss = LOSSES["mse"].fn(model(x), targets, torch.zeros_like(targets), ctx).mean()
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    changed = [k for k, v in model.backbone.state_dict().items() if not torch.equal(v, before[k])]
    assert changed  # the backbone trains, not only the head


@needs_timm
def test_a_timm_checkpoint_rebuilds_without_downloads(tmp_path):
    model = new_model(_timm_config(tmp_path, "test_convnext"), seed=0).eval()
    folder = save_model(tmp_path / "ckpt", model, {"kind": "dinov2"})
    loaded, _ = load_model(folder)
    x = model.prepare(_images())
    with torch.no_grad():
        assert torch.equal(model(x), loaded.eval()(x))
    assert loaded.spec == model.spec


@needs_timm
def test_a_timm_backbone_refuses_dinov2_pooling(tmp_path):
    backbone = {"source": None, "random": None, "timm": "test_convnext", "pretrained": False}
    with pytest.raises(SommelierError, match="unknown timm pooling 'cls'; choose from global"):
        new_model(tiny_config(tmp_path, model={"backbone": backbone}), seed=0)


@pytest.fixture
def offline_zoobot(tmp_path, monkeypatch) -> torch.nn.Module:
    """A tiny random ConvNeXt published as `ZOOBOT` in a local Hugging Face cache, with the Hub
    switched off: `timm.create_model("hf_hub:" + ZOOBOT, pretrained=True)` loads it."""
    timm = pytest.importorskip("timm")
    import huggingface_hub.constants as hub

    encoder = timm.create_model("test_convnext", pretrained=False, num_classes=0)
    repo = tmp_path / "hub" / f"models--{ZOOBOT.replace('/', '--')}"
    commit = "0" * 40
    timm.models.save_for_hf(encoder, repo / "snapshots" / commit, safe_serialization=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    return encoder


def test_zoobot_trains_and_its_entry_says_it_saw_ukidss(tmp_path, bench, cache,  # noqa: F811
                                                        offline_zoobot):
    config = _timm_config(cache, f"hf_hub:{ZOOBOT}", pretrained=True,
                          entry={"name": "Tiny Zoobot", "saw_ukidss": True},
                          stages=[{"name": "finetune", "backbone": "full", "epochs": 1,
                                   "head_lr": 1e-2, "backbone_lr": 1e-3}])
    model = new_model(config, seed=0)
    saved = offline_zoobot.state_dict()
    assert all(torch.equal(saved[k], v) for k, v in model.backbone.state_dict().items())
    assert "GZ Evo" in model.spec.pretraining
    checkpoint = train(config, str(bench), seed=0, out=tmp_path / "run")
    predict(checkpoint, str(bench), ["ukidss:test"], tmp_path / "entry")
    info = yaml.safe_load((tmp_path / "entry" / "submission.yaml").read_text())
    assert info["saw_ukidss"] is True and "GZ Evo" in info["pretraining"]
    assert info["model"].startswith("timm test_convnext")
