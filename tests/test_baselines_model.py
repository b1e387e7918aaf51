"""The regressor: loads a backbone through the real `from_pretrained` path, outputs fractions
whose questions sum to 1, and round-trips through a safetensors checkpoint."""

import json

import pytest
import torch
from transformers import Dinov2Config, Dinov2Model

from baselines.config import LoraConfig
from baselines.images import IMAGENET_MEAN, ImageStats
from baselines.model import load_model, new_model, save_model
from benchmark import registry as R
from tests.baselines_support import TINY_BACKBONE, tiny_config


@pytest.fixture(scope="module")
def pretrained_folder(tmp_path_factory):
    """A tiny DINOv2 written by `save_pretrained`, with an image processor of its own."""
    folder = tmp_path_factory.mktemp("dinov2-tiny")
    torch.manual_seed(123)
    Dinov2Model(Dinov2Config(**TINY_BACKBONE)).save_pretrained(folder)
    processor = {"image_processor_type": "BitImageProcessor",
                 "image_mean": [0.1, 0.2, 0.3], "image_std": [0.4, 0.5, 0.6]}
    (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    return folder


def _images(n=4, size=32):
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=generator)


def test_backbone_loads_from_a_local_save_pretrained_folder(tmp_path, pretrained_folder):
    config = tiny_config(tmp_path, model={"backbone": {"source": str(pretrained_folder),
                                                        "random": None}})
    model = new_model(config, seed=0)
    saved = Dinov2Model.from_pretrained(pretrained_folder).state_dict()
    assert all(torch.equal(saved[k], v) for k, v in model.backbone.state_dict().items())
    assert model.spec.stats == ImageStats((0.1, 0.2, 0.3), (0.4, 0.5, 0.6))
    assert str(pretrained_folder) in model.spec.pretraining


def test_a_folder_without_image_processor_gets_dinov2_statistics(tmp_path, pretrained_folder):
    (pretrained_folder / "preprocessor_config.json").rename(tmp_path / "moved.json")
    try:
        config = tiny_config(tmp_path, model={"backbone": {"source": str(pretrained_folder),
                                                            "random": None}})
        assert new_model(config, seed=0).spec.stats.mean == IMAGENET_MEAN
    finally:
        (tmp_path / "moved.json").rename(pretrained_folder / "preprocessor_config.json")


def test_fractions_of_each_question_sum_to_one(tmp_path):
    """On a set of complete questions (incomplete ones: tests/test_baselines_heads.py)."""
    model = new_model(tiny_config(tmp_path, features="all"), seed=0).eval()
    with torch.no_grad():
        fractions = model.fractions(model(model.prepare(_images())))
    assert fractions.shape == (4, len(R.FEATURE_SETS["all"]))
    assert torch.all((fractions > 0) & (fractions < 1))
    sums = model.layout.question_sums(fractions)
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-6)


def test_the_same_seed_builds_the_same_model(tmp_path):
    a = new_model(tiny_config(tmp_path), seed=5).state_dict()
    b = new_model(tiny_config(tmp_path), seed=5).state_dict()
    c = new_model(tiny_config(tmp_path), seed=6).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("lora", [False, True])
def test_checkpoint_round_trip(tmp_path, lora):
    model = new_model(tiny_config(tmp_path, model={"pooling": "cls+mean"}), seed=0)
    if lora:
        model.use_lora(LoraConfig(rank=4, alpha=8))
        for name, parameter in model.backbone.named_parameters():
            if "lora_B" in name:  # zero at init: make the adapters matter
                torch.nn.init.normal_(parameter)
    model.eval()
    save_model(tmp_path / "ck", model, {"kind": "dinov2"})
    loaded, meta = load_model(tmp_path / "ck")
    assert not any(p.suffix == ".bin" or p.suffix == ".pt" for p in (tmp_path / "ck").iterdir())
    assert meta["kind"] == "dinov2" and meta["parameters"] > 0
    assert (loaded.spec.lora is not None) == lora
    x = model.prepare(_images())
    with torch.no_grad():
        assert torch.allclose(loaded.eval()(x), model(x), atol=1e-6)
