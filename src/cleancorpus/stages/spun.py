"""Repair machine-spun wording: detect spun passages, then decode them back.

A spinner swaps words and phrases for wrong "synonyms" ("top top" for "on", "indigenous" for
"from", "counterfeit consciousness" for "artificial intelligence"). Most swaps are ambiguous on
their own ("the" stands for "that" or "of" as often as for "the"), so repair is decoding, not
find-and-replace: every token may stay as it is or be read back through a reverse-spin lexicon
entry (resources/spun/*.tsv), and a bigram language model (lm.py) picks the best reading of the
whole sentence with Viterbi. Each lexicon reading pays a channel cost, so clean text, where no
reading is much more probable than the text itself, stays as it is.

Detection: a sentence's evidence is its LM gain (log-probability of the best reading minus that
of the text as it stands) plus a bonus per spinner fingerprint ("marker" entries). The document
score is the evidence per word over the whole document; it goes into the metadata as
``spin_score``. A sentence is repaired when the document score or its own score passes a
threshold.

Learning (issue 17): ``fit`` also keeps a pairing sketch of every document (spunpairs.py); once
all are known it finds (spun, clean) near-duplicate pairs, aligns them word by word and mines
their substitutions into a corpus lexicon with provenance (``self.mined``), used for every
document. A mined swap the corpus's clean side hardly ever writes is a fingerprint of the
corpus's spinner: two or more read back in one document get their sentences repaired even when
the document's score is low. Beyond any lexicon, WordNet synonyms in the context's inflection
and multi-word phrases (synonyms.py) can be proposed inside documents found spun (``wordnet``
option, off by default: measured in bench/README.md, the bigram model cannot yet choose among
them well enough).
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Sequence

from ..document import Document, Replacement
from ..lm import Arc, BigramLM, CorpusCounts, Path, norm, web_lm
from ..spunreads import (UNDECIDED, IndexView, ModelView, NameView, Recorder, bound, budget_causes, decode,
                         gain_weights, join_room, margin, spun_document, why_not)
from ..spunpairs import MIN_ALIGNED, MinedSwap, Sketch, align, candidate_pairs, mine, sketch
from ..synonyms import phrase_candidates, phrase_lengths, word_candidates
from ..trigram import TrigramCounts, TrigramLM, decode3, is_trigram, margin3
from .base import ConfigError, Stage, register, require_at_least
from .english import english_spans, within

LEXICONS = ("word_spinner", "tortured_phrases")
# marker: a fingerprint, almost never clean English; ambiguous: a function-word swap, common
# English too; synonym: a content-word synonym the spinner uses systematically; rewrite: a
# change of style (number words) read back only inside a document already found spun
KINDS = ("marker", "ambiguous", "synonym", "rewrite")
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\d+(?:[.,:]\d+)*|~")
_SENTENCE_END = re.compile(r"[.!?\n]")
# quotes and brackets do not interrupt the sentence: "the “liberation” that “captive peoples”"
# is decoded with "liberation" as the left context of "that"
_TRANSPARENT = re.compile(r"[\s\"'\u201c\u201d\u2018\u2019()\[\]\u00ab\u00bb]*")
# a sentence-final stop followed by a space: the next word starts a sentence. After a closing
# quote only a full stop counts: '"Got her!" an officer said' goes on in lower case
_NEW_SENTENCE = re.compile(r"(?:[.!?]|\.[\"'\u201d\u2019)\]]+)\s+[\"'\u201c\u2018(\[]*$")


@dataclass(frozen=True)
class Entry:
    spun: tuple[str, ...]
    original: str
    kind: str
    left: str | None
    source: str
    lexicon: str
    # a corpus fingerprint (mined, kind "marker") trusted alone in a document / counted once per
    # occurrence towards ``min_fingerprints`` (set by finish_fit; part of the entry, so that the
    # reads of the corpus lexicon, spunreads.IndexView, cover them)
    alone: bool = False
    repeats: bool = False


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    gap: str  # the characters between the previous token and this one


@dataclasses.dataclass(frozen=True)
class SpunOptions:
    lexicons: tuple[str, ...] = LEXICONS
    # channel cost (nats) of reading a lexicon entry instead of the text as it stands
    marker_cost: float = 0.5
    ambiguous_cost: float = 3.0
    # inside a document already found spun, a swap is expected about one word in five, so an
    # ambiguous reading needs less LM evidence to be chosen
    spun_ambiguous_cost: float = 1.0
    # the spinner's content-word synonyms are systematic (it turns "former" into "previous"
    # whenever it can), so inside a spun document such a reading needs little LM evidence
    spun_synonym_cost: float = 0.3
    # style rewrites (a digit read back as a number word) are considered in spun documents only
    spun_rewrite_cost: float = 1.0
    # inside a spun document only, propose beyond the lexicons: WordNet synonyms of content words
    # in the inflection the context needs, other forms of a verb, multi-word function phrases
    # both ways (synonyms.py); each reading pays its cost and the LM decides
    wordnet: bool = False
    spun_wordnet_cost: float = 3.0
    spun_inflection_cost: float = 4.0
    spun_phrase_cost: float = 2.0
    # a proposed reading also pays this share of how much more frequent (unigram log ratio) it is
    # than the word it replaces: the LM alone would trade any word for its most common synonym,
    # whereas a spun word gives itself away by fitting its context badly, not by being rare
    frequency_penalty: float = 1.0
    # detect spinning no lexicon entry explains (a thesaurus spinner's content-word swaps): a
    # document not found spun is decoded once more with WordNet readings alone, and flagged
    # (metadata "spun_unseen", no edits) when their LM gain per word passes unseen_threshold.
    # Off by default: it costs a second decoding of every clean document
    detect_unseen: bool = False
    # chosen on the dev split: clean articles reach 0.019 at most, WordNet-spun ones (rate 0.3)
    # 0.023 in the median
    unseen_threshold: float = 0.025
    unseen_cost: float = 4.0
    # ... and only when the readings change at least this many different words
    unseen_min_words: int = 2
    # inside a spun document, restore the case changes the spinner makes (sentence-initial
    # lower case, one word of a known proper name lower-cased: "united States")
    restore_case: bool = True
    # evidence (nats) each spinner fingerprint adds to its sentence's score
    marker_bonus: float = 4.0
    # evidence per word over which a whole document, or one sentence on its own, is repaired
    document_threshold: float = 0.25
    sentence_threshold: float = 0.6
    # the document score divides by at least this many words, so that a short text needs
    # proportionally more evidence before it is called spun (one odd "and also" is not enough)
    min_words: int = 40
    # fraction of corpus documents' LM gain under which a document counts as clean for fit()
    clean_fit_threshold: float = 0.1
    # learn swaps from the corpus: at fit time, find (spun, clean) near-duplicate pairs and mine
    # their word substitutions into a corpus lexicon used for every document (spunpairs.py)
    learn_swaps: bool = True
    # count the clean documents' word triples around lexicon words at fit time and decode with a
    # trigram model on top of the bigram one (trigram.py); weight of the bigram model there.
    # Off by default: it buys 0.0002-0.0006 WER on the fitted synthetic sets (bench/README), but
    # its reads are recorded exact, so adding 1% to a corpus recomputed 9,392 of 10,088 spun
    # results instead of 806 (bench/incremental.py --docs 10000), and the statistics grow ~80%
    trigrams: bool = False
    trigram_prior: float = 300.0
    # share of the clean documents' own counts in the LM after a fit (lm.py's corpus mix)
    corpus_weight: float = 0.05
    # share of wordfreq's unigram frequencies in the LM (lm.py; 0: symspellpy's counts alone)
    wordfreq_weight: float = 0.5
    # ... mixed into words symspellpy counts rarer than this (lm.WORDFREQ_BELOW; 1: every word)
    wordfreq_below: float = 5e-5
    # a pair is mined only when alignment shows at least this many swaps (editors' changes are
    # mostly insertions and cuts; a spinner's are substitutions)
    min_pair_swaps: int = 3
    # a mined swap is used once seen this many times in all pairs
    min_swap_count: int = 1
    # a mined swap seen at least fingerprint_count times, and at least fingerprint_odds times as
    # often as a swap as the clean members write the spun words themselves, is this corpus's
    # spinner's fingerprint: read back and counted like a lexicon marker ("stated" for "said"
    # in a corpus whose clean copies say "said" and never "stated")
    fingerprint_count: int = 3
    fingerprint_odds: float = 3.0
    # a document not found spun has the sentences with such fingerprints repaired when it holds
    # at least this many
    min_fingerprints: int = 2
    # ... or one alone: a single-word fingerprint the pairs' clean members never wrote, whose
    # word is at most this share as frequent in general English as the word it stands for
    # ("utilize" 0.006 of "use", "obtain" 0.05 of "get"; not "nation", 0.24 of "country", which
    # clean writers choose often enough; "stated", written once by a clean member, needs company).
    # Set on the learned-swap bench (bench/README); 0 turns lone fingerprints off
    lone_fingerprint_ratio: float = 0.1
    # fingerprints counted toward min_fingerprints once per occurrence (others once per word, so
    # that a clean writer's repeated "nation" is not two): those at most this share as frequent
    repeat_fingerprint_ratio: float = 0.2

    def __post_init__(self) -> None:
        if isinstance(self.lexicons, list):
            object.__setattr__(self, "lexicons", tuple(self.lexicons))
        unknown = [x for x in self.lexicons if x not in LEXICONS]
        if unknown or not self.lexicons:
            raise ValueError(f"lexicons must be a non-empty subset of {LEXICONS}, not {self.lexicons!r}")
        require_at_least(self, ("marker_cost", "ambiguous_cost", "spun_ambiguous_cost", "spun_synonym_cost",
                                "spun_rewrite_cost", "spun_wordnet_cost", "spun_inflection_cost",
                                "spun_phrase_cost", "frequency_penalty", "unseen_threshold", "unseen_cost", "corpus_weight", "wordfreq_below", "lone_fingerprint_ratio", "repeat_fingerprint_ratio", "marker_bonus", "document_threshold",
                                "sentence_threshold", "clean_fit_threshold"), 0)
        require_at_least(self, ("min_words", "unseen_min_words", "min_pair_swaps", "min_swap_count", "fingerprint_count",
                                "min_fingerprints"), 1)
        require_at_least(self, ("fingerprint_odds", "wordfreq_weight"), 0)
        if self.corpus_weight > 1:
            raise ValueError(f"corpus_weight must be <= 1, not {self.corpus_weight}")
        if self.trigram_prior <= 0:
            raise ValueError(f"trigram_prior must be > 0, not {self.trigram_prior}")
        if self.wordfreq_weight > 1:
            raise ValueError(f"wordfreq_weight must be <= 1, not {self.wordfreq_weight}")


@lru_cache(maxsize=None)
def load_lexicon(name: str) -> tuple[Entry, ...]:
    """One lexicon file from resources/spun/, validated row by row (a bad row is a setup error)."""
    if name not in LEXICONS:
        raise ConfigError(f"no spun lexicon {name!r}; known: {', '.join(LEXICONS)}")
    path = resources.files("cleancorpus") / "resources" / "spun" / f"{name}.tsv"
    entries = []
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 5 or cols[2] not in KINDS or not cols[0] or not cols[1]:
                raise ConfigError(f"resources/spun/{name}.tsv line {no}: expected spun, original, "
                                  f"kind ({'/'.join(KINDS)}), left, source")
            spun, original, kind, left, source = cols
            entries.append(Entry(tuple(spun.split(" ")), original, kind,
                                 None if left == "-" else left, source, name))
    return tuple(entries)


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    for m in _TOKEN.finditer(text):
        tokens.append(Token(m.start(), m.end(), m.group(), text[pos:m.start()]))
        pos = m.end()
    return tokens


MAX_SENTENCE_TOKENS = 200  # bounds the per-edit confidence passes on unpunctuated text


def sentences(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Token ranges split where the gap holds sentence-final punctuation or a line break."""
    spans, start = [], 0
    for i in range(1, len(tokens)):
        if _SENTENCE_END.search(tokens[i].gap) or i - start >= MAX_SENTENCE_TOKENS:
            spans.append((start, i))
            start = i
    if tokens:
        spans.append((start, len(tokens)))
    return spans


def cased(original: str, spun_text: str) -> str:
    """The replacement in the spun text's case: Capitalised or UPPER follow the source."""
    if len(spun_text) > 1 and spun_text.isupper():
        return original.upper()
    if spun_text[:1].isupper() and original[:1].islower():
        return original[:1].upper() + original[1:]
    return original


@lru_cache(maxsize=1)
def load_proper_names() -> frozenset[tuple[str, str]]:
    """Two-word proper names whose words are also common words (resources/spun/proper_names.tsv)."""
    path = resources.files("cleancorpus") / "resources" / "spun" / "proper_names.tsv"
    pairs = set()
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            words = line.split("\t")[0].split(" ")
            if len(words) != 2 or not all(w.isalpha() for w in words):
                raise ConfigError(f"resources/spun/proper_names.tsv line {no}: expected two words, a tab, a source")
            pairs.add((words[0].lower(), words[1].lower()))
    return frozenset(pairs)


def key(word: str) -> str:
    """The form lexicon entries are looked up by (digits kept: "2" is read back as "two")."""
    return word.lower().replace("\u2019", "'")


# abbreviations whose stop does not end a sentence (single letters, "a.m.", "D.", are too)
_ABBREVIATIONS = frozenset("mr mrs ms dr st vs etc no fig approx inc ltd co jr sr gen gov sen rep lt col "
                           "sgt capt prof vol pp op cf al "
                           # units and measures: recipes and specs put a lower-case word after them
                           "tsp tbsp tbs oz lb lbs kg mg ml cl dl ft yd mi cm mm km hr hrs min mins sec secs "
                           "pt qt gal pkg est dept univ corp bros mt rd ave blvd "
                           "jan feb mar apr jun jul aug sep sept oct nov dec".split())
# a sentence shorter than this (in words) is a fragment, a list item or a URL piece ("dot. com."),
# not prose the spinner lower-cased after
_MIN_SENTENCE_WORDS = 3


@dataclass
class SpunStats:
    """What spun's fit learns from the clean documents of some part of the corpus."""

    counts: CorpusCounts
    names: Counter = dataclasses.field(default_factory=Counter)
    # every document's pairing sketch (spunpairs.Sketch), sorted by document id
    sketches: list = dataclasses.field(default_factory=list)
    # the clean documents' word triples around lexicon words (``trigrams`` option; else None)
    trigrams: TrigramCounts | None = None


@dataclass(frozen=True)
class SentenceResult:
    start: int  # token range in the document
    end: int
    best: Path
    gain: float
    markers: int
    costs: dict  # channel cost per entry kind it was decoded with (a kind missing: not considered)

    @property
    def words(self) -> int:
        return self.end - self.start


@dataclass
class Unit:
    """One token, or the tokens one replacement covers, with the text they read as."""

    first: int
    last: int
    text: str
    rep: Replacement | None = None
    reason: str = ""
    confidence: float = 0.0


@register
class SpunStage(Stage):
    name = "spun"
    Options = SpunOptions
    needs_corpus = True

    def __init__(self, options: SpunOptions | None = None) -> None:
        super().__init__(options)
        index: dict[str, list[Entry]] = {}
        for lex in self.options.lexicons:
            for e in load_lexicon(lex):
                index.setdefault(e.spun[0], []).append(e)
        self._base_index = {k: list(v) for k, v in index.items()}
        # what apply reads of the fitted statistics goes through these views (spunreads.py)
        self._index = IndexView(index)
        self._web: BigramLM = self._web_model()
        self._web_view = ModelView(self._web)
        self._lm: ModelView = self._web_view
        self._proper = NameView(load_proper_names())
        # the corpus lexicon learned by fit, with provenance: (spun words, original) -> MinedSwap
        self.mined: dict[tuple[tuple[str, ...], str], MinedSwap] = {}

    def _web_model(self) -> BigramLM:
        lm, o = web_lm(), self.options
        if (o.wordfreq_weight, o.wordfreq_below) == (lm.wordfreq_weight, lm.wordfreq_below):
            return lm
        return lm.with_wordfreq(o.wordfreq_weight, o.wordfreq_below)

    # -- corpus statistics
    def partial_fit(self, docs: Iterable[Document]) -> SpunStats:
        """The clean documents' word counts, so that their names and phrasing become known, and
        their two-word proper names (both words capitalised mid-sentence). Whether a document is
        clean is judged with the web model alone, so that no shard's counts depend on another's.
        Bigrams are kept only around the lexicon's words (see ``CorpusCounts``)."""
        stats = SpunStats(CorpusCounts(pivots=self._pivots()))
        if self.options.trigrams:
            stats.trigrams = TrigramCounts(pivots=stats.counts.pivots)
        lm, costs = self._web_view, self._base_costs()
        for doc in docs:
            tokens = tokenize(doc.text)
            score = self._doc_score(self._analyse(tokens, costs, lm, self._base_index))
            counted = score < self.options.clean_fit_threshold
            if counted:
                self._count(stats.counts, stats.names, tokens, stats.trigrams)
            if self.options.learn_swaps:
                sk = sketch(doc.id, doc.text, round(score, 6), counted)
                if sk is not None:
                    stats.sketches.append(sk)
        stats.sketches.sort(key=lambda k: k.doc_id)
        return stats

    def merge_stats(self, parts: Sequence[SpunStats]) -> SpunStats:
        names: Counter = Counter()
        for p in parts:
            names.update(p.names)
        sketches = sorted((k for p in parts for k in p.sketches), key=lambda k: k.doc_id)
        tri = [p.trigrams for p in parts if p.trigrams is not None]
        if tri and len(tri) != len(parts):
            raise ValueError("cannot merge spun statistics fitted with and without trigrams")
        return SpunStats(CorpusCounts.merged([p.counts for p in parts]), names, sketches,
                         TrigramCounts.merged(tri) if tri else None)

    @staticmethod
    def _count(counts: CorpusCounts, names: Counter, tokens: Sequence[Token],
               trigrams: TrigramCounts | None = None) -> None:
        words = [[t.text for t in tokens[s:e]] for s, e in sentences(tokens)]
        counts.add(words)
        if trigrams is not None:
            trigrams.add(words)
        names.update(_capitalised_pairs(tokens))

    # -- what a fit reuses of the previous one: the orchestration (work.merge_fit) sets
    # ``fit_memo`` to the memo the previous fit left ({} when there is none) before
    # ``finish_fit``, and keeps what ``take_fit_memo`` gives back for the next run. Every memo
    # entry is keyed by the content it was computed from, so a stale or foreign one can only
    # miss: the fitted stage is the same with or without it.
    fit_memo: dict | None = None

    def take_fit_memo(self) -> dict | None:
        """The memo this fit leaves for the next one (None when none was asked for)."""
        out = getattr(self, "_memo_out", None) if self.fit_memo is not None else None
        self.fit_memo, self._memo_out = None, {}
        return out

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)  # the memo is not part of the fitted stage
        state.pop("_checked", None)  # (nor what ``affected`` found)
        state.pop("fit_memo", None)
        state.pop("_memo_out", None)
        state.pop("_writes_out", None)
        return state

    def finish_fit(self, stats: SpunStats) -> None:
        self._memo_out: dict = {}
        self._writes_out: dict[bytes, frozenset] = {}
        if self.fit_memo is not None and not _valid_memo(self.fit_memo):
            self.fit_memo = {}  # damaged or of another format: nothing is reused
        keys = [_sketch_key(k) for k in stats.sketches] if self.fit_memo is not None else None
        pairs = self.spun_pairs(stats.sketches, keys) if self.options.learn_swaps else []
        index = {k: list(v) for k, v in self._base_index.items()}
        aligned = None
        if keys is not None:  # a pair's swaps are a function of its two sketches: kept by their digests
            by_id = {k.doc_id: keys[n] for n, k in enumerate(stats.sketches)}
            memo_in, memo_out = self.fit_memo.get("aligned", {}), {}  # type: ignore[union-attr]
            self._memo_out["aligned"] = memo_out

            def aligned(spun_id: str, clean_id: str, spun_words: list[str], clean_words: list[str]) -> list:
                mk = by_id[spun_id] + by_id[clean_id]
                got = memo_in.get(mk)
                if got is None:
                    got = align(spun_words, clean_words)[1]
                memo_out[mk] = got
                return got
        self.mined = mine(pairs, _usable_swap, aligned)
        known = {(e.spun, e.original) for entries in index.values() for e in entries}
        fingerprints: set[tuple[str, ...]] = set()
        for (spun, original), m in sorted(self.mined.items()):
            if m.count < self.options.min_swap_count or (spun, original) in known:
                continue
            first = "~".join(m.pairs[0])
            kind = self._mined_kind(m)
            marker = kind == "marker"
            # the provenance an edit's reason shows: no count (how often, from how many pairs,
            # how many clean uses), which every new pair or clean use of the swap changes, and
            # with it every document the swap repairs (rewritten in the next version although
            # its text stayed); the first pair is where to look (SpunStage.mined has the rest)
            entry = Entry(spun, original, kind, None, f"mined from pairs, first {first}", "corpus",
                          alone=marker and m.clean_uses == 0 and self._rare_choice(spun, original),
                          repeats=marker and self._rare_choice(spun, original, self.options.repeat_fingerprint_ratio))
            index.setdefault(spun[0], []).append(entry)
            if marker:
                fingerprints.add(spun)
        # a document found to be the spun member of a pair is not clean, even when the lexicons
        # did not give it away: its words leave the clean-document counts (its unseen swaps would
        # otherwise become "known phrasing"). So does a document that writes one of the corpus's
        # fingerprints: a spun document without a clean twin would otherwise vouch for its own
        # swaps ("to utilize the" counted as clean phrasing); a clean writer's "stated" costs only
        # that document's counts
        counts, names, trigrams = stats.counts, stats.names, stats.trigrams
        spun_ids = {p[0] for p in pairs}
        leaked = [k for n, k in enumerate(stats.sketches)
                  if k.counted and (k.doc_id in spun_ids or self._writes(k, keys[n] if keys else b"", fingerprints))]
        if self.fit_memo is not None:
            self._memo_out["writes"] = (frozenset(fingerprints), self._writes_out)
        if leaked:
            less, less_names = CorpusCounts(pivots=counts.pivots), Counter()
            less_tri = None if trigrams is None else TrigramCounts(pivots=trigrams.pivots)
            for k in leaked:
                self._count(less, less_names, tokenize(k.text), less_tri)
            counts, names = counts.without(less), +(names - less_names)
            if trigrams is not None:
                trigrams = trigrams.without(less_tri)
        model = self._web.with_corpus(counts, self.options.corpus_weight)
        if trigrams is not None and self.options.trigrams:
            model = TrigramLM(model, trigrams, self.options.trigram_prior)
        self._lm = ModelView(model)
        self._proper = NameView(load_proper_names() | {p for p, n in names.items() if n >= 2})
        self._index = IndexView(index)
        if self.fit_memo is not None:  # earlier fits' corpus-lexicon words: checks look only at those added since
            self._index.remember(self.fit_memo.get("keys", {}), self.fit_memo.get("steps"))
            self._memo_out["keys"] = self._index.history(_KEYS_KEPT)
            self._memo_out["steps"] = self._index.step_history(_STEPS_KEPT)

    def _writes(self, k: Sketch, sk: bytes, phrases: set[tuple[str, ...]]) -> bool:
        """Whether a counted document writes one of the fingerprints ``phrases``. With a memo,
        the fingerprints a document wrote of the previous fit's set are kept by its sketch's
        digest, so only the fingerprints new since then are looked for in its text."""
        if self.fit_memo is None:
            return _writes_any(k.text, phrases)
        before, known = self.fit_memo.get("writes", (frozenset(), {}))
        held = known.get(sk)
        if held is None:
            got = _written(k.text, phrases)
        else:
            new = phrases - before
            got = frozenset(held & phrases) | (_written(k.text, new) if new else frozenset())
        self._writes_out[sk] = got
        return bool(got)

    # -- reuse across runs: apply reads the statistics through the views of spunreads.py, which
    # record each (key, value) read; a cached result is reused when every read answers the same
    def apply_recorded(self, doc: Document) -> tuple[Document, dict]:
        with Recorder() as rec:
            out = self.apply(doc)
        return out, rec.to_json(self._index.keys_digest)

    def reads_hold(self, reads: dict | None, doc: Document | None = None) -> bool:
        return self.miss_cause(reads, doc) is None

    def affected(self, records: Sequence[Any]) -> set[int]:
        """The positions of the records (of one input file, say) that may not hold under this
        fit (``miss_cause`` may give a cause); ``miss_cause`` of every other one is None, so
        its document needs neither reading nor checking. The log-probability reads of all the
        records are checked at once (``spunreads.budget_causes``), and what that found is kept
        for ``miss_cause`` of these same record objects until the next call; a record that
        needs its document to be checked (words newly given corpus entries since its fit) is
        in the set."""
        causes = budget_causes(records, self._lm)
        self._checked = {id(r): (r, c) for r, c in zip(records, causes) if c is not UNDECIDED}
        return {i for i, (r, c) in enumerate(zip(records, causes))
                if why_not(r, self._lm, self._index, self._proper, _may_touch, c) is not None}

    def miss_cause(self, reads: dict | None, doc: Document | None = None) -> str | None:
        def touches(new: set[str]) -> bool:
            """Whether the corpus entries of the words in ``new`` (which the record did not
            read: words newly given entries) can change the document's output. Not when no
            reading of theirs matches where apply would look; nor when, in every sentence where
            one matches, under the costs of each pass the document was decoded with, none of
            the new readings is a fingerprint (each match adds evidence), and the best reading,
            with the new readings and without them, is the text as it stands: the sentence's
            gain stays 0 and it has no repair whose confidence a new reading could lower; a
            sentence that had no alternative readings before joins the first pass's results
            with no evidence, which changes the spin score only through the words it is
            divided by: not at all when the score is 0, or while they stay under
            ``min_words`` (the record's "dw"). The decoding is done now, with the current
            statistics, whose other reads the record's budgets check (the record keeps no read
            of the new readings: while it holds, every run checks them again)."""
            text = doc.text
            if len(new) <= 64 and all(w.isascii() for w in new):
                # cheaper still for a few words (those added since the record's fit): a token
                # whose key is ASCII lowers, character by character, to its key as it stands in
                # the lowered text (only a sigma's lowering depends on its neighbours)
                low = text.lower()
                if "\u2019" in low and any("'" in w for w in new):
                    low = low.replace("\u2019", "'")
                if not _keys_may_occur(low, new):
                    return False
            elif {key(m.group()) for m in _TOKEN.finditer(text)}.isdisjoint(new):
                return False  # (cheap: most documents hold none of the words)
            tokens = tokenize(text)
            spans = english_spans(doc)
            if spans is not None:
                tokens = within(tokens, spans)
            keys = [key(t.text) for t in tokens]
            kinds = {*self._costs(False), *self._costs(True)}
            if not any(e.lexicon == "corpus" and e.kind in kinds and self._matches(tokens, i, len(tokens), e)
                       for i, k in enumerate(keys) if k in new for e in self._index.entries_now(k)):
                return False
            if is_trigram(self._lm):
                return True  # (its decoder has no islands to compare: recomputed)
            hit = [(s, e) for s, e in sentences(tokens) if not new.isdisjoint(keys[s:e])]
            # a document not found spun is decoded once, with the first pass's costs (the score
            # budget, checked with the other reads, keeps it on that side)
            joined = 0  # words of the first pass's sentences that had no alternatives before
            for n, costs in enumerate((self._costs(False), self._costs(True)) if reads.get("sd") else (self._costs(False),)):
                for s, e in hit:
                    arcs, _ = self._arcs(tokens, s, e, costs)
                    fresh = [a for a in arcs if a.tag is not None and a.tag.lexicon == "corpus" and a.tag.spun[0] in new]
                    if not fresh:
                        continue
                    if any(a.tag.kind == "marker" for a in fresh):
                        return True
                    old = [a for a in arcs if not any(a is f for f in fresh)]
                    lattices = (arcs, old)
                    if len(old) == e - s:  # the sentence joins the results (its gain must stay 0)
                        joined += (e - s) if n == 0 else 0
                        lattices = (arcs,)
                    breaks, words = self._breaks(tokens, s, e), [t.text for t in tokens[s:e]]
                    for lattice in lattices:
                        best, gain = decode(self._lm, e - s, lattice, breaks, words)
                        if gain != 0 or any(a.tag is not None for a in best.arcs):
                            return True
            room = reads.get("dw")
            return joined > 0 and (not isinstance(room, int) or (room != -1 and joined > room))
        known = self.__dict__.get("_checked", {}).get(id(reads))
        budgets = known[1] if known is not None and known[0] is reads else UNDECIDED
        return why_not(reads, self._lm, self._index, self._proper, touches if doc is not None else None, budgets)

    # -- learning swaps from (spun, clean) pairs
    def spun_pairs(self, sketches: Sequence[Sketch], keys: Sequence[bytes] | None = None,
                   ) -> list[tuple[str, list[str], str, list[str]]]:
        """(spun id, spun words, clean id, clean words) for every near-duplicate pair whose
        alignment shows a spinner's substitutions. Which member is spun: the one whose swapped
        words the web LM finds less likely in their context (summed over the pair's swaps)."""
        out = []
        lm = self._web

        @lru_cache(maxsize=4096)  # a document is a candidate in several pairs: tokenised once
        def words(i: int) -> tuple[list[str], Counter]:
            ws = _TOKEN.findall(sketches[i].text)  # the tokens' texts, as tokenize() finds them
            return ws, Counter(w.lower() for w in ws)

        def verdict(i: int, j: int) -> int:
            """0: not a pair; 1: a pair, i the spun member; 2: a pair, j the spun one."""
            a, b = sketches[i], sketches[j]
            (wa, ca), (wb, cb) = words(i), words(j)
            # the words alignment can match are at most those both hold (as many times as the
            # rarer side): too few, and the pair cannot reach MIN_ALIGNED (most candidates)
            if sum((ca & cb).values()) < MIN_ALIGNED * min(len(wa), len(wb)):
                return 0
            share, swaps = align(wa, wb)
            swaps = [sw for sw in swaps if _usable_swap(sw)]
            if share < MIN_ALIGNED or len(swaps) < self.options.min_pair_swaps:
                return 0
            # positive: reading a's words as b's improves the LM (a is the spun one)
            gain = sum(lm.score([norm(w) for w in (sw.left, *sw.original, sw.right)])
                       - lm.score([norm(w) for w in (sw.left, *sw.spun, sw.right)]) for sw in swaps)
            gain += 10.0 * (a.score - b.score)
            return 1 if gain >= 0 else 2

        # a candidate's verdict is a function of the two sketches alone (ids, texts, scores):
        # kept by the two sketches' digests from the previous fit (``fit_memo``), so that only
        # candidates with a new or changed member are tokenised and aligned
        memo_in = (self.fit_memo or {}).get("pairs", {})
        memo_out: dict[bytes, int] = {}
        for i, j in candidate_pairs(sketches):
            if keys is None:
                v = verdict(i, j)
            else:
                mk = keys[i] + keys[j]
                v = memo_in.get(mk)
                if v is None:
                    v = verdict(i, j)
                memo_out[mk] = v
            if v:
                (wa, _), (wb, _) = words(i), words(j)
                a, b = sketches[i], sketches[j]
                out.append((a.doc_id, wa, b.doc_id, wb) if v == 1 else (b.doc_id, wb, a.doc_id, wa))
        if keys is not None and hasattr(self, "_memo_out"):
            self._memo_out["pairs"] = memo_out
        return out

    def _mined_kind(self, m: MinedSwap) -> str:
        """A learned swap frequent and hardly ever written by the clean side is a fingerprint
        (marker); one of a frequent function word is as ambiguous as the lexicon's ("the" for
        "that"); another content-word swap is a synonym swap."""
        o, spun = self.options, m.spun
        if m.count >= o.fingerprint_count and m.odds >= o.fingerprint_odds:
            return "marker"
        base = self._base_index.get(spun[0], ())
        if any(e.kind == "ambiguous" and e.spun == spun for e in base):
            return "ambiguous"
        return "ambiguous" if len(spun) == 1 and self._web.count(spun[0]) > 1e9 else "synonym"

    def _rare_choice(self, spun: tuple[str, ...], original: str, ratio: float | None = None) -> bool:
        """A single word clean writers rarely choose over the word it stands for (web unigrams:
        at most ``ratio`` as frequent; ``lone_fingerprint_ratio`` by default)."""
        if len(spun) != 1 or " " in original:
            return False
        pu = self._web.p_unigram
        ratio = self.options.lone_fingerprint_ratio if ratio is None else ratio
        return pu(norm(spun[0])) <= ratio * pu(norm(original))

    def _pivots(self) -> frozenset[str]:
        """Every word a lexicon entry reads or writes: the only places readings differ."""
        return frozenset(norm(w) for entries in self._base_index.values() for e in entries
                         for w in (*e.spun, *e.original.split(" ")))

    # -- one document
    def apply(self, doc: Document) -> Document:
        tokens = tokenize(doc.text)
        spans = english_spans(doc)  # None: no language stage ran; read every line
        if spans is not None:
            tokens = within(tokens, spans)
        results = self._analyse(tokens, self._costs(False))
        score = self._doc_score(results)
        spun_doc = score >= self.options.document_threshold
        spun_document(spun_doc)
        spin, below, above = spin_cell(score, self.options.document_threshold)
        words = sum(r.words for r in results)
        # a sentence of no evidence joining the results changes the score only by its words
        join_room(-1 if score == 0 else max(0, self.options.min_words - words))
        # the score moves by (moves of the winning swaps' islands) / words: reuse while it stays
        # in its reported cell and on its side of the threshold (spunreads: budgets)
        per = max(words, self.options.min_words)
        bound(below * per, gain_weights(isl for r in results for isl in getattr(r.best, "islands", ())), "s",
              above * per)
        if spun_doc:
            results = self._analyse(tokens, self._costs(True))
        reps: list[Replacement] = []
        repaired = 0
        # the corpus's own fingerprints, read back in two places or more, are evidence enough
        # for the sentences they are in (one alone may be a clean writer's "stated")
        # (a fingerprint clean writers hardly choose is enough alone: ``lone_fingerprint_ratio``)
        # a repeated fingerprint counts once per occurrence only when clean writers rarely choose
        # its word (a clean writer's "nation" comes back: "stated" twice is a spinner's)
        read = [a.tag for r in results for a in r.best.arcs if _is_fingerprint(a)]
        evidence = len({t.spun for t in read}) + sum(t.repeats for t in read) - len({t.spun for t in read if t.repeats})
        trusted = (evidence >= self.options.min_fingerprints
                   or any(t.alone for t in read))
        for r in results:
            if r.gain > 0 and not spun_doc:
                # on its side of the threshold (at it or above, or under it)
                over = (self._evidence(r) / r.words - self.options.sentence_threshold) * r.words
                bound(over if over >= 0 else math.inf, gain_weights(getattr(r.best, "islands", ())), "e",
                      math.inf if over >= 0 else -over)
            if r.gain > 0 and (spun_doc or self._evidence(r) / r.words >= self.options.sentence_threshold
                               or (trusted and _fingerprints(r))):
                repaired += 1
                reps.extend(self._replacements(tokens, r, spin))
        if spun_doc and self.options.restore_case:
            reps = self._restore_case(tokens, reps)
        meta = {"spin_score": spin, "spun_sentences": repaired}
        if self.options.detect_unseen and not spun_doc:
            unseen, distinct, spans = self._unseen_score(tokens)
            meta["unseen_spin_score"] = round(unseen, 4)
            # a clean writer's odd word repeated is not a spinner, who changes many different ones
            flagged = unseen >= self.options.unseen_threshold and distinct >= self.options.unseen_min_words
            meta["spun_unseen"] = flagged
            if flagged:  # the sentences (character spans) whose WordNet readings gain
                meta["spun_unseen_spans"] = spans
        return doc.revise(self.name, reps, meta)

    def _unseen_score(self, tokens: Sequence[Token]) -> tuple[float, int, list[list[int]]]:
        """LM gain per word of reading content words back through WordNet synonyms alone, each
        reading paying ``unseen_cost`` plus its frequency share (see ``_extra_cost``); how many
        different words the best readings change; the sentences with a gain (character spans)."""
        c = self.options.unseen_cost
        costs = {"wordnet": c, "inflection": c + 2.0, "phrase": c}
        # with the web model alone: the threshold was set on its scale, and a fit's counts would
        # move it (a fitted model flagged a clean test article the web model does not)
        results = self._analyse(tokens, costs, self._web, index={})
        words = sum(r.words for r in results)
        distinct = {a.tag.spun for r in results for a in r.best.arcs if a.tag is not None}
        spans = [[tokens[r.start].start, tokens[r.end - 1].end] for r in results if r.gain > 0]
        return sum(r.gain for r in results) / max(words, self.options.min_words), len(distinct), spans

    def _base_costs(self) -> dict[str, float]:
        return self._costs(False)

    def _costs(self, spun_doc: bool) -> dict[str, float]:
        o = self.options
        if not spun_doc:
            return {"marker": o.marker_cost, "ambiguous": o.ambiguous_cost, "synonym": o.ambiguous_cost}
        costs = {"marker": o.marker_cost, "ambiguous": o.spun_ambiguous_cost,
                 "synonym": o.spun_synonym_cost, "rewrite": o.spun_rewrite_cost}
        if o.wordnet:
            costs.update(wordnet=o.spun_wordnet_cost, inflection=o.spun_inflection_cost, phrase=o.spun_phrase_cost)
        return costs

    def _analyse(self, tokens: Sequence[Token], costs: dict[str, float],
                 lm: BigramLM | TrigramLM | None = None, index: dict | None = None) -> list[SentenceResult]:
        lm = lm or self._lm
        out = []
        for s, e in sentences(tokens):
            arcs, markers = self._arcs(tokens, s, e, costs, index)
            if len(arcs) == e - s:  # identity readings only: nothing to decode
                continue
            breaks = self._breaks(tokens, s, e)
            words = [t.text for t in tokens[s:e]]
            best, gain = (decode3 if is_trigram(lm) else decode)(lm, e - s, arcs, breaks, words)
            out.append(SentenceResult(s, e, best, gain, markers, costs))
        return out

    def _arcs(self, tokens: Sequence[Token], s: int, e: int, costs: dict[str, float],
              index: dict | None = None) -> tuple[list[Arc], int]:
        """Identity arcs first (one per token), then every lexicon reading that matches."""
        index = self._index if index is None else index
        arcs = [Arc(i - s, i - s + 1, (tokens[i].text,)) for i in range(s, e)]
        markers = 0
        for i in range(s, e):
            for entry in index.get(key(tokens[i].text), ()):
                if entry.kind in costs and self._matches(tokens, i, e, entry):
                    n = len(entry.spun)
                    arcs.append(Arc(i - s, i - s + n, tuple(entry.original.split(" ")), costs[entry.kind], entry))
                    markers += entry.kind == "marker"
        if "wordnet" in costs:
            arcs.extend(self._proposed(tokens, s, e, costs))
        return arcs, markers

    def _extra_cost(self, before: Sequence[str], after: Sequence[str]) -> float:
        """The frequency share of a proposed reading's cost (never negative)."""
        pu = self._lm.p_unigram
        lb = sum(math.log(pu(norm(w))) for w in before)
        la = sum(math.log(pu(norm(w))) for w in after)
        return max(0.0, self.options.frequency_penalty * (la - lb))

    def _proposed(self, tokens: Sequence[Token], s: int, e: int, costs: dict[str, float]) -> list[Arc]:
        """WordNet and phrase readings (synonyms.py) of the sentence's tokens. Capitalised words
        after the first are names ("Soviet", "Budapest"): never proposed for."""
        arcs = []
        for i in range(s, e):
            t = tokens[i]
            word = key(t.text)
            if t.text[:1].isupper() and i > s and not t.text.isupper():
                continue
            if t.text.isupper() and len(t.text) > 1:
                continue
            for c in word_candidates(word):
                kind = c.source.split(":", 1)[0]
                entry = Entry((word,), " ".join(c.words), kind, None, c.source, "wordnet")
                arcs.append(Arc(i - s, i - s + 1, c.words, costs[kind] + self._extra_cost((word,), c.words), entry))
            for n in phrase_lengths():
                if i + n > e or any(tokens[k].gap.strip() for k in range(i + 1, i + n)):
                    continue
                words = tuple(key(tokens[k].text) for k in range(i, i + n))
                for c in phrase_candidates(words):
                    entry = Entry(words, " ".join(c.words), "phrase", None, c.source, "phrases")
                    arcs.append(Arc(i - s, i - s + n, c.words, costs["phrase"] + self._extra_cost(words, c.words), entry))
        return arcs

    @staticmethod
    def _matches(tokens: Sequence[Token], i: int, e: int, entry: Entry) -> bool:
        n = len(entry.spun)
        if i + n > e:
            return False
        for k in range(1, n):
            t = tokens[i + k]
            if key(t.text) != entry.spun[k] or t.gap.strip():
                return False
        if entry.kind == "rewrite" and not _standalone(tokens, i):
            return False
        if entry.lexicon == "corpus" and tokens[i].text[:1].isupper() and i > 0 and not _NEW_SENTENCE.search(tokens[i].gap):
            return False  # learned from lower-case swaps: a capitalised word mid-sentence is a name
        if entry.left is not None:
            return i > 0 and not tokens[i].gap.strip() and key(tokens[i - 1].text) == entry.left
        return True

    @staticmethod
    def _breaks(tokens: Sequence[Token], s: int, e: int) -> frozenset[int]:
        return frozenset(i - s for i in range(s + 1, e) if not _TRANSPARENT.fullmatch(tokens[i].gap))

    def _evidence(self, r: SentenceResult) -> float:
        return r.gain + self.options.marker_bonus * r.markers

    def _doc_score(self, results: Sequence[SentenceResult]) -> float:
        words = sum(r.words for r in results)
        return sum(self._evidence(r) for r in results) / max(words, self.options.min_words)

    def _replacements(self, tokens: Sequence[Token], r: SentenceResult, score: float) -> list[Replacement]:
        reps = []
        arcs_all, _ = self._arcs(tokens, r.start, r.end, r.costs)
        breaks = self._breaks(tokens, r.start, r.end)
        for arc in r.best.arcs:
            if arc.tag is None:
                continue
            entry: Entry = arc.tag
            first, last = tokens[r.start + arc.start], tokens[r.start + arc.end - 1]
            # confidence: how much better the best reading is than the best one without this change
            kept = [a for a in arcs_all if a.tag is None or a.end <= arc.start or a.start >= arc.end]
            gap, weights = ((margin3(self._lm, r.best, arc, kept, breaks), None) if is_trigram(self._lm)
                            else margin(self._lm, r.best, arc, kept, breaks))
            confidence, below, above = confidence_of(gap)
            bound(below, weights, "c", above)
            reps.append(Replacement(
                first.start, last.end, cased(entry.original, first.text),
                f"spun ({entry.lexicon}, {self._index.source(entry)}): {' '.join(entry.spun)!r} read as "
                f"{entry.original!r}; document spin score {score:.2f}",
                confidence,
            ))
        return reps

    # -- the spinner's case changes
    def _restore_case(self, tokens: Sequence[Token], reps: list[Replacement]) -> list[Replacement]:
        """Capitalise a sentence's first word and a lower-cased word of a known two-word proper
        name ("united States", "prime Minister"), on the text as the lexicon readings left it."""
        units = _units(tokens, reps)
        sentence_start = 0
        for k in range(1, len(units)):
            prev, unit = units[k - 1], units[k]
            gap = tokens[unit.first].gap
            if _NEW_SENTENCE.search(gap) and not _ellipsis(gap) and not _abbreviation(tokens[prev.last].text):
                glued = unit.last + 1 < len(tokens) and not tokens[unit.last + 1].gap  # "my6sense"
                if (unit.text[:1].islower() and k - sentence_start >= _MIN_SENTENCE_WORDS
                        and not glued and not _DIGIT_OR_SCHEME.search(unit.text)):
                    self._recase(unit, 0, f"{unit.text!r} starts a sentence", 0.9)
                sentence_start = k
            elif gap == " ":
                a, b = prev.text.split(" ")[-1], unit.text.split(" ")[0]
                if (a.lower(), b.lower()) in self._proper and a[:1].isupper() != b[:1].isupper():
                    name = f"{a[:1].upper()}{a[1:]} {b[:1].upper()}{b[1:]}"
                    unit_, which = (prev, -1) if a[:1].islower() else (unit, 0)
                    self._recase(unit_, which, f"{(a if which else b)!r} is part of the proper name {name!r}", 0.8)
        out = []
        for u in units:
            if u.rep is not None:
                out.append(u.rep)
            elif u.text != tokens[u.first].text:
                out.append(Replacement(tokens[u.first].start, tokens[u.first].end, u.text, u.reason, u.confidence))
        return out

    @staticmethod
    def _recase(unit: Unit, which: int, why: str, confidence: float) -> None:
        """Upper-case the first letter of the unit's first (0) or last (-1) word."""
        words = unit.text.split(" ")
        words[which] = words[which][:1].upper() + words[which][1:]
        unit.text = " ".join(words)
        reason = f"spun case: {why}; the spinner lower-cases such words"
        if unit.rep is not None:
            unit.rep = dataclasses.replace(unit.rep, after=unit.text, reason=f"{unit.rep.reason}; {reason}")
        else:
            unit.reason, unit.confidence = reason, confidence


# a repair's confidence is 1/(1 + e^-gap), gap being how much better (nats) the best reading is
# than the best one without the repair, reported to 2 decimals from 0.5 to 0.99: these are the
# gaps where the reported value changes
_CONFIDENCE_EDGES = tuple(math.log(c / (1 - c)) for c in ((k + 0.5) / 100 for k in range(50, 99)))


def confidence_of(gap: float) -> tuple[float, float, float]:
    """A repair's reported confidence, and how far (nats) its gap may fall and rise without
    changing it."""
    i = bisect.bisect_right(_CONFIDENCE_EDGES, gap)
    return ((50 + i) / 100, gap - _CONFIDENCE_EDGES[i - 1] if i > 0 else math.inf,
            _CONFIDENCE_EDGES[i] - gap if i < len(_CONFIDENCE_EDGES) else math.inf)


def spin_cell(score: float, threshold: float) -> tuple[float, float, float]:
    """The reported spin score (rounded down to 2 decimals, so that a score under the threshold
    never shows as reaching it), and how far the score may fall and rise without changing it or
    its side of the threshold (at it or above, or under it)."""
    k = math.floor(score * 100)
    low, high = k / 100, (k + 1) / 100
    if score >= threshold:
        low = max(low, threshold)
    else:
        high = min(high, threshold)
    return k / 100, max(0.0, score - low), max(0.0, high - score)


_KEYS_KEPT = 8  # fits whose corpus-lexicon words the fit memo keeps whole
_STEPS_KEPT = 4096  # steps between fits' sets of such words it keeps (older records: every word is checked)


def _valid_memo(memo: object) -> bool:
    """A fit memo of the form ``finish_fit`` leaves (anything else is not used)."""
    if not isinstance(memo, dict):
        return False
    pairs, writes = memo.get("pairs", {}), memo.get("writes", (frozenset(), {}))
    return (isinstance(pairs, dict) and isinstance(memo.get("aligned", {}), dict) and isinstance(memo.get("keys", {}), dict)
            and isinstance(writes, tuple) and len(writes) == 2
            and isinstance(writes[0], frozenset) and isinstance(writes[1], dict))


def _sketch_key(k: Sketch) -> bytes:
    """A digest of what a pair verdict reads of a sketch: its id, score and text."""
    h = hashlib.blake2b(digest_size=16)
    h.update(k.doc_id.encode("utf-8", "surrogatepass"))
    h.update(b"\0" + repr(k.score).encode() + b"\0")
    h.update(k.text_z)
    return h.digest()


def _writes_any(text: str, phrases: set[tuple[str, ...]]) -> bool:
    """Whether the text holds one of the word sequences (lexicon keys), as whole tokens."""
    return bool(_written(text, phrases))


_NONE: frozenset = frozenset()


def _written(text: str, phrases: set[tuple[str, ...]] | frozenset) -> frozenset:
    """Which of the word sequences (lexicon keys) the text holds, as whole tokens."""
    if not phrases:
        return _NONE
    firsts = {p[0] for p in phrases}
    lowered = text.lower()
    if not any(f in lowered for f in firsts):  # cheap test first: most documents hold none
        return _NONE
    keys = [key(t.text) for t in tokenize(text)]
    longest = max(len(p) for p in phrases)
    return frozenset(tuple(keys[i:i + n]) for i in range(len(keys)) for n in range(1, longest + 1)
                     if keys[i] in firsts and tuple(keys[i:i + n]) in phrases)


_LETTER_KEY = re.compile(r"[a-z]+(?:'[a-z]+)*")


def _may_touch(new: set[str]) -> bool:
    return True  # (``affected``: without the document, a newly learned word may be in it)


def _keys_may_occur(low: str, words: Iterable[str]) -> bool:
    """Whether a token whose key is one of the ASCII ``words`` may occur in ``low``, the text
    lowered (with the typographic apostrophe made straight if a word holds an apostrophe): True
    whenever one does (a superset test, so that False means none). Such a token lowers, character
    by character, to its key where it stands, and the characters on either side of it are not
    letters (a token is a maximal run of letters joined by apostrophes), nor do they lower to an
    ASCII letter (only ASCII capitals, the Kelvin sign and the dotted capital I do, all letters):
    so the key occurs with no ASCII letter next to it. A word inside a longer word ("stated" in
    "restated") is no such occurrence. This holds for a key of letters (and apostrophes); a word
    of other characters is looked for as a substring only."""
    for w in words:
        at = low.find(w)
        if at < 0:
            continue
        if not _LETTER_KEY.fullmatch(w):
            return True  # (a number, say: tokens of other kinds end where letters begin)
        # (re keeps the patterns it compiled: a word's is compiled once per run)
        if re.compile(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])").search(low, at):
            return True
    return False


def _is_fingerprint(a: Arc) -> bool:
    return a.tag is not None and a.tag.lexicon == "corpus" and a.tag.kind == "marker"


def _fingerprints(r: SentenceResult) -> int:
    """How many of the corpus's own fingerprints (mined swaps the clean side of the corpus hardly
    ever writes) the best reading reads back."""
    return sum(_is_fingerprint(a) for a in r.best.arcs)


_SWAP_WORD = re.compile(r"^[a-z]+(?:'[a-z]+)?$|^~$")


def _usable_swap(sw) -> bool:
    """A word swap worth learning: lower-case words on both sides (capitals are names, sentence
    starts or the spinner's case changes, handled apart), no numbers, not a case change."""
    return (all(_SWAP_WORD.match(w) for w in sw.spun) and all(_SWAP_WORD.match(w) for w in sw.original)
            and sw.spun != tuple(sw.original))


def _units(tokens: Sequence[Token], reps: Sequence[Replacement]) -> list[Unit]:
    by_start = {r.start: r for r in reps}
    units, i = [], 0
    while i < len(tokens):
        rep = by_start.get(tokens[i].start)
        if rep is None:
            units.append(Unit(i, i, tokens[i].text))
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and tokens[j + 1].end <= rep.end:
            j += 1
        units.append(Unit(i, j, rep.after, rep))
        i = j + 1
    return units


def _standalone(tokens: Sequence[Token], i: int) -> bool:
    """A number standing as a word: spaces on both sides ("2 years", not "7th", "$50", "8-year")."""
    after = tokens[i + 1].gap if i + 1 < len(tokens) else " "
    return (i == 0 or tokens[i].gap[-1:].isspace()) and after[:1].isspace()


_DIGIT_OR_SCHEME = re.compile(r"\d|^(?:https?|www|ftp)$")


def _ellipsis(gap: str) -> bool:
    """An ellipsis ("...", "…") trails off mid-sentence more often than it ends one."""
    return "\u2026" in gap or ".." in gap


def _abbreviation(word: str) -> bool:
    return len(word) == 1 or word.lower() in _ABBREVIATIONS


def _capitalised_pairs(tokens: Sequence[Token]) -> Iterable[tuple[str, str]]:
    """Mid-sentence pairs of capitalised words (a sentence's first word may be capitalised only
    because it comes first)."""
    for i in range(1, len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        if (b.gap == " " and not _NEW_SENTENCE.search(a.gap) and not _SENTENCE_END.search(a.gap)
                and a.text[:1].isupper() and b.text[:1].isupper() and a.text.isalpha() and b.text.isalpha()
                and not a.text.isupper() and not b.text.isupper()):
            yield a.text.lower(), b.text.lower()
