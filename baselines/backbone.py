"""The DINOv2 backbone: pretrained from the Hub or a local folder, random for tests, LoRA.

The real path is `AutoModel.from_pretrained("facebook/dinov2-base")`; a local folder written
by `save_pretrained` goes through the same call. `random` builds a `Dinov2Config` with fresh
weights (no download: tests and the quick start). A checkpoint rebuilds the architecture from
the config dict it stored, so predicting never needs the Hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from .config import BackboneConfig, LoraConfig
from .images import ImageStats

PROCESSOR_FILE = "preprocessor_config.json"


def load_backbone(config: BackboneConfig, seed: int) -> tuple[nn.Module, ImageStats]:
    """The backbone a run starts from, with the image statistics it was pretrained with."""
    from transformers import AutoModel, Dinov2Config

    if config.random is not None:
        torch.manual_seed(seed)
        return AutoModel.from_config(Dinov2Config(**config.random)), ImageStats()
    return AutoModel.from_pretrained(config.source), image_stats(config.source)


def image_stats(source: str) -> ImageStats:
    """Mean/std from the source's image processor; a folder without one gets DINOv2's own."""
    from transformers.image_processing_utils import ImageProcessingMixin

    if Path(source).is_dir() and not (Path(source) / PROCESSOR_FILE).is_file():
        return ImageStats()
    processor, _ = ImageProcessingMixin.get_image_processor_dict(source)
    return ImageStats(tuple(processor["image_mean"]), tuple(processor["image_std"]))


def backbone_from_dict(architecture: dict[str, Any]) -> nn.Module:
    """An untrained backbone of the architecture a checkpoint recorded (weights come after)."""
    from transformers import AutoConfig, AutoModel

    return AutoModel.from_config(AutoConfig.for_model(**architecture))


def with_lora(backbone: nn.Module, config: LoraConfig) -> nn.Module:
    """Wrap the backbone with LoRA adapters (peft); only the adapters will train."""
    import peft

    lora = peft.LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                           target_modules=list(config.targets))
    return peft.get_peft_model(backbone, lora)
