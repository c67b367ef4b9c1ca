"""Bytes to text: UTF-8 when it is UTF-8, a detected encoding (recorded as an edit) when not,
and a clear rejection for binary data."""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass
from typing import Sequence

import charset_normalizer

from ..document import Document, Replacement

STAGE = "ingest"


@dataclass(frozen=True, slots=True)
class Decoded:
    naive: str  # the bytes read as UTF-8, undecodable bytes as U+FFFD
    text: str  # the best decoding
    reason: str | None = None

    def apply_to(self, doc: Document) -> Document:
        """Record the move from the naive reading to the detected encoding as edits."""
        if self.text == self.naive:
            return doc
        matcher = difflib.SequenceMatcher(None, self.naive, self.text, autojunk=False)
        reps = [
            Replacement(i1, i2, self.text[j1:j2], self.reason or "re-decoded")
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
        ]
        return doc.revise(STAGE, reps, metadata={"encoding": self.reason})


_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 12, 13))


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or more than 10% control bytes, in the first 8 KiB: no text file looks so."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text carries NUL bytes
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL))
    return controls * 10 > len(head)


# Among guesses that read equally cleanly (same "chaos"), the encodings most common on the web
# win: charset-normalizer alone ranks DOS and Baltic code pages first on short Western text
# (measured: cp1252 French came back as cp1250, cp1250 Hungarian as cp775).
WEB_PREFERENCE = ("cp1252", "cp1250", "iso8859_2", "cp1251", "koi8_r", "iso8859_15", "gb18030",
                  "big5", "shift_jis", "euc_jp", "euc_kr", "cp1253", "cp1254", "cp1255", "cp1256")


def _best_guess(data: bytes):
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return None
    least = min(m.chaos for m in matches)
    clean = [m for m in matches if m.chaos <= least + 1e-9]
    rank = {enc: i for i, enc in enumerate(WEB_PREFERENCE)}
    return min(clean, key=lambda m: (rank.get(m.encoding, len(rank)), matches.index(m)))


def decode_bytes(data: bytes, declared: Sequence[tuple[str, str]] = ()) -> Decoded | str:
    """A Decoded, or a string saying why these bytes are not a text document.

    UTF-8 when the bytes are UTF-8 (a page labelled latin-1 that is really UTF-8 is common; the
    reverse, non-UTF-8 bytes that happen to be valid UTF-8, is rare beyond pure ASCII); else the
    first ``declared`` (charset, where) that decodes the bytes without error; else detection."""
    if not data:
        return "empty file"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if looks_binary(data):
        return "binary file (NUL or control bytes), not text"
    try:
        text = data.decode("utf-8")
        return Decoded(text, text)
    except UnicodeDecodeError:
        pass
    naive = data.decode("utf-8", errors="replace")
    for charset, where in declared:
        text = _decode_declared(data, charset)
        if text is not None:
            enc = _WHATWG_ALIASES.get(charset.lower(), charset.lower())
            return Decoded(naive, text, f"not valid UTF-8; decoded as {enc} (declared in {where})")
    best = _best_guess(data)
    if best is None:
        # not text in any encoding we know; keep what UTF-8 can read only if it is mostly text
        if naive.count("\ufffd") > len(naive) // 10:
            return "binary or undecodable file: no text encoding fits"
        return Decoded(naive, naive)
    text = str(best)
    if text == naive:
        return Decoded(naive, naive)
    return Decoded(naive, text, f"not valid UTF-8; decoded as {best.encoding}")


# The WHATWG Encoding Standard reads these labels as windows-1252, as every browser does: pages
# labelled latin-1 are nearly always cp1252 (curly quotes in 0x80-0x9F).
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
                   "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "windows-1252": "cp1252"}


def _decode_declared(data: bytes, charset: str) -> str | None:
    name = _WHATWG_ALIASES.get(charset.strip().lower(), charset.strip().lower())
    try:
        if codecs.lookup(name).name in ("utf-8", "utf-8-sig"):
            return None  # not valid UTF-8 (checked before): the label is wrong
        return data.decode(name)
    except (LookupError, UnicodeDecodeError):
        return None  # unknown label, or bytes the declared charset cannot read: detect instead
