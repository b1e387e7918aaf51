"""A picture of the shift: the same few galaxies as SDSS, DECaLS and UKIDSS show them.

Galaxies are picked from a seeded population by their true make-up (the brightest one of each
kind below), so the grid shows a smooth galaxy, a barred and an unbarred spiral, an edge-on
disk, a merger and an artifact rather than whatever a random draw holds. Each survey renders
them with its own cutout rule, PSF, noise and bands, exactly as the releases' images are made.
`python -m benchmark.simulator.studies.gallery docs/images/simulator-grid.png` draws the grid in
docs/simulator.md.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
from PIL import Image

from ...errors import SommelierError
from ..population import KIND_INDEX, Population, draw_population
from ..randomness import stream
from ..render import render
from ..surveys import SURVEY_OPTICS

#: What each column shows: a test on the truth; the brightest galaxy that passes is drawn.
PICKS: Mapping[str, Callable[[Population], np.ndarray]] = {
    "smooth": lambda p: p.kind == KIND_INDEX["elliptical"],
    "barred spiral": lambda p: (p.bar_frac > 0.15) & (p.bar_len > 0.9) & (p.bar_q < 0.3)
    & (p.arm_frac > 0.1) & (p.disk_q > 0.8),
    "unbarred spiral": lambda p: (p.bar_frac == 0) & (p.arm_frac > 0.2) & (p.disk_q > 0.8),
    "edge-on disk": lambda p: (p.kind == KIND_INDEX["disk"]) & (p.disk_q < 0.2)
    & (p.dust_tau > 1.5),
    "merger": lambda p: p.kind == KIND_INDEX["merger"],
    "artifact": lambda p: p.kind == KIND_INDEX["trail"],
}
#: Galaxies drawn to pick from: each kind above occurs a dozen times or more.
CANDIDATES = 20000


def pick_galaxies(seed: int = 0) -> tuple[list[str], Population]:
    """The galaxies of the grid, one per entry of `PICKS`, in its order."""
    pop = draw_population(CANDIDATES, stream(seed, "gallery", "population"))
    chosen = []
    for label, test in PICKS.items():
        matches = np.flatnonzero(test(pop))
        if not len(matches):
            raise SommelierError(f"the gallery population of seed {seed} holds no "
                                 f"{label}; try another seed")
        chosen.append(matches[np.argmin(pop.mag_r[matches])])
    return list(PICKS), pop.take(np.array(chosen))


def draw_grid(out: str | Path, seed: int = 0, size: int = 128, zoom: int = 2) -> Path:
    """Render the grid (one row per survey, one column per galaxy) as a PNG at `out`.

    Each panel is the central 1/`zoom` of a `zoom` x `size` px cutout: Galaxy Zoo's SDSS and
    UKIDSS cutouts are ~8 R90 wide, so whole cutouts at page size hide bars and colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, pop = pick_galaxies(seed)
    fig, axes = plt.subplots(len(SURVEY_OPTICS), len(labels), squeeze=False,
                             figsize=(1.3 * len(labels), 1.4 * len(SURVEY_OPTICS)), dpi=size / 1.2)
    for row, (name, optics) in zip(axes, SURVEY_OPTICS.items()):
        margin = (zoom - 1) * size // 2
        images = render(pop, optics, zoom * size, stream(seed, "gallery", name))
        images = images[:, margin:margin + size, margin:margin + size]
        for col, (ax, image) in enumerate(zip(row, images)):
            ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(f"{name.upper()}\n{''.join(optics.bands)}", fontsize=8)
    for ax, label in zip(axes[0], labels):
        ax.set_title(label, fontsize=8)
    fig.subplots_adjust(left=0.06, right=0.995, top=0.93, bottom=0.005, wspace=0.03, hspace=0.03)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # 256 colours (octree keeps smooth gradients) make the file a third of the size: sky
    # noise compresses badly.
    Image.open(buffer).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(
        out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=128, help="pixels per panel")
    parser.add_argument("--zoom", type=int, default=2, help="panels show 1/ZOOM of a cutout")
    args = parser.parse_args(argv)
    print(draw_grid(args.out, args.seed, args.size, args.zoom))


if __name__ == "__main__":
    main()
