"""Training algorithms: ERM and the out-of-distribution methods of WILDS and DomainBed.

The domains are a run's training surveys, in the order of `data.mix` (sdss, decals): a galaxy's
domain is its survey. An algorithm is DomainBed's `update` cut into the hooks `finetune.Step`
calls in order,

    images -> (normalise, rotate/flip) -> mix -> forward -> per-galaxy losses -> objective
    -> backward, clip, AdamW step -> after_step

plus `evaluated` (which weights validation and the saved checkpoints use: SWA's average) and
`state` (what a resumed run needs back). Predicting is the model's own forward for all of them.
`min_domains` refuses a config with too few surveys before any data is read; `min_per_domain`
> 0 makes the trainer stratify batches so that each process's slice of every batch holds that
many galaxies of each survey (a per-survey statistic needs them all in every batch).

Adding an algorithm: a subclass with a `Params` dataclass (its hyperparameters and defaults),
its class in `ALGORITHMS`, and a config saying `algorithm: {name: ..., params: {...}}`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, ContextManager, Iterator

import numpy as np
import torch
from torch import nn

from benchmark.errors import SommelierError

from .augment import (FWHM_TO_SIGMA, Draws, band_gains, blur_radius, gaussian_blur, in_pixels,
                      jitter_brightness, jitter_contrast, noise_to_depth, on, resample)
from .config import Config, build_dataclass
from .data import batch_pattern
from .distributed import Processes, single
from .lookup import lookup

Batch = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Position:
    """Where a step stands in its stage, and the key of its global batch's random numbers:
    (seed, stage, epoch, batch + 1); a trailing 0 would repeat the epoch's own stream."""

    index: int = 0  # optimiser step within the stage, from 0
    total: int = 1  # steps the stage plans
    key: tuple[int, ...] = (0, 0, 0, 1)


def _check_range(name: str, pair: tuple[float, ...]) -> None:
    if len(pair) != 2 or not 0 <= pair[0] <= pair[1]:
        raise SommelierError(f"algorithm.params.{name}: expected [low, high] with "
                             f"0 <= low <= high, got {list(pair)}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if value <= 0:
            raise SommelierError(f"algorithm.params.{name} must be > 0, got {value}")


def fewest_per_process(config: Config, world: int) -> int:
    """The fewest galaxies of one survey in any process's slice of a stratified batch."""
    local = config.training.batch_size // world
    pattern = batch_pattern(list(config.data.mix.values()), config.training.batch_size)
    return min(np.bincount(pattern[r * local:(r + 1) * local],
                           minlength=len(config.data.mix)).min() for r in range(world))


@dataclass(frozen=True)
class NoParams:
    """No hyperparameters."""


class Algorithm:
    """The hooks, each doing what ERM does; a subclass changes the ones its method is about."""

    name: ClassVar[str]
    Params: ClassVar[type] = NoParams
    min_domains: ClassVar[int] = 1
    min_per_domain: ClassVar[int] = 0

    def __init__(self, params: Any, domains: int, processes: Processes):
        self.params, self.domains, self.processes = params, domains, processes

    @classmethod
    def check(cls, config: Config, world: int) -> None:
        """Refuse a config this algorithm cannot train, before any data is read."""
        surveys = list(config.data.mix)
        if len(surveys) < cls.min_domains:
            raise SommelierError(
                f"algorithm {cls.name!r} takes the training surveys as domains and needs at "
                f"least {cls.min_domains}; config {config.name!r} trains on "
                f"{', '.join(surveys)} only (add surveys to data.mix)")
        fewest = fewest_per_process(config, world)
        if fewest < cls.min_per_domain:
            raise SommelierError(
                f"algorithm {cls.name!r} needs {cls.min_per_domain} galaxies of every survey "
                f"in each process's batch; {world} process(es) with batch size "
                f"{config.training.batch_size} and shares {config.data.mix} give {fewest}: "
                "raise training.batch_size")

    @property
    def stratified(self) -> bool:
        return self.min_per_domain > 0

    def describe(self) -> str:
        """What the entry's model line says about training (ERM: nothing, as before)."""
        values = ", ".join(f"{k} {v}" for k, v in dataclasses.asdict(self.params).items())
        return f"{self.name} training" + (f" ({values})" if values else "")

    def images(self, images: torch.Tensor, draws: Draws) -> torch.Tensor:
        """The uint8 batch -> pixel values (0-255) the model normalises."""
        return images

    def mix(self, x: torch.Tensor, batch: Batch, draws: Draws
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Model inputs and the fractions and counts they are trained on."""
        return x, batch["fractions"], batch["counts"]

    def attached(self, model: nn.Module) -> ContextManager:
        """Hooks on the model for as long as a stage trains it."""
        return contextlib.nullcontext()

    def objective(self, losses: torch.Tensor, batch: Batch, at: Position) -> torch.Tensor:
        """Per-galaxy losses -> the scalar to minimise."""
        return losses.mean()

    def after_step(self, optimizer: torch.optim.Optimizer, at: Position) -> None:
        """After each optimiser step."""

    def evaluated(self, optimizer: torch.optim.Optimizer) -> ContextManager:
        """The weights validation and saved checkpoints use, while the block runs."""
        return contextlib.nullcontext()

    def state(self) -> dict[str, list[float]]:
        """What a resumed run needs back (JSON: saved with the trainer's progress)."""
        return {}

    def load_state(self, state: dict[str, list[float]]) -> None:
        """Restore `state()`."""


class ERM(Algorithm):
    """Empirical risk minimisation (Vapnik 1998): the mean loss of each batch, batches mixed by
    `data.mix` share per epoch. What every config trained before there was a choice."""

    name = "erm"

    def describe(self) -> str:
        return ""


class Balanced(Algorithm):
    """Survey-balanced mixing (WILDS' group-balanced sampling; DomainBed draws every minibatch
    this way): ERM on batches that each hold the same number of galaxies of every survey,
    rather than equal shares of an epoch in expectation."""

    name = "balanced"
    min_domains = 2
    min_per_domain = 1

    @classmethod
    def check(cls, config: Config, world: int) -> None:
        super().check(config, world)
        if len(set(config.data.mix.values())) > 1:
            raise SommelierError(f"algorithm 'balanced' gives every survey the same share of "
                                 f"each batch: set equal shares in data.mix, got {config.data.mix}")


class Augmentation(Algorithm):
    """ERM on augmented views: `views` changes each image, in display units [0, 1]."""

    def images(self, images: torch.Tensor, draws: Draws) -> torch.Tensor:
        return self.views(images.float() / 255, draws) * 255

    def views(self, x: torch.Tensor, draws: Draws) -> torch.Tensor:
        raise NotImplementedError


@dataclass(frozen=True)
class StudyAugmentParams:
    brightness: float = 0.3  # factor drawn from [1 - b, 1 + b] (ColorJitter)
    contrast: float = 0.3
    blur_sigma: tuple[float, ...] = (0.1, 2.0)  # Gaussian blur sigma, px at 224 px
    noise_std: tuple[float, ...] = (0.0, 0.05)  # Gaussian noise, display units

    def __post_init__(self) -> None:
        _check_range("brightness", (0.0, self.brightness))
        _check_range("contrast", (0.0, self.contrast))
        _check_range("blur_sigma", self.blur_sigma)
        _check_range("noise_std", self.noise_std)


class StudyAugment(Augmentation):
    """The original study's augmentation on top of rotations and flips: brightness and contrast
    0.3 (torchvision's ColorJitter definitions), Gaussian blur and Gaussian noise, each galaxy
    its own draw. The study recorded no blur or noise settings: torchvision's default blur
    range (sigma 0.1-2 px at 224 px) and noise up to 0.05 stand in for them."""

    name = "study-augment"
    Params = StudyAugmentParams

    def views(self, x: torch.Tensor, draws: Draws) -> torch.Tensor:
        p, size = self.params, x.shape[-1]
        x = jitter_brightness(x, on(draws.uniform(1 - p.brightness, 1 + p.brightness), x))
        x = jitter_contrast(x, on(draws.uniform(1 - p.contrast, 1 + p.contrast), x))
        sigma = on(in_pixels(draws.uniform(*p.blur_sigma), size), x)
        x = gaussian_blur(x, sigma, blur_radius(in_pixels(p.blur_sigma[1], size)))
        noise = on(draws.uniform(*p.noise_std), x)
        return (x + noise * draws.normal_like(x)).clamp(0, 1)


@dataclass(frozen=True)
class SurveyAugmentParams:
    psf_fwhm: tuple[float, ...] = (0.0, 4.0)  # extra Gaussian PSF, FWHM in px at 224 px
    pixel_scale: tuple[float, ...] = (1.0, 2.0)  # pixel size relative to the input's
    band_gain: float = 0.3  # each band scaled by exp(U(-g, g))
    depth_noise: tuple[float, ...] = (0.0, 0.06)  # background noise to reach, per band

    def __post_init__(self) -> None:
        _check_range("psf_fwhm", self.psf_fwhm)
        _check_range("pixel_scale", self.pixel_scale)
        _check_range("band_gain", (0.0, self.band_gain))
        _check_range("depth_noise", self.depth_noise)
        if self.pixel_scale[0] < 1:
            raise SommelierError("algorithm.params.pixel_scale: pixels can only get coarser "
                                 f"(>= 1), got {list(self.pixel_scale)}")


class SurveyAugment(Augmentation):
    """Other surveys simulated from the optical images, in the order light meets them: a wider
    PSF (Gaussian, random FWHM), a coarser pixel grid (resampled down and back up), other bands
    (each channel's gain drawn on its own: colours change between optical and near-infrared)
    and a shallower depth (sky noise added until each band's background noise reaches a random
    level). Ranges are survey-agnostic, not fitted to UKIDSS, which training never reads."""

    name = "survey-augment"
    Params = SurveyAugmentParams

    def views(self, x: torch.Tensor, draws: Draws) -> torch.Tensor:
        p, size, bands = self.params, x.shape[-1], x.shape[1]
        fwhm = in_pixels(draws.uniform(*p.psf_fwhm), size)
        x = gaussian_blur(x, on(fwhm * FWHM_TO_SIGMA, x),
                          blur_radius(in_pixels(p.psf_fwhm[1], size) * FWHM_TO_SIGMA))
        x = resample(x, 1 / draws.uniform(*p.pixel_scale))
        x = band_gains(x, on(np.exp(draws.uniform(-p.band_gain, p.band_gain, bands)), x))
        return noise_to_depth(x, on(draws.uniform(*p.depth_noise, bands), x),
                              draws.normal_like(x))



def domain_sums(losses: torch.Tensor, domains: torch.Tensor, n: int) -> torch.Tensor:
    """(2, n) summed loss and galaxy count of each domain in the batch (differentiable)."""
    sums = torch.zeros(n, dtype=losses.dtype, device=losses.device).index_add(0, domains, losses)
    return torch.stack([sums, torch.bincount(domains, minlength=n).to(losses.dtype)])


def domain_means(losses: torch.Tensor, domains: torch.Tensor, n: int) -> torch.Tensor:
    """(n,) mean loss of each domain in the batch (differentiable; no host sync)."""
    sums, counts = domain_sums(losses, domains, n)
    return sums / counts


def coral_penalty(features: torch.Tensor, domains: torch.Tensor, n: int) -> torch.Tensor:
    """DomainBed's CORAL penalty: over pairs of domains, the mean squared difference of their
    feature means plus that of their (unbiased) feature covariances, averaged over pairs."""
    stats = []
    for d in range(n):  # weights, not boolean indexing: no data-dependent shapes, no sync
        w = (domains == d).to(features.dtype)[:, None]
        count = w.sum()
        mean = (w * features).sum(0) / count
        centred = (features - mean) * w
        stats.append((mean, centred.T @ centred / (count - 1)))
    pairs = [(a, b) for i, a in enumerate(stats) for b in stats[i + 1:]]
    return sum((ma - mb).square().mean() + (ca - cb).square().mean()
               for (ma, ca), (mb, cb) in pairs) / len(pairs)


@dataclass(frozen=True)
class CoralParams:
    penalty: float = 1.0  # weight of the alignment (DomainBed's mmd_gamma)


class CORAL(Algorithm):
    """Deep CORAL (Sun and Saenko 2016), as in DomainBed: the mean loss plus `penalty` x
    `coral_penalty` between the surveys' features. The features are the pooled backbone output
    the head reads (DomainBed's featurizer), so while a stage freezes the backbone the penalty
    is a constant that trains nothing; it acts in the stages that train the backbone."""

    name = "coral"
    Params = CoralParams
    min_domains = 2
    min_per_domain = 2  # a covariance needs two galaxies

    def __init__(self, params: CoralParams, domains: int, processes: Processes):
        super().__init__(params, domains, processes)
        self.features: torch.Tensor | None = None

    @contextlib.contextmanager
    def attached(self, model: nn.Module) -> Iterator[None]:
        def keep(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            self.features = inputs[0]

        handle = model.head.register_forward_pre_hook(keep)
        try:
            yield
        finally:
            handle.remove()

    def objective(self, losses: torch.Tensor, batch: Batch, at: Position) -> torch.Tensor:
        penalty = coral_penalty(self.features.float(), batch["domains"], self.domains)
        return losses.mean() + self.params.penalty * penalty


@dataclass(frozen=True)
class GroupDROParams:
    eta: float = 0.01  # step size of the survey weights (DomainBed's groupdro_eta)

    def __post_init__(self) -> None:
        _check_positive(eta=self.eta)


def exponentiated_step(q: torch.Tensor, losses: torch.Tensor, eta: float) -> torch.Tensor:
    """Group DRO's update of the group weights: q_g exp(eta loss_g), renormalised."""
    q = q * torch.exp(eta * losses)
    return q / q.sum()


class GroupDRO(Algorithm):
    """Group DRO (Sagawa et al. 2020), as in DomainBed: minimise the q-weighted sum of the
    surveys' mean losses, q moved towards the worst survey every step by `exponentiated_step`.
    q lives for the whole run (checkpoints keep it) and moves on the losses of the whole global
    batch, so every process holds the same q."""

    name = "groupdro"
    Params = GroupDROParams
    min_domains = 2
    min_per_domain = 1

    def __init__(self, params: GroupDROParams, domains: int, processes: Processes):
        super().__init__(params, domains, processes)
        self.q = torch.full((domains,), 1 / domains, dtype=torch.float64)

    def objective(self, losses: torch.Tensor, batch: Batch, at: Position) -> torch.Tensor:
        sums = domain_sums(losses, batch["domains"], self.domains)
        means = sums[0] / sums[1]
        self.q = exponentiated_step(self.q.to(means.device), self.global_means(means, sums),
                                    self.params.eta)
        return (self.q.to(means.dtype) * means).sum()

    def global_means(self, means: torch.Tensor, sums: torch.Tensor) -> torch.Tensor:
        """Each survey's mean loss over every process's share of the batch, from this
        process's `domain_sums` and the means of them (detached)."""
        if self.processes.world == 1:
            return means.detach().double()
        total = self.processes.sum(sums.detach())
        return (total[0] / total[1]).to(means.device)

    def state(self) -> dict[str, list[float]]:
        return {"q": self.q.tolist()}

    def load_state(self, state: dict[str, list[float]]) -> None:
        if state:
            self.q = torch.tensor(state["q"], dtype=torch.float64)


def vrex_penalty(risks: torch.Tensor) -> torch.Tensor:
    """V-REx's penalty: the (population) variance of the domains' risks."""
    return (risks - risks.mean()).square().mean()


@dataclass(frozen=True)
class VRExParams:
    penalty: float = 10.0  # weight of the variance after the warm-up (DomainBed's vrex_lambda)
    anneal_steps: int = 500  # each stage's first steps use weight 1 (DomainBed's anneal iters)


class VREx(Algorithm):
    """V-REx (Krueger et al. 2021), as in DomainBed: the mean of the surveys' risks plus a
    weight x `vrex_penalty`, the weight 1 for each stage's first `anneal_steps` steps and
    `penalty` after (DomainBed also restarts Adam at the switch; this does not)."""

    name = "vrex"
    Params = VRExParams
    min_domains = 2
    min_per_domain = 1

    def objective(self, losses: torch.Tensor, batch: Batch, at: Position) -> torch.Tensor:
        risks = domain_means(losses, batch["domains"], self.domains)
        weight = self.params.penalty if at.index >= self.params.anneal_steps else 1.0
        return risks.mean() + weight * vrex_penalty(risks)


def partners(domains: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """For each galaxy, a galaxy of another domain in the batch: the floor(u x count)-th of
    them in batch order (u uniform in [0, 1))."""
    other = domains[:, None] != domains[None, :]
    pick = (u * other.sum(1)).floor()
    return (other.cumsum(1) > pick[:, None]).int().argmax(1)


def blend(lam: np.ndarray, partner: torch.Tensor, *tensors: torch.Tensor
          ) -> tuple[torch.Tensor, ...]:
    """lam x_i + (1 - lam) x_partner(i) of every tensor, with the same lam for each."""
    return tuple(on(lam, t) * t + (1 - on(lam, t)) * t[partner] for t in tensors)


@dataclass(frozen=True)
class MixupParams:
    alpha: float = 0.2  # lam ~ Beta(alpha, alpha) (DomainBed's mixup_alpha)

    def __post_init__(self) -> None:
        _check_positive(alpha=self.alpha)


class Mixup(Algorithm):
    """Inter-domain mixup (Yan et al. 2020), DomainBed's Mixup: each galaxy's view is blended
    with that of a random galaxy of another survey in its batch, lam ~ Beta(alpha, alpha) drawn
    per galaxy, and so are its targets with the same lam: vote fractions (a question asked of
    only one of the two has no fraction: NaN, unasked) and vote counts."""

    name = "mixup"
    Params = MixupParams
    min_domains = 2
    min_per_domain = 1

    def mix(self, x: torch.Tensor, batch: Batch, draws: Draws
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        lam = draws.beta(self.params.alpha)
        partner = partners(batch["domains"], on(draws.uniform(0, 1), x).flatten())
        return blend(lam, partner, x, batch["fractions"], batch["counts"])


AVERAGE, SNAPSHOTS = "swa_average", "swa_snapshots"  # keys in the optimizer's state


@torch.no_grad()
def snapshot(optimizer: torch.optim.Optimizer) -> None:
    """Fold the weights the last step updated into their running means."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p.grad is None:  # never trained (DINOv2's mask token): its own average
                continue
            state = optimizer.state[p]
            if AVERAGE not in state:
                state[AVERAGE], state[SNAPSHOTS] = p.detach().clone(), torch.ones((), dtype=p.dtype, device=p.device)
                continue
            state[SNAPSHOTS] += 1
            state[AVERAGE] += (p - state[AVERAGE]) / state[SNAPSHOTS]


@contextlib.contextmanager
def averaged_weights(optimizer: torch.optim.Optimizer) -> Iterator[None]:
    """The running means in place of the trained weights while the block runs."""
    pairs = [(p, optimizer.state[p][AVERAGE]) for g in optimizer.param_groups
             for p in g["params"] if AVERAGE in optimizer.state.get(p, {})]

    @torch.no_grad()
    def swap() -> None:
        for p, mean in pairs:
            trained = p.detach().clone()
            p.copy_(mean)
            mean.copy_(trained)

    swap()
    try:
        yield
    finally:
        swap()


@dataclass(frozen=True)
class SWAParams:
    start: float = 0.5  # share of each stage's steps before averaging begins
    every: int = 1  # steps between snapshots (1: every step, as SWAD)

    def __post_init__(self) -> None:
        if not 0 <= self.start < 1 or self.every < 1:
            raise SommelierError("algorithm.params: swa needs 0 <= start < 1 and every >= 1, "
                                 f"got start {self.start}, every {self.every}")


class SWA(Algorithm):
    """Stochastic weight averaging (Izmailov et al. 2018), densely as SWAD (Cha et al. 2021):
    from `start` of each stage's steps on, the weights are averaged after every `every` steps;
    validation, early stopping and the saved checkpoints use the average, training continues
    from the trained weights. SWAD's window chosen by validation loss is replaced by this fixed
    start and the stage's early stopping. The means live in the optimizer's state (as
    torchcontrib's SWA kept them), so a resumed run continues them exactly. BatchNorm
    statistics are not recomputed for the average (the default head uses LayerNorm)."""

    name = "swa"
    Params = SWAParams

    def after_step(self, optimizer: torch.optim.Optimizer, at: Position) -> None:
        first = int(self.params.start * at.total)
        if at.index >= first and (at.index - first) % self.params.every == 0:
            snapshot(optimizer)

    def evaluated(self, optimizer: torch.optim.Optimizer) -> ContextManager:
        return averaged_weights(optimizer)


ALGORITHMS: dict[str, type[Algorithm]] = {
    cls.name: cls for cls in (ERM, Balanced, StudyAugment, SurveyAugment, CORAL, GroupDRO,
                              VREx, Mixup, SWA)}


def _resolve(config: Config) -> tuple[type[Algorithm], Any]:
    cls = lookup(ALGORITHMS, config.algorithm.name, "algorithm")
    return cls, build_dataclass(cls.Params, config.algorithm.params, "algorithm.params")


def check_algorithm(config: Config, world: int) -> None:
    """Refuse an unknown algorithm, wrong hyperparameters or a config it cannot train."""
    cls, _ = _resolve(config)
    cls.check(config, world)


def build_algorithm(config: Config, processes: Processes | None = None) -> Algorithm:
    cls, params = _resolve(config)
    return cls(params, len(config.data.mix), processes or single())
