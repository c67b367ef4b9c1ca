"""Keyed identifiers: every published digest of raw input is an HMAC-SHA256 with a per-store secret.

Why: a document's id used to be the first 64 bits of sha256(source, raw bytes). The raw bytes
of a kept document are its published text with the edits undone, except the originals the pii
stage withholds, whose lengths are published; so trying every phone number of that length
against the id gave the number back (bench/id_bruteforce.py). The same held for the version id
and the manifest's ``inputs.sha256`` (hashes of the input files' sha256) whenever every input
file can be rebuilt from the published tables. With the key, a candidate cannot be tested
without it: the ids stay derived from source path and content, but only for the key's holder.

The key: 32 random bytes (``secrets``), created at a store's first build, kept beside the private
table of withheld originals (``<private location>.id-key``; by default
``<store>/_private/pii.id-key``, owner-only locally as ``_private`` is; on S3 under the same
prefix a bucket policy denies readers, or in the ``--private-out`` bucket), read at plan time and
carried by the Plan to every worker (never a global). Its file holds the key in hex on one line,
so it can be backed up, and given to another build with ``--id-key FILE`` (API ``id_key=``):
two stores with the same key and inputs have the same ids and version ids; with different keys
every id differs. The version id takes in the key's *fingerprint* (an HMAC of a constant: it
tells keys apart, it does not give the key), which the manifest also records (``id_key``).

Private working state (the incremental cache, scratch) may keep plain digests: readers never
see it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

KEY_BYTES = 32
SUFFIX = ".id-key"
HEADER = "cleancorpus id key v1"


class IdKeyError(ValueError):
    """A key file that is not a cleancorpus id key (or a key too short)."""


@dataclass(frozen=True)
class IdKey:
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < KEY_BYTES:
            raise IdKeyError(f"an id key must be at least {KEY_BYTES} bytes")

    @classmethod
    def generate(cls) -> "IdKey":
        return cls(secrets.token_bytes(KEY_BYTES))

    @property
    def fingerprint(self) -> str:
        """Names the key without giving it: equal for equal keys, published in the manifest."""
        return hmac.new(self.secret, b"cleancorpus id-key fingerprint", hashlib.sha256).hexdigest()[:16]

    def doc_id(self, source: str, content: bytes) -> str:
        """A document's id: HMAC-SHA256(key, source \\0 raw bytes), the first 64 bits in hex."""
        from .document import stable_id

        return stable_id(source, content, self.secret)

    def file_digest(self, sha256_hex: str) -> str:
        """The published digest of an input file, from its plain sha256 (kept private)."""
        return hmac.new(self.secret, b"file\0" + sha256_hex.encode(), hashlib.sha256).hexdigest()

    def digest(self, data: bytes) -> str:
        """HMAC-SHA256 of any other published digest of raw input (the inputs list)."""
        return hmac.new(self.secret, b"data\0" + data, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never the secret (logs, Prefect task names, tracebacks)
        return f"IdKey(fingerprint={self.fingerprint!r})"

    # -- the file
    def dumps(self) -> str:
        return f"{HEADER}\n{self.secret.hex()}\n"

    @classmethod
    def loads(cls, text: str, where: str = "the key file") -> "IdKey":
        lines = [ln.strip() for ln in text.strip().splitlines()]
        if len(lines) != 2 or lines[0] != HEADER:
            raise IdKeyError(f"{where} is not a cleancorpus id key (expected {HEADER!r} and a line of hex)")
        try:
            return cls(bytes.fromhex(lines[1]))
        except ValueError as exc:
            raise IdKeyError(f"{where}: {exc}") from None

    @classmethod
    def read(cls, path: str | os.PathLike) -> "IdKey":
        """A key from a file (``--id-key FILE``): a local path or an fsspec URL."""
        text = _read(str(path))
        if text is None:
            raise IdKeyError(f"no id key at {path}")
        return cls.loads(text, str(path))


def location(private_uri: str) -> str:
    """Where a store's key lives: beside its private table (``<table>.id-key``), under the same
    access control; a private table at a bucket's root keeps it inside (``_id.id-key``: Delta
    readers and vacuum leave ``_``-prefixed names alone)."""
    uri = private_uri.rstrip("/")
    scheme, sep, rest = uri.partition("://")
    if sep and "/" not in rest:
        return f"{uri}/_id{SUFFIX}"
    return uri + SUFFIX


def _is_remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def _read(uri: str) -> str | None:
    uri = uri.removeprefix("file://")
    try:
        if not _is_remote(uri):
            return Path(uri).read_text("utf-8")
        import fsspec

        fs, path = fsspec.core.url_to_fs(uri, use_listings_cache=False)
        with fs.open(path, "rb") as fh:
            return fh.read().decode("utf-8")
    except FileNotFoundError:
        return None


def _write(uri: str, key: IdKey, replace: bool) -> None:
    """Write the key file; without ``replace`` only if none is there (locally atomic: of two
    first builds racing, one key wins and both read it back; on object storage two first
    builds of one store in the same instant could each write one, the later winning, and the
    earlier's version would then be built with the other key: the store's lock is taken after
    planning, so run a new store's first build once)."""
    uri = uri.removeprefix("file://")
    if not _is_remote(uri):
        path = Path(uri)
        # the key's own directory (``_private``) owner-only, as private.prepare makes it; the
        # store above it (planned before anything is written) with the usual permissions
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700)
        # replacing: a new file renamed over the old, so a crash never leaves half a key
        target, path = path, (path.with_name(path.name + ".new") if replace else path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            return
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key.dumps())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(path, 0o600)
        if path != target:
            os.replace(path, target)
        return
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri, use_listings_cache=False)
    if not replace and fs.exists(path):
        return
    fs.pipe(path, key.dumps().encode("utf-8"))


def load_or_create(private_uri: str, given: IdKey | None = None, previous_uri: str | None = None) -> IdKey:
    """The store's key, read at plan time: ``given`` (``--id-key``) becomes the store's key;
    else the one beside the private table; else the one beside the private table the latest
    version used (moving ``--private-out`` keeps the key, copied to the new place); else a new
    one (a new store, or one written before keyed ids: every id changes once)."""
    here = location(private_uri)
    if given is not None:
        current = _read(here)
        try:
            same = current is not None and IdKey.loads(current, here) == given
        except IdKeyError:  # a damaged key file: the given key replaces it
            same = False
        if not same:
            _write(here, given, replace=True)
        return given
    text = _read(here)
    if text is None and previous_uri is not None and previous_uri != private_uri:
        old = _read(location(previous_uri))
        if old is not None:
            _write(here, IdKey.loads(old, location(previous_uri)), replace=False)
            text = _read(here)
    if text is None:
        _write(here, IdKey.generate(), replace=False)
        text = _read(here)
        if text is None:
            raise IdKeyError(f"could not create the id key at {here}")
    return IdKey.loads(text, here)


def coerce(value: "IdKey | str | os.PathLike | None") -> IdKey | None:
    """``id_key=`` as the API takes it: a key, a key file's path or URL, or None."""
    if value is None or isinstance(value, IdKey):
        return value
    return IdKey.read(value)
