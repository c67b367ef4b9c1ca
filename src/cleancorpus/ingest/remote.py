"""Inputs on object storage (``s3://bucket/raw``, ``gs://...``), listed through fsspec.

Credentials and endpoint come from the filesystem's usual configuration; for S3 the standard
``AWS_*`` variables (``AWS_ENDPOINT_URL`` for an S3-compatible server). The listing gives the
same InputFile records as a local directory (relpath below the prefix, sorted, unsupported
types flagged), and every reader gets the file as an open binary stream (``InputFile.open``),
so local and remote inputs are read by the same code.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import InputFile


def is_remote(location: str | os.PathLike) -> bool:
    s = str(location)
    return "://" in s and not s.startswith("file://")


def list_remote(url: str, supported: set[str]) -> list["InputFile"]:
    import fsspec

    from . import InputFile, input_format

    fs, root = fsspec.core.url_to_fs(url, use_listings_cache=False)  # a scheduled run must see new files
    root = root.rstrip("/")
    try:
        found = fs.find(root, detail=True)
    except FileNotFoundError:
        found = {}
    if not found and not fs.isdir(root):
        raise FileNotFoundError(f"input location {url} does not exist or holds no files")
    files = []
    for key, info in found.items():
        if info.get("type") != "file":
            continue
        path = PurePosixPath(key)
        rel = path.relative_to(root).as_posix()
        if input_format(path.name) is None:  # multi-part endings too (.warc.gz, .jsonl.zst)
            files.append(InputFile(path, rel, f"unsupported file type {path.suffix or '(no extension)'!r}; "
                                              f"supported: {', '.join(sorted(supported))}", fs))
            continue
        files.append(InputFile(path, rel, None, fs))
    files.sort(key=lambda f: f.relpath)
    return files
