"""Experiment configs: YAML files -> frozen dataclasses, strictly.

A config says everything a run depends on apart from the dataset location, the seed and the
output folder, so that recording it (with those three) is enough to repeat the run. Unknown
keys and wrongly typed values are errors, never silently ignored. A file may start from another
with `extends: other.yaml` (mappings are merged key by key; lists and values are replaced).
Bundled configs live in `baselines/configs/` and can be named without their folder or suffix.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmark import registry as R
from benchmark.errors import SommelierError

CONFIG_DIR = Path(__file__).parent / "configs"


@dataclass(frozen=True)
class BackboneConfig:
    """Exactly one of `source` (DINOv2: Hub id or local `save_pretrained` folder), `random`
    (`Dinov2Config` keyword arguments for a randomly initialised DINOv2: tests, quick start) and
    `timm` (a `timm.create_model` name: `convnext_nano`, `hf_hub:mwalmsley/zoobot-encoder-...`,
    `local-dir:FOLDER`; `pretrained: false` gives it random weights)."""

    source: str | None = None
    random: dict[str, Any] | None = None
    timm: str | None = None
    pretrained: bool = True  # timm only

    def __post_init__(self) -> None:
        if sum(v is not None for v in (self.source, self.random, self.timm)) != 1:
            raise SommelierError("model.backbone needs exactly one of `source`, `random` and "
                                 "`timm`")
        if not self.pretrained and self.timm is None:
            raise SommelierError("model.backbone.pretrained applies to `timm` backbones; a "
                                 "random DINOv2 is `random: {...}`")


@dataclass(frozen=True)
class HeadConfig:
    hidden: tuple[int, ...] = (512, 256)
    norm: str = "layer"  # layer | batch | none (batch is the study's; see docs on DDP)
    dropout: float = 0.2


@dataclass(frozen=True)
class ModelConfig:
    backbone: BackboneConfig = field(default_factory=lambda: BackboneConfig("facebook/dinov2-base"))
    pooling: str = "cls"  # DINOv2: cls | cls+mean; timm: global
    head: HeadConfig = field(default_factory=HeadConfig)
    output: str = "softmax"  # softmax per question | sigmoid per answer (the study's)
    image_size: int = 224


@dataclass(frozen=True)
class AugmentConfig:
    """Galaxies have no up: any rotation and a mirror image are equally valid views."""

    rotate: bool = True
    flip: bool = True


@dataclass(frozen=True)
class DataConfig:
    dataset: str | None = None  # local benchmark folder or Hub id; `--data` overrides
    revision: str | None = None
    mix: dict[str, float] = field(default_factory=lambda: {"sdss": 1.0})  # share of each epoch
    sample: dict[str, int] = field(default_factory=dict)  # random subset of a survey's train
    min_votes: dict[str, int] = field(default_factory=dict)  # first-question votes ("quality")
    overlap_only: bool = False  # keep galaxies seen by every survey in `mix` ("max overlap")
    max_validation: int | None = None  # random subset of each validation split
    epoch_size: int | None = None  # galaxies per epoch; default: all selected training galaxies
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    num_workers: int = 0
    cache_dir: str | None = None  # decoded images and embeddings; default: under the HF cache

    def __post_init__(self) -> None:
        for survey in (*self.mix, *self.sample, *self.min_votes):
            if survey not in R.SURVEYS or R.SURVEYS[survey].ood:
                trainable = [s for s, v in R.SURVEYS.items() if not v.ood]
                raise SommelierError(f"data: {survey!r} is not a training survey; "
                                     f"choose from {', '.join(trainable)}")
        if not self.mix or any(v <= 0 for v in self.mix.values()):
            raise SommelierError("data.mix needs at least one survey, every share > 0")


@dataclass(frozen=True)
class LoraConfig:
    """LoRA on DINOv2's attention query and value projections (named `q_proj`/`v_proj` in
    transformers 5 and `query`/`value` in 4.x: a module matching any name gets an adapter)."""

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.0
    targets: tuple[str, ...] = ("q_proj", "v_proj", "query", "value")


@dataclass(frozen=True)
class StageConfig:
    """One training stage; each starts from the best checkpoint of the one before."""

    name: str
    epochs: int
    backbone: str = "frozen"  # frozen | full | lora
    head_lr: float = 1e-3
    backbone_lr: float = 0.0
    lora: LoraConfig = field(default_factory=LoraConfig)


@dataclass(frozen=True)
class TrainingConfig:
    batch_size: int = 16  # global: split evenly over processes
    weight_decay: float = 0.01
    warmup: float = 0.1  # share of each stage's steps
    grad_clip: float = 1.0
    patience: int = 3  # epochs without a better validation score before a stage stops
    # what "better" means for the best checkpoint and patience: validation `loss` (lower) or
    # `correlation` (higher: the flattened Pearson r the original study early-stopped on)
    select: str = "loss"
    bf16: bool = True  # autocast on GPU; CPU always runs float32


@dataclass(frozen=True)
class LossConfig:
    name: str = "mse"  # mse | multinomial | dirichlet-multinomial
    concentration: float = 20.0  # Dirichlet precision: how much volunteers disagree
    # unasked questions' NaN fractions: `mask` (left out of the loss) | `zero` (target 0 and
    # every output trained, as the original study did; fraction losses only)
    missing: str = "mask"


@dataclass(frozen=True)
class AlgorithmConfig:
    """How training turns a batch into an update (`baselines.algorithms`): ERM or an
    out-of-distribution method, with that method's hyperparameters (checked against its own)."""

    name: str = "erm"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProbeConfig:
    alphas: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)


@dataclass(frozen=True)
class EntryConfig:
    """What `sommelier predict` writes into submission.yaml about this model."""

    name: str
    authors: tuple[str, ...] = ("Galaxy Sommelier maintainers",)
    url: str | None = None  # http(s) address of the code or paper; none for the bundled ones
    notes: str = ""
    # Did the model or its pretrained backbone see UKIDSS images or labels? DINOv2 (LVD-142M)
    # and a random backbone did not; Zoobot encoders pretrained on GZ Evo did.
    saw_ukidss: bool = False


@dataclass(frozen=True)
class Config:
    name: str
    entry: EntryConfig
    kind: str = "dinov2"  # dinov2 | linear-probe | constant
    features: str = "study26"  # a registry feature set
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    stages: tuple[StageConfig, ...] = ()
    training: TrainingConfig = field(default_factory=TrainingConfig)
    algorithm: AlgorithmConfig = field(default_factory=AlgorithmConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)

    def __post_init__(self) -> None:
        if self.features not in R.FEATURE_SETS:
            raise SommelierError(f"unknown feature set {self.features!r}; choose from "
                                 f"{', '.join(R.FEATURE_SETS)}")

    @property
    def feature_names(self) -> tuple[str, ...]:
        return R.FEATURE_SETS[self.features]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def config_path(name_or_path: str | Path) -> Path:
    """A file path as given, else a bundled config by name (`tiny-cpu-sdss`)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = CONFIG_DIR / f"{path.name.removesuffix('.yaml')}.yaml"
    if bundled.is_file():
        return bundled
    raise SommelierError(f"no config {str(name_or_path)!r}; bundled configs: "
                         f"{', '.join(bundled_configs())}")


def bundled_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config(name_or_path: str | Path) -> Config:
    """Read a YAML config (following `extends`) into a validated `Config`."""
    path = config_path(name_or_path)
    return from_dict(_read(path, ()), str(path))


def from_dict(raw: dict[str, Any], where: str = "config") -> Config:
    return build_dataclass(Config, raw, where)


def _read(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path.resolve() in seen:
        raise SommelierError(f"{path}: `extends` loops back to itself")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SommelierError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SommelierError(f"{path}: a config is a mapping of keys to values")
    base = raw.pop("extends", None)
    if base is None:
        return raw
    parent = path.parent / base
    parent = parent if parent.is_file() else config_path(base)
    return merge(_read(parent, (*seen, path.resolve())), raw)


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`: nested mappings merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = merge(merged[key], value) if both else value
    return merged


def build_dataclass(cls: type, raw: Any, where: str) -> Any:
    """`cls(**raw)`, recursively and type-checked, with errors that say where."""
    if not isinstance(raw, dict):
        raise SommelierError(f"{where}: expected a mapping, got {raw!r}")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in raw if k not in names]
    if unknown:
        raise SommelierError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                             f"allowed: {', '.join(names)}")
    hints = typing.get_type_hints(cls)
    values = {k: _convert(hints[k], v, f"{where}.{k}") for k, v in raw.items()}
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise SommelierError(f"{where}: missing key(s) {', '.join(missing)}")
    return cls(**values)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, where)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise SommelierError(f"{where}: expected a list, got {value!r}")
        return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise SommelierError(f"{where}: expected a mapping, got {value!r}")
        return {_convert(args[0], k, where): _convert(args[1], v, f"{where}.{k}")
                for k, v in value.items()}
    if tp is Any:
        return value
    if tp is float and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return float(value)  # YAML 1.1 reads `1e-4` (no dot) as a string
        except ValueError:
            pass
    if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
        return value
    raise SommelierError(f"{where}: expected {tp.__name__}, got {value!r}")
