"""The regressor: backbone (DINOv2 or timm) -> pooled features -> MLP head -> vote fractions.

`ModelSpec` is everything needed to rebuild the network without the Hub (backbone family and
architecture dict, head, pooling, output, input size and normalisation); checkpoints store it
beside the weights.
The model takes normalised float images; `prepare` turns the uint8 batches the data pipeline
delivers into that, on whatever device the batch is on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from benchmark.errors import SommelierError

from .backbone import FAMILIES, load_backbone, with_lora
from .checkpoint import read_meta, read_tensors, save_checkpoint
from .config import Config, HeadConfig, LoraConfig, build_dataclass
from .heads import OUTPUTS, build_head
from .images import ImageStats
from .layout import Layout
from .lookup import lookup


@dataclass(frozen=True)
class ModelSpec:
    features: tuple[str, ...]
    architecture: dict[str, Any]  # what the backbone's family rebuilds it from
    pretraining: str  # where the backbone's starting weights came from
    pooling: str
    head: HeadConfig
    output: str
    image_size: int
    stats: ImageStats
    lora: LoraConfig | None = None
    family: str = "dinov2"  # a key of `baselines.backbone.FAMILIES`

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ModelSpec":
        return build_dataclass(cls, raw, "checkpoint spec")


class GalaxyRegressor(nn.Module):
    def __init__(self, spec: ModelSpec, backbone: nn.Module):
        super().__init__()
        self.spec = spec
        self.layout = Layout(spec.features)
        self.backbone = backbone
        self.family = lookup(FAMILIES, spec.family, "backbone family")
        self.pooling = lookup(self.family.poolings, spec.pooling, f"{spec.family} pooling")
        self.output = lookup(OUTPUTS, spec.output, "output")
        self.head = build_head(spec.head, self.embedding_width, self.output.width(self.layout))

    @property
    def embedding_width(self) -> int:
        return self.pooling.width * self.family.features(self.spec.architecture)

    def prepare(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, H, W) -> normalised float input."""
        return self.spec.stats.normalise(pixels)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.pooling.pool(self.backbone, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised images -> logits (N, K); `fractions` turns them into vote fractions."""
        return self.head(self.embed(x))

    def fractions(self, logits: torch.Tensor) -> torch.Tensor:
        return self.output(logits.float(), self.layout)

    def use_lora(self, config: LoraConfig) -> None:
        """Wrap the backbone with LoRA adapters (once; a later stage keeps the same ones)."""
        if self.spec.lora is None:
            self.backbone = with_lora(self.backbone, config)
            self.spec = dataclasses.replace(self.spec, lora=config)


def new_model(config: Config, seed: int, head: HeadConfig | None = None,
              output: str | None = None) -> GalaxyRegressor:
    """The model a run starts from: pretrained (or random) backbone, fresh seeded head."""
    family, backbone = load_backbone(config, seed)
    spec = ModelSpec(
        features=config.feature_names, architecture=backbone.architecture,
        pretraining=backbone.pretraining, pooling=config.model.pooling,
        head=head or config.model.head, output=output or config.model.output,
        image_size=config.model.image_size, stats=backbone.stats, family=family)
    torch.manual_seed(seed)
    return GalaxyRegressor(spec, backbone.module)


def architecture(spec: ModelSpec) -> str:
    """A one-line summary of the backbone, for submission metadata."""
    described = lookup(FAMILIES, spec.family, "backbone family").describe(spec.architecture)
    return f"{described} at {spec.image_size} px, {spec.pooling} pooling"


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_model(folder: Path, model: GalaxyRegressor, meta: dict[str, Any],
               optimizer: torch.optim.Optimizer | None = None) -> Path:
    meta = {**meta, "spec": model.spec.to_dict(), "features": list(model.spec.features),
            "pretraining": model.spec.pretraining, "parameters": parameter_count(model)}
    return save_checkpoint(folder, model.state_dict(), meta, optimizer)


def load_model(folder: Path) -> tuple[GalaxyRegressor, dict[str, Any]]:
    """Rebuild a saved model from its checkpoint alone (no Hub access)."""
    meta = read_meta(folder)
    spec = ModelSpec.from_dict(meta["spec"])
    backbone = lookup(FAMILIES, spec.family, "backbone family").rebuild(spec.architecture)
    if spec.lora is not None:
        backbone = with_lora(backbone, spec.lora)
    model = GalaxyRegressor(spec, backbone)
    try:
        model.load_state_dict(read_tensors(folder))
    except RuntimeError as exc:
        raise SommelierError(
            f"{folder}: its weights do not fit the model its spec describes (a softmax head "
            "written before incomplete questions had an 'other' logit must be retrained): "
            f"{str(exc).splitlines()[0]}") from exc
    return model, meta
