"""Trigram counts of a corpus's clean documents, and the decoder that reads them (issue 17).

The bigram model (lm.py) cannot settle many of a spinner's swaps from the word on the left
alone: "payloads come and" against "payloads to and", "the book yet it's" against "the book
but it's". A corpus's own clean text often has the three-word phrase. ``TrigramCounts`` keeps
the clean documents' word triples that hold at least one lexicon word (the only places readings
differ, as for ``CorpusCounts``' bigrams); ``TrigramLM`` reads them on top of a ``BigramLM``:

    P(w | a, b) = (c(a b w) + k * P_bigram(w | b)) / (n(a b) + k)

where ``n(a b)`` is the total of the kept triples that start with ``a b`` and ``k`` the weight
of the bigram model (a Dirichlet prior). A context the corpus never showed falls back to the
bigram model exactly. When neither ``a`` nor ``b`` is a lexicon word, ``n(a b)`` counts only
the kept triples, not every occurrence of ``a b``; such a context is the same on every reading
the decoder compares at ``w`` (readings differ only at lexicon words), so the normaliser cancels
out of every choice and every gain the spun stage computes from them.

``viterbi3`` decodes with the last two output words as the state. ``decode3``/``margin3`` are
what the spun stage calls when its model is a ``TrigramLM`` (bigram models go to spunreads.py):
a sentence is decoded island by island like there, each island widened by the two tokens
after its candidate swaps (their probabilities depend on the reading's last two words) and
started from the two words before it. Through a ``spunreads.ModelView`` the trigram reads are
quantised and recorded; each must answer the same for a reuse (no budgets, unlike the bigram
islands).

Counts are Counters of normalised word triples, so shard counts merge exactly in any order.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .lm import Arc, BigramLM, Path, PivotCounts, norm
from .spunreads import islands

# weight of the bigram model in a trigram context the corpus has seen (chosen on the dev split)
PRIOR = 300.0
MEMO_SIZE = 1 << 17


@dataclass
class TrigramCounts(PivotCounts):
    """Counts of normalised word triples inside sentences, restricted to triples with at least
    one word in ``pivots`` (when given)."""

    trigrams: Counter = field(default_factory=Counter)
    pivots: frozenset[str] | None = None
    COUNTERS = ("trigrams",)
    KIND = "trigram counts"

    def add(self, sentences: Iterable[Sequence[str]]) -> None:
        pivots = self.pivots
        for words in sentences:
            normed = [norm(w) for w in words]
            triples = zip(normed, normed[1:], normed[2:])
            if pivots is not None:
                triples = (t for t in triples if t[0] in pivots or t[1] in pivots or t[2] in pivots)
            self.trigrams.update(triples)


class TrigramLM:
    """A ``BigramLM`` with a corpus's trigram counts on top. Everything the spun stage asks of a
    language model goes through its methods (``logp``, ``logp3``, ``p_unigram``, ``count``,
    ``knows``, ``score``)."""

    def __init__(self, base: BigramLM, counts: TrigramCounts, prior: float = PRIOR) -> None:
        if prior <= 0:
            raise ValueError(f"trigram prior must be > 0, not {prior}")
        self.base = base
        self.counts = counts
        self.prior = prior
        contexts: Counter = Counter()
        for (a, b, _), c in counts.trigrams.items():
            contexts[(a, b)] += c
        self._contexts = contexts
        self._memo: dict[tuple[str, str, str], float] = {}

    def __getstate__(self) -> dict:
        return dict(self.__dict__, _memo={})

    @property
    def corpus(self):
        return self.base.corpus

    # the bigram model's answers, unchanged
    def logp(self, prev: str | None, w: str) -> float:
        return self.base.logp(prev, w)

    def p_unigram(self, w: str) -> float:
        return self.base.p_unigram(w)

    def count(self, word: str) -> int:
        return self.base.count(word)

    def knows(self, word: str) -> bool:
        return self.base.knows(word)

    def logp3(self, prev2: str | None, prev: str | None, w: str) -> float:
        """log P(w | prev2 prev) for normalised words (None: no such context word)."""
        if prev2 is None or prev is None:
            return self.logp(prev, w)
        n = self._contexts.get((prev2, prev))
        if not n:
            return self.logp(prev, w)
        key = (prev2, prev, w)
        value = self._memo.get(key)
        if value is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            c = self.counts.trigrams.get(key, 0)
            k = self.prior
            value = self._memo[key] = math.log((c + k * math.exp(self.logp(prev, w))) / (n + k))
        return value

    def score(self, words: Sequence[str]) -> float:
        """Log probability of a word sequence (already normalised)."""
        total, a, b = 0.0, None, None
        for w in words:
            total += self.logp3(a, b, w)
            a, b = b, w
        return total


def viterbi3(lm: TrigramLM, n: int, arcs: Sequence[Arc], breaks: frozenset[int] = frozenset(),
             start: int = 0, context: tuple[str | None, str | None] = (None, None)) -> Path:
    """``lm.viterbi`` with the last two output words as the state, scored with ``lm.logp3``
    (``start``/``context``: tokens start..n only, the two words before ``start`` given)."""
    by_start: dict[int, list[Arc]] = {}
    for a in arcs:
        by_start.setdefault(a.start, []).append(a)
    best: list[dict[tuple, tuple[float, tuple | None]]] = [dict() for _ in range(n + 1 - start)]
    best[0][context] = (0.0, None)
    for pos in range(start, n):
        for last, (score, back) in best[pos - start].items():
            ctx = (None, None) if pos in breaks else last
            for arc in by_start.get(pos, ()):
                s, (p2, p1) = score - arc.cost, ctx
                for w in arc.words:
                    x = norm(w)
                    s += lm.logp3(p2, p1, x)
                    p2, p1 = p1, x
                key = (p2, p1) if arc.words else ctx
                cur = best[arc.end - start].get(key)
                if cur is None or s > cur[0]:
                    best[arc.end - start][key] = (s, (arc, back))
    if not best[n - start]:
        raise ValueError("no path through the arcs")
    score, back = max(best[n - start].values(), key=lambda v: v[0])
    chosen: list[Arc] = []
    while back is not None:
        arc, back = back
        chosen.append(arc)
    return Path(tuple(reversed(chosen)), score)


def chain3(lm: TrigramLM, words: Sequence[str], breaks: frozenset[int] = frozenset(),
           context: tuple[str | None, str | None] = (None, None)) -> float:
    """The score ``viterbi3`` gives when every token has only its identity arc (same additions
    in the same order, so the same float; ``context``: the two words before the first)."""
    score, (p2, p1) = 0.0, context
    for pos, w in enumerate(words):
        if pos in breaks:
            p2 = p1 = None
        x = norm(w)
        score += lm.logp3(p2, p1, x)
        p2, p1 = p1, x
    return score


def is_trigram(lm: object) -> bool:
    """Whether a model (or spunreads.ModelView of one) is a ``TrigramLM``."""
    return isinstance(getattr(lm, "model", lm), TrigramLM)


@dataclass(frozen=True)
class Island3:
    lo: int  # token range [lo, hi) of the sentence
    hi: int
    context: tuple[str | None, str | None]  # the two normalised words before lo (None: none)
    best: float  # best reading's score over the island
    plain: float  # the text as it stands, over the island


@dataclass(frozen=True)
class Path3(Path):
    islands: tuple[Island3, ...] = ()


def _context(words: Sequence[str], lo: int, breaks: frozenset[int]) -> tuple[str | None, str | None]:
    """The state ``viterbi3`` is in when it reaches token ``lo`` on the text as it stands."""
    if lo == 0 or lo in breaks:
        return (None, None)
    b = norm(words[lo - 1])
    a = None if lo - 1 == 0 or lo - 1 in breaks else norm(words[lo - 2])
    return (a, b)


def decode3(lm, n: int, arcs: Sequence[Arc], breaks: frozenset[int], words: Sequence[str]) -> tuple[Path3, float]:
    """Best reading of a sentence under a trigram model (its arcs, identity arcs first) and its
    gain over the text as it stands, island by island (``spunreads.islands`` with two tokens after): tokens outside every
    island add the same to every path, so only the trigrams around candidate swaps are read.
    Through a recorder every one of those reads must stay the same for a reuse (no budgets)."""
    chosen: list[Arc] = []
    found: list[Island3] = []
    pos, gain, score = 0, 0.0, 0.0
    for lo, hi in islands(n, arcs, breaks, after=2):
        chosen.extend(arcs[pos:lo])
        ctx = _context(words, lo, breaks)
        inside = [a for a in arcs if lo <= a.start and a.end <= hi]
        best = viterbi3(lm, hi, inside, breaks, start=lo, context=ctx)
        plain = chain3(lm, words[lo:hi], frozenset(b - lo for b in breaks if lo <= b < hi), context=ctx)
        found.append(Island3(lo, hi, ctx, best.score, plain))
        chosen.extend(best.arcs)
        gain += best.score - plain
        score += best.score
        pos = hi
    chosen.extend(arcs[pos:n])
    return Path3(tuple(chosen), score, tuple(found)), gain


def margin3(lm, path: Path3, arc: Arc, kept: Sequence[Arc], breaks: frozenset[int]) -> float:
    """How much better the best reading is than the best one with only ``kept`` arcs, on the
    island ``arc`` lies in (the others are the same on both)."""
    for isl in path.islands:
        if isl.lo <= arc.start < isl.hi:
            inside = [a for a in kept if isl.lo <= a.start and a.end <= isl.hi]
            return isl.best - viterbi3(lm, isl.hi, inside, breaks, start=isl.lo, context=isl.context).score
    raise ValueError("arc outside every island")
