"""Backbones, one registry entry per family: DINOv2 (transformers) and timm encoders.

A family says how a config's `model.backbone` builds it (pretrained or random), how a
checkpoint rebuilds the same architecture from the dict it stored (so predicting never needs
the Hub), how its output becomes one vector per image (its poolings) and how it is summarised.

- `dinov2`: `AutoModel.from_pretrained("facebook/dinov2-base")` (a local `save_pretrained`
  folder goes through the same call) or `random: {Dinov2Config kwargs}` (tests, quick start).
- `timm`: `timm.create_model(name, pretrained=..., num_classes=0)`: ConvNeXt, EfficientNet and
  the rest of timm, including Zoobot's encoders (`hf_hub:mwalmsley/zoobot-encoder-convnext_nano`,
  the real path) and `local-dir:FOLDER` (a folder written by `timm.models.save_for_hf`).
  `timm` is an optional dependency, imported only here and only for this family.

Some pretrained weights have seen UKIDSS: `SAW_UKIDSS` names them, and a config that uses them
must declare it in its submission entry (`entry.saw_ukidss: true`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import nn

from benchmark.errors import SommelierError

from .config import BackboneConfig, Config, LoraConfig
from .images import ImageStats

PROCESSOR_FILE = "preprocessor_config.json"
RANDOM = "none (randomly initialised backbone)"

#: Substrings of pretrained weights' names that saw UKIDSS images or labels, and how.
SAW_UKIDSS: Mapping[str, str] = {
    "mwalmsley/zoobot-encoder": "Zoobot encoders were pretrained on GZ Evo, which includes "
                                "GZ UKIDSS labels",
}


@dataclass(frozen=True)
class Pooling:
    width: int  # pooled size in units of the backbone's feature width
    pool: Callable[[nn.Module, torch.Tensor], torch.Tensor]  # (backbone, x) -> (N, width * F)


@dataclass(frozen=True)
class Backbone:
    """A freshly built backbone and what a checkpoint records about it."""

    module: nn.Module
    architecture: dict[str, Any]  # enough to rebuild the module without downloads
    stats: ImageStats  # mean/std it was pretrained with
    pretraining: str  # where its starting weights came from


@dataclass(frozen=True)
class Family:
    keys: tuple[str, ...]  # the `model.backbone` keys that select this family
    load: Callable[[BackboneConfig, int], Backbone]  # (config, seed) -> backbone
    rebuild: Callable[[dict[str, Any]], nn.Module]  # architecture -> untrained module
    features: Callable[[dict[str, Any]], int]  # width of one pooled token
    poolings: Mapping[str, Pooling]
    describe: Callable[[dict[str, Any]], str]  # one line for submission metadata


# --- DINOv2 (transformers) -------------------------------------------------------------------

def _load_dinov2(config: BackboneConfig, seed: int) -> Backbone:
    from transformers import AutoModel, Dinov2Config

    if config.random is not None:
        torch.manual_seed(seed)
        module = AutoModel.from_config(Dinov2Config(**config.random))
        return Backbone(module, module.config.to_dict(), ImageStats(), RANDOM)
    module = AutoModel.from_pretrained(config.source)
    return Backbone(module, module.config.to_dict(), image_stats(config.source),
                    f"{config.source} (self-supervised DINOv2 weights)")


def image_stats(source: str) -> ImageStats:
    """Mean/std from the source's image processor; a folder without one gets DINOv2's own."""
    from transformers.image_processing_utils import ImageProcessingMixin

    if Path(source).is_dir() and not (Path(source) / PROCESSOR_FILE).is_file():
        return ImageStats()
    processor, _ = ImageProcessingMixin.get_image_processor_dict(source)
    return ImageStats(tuple(processor["image_mean"]), tuple(processor["image_std"]))


def _rebuild_dinov2(architecture: dict[str, Any]) -> nn.Module:
    from transformers import AutoConfig, AutoModel

    return AutoModel.from_config(AutoConfig.for_model(**architecture))


def _describe_dinov2(arch: dict[str, Any]) -> str:
    return (f"DINOv2 ViT (hidden {arch['hidden_size']}, {arch['num_hidden_layers']} layers, "
            f"patch {arch['patch_size']})")


DINOV2_POOLINGS: Mapping[str, Pooling] = {
    "cls": Pooling(1, lambda backbone, x: backbone(pixel_values=x).pooler_output),
    "cls+mean": Pooling(2, lambda backbone, x: _cls_and_mean(backbone(pixel_values=x))),
}


def _cls_and_mean(out: Any) -> torch.Tensor:
    """DINOv2's layer-normed CLS token and its mean patch token, as its linear evaluation."""
    return torch.cat([out.pooler_output, out.last_hidden_state[:, 1:].mean(1)], 1)


# --- timm ------------------------------------------------------------------------------------

def _load_timm(config: BackboneConfig, seed: int) -> Backbone:
    import timm

    torch.manual_seed(seed)  # the random init of `pretrained: false`
    module = timm.create_model(config.timm, pretrained=config.pretrained, num_classes=0)
    cfg = module.pretrained_cfg
    # the arguments timm built it with (hub `model_args` included), without the classifier
    model_args = {**getattr(module, "_model_args", {}), "num_classes": 0}
    architecture = {"timm": cfg["architecture"], "model_args": model_args,
                    "num_features": module.num_features}
    pretraining = RANDOM
    if config.pretrained:
        exposure = ukidss_exposure(config)
        pretraining = f"{config.timm} (timm weights{'; ' + exposure if exposure else ''})"
    return Backbone(module, architecture, ImageStats(tuple(cfg["mean"]), tuple(cfg["std"])),
                    pretraining)


def _rebuild_timm(architecture: dict[str, Any]) -> nn.Module:
    import timm

    return timm.create_model(architecture["timm"], pretrained=False, **architecture["model_args"])


TIMM_POOLINGS: Mapping[str, Pooling] = {
    # the encoder's own global pooling (average for ConvNeXt and EfficientNet), num_classes=0
    "global": Pooling(1, lambda backbone, x: backbone(x)),
}


# --- the registry ----------------------------------------------------------------------------

FAMILIES: Mapping[str, Family] = {
    "dinov2": Family(("source", "random"), _load_dinov2, _rebuild_dinov2,
                     lambda arch: arch["hidden_size"], DINOV2_POOLINGS, _describe_dinov2),
    "timm": Family(("timm",), _load_timm, _rebuild_timm, lambda arch: arch["num_features"],
                   TIMM_POOLINGS,
                   lambda arch: f"timm {arch['timm']} ({arch['num_features']} features)"),
}


def family_of(config: BackboneConfig) -> str:
    """The family whose key the config sets (the config allows exactly one)."""
    return next(name for name, family in FAMILIES.items()
                if any(getattr(config, key) is not None for key in family.keys))


def ukidss_exposure(config: BackboneConfig) -> str | None:
    """How the config's pretrained weights saw UKIDSS, or None (random weights never did)."""
    if config.random is not None or not config.pretrained:
        return None
    name = config.timm or config.source
    return next((why for key, why in SAW_UKIDSS.items() if key in name), None)


def load_backbone(config: Config, seed: int) -> tuple[str, Backbone]:
    """The family and backbone a run starts from; refuses UKIDSS-exposed weights whose
    config does not declare them in its entry."""
    exposure = ukidss_exposure(config.model.backbone)
    if exposure and not config.entry.saw_ukidss:
        raise SommelierError(f"config {config.name!r}: {exposure}; declare it with "
                             "`entry: {saw_ukidss: true}`")
    family = family_of(config.model.backbone)
    return family, FAMILIES[family].load(config.model.backbone, seed)


def with_lora(backbone: nn.Module, config: LoraConfig) -> nn.Module:
    """Wrap the backbone with LoRA adapters (peft); only the adapters will train."""
    import peft

    lora = peft.LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                           target_modules=list(config.targets))
    return peft.get_peft_model(backbone, lora)
