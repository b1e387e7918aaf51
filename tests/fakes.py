"""Small, valid stand-ins for benchmark data, for tests of the stages downstream of the builder.

`fake_labels` walks the decision tree with Dirichlet-multinomial votes, so counts, fractions
(null where a question was not asked) and totals obey the same rules as real Galaxy Zoo labels.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.dataset import layout as D
from benchmark import registry as R
from benchmark.hub_layout import configs_front_matter, write_split


def fake_labels(n: int, seed: int = 0, volunteers: int = 40) -> pd.DataFrame:
    """Canonical label columns for `n` galaxies (all registry features)."""
    rng = np.random.default_rng(seed)
    counts: dict[str, np.ndarray] = {}
    out: dict[str, np.ndarray] = {}
    for q in R.QUESTIONS:
        if q.parent is not None:
            total = counts[q.parent]
        elif q.name == "odd":  # asked of every galaxy that is not an artifact
            total = counts["smooth"] + counts["featured_or_disk"]
        else:
            total = np.full(n, volunteers)
        probs = rng.dirichlet(np.full(len(q.answers), 0.7), size=n)
        votes = np.stack([rng.multinomial(t, p) for t, p in zip(total, probs)])
        asked = total > 0
        for j, answer in enumerate(q.answers):
            counts[answer] = votes[:, j]
            out[R.count_column(answer)] = votes[:, j].astype("int32")
            frac = np.where(asked, votes[:, j] / np.maximum(total, 1), np.nan)
            out[R.fraction_column(answer)] = frac.astype("float32")
        out[R.total_votes_column(q.name)] = total.astype("int32")
    return pd.DataFrame(out)


def fake_image(seed: int, size: int = 32) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, size=(size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG")
    return buf.getvalue()


def fake_split(survey: str, split: str, n: int, seed: int = 0, image_size: int = 32) -> pd.DataFrame:
    """One split of a benchmark dataset, in the documented columns."""
    labels = fake_labels(n, seed)
    ids = [f"{split}{seed}-{i}" for i in range(n)]
    meta = pd.DataFrame({
        "id_str": [R.make_id(survey, s) for s in ids], "survey": survey, "source_id": ids,
        "group_id": [f"g-{s}" for s in ids],
        "ra": np.linspace(150, 160, n), "dec": np.linspace(0, 5, n),
        "image": [{"bytes": fake_image(seed * 100_003 + i, image_size), "path": None}
                  for i in range(n)],
    })
    return pd.concat([meta, labels], axis=1)


def write_fake_benchmark(root: Path, sizes: dict[tuple[str, str], int], seed: int = 0) -> Path:
    """A benchmark folder in Hub layout; `sizes` maps (survey, split) to a row count."""
    import datasets

    configs: dict[str, dict[str, str]] = {}
    for k, ((survey, split), n) in enumerate(sorted(sizes.items())):
        frame = fake_split(survey, split, n, seed=seed + k)
        features = datasets.Features.from_arrow_schema(
            datasets.Dataset.from_pandas(frame.drop(columns="image")).data.schema)
        features[D.IMAGE_COLUMN] = datasets.Image()
        ds = datasets.Dataset.from_pandas(frame, features=features, preserve_index=False)
        write_split(ds, root / D.DATA_DIR / survey, split)
        configs.setdefault(survey, {})[split] = D.shard_glob(survey, split)
    (root / "README.md").write_text(configs_front_matter(configs) + "\n# Fake benchmark\n")
    return root
