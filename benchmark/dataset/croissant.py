"""`croissant.json`: the folder described in Croissant 1.0 (MLCommons' metadata format, the one
the NeurIPS Datasets & Benchmarks track asks for), so tools can find, verify and read the data
without this package.

Every Parquet shard is a FileObject with its sha256; each survey (a Hub config) is a FileSet
of its shards and a RecordSet whose fields are the dataset's columns plus the split, read from
the shard's file name. Written with `mlcroissant`, which validates the metadata as it builds it.
Nothing in it depends on when or where it was built: same folder, same bytes.
"""

from __future__ import annotations

from pathlib import Path

from ..fingerprint import file_sha256
from ..jsonfile import write_json
from . import layout as D

CROISSANT_FILE = "croissant.json"
#: Licences the benchmark may carry, as the URLs Croissant wants.
LICENSE_URLS = {"cc-by-nc-sa-4.0": "https://creativecommons.org/licenses/by-nc-sa-4.0/"}
#: The split is the part of a shard's name before `-00000-of-00002.parquet`
#: (`hub_layout.SHARD_TEMPLATE`).
SPLIT_REGEX = r"^(?:.*/)?([a-z_]+)-\d{5}-of-\d{5}\.parquet$"
#: Croissant 1.0 has no sized numbers: every float is sc:Float, every integer sc:Integer.
_SCHEMA_TYPES = {"string": "TEXT", "float32": "FLOAT", "float64": "FLOAT", "int32": "INTEGER"}


def _data_type(mlc, feature) -> str:
    """The schema.org type of a `datasets` feature."""
    import datasets

    if isinstance(feature, datasets.Image):
        return mlc.DataType.IMAGE_OBJECT
    return getattr(mlc.DataType, _SCHEMA_TYPES[feature.dtype])


def shards(root: Path) -> list[Path]:
    """The folder's Parquet shards, in a fixed order."""
    return sorted((root / D.DATA_DIR).rglob("*.parquet"))


def shard_digests(root: Path) -> dict[str, str]:
    """sha256 of every shard by its path in the folder: computed once per build, for
    croissant.json and then the manifest."""
    return {p.relative_to(root).as_posix(): file_sha256(p) for p in shards(root)}


def _file_object(mlc, ctx, root: Path, rel: str, sha256: str):
    return mlc.FileObject(ctx=ctx, id=rel, name=rel, content_url=rel,
                          content_size=f"{(root / rel).stat().st_size} B",
                          encoding_formats=[mlc.EncodingFormat.PARQUET], sha256=sha256)


def _record_set(mlc, ctx, survey: str, spec):
    """One survey's rows: every column of `spec`, then the split from the shard's name."""
    files = f"{survey}-parquet"

    def field(name: str, data_type: str, extract, transforms=()):
        return mlc.Field(ctx=ctx, id=f"{survey}/{name}", name=name, data_types=[data_type],
                         source=mlc.Source(ctx=ctx, file_set=files, extract=extract,
                                           transforms=list(transforms)))

    fields = [field(name, _data_type(mlc, kind), mlc.Extract(ctx=ctx, column=name),
                    [mlc.Transform(ctx=ctx, json_path="bytes")] if name == D.IMAGE_COLUMN else ())
              for name, kind in spec.items()]
    fields.append(field("split", mlc.DataType.TEXT, mlc.Extract(ctx=ctx, file_property="fullpath"),
                        [mlc.Transform(ctx=ctx, regex=SPLIT_REGEX)]))
    return mlc.RecordSet(ctx=ctx, id=survey, name=survey, key=[f"{survey}/id_str"], fields=fields,
                         description=f"The `{survey}` config: one row per galaxy image.")


def metadata(root: Path, spec, surveys: list[str], digests: dict[str, str], *, name: str,
             description: str, version: str, license: str, url: str, cite_as: str,
             keywords: list[str]) -> dict:
    """The Croissant JSON-LD of the folder `root` (shards already written; `digests` from
    `shard_digests`)."""
    import mlcroissant as mlc

    ctx = mlc.Context()
    distribution = [_file_object(mlc, ctx, root, rel, sha) for rel, sha in digests.items()]
    distribution += [mlc.FileSet(ctx=ctx, id=f"{s}-parquet", name=f"{s}-parquet",
                                 encoding_formats=[mlc.EncodingFormat.PARQUET],
                                 includes=[f"{D.DATA_DIR}/{s}/*.parquet"]) for s in surveys]
    meta = mlc.Metadata(ctx=ctx, name=name, description=description, version=version,
                        license=[LICENSE_URLS.get(license, license)], url=url, cite_as=cite_as,
                        keywords=keywords, distribution=distribution,
                        record_sets=[_record_set(mlc, ctx, s, spec) for s in surveys])
    return meta.to_json()


def write_croissant(root: Path, spec, surveys: list[str], digests: dict[str, str],
                    **fields) -> None:
    """Write `croissant.json` into `root` (see `metadata` for the fields)."""
    write_json(root / CROISSANT_FILE, metadata(root, spec, surveys, digests, **fields))
