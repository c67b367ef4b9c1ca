"""Plain files for people who want files: a version's tables as JSONL or Parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from .. import jsonsafe
from .store import StoreError, Version
from .tables import DATA_TABLES, DOCUMENTS, DUPLICATES, EDITS, OUTCOMES, metadata_of, scan

FORMATS = ("jsonl", "parquet")


def export(version: Version, to: str | Path, fmt: str = "jsonl") -> dict[str, Path]:
    """Write documents, duplicates, edits and outcomes of ``version`` into ``to`` (one file each,
    rows in the tables' order) plus ``manifest.json`` (the summary). JSONL documents are
    ``{id, text, source, metadata}`` with the metadata as one object; Parquet keeps the tables'
    columns (``metadata`` a struct, ``metadata_extra`` the JSON of values that are not fields)."""
    if fmt not in FORMATS:
        raise StoreError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    version = version.published()  # never the originals of the private table (store/private.py)
    out = Path(to)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in DATA_TABLES:
        path = out / f"{name}.{fmt}"
        tmp = path.with_name(f".{path.name}.tmp")
        if fmt == "parquet":
            _parquet(version, name, tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                for row in _json_rows(version, name):
                    fh.write(jsonsafe.dumps(row) + "\n")
        tmp.replace(path)
        written[name] = path
    manifest = out / "manifest.json"
    manifest.write_text(jsonsafe.dumps(version.manifest, indent=1) + "\n", encoding="utf-8")
    written["manifest"] = manifest
    return written


def _parquet(version: Version, name: str, path: Path) -> None:
    dataset = version.table(name).to_pyarrow_dataset()
    with pq.ParquetWriter(path, dataset.schema, compression="zstd") as w:
        for batch in scan(dataset):
            w.write_batch(batch)


def _json_rows(version: Version, name: str):
    if name in (DOCUMENTS, DUPLICATES):
        for doc in version._documents(name, name == DUPLICATES):
            yield doc.to_record() if name == DUPLICATES else doc.to_row()
    elif name == EDITS:
        for doc_id, edits in version.edits().items():
            yield {"id": doc_id, "edits": [e.to_dict() for e in edits]}
    elif name == OUTCOMES:
        for o in version.outcomes():
            yield o.to_dict()


__all__ = ["FORMATS", "export", "metadata_of"]
