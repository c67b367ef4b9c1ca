"""A small word-bigram language model and a Viterbi decoder over candidate lattices.

The web counts are the unigram and bigram frequency dictionaries that ship inside symspellpy
(no download). The bigram list is truncated (only pairs seen at least 6.4 million times), so a
missing pair means "rarer than that", and the back-off is capped accordingly. Counts from a
corpus's own clean documents can be mixed in (``with_corpus``) so that its names and phrasing
are known to the model.

Unigrams are interpolated with ``wordfreq``'s English frequencies (several sources: news, web,
subtitles, Wikipedia, books; data shipped in the wheel), which know the words symspellpy's 82k
list lacks ("vapor", "centered", "tweeted" were out of vocabulary, 5,000 times rarer than they
are, so any synonym of theirs looked like a repair).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

from wordfreq import word_frequency

# Ratio between the bigram and unigram dictionaries' totals: the bigram counts come from a
# larger collection. Measured as sum_x c(w x) / c(w) for frequent w ("is": 53, "to": 47);
# 60 leaves room for the pairs the truncated list lacks.
BIGRAM_SCALE = 60.0
# The smallest count in symspellpy's bigram dictionary: absent pairs are rarer than this.
BIGRAM_FLOOR = 6_400_000
BACKOFF = 0.4
OOV_COUNT = 50_000  # a word the dictionary lacks (names) is rare but not impossible
NUMBER = "<num>"
# symspellpy's lists hold no digits; numbers are roughly one running word in a hundred of news
# and web text, so "<num>" gets that share: the spinner's "2 years" must compete fairly with
# "two years", and "November 4" must not turn into "November four"
NUMBER_SHARE = 0.01
_DIGIT = re.compile(r"\d")
# share of wordfreq's frequency in the unigram probability of a word symspellpy knows (a word it
# lacks takes wordfreq's alone, when wordfreq knows it)
WORDFREQ_WEIGHT = 0.5
# ... but only for words symspellpy counts rarer than this (relative frequency). The frequent
# (function) words are where the bigram model backs off most, and wordfreq rates them 1.2-2.4x
# higher than symspellpy ("come" 2.1x, "to" 1.2x): mixing it in there tilts the near-ties between
# a spinner's function-word swaps ("come"/"to", "yet"/"but") without knowing more. Chosen on the
# dev split (issue swaps 0.0131 -> 0.0127; 1e-4 ties, the lower bound changes fewer words).
WORDFREQ_BELOW = 5e-5
MEMO_SIZE = 1 << 17  # remembered log probabilities per model (about 20 MB at most)


@lru_cache(maxsize=1 << 16)
def wordfreq_p(word: str) -> float:
    return word_frequency(word, "en")


@lru_cache(maxsize=1 << 16)  # called for every word of every reading the decoder weighs
def norm(word: str) -> str:
    """The form the model knows a word by: lower case, straight apostrophe, numbers as one class."""
    if _DIGIT.search(word):
        return NUMBER
    return word.lower().replace("\u2019", "'")


class PivotCounts:
    """Counters of word n-grams in sentences (the fields named in ``COUNTERS``), restricted by
    ``pivots``: the exact subtraction and merge the bigram and trigram counts share."""

    COUNTERS: tuple[str, ...] = ()
    KIND = "counts"  # what the counts are called in an error
    pivots: frozenset[str] | None

    def without(self, part: "PivotCounts") -> "PivotCounts":
        """These counts less those of some of the same sentences (exact: ``part`` was counted in)."""
        out = type(self)(pivots=self.pivots, **{f: Counter(getattr(self, f)) for f in self.COUNTERS})
        for f in self.COUNTERS:
            counts = getattr(out, f)
            for k, v in getattr(part, f).items():  # (one pass over the part, not three over the whole)
                n = counts.get(k, 0) - v
                if n > 0:
                    counts[k] = n
                else:  # the zeros are dropped (as ``+counts`` would)
                    counts.pop(k, None)
        return out

    @classmethod
    def merged(cls, parts: Sequence["PivotCounts"]) -> "PivotCounts":
        """Counts of the union of the parts' sentences (exact, in any order)."""
        pivots = {p.pivots for p in parts}
        if len(pivots) > 1:
            raise ValueError(f"cannot merge {cls.KIND} restricted to different pivot words")
        total = cls(pivots=pivots.pop() if pivots else None)
        for p in parts:
            for f in cls.COUNTERS:
                getattr(total, f).update(getattr(p, f))
        return total


@dataclass
class CorpusCounts(PivotCounts):
    """Unigram and bigram counts of normalised words, learned from a corpus's clean documents.

    ``pivots``, when given, restricts the bigrams to pairs with at least one word in it. A
    decoder that can only choose between readings of those words (a lexicon's entries) needs
    no other pair: any other pair lies on every reading alike, so its probability adds the same
    to every path and cannot change which one wins, nor by how much. Distinct bigrams grow
    almost linearly with a corpus; this keeps the share that matters.
    """

    unigrams: Counter = field(default_factory=Counter)
    bigrams: Counter = field(default_factory=Counter)
    pivots: frozenset[str] | None = None
    COUNTERS = ("unigrams", "bigrams")
    KIND = "corpus counts"

    def add(self, sentences: Iterable[Sequence[str]]) -> None:
        pivots = self.pivots
        for words in sentences:
            normed = [norm(w) for w in words]
            self.unigrams.update(normed)
            pairs = zip(normed, normed[1:])
            if pivots is not None:
                pairs = ((a, b) for a, b in pairs if a in pivots or b in pivots)
            self.bigrams.update(pairs)


class BigramLM:
    def __init__(self, unigrams: dict[str, int], bigrams: dict[tuple[str, str], int],
                 corpus: CorpusCounts | None = None, corpus_weight: float = 0.5,
                 wordfreq_weight: float = WORDFREQ_WEIGHT, wordfreq_below: float = WORDFREQ_BELOW) -> None:
        self._uni = unigrams
        self._bi = bigrams
        self._total = float(sum(unigrams.values()))
        self.corpus = corpus or CorpusCounts()
        self._corpus_weight = corpus_weight
        self.wordfreq_weight = wordfreq_weight
        self.wordfreq_below = wordfreq_below
        self._corpus_total = float(sum(self.corpus.unigrams.values()))
        self._memo: dict[tuple[str | None, str], float] = {}

    def __getstate__(self) -> dict:
        # the web dictionaries ship with symspellpy: a pickled model refers to them, not copies
        state = dict(self.__dict__, _memo={})
        if self._uni is web_lm()._uni and self._bi is web_lm()._bi:
            state["_uni"] = state["_bi"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("wordfreq_below", WORDFREQ_BELOW)  # pickled before it existed
        if state["_uni"] is None:
            state["_uni"], state["_bi"] = web_lm()._uni, web_lm()._bi
        self.__dict__.update(state)

    def with_corpus(self, corpus: CorpusCounts, weight: float | None = None) -> "BigramLM":
        """The same model with a corpus's counts mixed in (``weight``: their share; this model's
        when None)."""
        weight = self._corpus_weight if weight is None else weight
        return BigramLM(self._uni, self._bi, corpus, weight, self.wordfreq_weight, self.wordfreq_below)

    def with_wordfreq(self, weight: float, below: float | None = None) -> "BigramLM":
        """The same model with another wordfreq share (0: symspellpy's unigrams alone), mixed
        into words symspellpy counts rarer than ``below`` (this model's bound when None)."""
        below = self.wordfreq_below if below is None else below
        return BigramLM(self._uni, self._bi, self.corpus, self._corpus_weight, weight, below)

    def knows(self, word: str) -> bool:
        w = norm(word)
        return w in self._uni or self.corpus.unigrams[w] > 0

    def count(self, word: str) -> int:
        return self._uni.get(norm(word), 0)

    def p_unigram(self, w: str) -> float:
        if w == NUMBER:
            p = NUMBER_SHARE
        else:
            c = self._uni.get(w)
            a = self.wordfreq_weight
            f = wordfreq_p(w) if a else 0.0
            if c:
                p = c / self._total
                if p < self.wordfreq_below:
                    p = (1 - a) * p + a * f
            else:
                p = f or OOV_COUNT / 100 / self._total
        c = self.corpus.unigrams[w]
        if c:
            p = max(p, self._corpus_weight * c / self._corpus_total)
        return p

    def logp(self, prev: str | None, w: str) -> float:
        """log P(w | prev) for normalised words; prev None means a fresh context."""
        # the decoder asks for the same few pairs over and over; the model never changes
        value = self._memo.get((prev, w))
        if value is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            value = self._memo[(prev, w)] = self._logp(prev, w)
        return value

    def _logp(self, prev: str | None, w: str) -> float:
        p = self._web(prev, w)
        if prev is not None:
            cp = self.corpus.unigrams[prev]
            if cp:
                lam = self._corpus_weight * cp / (cp + 2.0)
                p = (1 - lam) * p + lam * self.corpus.bigrams[(prev, w)] / cp
        return math.log(p) if p > 0 else -50.0

    def _web(self, prev: str | None, w: str) -> float:
        pu = self.p_unigram(w)
        if prev is None:
            return pu
        cprev = self._uni.get(prev)
        if not cprev:
            return pu
        c = self._bi.get((prev, w))
        if c:
            return c / (BIGRAM_SCALE * cprev)
        return BACKOFF * min(pu, BIGRAM_FLOOR / (BIGRAM_SCALE * cprev))

    def score(self, words: Sequence[str]) -> float:
        """Log probability of a word sequence (already normalised)."""
        total, prev = 0.0, None
        for w in words:
            total += self.logp(prev, w)
            prev = w
        return total


@lru_cache(maxsize=1)
def web_lm() -> BigramLM:
    """The model on symspellpy's shipped dictionaries; loaded once per process (read-only)."""
    pkg = resources.files("symspellpy")
    unigrams: dict[str, int] = {}
    with (pkg / "frequency_dictionary_en_82_765.txt").open(encoding="utf-8") as fh:
        for line in fh:
            w, c = line.split()
            unigrams[w] = int(c)
    bigrams: dict[tuple[str, str], int] = {}
    with (pkg / "frequency_bigramdictionary_en_243_342.txt").open(encoding="utf-8") as fh:
        for line in fh:
            a, b, c = line.split()
            bigrams[(a, b)] = int(c)
    wordfreq_p("the")  # wordfreq loads its English table (about 0.5 s) now, with the others
    return BigramLM(unigrams, bigrams)


# -- decoding -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Arc:
    """One way to read the input tokens [start, end): as ``words``, at a channel ``cost`` (nats)."""

    start: int
    end: int
    words: tuple[str, ...]
    cost: float = 0.0
    tag: object = None  # what the caller needs to explain the arc (the lexicon entry)


@dataclass(frozen=True)
class Path:
    arcs: tuple[Arc, ...]
    score: float  # LM log probability minus channel costs


def viterbi(lm: BigramLM, n: int, arcs: Sequence[Arc], breaks: frozenset[int] = frozenset(),
            start: int = 0, context: str | None = None) -> Path:
    """Best reading of tokens 0..n through ``arcs`` under the LM.

    The LM context is reset at every token index in ``breaks`` (punctuation between words).
    State: (token position, last output word); arcs must cover every position (identity arcs).
    ``start``/``context``: read tokens start..n only, the word before ``start`` being ``context``
    (one island of a sentence, spunreads.py).
    """
    by_start: dict[int, list[Arc]] = {}
    for a in arcs:
        by_start.setdefault(a.start, []).append(a)
    # best[pos][last_word] = (score, back-pointer)
    best: list[dict[str | None, tuple[float, tuple | None]]] = [dict() for _ in range(n + 1 - start)]
    best[0][context] = (0.0, None)
    for pos in range(start, n):
        for last, (score, back) in best[pos - start].items():
            ctx = None if pos in breaks else last
            for arc in by_start.get(pos, ()):
                s, prev = score - arc.cost, ctx
                for w in arc.words:
                    s += lm.logp(prev, norm(w))
                    prev = norm(w)
                key = prev if arc.words else ctx
                cur = best[arc.end - start].get(key)
                if cur is None or s > cur[0]:
                    best[arc.end - start][key] = (s, (arc, back))
    score, back = max(best[n - start].values(), key=lambda v: v[0])
    chosen: list[Arc] = []
    while back is not None:
        arc, back = back
        chosen.append(arc)
    return Path(tuple(reversed(chosen)), score)


def chain_score(lm: BigramLM, words: Sequence[str], breaks: frozenset[int] = frozenset(),
                context: str | None = None) -> float:
    """The score ``viterbi`` gives when every token has only its identity arc, without the
    lattice: the same additions in the same order, so the same float (``context``: the word
    before the first)."""
    score, prev = 0.0, context
    for pos, w in enumerate(words):
        cur = norm(w)
        score += lm.logp(None if pos in breaks else prev, cur)
        prev = cur
    return score
