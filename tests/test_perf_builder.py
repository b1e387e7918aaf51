"""Throughput of JPEG pass-through packing (rows -> Hub-layout Parquet shards), as a ratio to
plain pyarrow writing of the same bytes and labels in the same run (`make bench`)."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmark.dataset import layout as D
from benchmark.dataset.publish import features, write_dataset
from benchmark.dataset.splits import SplitDefinition
from tests.fakes import fake_split

ROWS = 2000


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    frame = fake_split("sdss", "train", 200, image_size=64)
    frame = pd.concat([frame] * (ROWS // len(frame)), ignore_index=True)
    frame["image"] = [cell["bytes"] for cell in frame["image"]]
    frame["split"] = "train"
    return frame


def test_pack_rows_into_hub_shards(benchmark, rows, tmp_path):
    benchmark.group = "builder packing, 2000 rows of 64 px JPEG"
    definition = SplitDefinition.load()
    benchmark(write_dataset, rows, tmp_path, definition, progress=False)
    assert sum(pq.read_metadata(p).num_rows for p in tmp_path.rglob("*.parquet")) == ROWS


def test_reference_plain_pyarrow_write(benchmark, rows, tmp_path):
    benchmark.group = "builder packing, 2000 rows of 64 px JPEG"
    table = pa.Table.from_pandas(rows[list(features())].assign(
        image=[{"bytes": b, "path": None} for b in rows["image"]]), preserve_index=False)
    benchmark(pq.write_table, table, tmp_path / "plain.parquet")
    assert pq.read_metadata(tmp_path / "plain.parquet").num_rows == ROWS
