"""Learn spinner swaps from the corpus: find (spun, clean) near-duplicate pairs and align them.

A spun document and the clean document it was spun from say the same thing word for word apart
from the swaps, so aligning the two shows the swaps ("aid" where the clean copy has "help",
"in ~" where it has "at"). The spun stage learns them at fit time, before dedup runs, so this
module carries its own cheap pair finder built from dedup's pieces: word-3-gram shingles
(dedup/shingles.py), MinHash signatures (dedup/minhash.py) and LSH band keys (dedup/lsh.py),
with more, shorter bands than dedup uses, because spinning breaks many 5-grams (raw/000 and
raw/001 share 45% of their 5-grams but more of their 3-grams). Candidates are checked by
aligning their words (difflib): a pair is kept when most of the shorter document's words align.

Everything here is a pure function of the documents' sketches, so the spun stage's statistics
stay mergeable and exact: a shard's statistics are its documents' sketches, a merge is their
union sorted by document id, and pairs are found only once all are known (``finish_fit``).
"""

from __future__ import annotations

import difflib
import zlib
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

# dedup's pieces are imported where used: the dedup package imports the configuration, which
# imports the stages, so importing it here at module load would be circular
SHINGLE_SIZE, NUM_PERM, SEED = 3, 64, 1717
ROWS = 2  # 32 bands of 2 rows: a pair of 3-gram Jaccard 0.3 shares a band with probability 0.95
MIN_WORDS = 30  # shorter documents are not paired (too little text to align reliably)
# longer ones are not paired either: word alignment (difflib) of two such documents can take
# seconds, and fit runs no time limit once the sketches are merged
MAX_CHARS = 200_000
MAX_BUCKET = 50  # a bigger LSH bucket pairs each member with its first document only
MIN_AGREEMENT = 0.1  # share of equal signature slots for a candidate pair
MIN_ALIGNED = 0.5  # share of the shorter document's words that must align for a pair (000 vs 001: 0.57)
MAX_SWAP_WORDS = 4  # a swap replaces at most this many words with at most this many
MAX_CONTEXTS = 3


@dataclass(frozen=True)
class Sketch:
    """What the spun stage keeps of one document for pairing: its id, MinHash signature, spin
    score and the compressed text (needed to align the pair once it is found)."""

    doc_id: str
    signature: bytes  # NUM_PERM little-endian uint32
    score: float
    text_z: bytes
    counted: bool = False  # its words went into the statistics' clean-document counts

    @property
    def text(self) -> str:
        return zlib.decompress(self.text_z).decode("utf-8", "surrogatepass")


def sketch(doc_id: str, text: str, score: float, counted: bool = False) -> Sketch | None:
    from .dedup.exact import normalize_for_hash
    from .dedup.minhash import MinHashParams, signatures
    from .dedup.shingles import shingle_set

    if len(text) > MAX_CHARS:
        return None
    normalized = normalize_for_hash(text)
    if len(normalized.split()) < MIN_WORDS:
        return None
    sig = signatures([shingle_set(normalized, SHINGLE_SIZE)], MinHashParams(SHINGLE_SIZE, NUM_PERM, SEED))
    return Sketch(doc_id, sig[:, 0].astype("<u4").tobytes(), score,
                  zlib.compress(text.encode("utf-8", "surrogatepass"), 6), counted)


def candidate_pairs(sketches: Sequence[Sketch]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of sketches that share a band key and whose signatures agree in at
    least MIN_AGREEMENT of their slots (an estimate of the 3-gram Jaccard: raw/000 and raw/001
    are at 0.20, unrelated documents near 0.01). The filter runs band by band, so unrelated pairs
    that share one band by chance are dropped before they pile up."""
    from .dedup.lsh import band_keys, bucket_pairs

    if len(sketches) < 2:
        return []
    sigs = np.stack([np.frombuffer(s.signature, dtype="<u4") for s in sketches])
    index = np.arange(len(sketches), dtype=np.int64)
    kept = [np.zeros((0, 2), dtype=np.int64)]
    for b in range(0, NUM_PERM, ROWS):
        pairs = bucket_pairs(band_keys(sigs[:, b:b + ROWS].T), index, MAX_BUCKET)
        if pairs.size:
            agree = (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1)
            kept.append(np.sort(pairs[agree >= MIN_AGREEMENT], axis=1))
    found = np.unique(np.concatenate(kept), axis=0)
    return [(int(i), int(j)) for i, j in found]


@dataclass(frozen=True)
class Swap:
    spun: tuple[str, ...]  # lower case
    original: tuple[str, ...]  # as the clean copy writes it
    left: str  # the word before (context, lower case; "" at the start)
    right: str


def align(spun_words: Sequence[str], clean_words: Sequence[str]) -> tuple[float, list[Swap]]:
    """The share of the shorter side's words that align, and the word substitutions between the
    two (a run of up to MAX_SWAP_WORDS spun words replaced by up to MAX_SWAP_WORDS clean words,
    between aligned words on both sides; a run of as many words on both sides is taken word by
    word). Case-only differences are filtered by the caller."""
    a = [w.lower() for w in spun_words]
    b = [w.lower() for w in clean_words]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    blocks = sm.get_matching_blocks()
    matched = sum(m.size for m in blocks)
    share = matched / max(1, min(len(a), len(b)))
    swaps = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "replace" or i2 - i1 > MAX_SWAP_WORDS or j2 - j1 > MAX_SWAP_WORDS:
            continue
        if i1 == 0 or j1 == 0 or i2 == len(a) or j2 == len(b):
            continue  # a swap sits between aligned words on both sides
        if i2 - i1 == j2 - j1:  # adjacent one-word swaps ("additionally stated" for "also said")
            for k in range(i2 - i1):
                swaps.append(Swap((a[i1 + k],), (clean_words[j1 + k],), a[i1 + k - 1], a[i1 + k + 1]))
        else:
            swaps.append(Swap(tuple(a[i1:i2]), tuple(clean_words[j1:j2]), a[i1 - 1], a[i2]))
    return share, swaps


@dataclass
class MinedSwap:
    """One learned swap with its provenance: the pairs it was seen in, how often, and where."""

    spun: tuple[str, ...]
    original: str
    count: int = 0
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (spun doc id, clean doc id)
    contexts: list[str] = field(default_factory=list)  # "left [spun -> original] right"
    # how often the spun words occur as themselves in the pairs' clean members: a swap seen
    # often and almost never written by the clean side is a fingerprint of this corpus's spinner
    clean_uses: int = 0

    @property
    def odds(self) -> float:
        return self.count / (self.clean_uses + 1)


def mine(pairs: Iterable[tuple[str, Sequence[str], str, Sequence[str]]], usable,
         aligned=None) -> dict[tuple[tuple[str, ...], str], MinedSwap]:
    """Swaps of (spun id, spun words, clean id, clean words) pairs, keyed by (spun words,
    original). ``usable(swap)`` filters (the stage keeps word swaps, not numbers or names).
    ``aligned(spun id, clean id, spun words, clean words)``, when given, stands for
    ``align(spun words, clean words)[1]`` (a memo of it)."""
    out: dict[tuple[tuple[str, ...], str], MinedSwap] = {}
    cleans: dict[str, Sequence[str]] = {}
    for spun_id, spun_words, clean_id, clean_words in pairs:
        cleans[clean_id] = clean_words
        swaps = (aligned(spun_id, clean_id, spun_words, clean_words) if aligned is not None
                 else align(spun_words, clean_words)[1])
        for s in swaps:
            if not usable(s):
                continue
            original = " ".join(s.original)
            m = out.setdefault((s.spun, original), MinedSwap(s.spun, original))
            m.count += 1
            if (spun_id, clean_id) not in m.pairs:
                m.pairs.append((spun_id, clean_id))
            if len(m.contexts) < MAX_CONTEXTS:
                m.contexts.append(f"{s.left} [{' '.join(s.spun)} -> {original}] {s.right}")
    by_spun: dict[tuple[str, ...], list[MinedSwap]] = {}
    for m in out.values():
        by_spun.setdefault(m.spun, []).append(m)
    lengths = {len(k) for k in by_spun}
    for clean_id in sorted(cleans):
        low = [w.lower() for w in cleans[clean_id]]
        for n in lengths:
            for i in range(len(low) - n + 1):
                for m in by_spun.get(tuple(low[i:i + n]), ()):
                    m.clean_uses += 1
    return out
