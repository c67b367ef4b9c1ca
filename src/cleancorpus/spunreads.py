"""What the spun stage reads of its corpus statistics, recorded; and decoding by islands.

**The rule: every corpus-derived value the spun stage's ``apply`` reads goes through a view of
this module**: language-model values through ``ModelView`` (``logp``, ``p_unigram``), lexicon
entries by first word through ``IndexView`` (``get``; the corpus lexicon mined by ``fit`` changes
with the corpus; an entry's provenance, which only an edit's reason shows, through ``source``),
proper-name pairs through ``NameView`` (``in``). After ``finish_fit`` the stage's ``_lm``,
``_index`` and ``_proper`` *are* these views. A new value derived from ``SpunStats`` (a count, a learned list, a threshold) must get a view method here that records
the key it was asked and the answer it gave, and ``holds`` must check it again; a read that
bypasses the views (``view.model.corpus.unigrams[w]`` inside ``apply``) would let a cached
result be reused when it is wrong. tests/test_spunreads.py holds a document whose decision
flips when one value it reads changes.

Reuse is exact because the stage's output is a function of the values it read, and the record
holds every (key, value) it read; a value may differ under the new statistics only where that
provably cannot change the output: the budgets (``Recorder.bound``) of an island's best path
(``_judge``), of a repair's runner-up path and margin (``margin``), and of the values the stage
derives from the islands' gains (the spin score, a sentence's evidence: ``gain_weights``), each
the room before the output would change. The decoder reads the
model's log probabilities quantised to ``1/QUANTUM`` nat (``ModelView``), in every run (full and
incremental alike), so that budgets count whole steps. Scores the decoder computes (a path's
score, ``IslandPath.score``, an island's best and plain) are sums over islands, not over whole
sentences: compare them only with each other (``margin``).

Islands (``decode``): in a sentence's lattice, positions with only the identity reading and a
fixed left context add the same log probability to every path, so they cannot change which path
wins nor the gain of the best path over the text as it stands. A sentence is decoded as
independent islands: each maximal run of positions covered by alternative readings, plus the
token after it (whose probability depends on the reading's last word), with the token before
it as fixed context. The gain is the sum of the islands' gains. So a document reads only the
n-grams around its candidate swaps, and a sentence with no alternative reads nothing.
"""

from __future__ import annotations

import base64
from binascii import a2b_base64
import hashlib
import math
import sys
import threading
from array import array
from collections import Counter
from itertools import accumulate, compress, count
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .arrays import ranges
from .lm import Arc, BigramLM, Path, chain_score, norm, viterbi

FORMAT = 8  # of the record (a record of another format is a miss)
QUANTUM = 128  # steps per nat of the log probabilities the decoder reads (32 lost one word of lexicon-swap WER)

_active = threading.local()  # the recorder of the apply running in this thread, if any


def _q(x: float) -> int:
    return int(round(x * QUANTUM))


# kinds of budget (``Recorder.bounds``): an island's best path stays the best; the document's
# spin score stays in its reported cell and on its side of the threshold; a sentence's evidence
# on its side of its threshold; a repair's confidence in its reported cell
# on the line of its value (score, evidence, confidence gap) a value has an edge below it and
# one above: its budgets are signed (upper case: ``Recorder.bound`` with ``up``), one per side,
# summing weight x signed move, so that moves that cancel, or go away from the nearer edge, hold
BOUND_KINDS = {"i": "island budget", "s": "score budget", "e": "sentence budget", "c": "confidence budget"}
BOUND_KINDS.update({k.upper(): v for k, v in BOUND_KINDS.items()})


class Recorder:
    """The (key, value) reads of one ``apply``. A log probability read inside an island (see
    ``decode``) may move as long as every budget over it holds: the sum over its reads of
    (weight: at least the times the value enters any one path's score) x (steps it moved) at
    most the budget; the others (outside islands) must stay exactly the same."""

    def __init__(self) -> None:
        self.logp: dict[tuple[str | None, str], int] = {}
        self.exact: set[tuple[str | None, str]] = set()
        # (budget, weights, kind): see ``bound``
        self.islands: list[tuple[int, dict[tuple[str | None, str], int], str]] = []
        self.unigram: dict[str, int] = {}
        # a trigram model's reads (trigram.py, decoded without islands): all must stay the same
        self.logp3: dict[tuple[str | None, str | None, str], int] = {}
        self.index: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.names: dict[tuple[str, str], bool] = {}
        self.scope: Counter | None = None  # the island being decoded: reads counted, not yet judged
        self.spun_doc = False  # the document was found spun (decoded a second time, with spun costs)
        self.join: int | None = None  # words that sentences without gain may add to the score's (-1: any)

    def __enter__(self) -> "Recorder":
        self._outer = getattr(_active, "rec", None)
        _active.rec = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _active.rec = self._outer

    def bound(self, room: float, weights: Counter | dict | None, kind: str, up: float | None = None) -> None:
        """A budget: the value computed from reads with these weights may move by less than
        ``room`` nats (in steps of 1/QUANTUM, rounded down, less float slack) without changing
        the output. ``weights`` None: the reads were not counted (they are exact). With ``up``:
        the value is exactly sum(weight x read) plus what does not move (``weights`` signed),
        and may fall by less than ``room`` and rise by less than ``up``: two budgets over the
        signed moves (kind in upper case)."""
        if weights is None:
            return
        if up is None:
            self.islands.append((_steps(room), dict(weights), kind))
            return
        w = {r: c for r, c in weights.items() if c}
        self.islands.append((_steps(room), {r: -c for r, c in w.items()}, kind.upper()))
        self.islands.append((_steps(up), w, kind.upper()))

    def to_json(self, index_keys: str) -> dict[str, Any]:
        """The record, columnar (see ``why_not``): the log-probability reads with their
        quantised values as one string ("k": "prev|word|value" joined by spaces, a fresh
        context as "|word|value"), the budgets' kinds ("it"), and one packed array of
        integers ("r", ``_pack``: little-endian, base64, so that the record stays JSON for
        StageCache, small, and one decode): the numbers of reads and budgets, how many budgets
        each read enters, then for each read which ones and with what weight, then the
        budgets. A check looks up how far each read moved (once per run for each distinct
        read and value: ``ModelView.moves``) and sums only the reads that moved."""
        out: dict[str, Any] = {"q": QUANTUM, "f": FORMAT}
        if self.logp:
            keys = sorted(self.logp, key=lambda k: (k[0] is not None, k[0] or "", k[1]))
            at = {k: i for i, k in enumerate(keys)}
            if all(_plain(p) and _plain(w) for p, w in keys):
                reads = [f"{p or ''}|{w}|{self.logp[(p, w)]}" for p, w in keys]
                out["k"] = " ".join(reads)
                # each read's 64-bit hash, in the same order, and a digest binding them to the
                # reads: the per-file check (``budget_causes``) looks reads up as numbers
                out["h"] = _read_hashes(reads)
                out["hd"] = _hashes_digest(out["k"], out["h"])
            else:  # (a word with a separator in it: not from the tokeniser, but kept exact)
                out["kl"] = [[p, w, self.logp[(p, w)]] for p, w in keys]
            exact = sorted(at[k] for k in self.exact if k in at)
            if exact:
                out["x"] = exact
            budgets = sorted({(min(b, _NO_LIMIT), tuple(sorted((at[r], c) for r, c in cs.items())), kind)
                              for b, cs, kind in self.islands if cs})
            by_read: list[list[tuple[int, int]]] = [[] for _ in keys]
            for n, (_, terms, _) in enumerate(budgets):
                for i, c in terms:
                    by_read[i].append((n, c))
            out["it"] = "".join(kind for _, _, kind in budgets)
            out["r"] = _pack([len(keys), len(budgets), *(len(t) for t in by_read),
                              *(n for t in by_read for n, _ in t), *(c for t in by_read for _, c in t),
                              *(b for b, _, _ in budgets)])
        if self.logp3:
            order = sorted(self.logp3, key=lambda k: tuple((x is not None, x or "") for x in k))
            out["l3"] = [[a, b, w, self.logp3[(a, b, w)]] for a, b, w in order]
        if self.unigram:
            out["pu"] = sorted(self.unigram.items())
        out["ik"] = index_keys
        if self.spun_doc:
            out["sd"] = 1
        if self.join is not None:
            out["dw"] = self.join
        if self.index:
            out["ix"] = dict(sorted(self.index.items()))
        if self.sources:
            out["sx"] = dict(sorted(self.sources.items()))
        if self.names:
            out["pn"] = [[a, b, v] for (a, b), v in sorted(self.names.items())]
        return out


def _steps(room: float) -> int:
    return 0 if room <= _SLACK else (1 << 40) if math.isinf(room) else int(math.floor((room - _SLACK) * QUANTUM))


def _plain(word: str | None) -> bool:
    return word is None or (word != "" and " " not in word and "|" not in word)


_CODES = (("B", "<u1"), ("H", "<u2"), ("h", "<i2"), ("I", "<u4"), ("i", "<i4"), ("q", "<i8"))
_NO_LIMIT = (1 << 31) - 1  # budgets are capped here (a smaller budget is only more cautious)


def _pack(values: Sequence[int]) -> str:
    """Integers in the narrowest little-endian type that holds them: its array type code and
    the bytes in base64."""
    a = np.asarray(values, dtype=np.int64)
    lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
    for code, dtype in _CODES:
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return code + base64.b64encode(a.astype(dtype).tobytes()).decode("ascii")
    raise ValueError("integers out of range")


_BIG = sys.byteorder == "big"


def _unpack(s: str) -> array:
    a = array(s[0], a2b_base64(s[1:]))
    if _BIG:
        a.byteswap()
    return a


def _read_hash(read: str) -> bytes:
    return hashlib.blake2b(read.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def _read_hashes(reads: Sequence[str]) -> str:
    """The reads' hashes (blake2b, 8 bytes each, little-endian uint64), base64."""
    return base64.b64encode(b"".join(map(_read_hash, reads))).decode("ascii")


def _hashes_digest(k: str, h: str) -> str:
    return hashlib.blake2b(f"{k}\0{h}".encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _rec() -> Recorder | None:
    return getattr(_active, "rec", None)


def spun_document(found: bool) -> None:
    """Record whether the running apply found its document spun (which costs it decoded
    with: the score budget keeps that side while the record holds)."""
    rec = _rec()
    if rec is not None:
        rec.spun_doc = found


def join_room(words: int) -> None:
    """Record how many words sentences of no evidence (no gain, no marker) may add to the
    words the spin score is divided by without changing it (-1: any number, the score being 0)."""
    rec = _rec()
    if rec is not None:
        rec.join = words


def bound(room: float, weights: Counter | dict | None, kind: str, up: float | None = None) -> None:
    """``Recorder.bound`` on the recorder of the running apply, if any."""
    rec = _rec()
    if rec is not None:
        rec.bound(room, weights, kind, up)


class ModelView:
    """The language model as the decoder reads it: quantised log probabilities, recorded."""

    def __init__(self, model: BigramLM) -> None:
        self.model = model

    def logp(self, prev: str | None, w: str) -> float:
        k = _q(self.model.logp(prev, w))
        rec = _rec()
        if rec is not None:
            rec.logp[(prev, w)] = k
            if rec.scope is None:
                rec.exact.add((prev, w))
            else:
                rec.scope[(prev, w)] += 1
        return k / QUANTUM

    def logp3(self, prev2: str | None, prev: str | None, w: str) -> float:
        """A trigram model's log P(w | prev2 prev) (trigram.py), quantised and recorded; the
        trigram decoder has no islands, so every such read must stay the same."""
        k = _q(self.model.logp3(prev2, prev, w))
        rec = _rec()
        if rec is not None:
            rec.logp3[(prev2, prev, w)] = k
        return k / QUANTUM

    def logp3_now(self, prev2: str | None, prev: str | None, w: str) -> int | None:
        logp3 = getattr(self.model, "logp3", None)
        return None if logp3 is None else _q(logp3(prev2, prev, w))

    def p_unigram(self, w: str) -> float:
        p = self.model.p_unigram(w)
        k = _q(math.log(p)) if p > 0 else -50 * QUANTUM
        rec = _rec()
        if rec is not None:
            rec.unigram[w] = k
        return math.exp(k / QUANTUM)

    def count(self, word: str) -> int:
        """The web dictionary's count (shipped with the code, not corpus-derived)."""
        return self.model.count(word)

    @property
    def corpus(self):  # for tests and reports; apply must not read it (see the module's rule)
        return self.model.corpus

    @property
    def wordfreq_weight(self) -> float:
        return self.model.wordfreq_weight

    # what ``holds`` asks: the value a read would give now
    def logp_now(self, prev: str | None, w: str) -> int:
        return _q(self.model.logp(prev, w))

    def moves(self, reads: Sequence[str]) -> list[int]:
        """How many steps each read ("prev|word|value", as a record holds it) moved to the
        value the model gives now (signed: now - then); each distinct read is computed once per
        fitted model (documents share most of their reads)."""
        memo = self.__dict__.get("_now")
        if memo is None:
            memo = self.__dict__["_now"] = {}
        try:
            return list(map(memo.__getitem__, reads))
        except KeyError:
            for r in reads:
                if r not in memo:
                    p, w, v = r.split("|")
                    memo[r] = self.logp_now(p or None, w) - int(v)
            return list(map(memo.__getitem__, reads))

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_now", "_table")}

    def unigram_now(self, w: str) -> int:
        p = self.model.p_unigram(w)
        return _q(math.log(p)) if p > 0 else -50 * QUANTUM


def _entries_digest(entries: Iterable[Any]) -> str:
    return hashlib.sha256(repr(list(entries)).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _step_digest(then: str, now: str, added: frozenset[str]) -> str:
    return _entries_digest([then, now, *sorted(added)])


class IndexView:
    """Lexicon entries by first word: the code's (fixed) and the corpus's (mined, recorded)."""

    def __init__(self, index: dict[str, list], corpus_lexicon: str = "corpus") -> None:
        self._index = index
        self._corpus = corpus_lexicon
        mined = {k: [e for e in v if e.lexicon == corpus_lexicon] for k, v in index.items()}
        # what decoding reads of an entry (its provenance, which a new pair sorting first
        # changes, is read apart: ``source``)
        self._mined = {k: _entries_digest((e.spun, e.original, e.kind, e.left, e.lexicon) for e in v)
                       for k, v in mined.items() if v}
        self._sources = {k: _entries_digest(e.source for e in v) for k, v in mined.items() if v}
        # which first words have corpus entries at all: a read of any other word says "none"
        self.keys_digest = _entries_digest(sorted(self._mined))
        # earlier fits' sets of such words, by their ``keys_digest`` (``remember``): a record
        # made under one of them is checked only against the words added since
        self._earlier: dict[str, frozenset[str]] = {}
        self._steps: dict[str, tuple[str, frozenset[str], str]] = {}  # ``remember``
        self._added: dict[str, frozenset[str]] = {}  # per run: words added since each digest

    def remember(self, earlier: dict[str, frozenset[str]], steps: Any = None) -> None:
        """Earlier fits' corpus-lexicon first words, by their digest (the fit memo keeps them),
        and the steps between earlier fits' sets (``steps``: digest -> (the next fit's digest,
        the words it added, a digest of the three)). Only a set whose digest matches it, and a
        step whose digest matches it, is kept, so a damaged memo can only miss."""
        self._earlier = {d: frozenset(ks) for d, ks in earlier.items()
                         if isinstance(ks, (frozenset, set, tuple, list)) and all(isinstance(k, str) for k in ks)
                         and _entries_digest(sorted(ks)) == d}
        self._steps = {}
        for d, step in (steps.items() if isinstance(steps, dict) else ()):
            if (isinstance(d, str) and isinstance(step, tuple) and len(step) == 3 and isinstance(step[0], str)
                    and isinstance(step[1], frozenset) and all(isinstance(k, str) for k in step[1])
                    and step[2] == _step_digest(d, step[0], step[1])):
                self._steps[d] = step
        self._added = {}

    def history(self, keep: int) -> dict[str, frozenset[str]]:
        """This fit's set of words with corpus entries and the ``keep`` - 1 most recent earlier
        ones, by digest (what the next fit's ``remember`` takes)."""
        out = {d: ks for d, ks in list(self._earlier.items())[-(keep - 1):] if d != self.keys_digest} if keep > 1 else {}
        out[self.keys_digest] = frozenset(self._mined)
        return out

    def step_history(self, keep: int) -> dict[str, tuple[str, frozenset[str], str]]:
        """The steps the next fit's ``remember`` takes: the ``keep`` most recent, the last from
        the previous fit's set (the last of the sets remembered) to this fit's. A record made
        under any fit the steps lead from is checked only for the words they added since
        (``new_keys``), however many fits ago that was."""
        steps = dict(self._steps)
        prev = next(reversed(self._earlier), None)
        if prev is not None and prev != self.keys_digest:
            added = frozenset(k for k in self._mined if k not in self._earlier[prev])
            steps.pop(prev, None)  # (a set seen again: its newest step, last)
            steps[prev] = (self.keys_digest, added, _step_digest(prev, self.keys_digest, added))
        return dict(list(steps.items())[-keep:])

    def new_keys(self, digest: Any, read: Any) -> list[str]:
        """The words with corpus entries now that a record made when the set's digest was
        ``digest``, and which read the corpus entries of the words ``read``, did not read: the
        words added since then when that set is known (the others it had, it read wherever
        apply looks them up: ``get`` records every such read), or the words the steps from
        that set to this fit's added (a superset of them: each step's words are its set minus
        the one before); else every word not read."""
        added = self._added.get(digest)
        if added is None:
            then = self._earlier.get(digest)
            if then is not None:
                added = frozenset(k for k in self._mined if k not in then)
            else:
                since = self._since(digest)
                if since is None:
                    return [k for k in self._mined if k not in read]
                added = frozenset(k for k in since if k in self._mined)
            self._added[digest] = added
        return [k for k in added if k not in read]

    def _since(self, digest: Any) -> set[str] | None:
        """The words the steps from ``digest`` added, up to a set remembered whole (then the
        words this fit has and that set lacks) or this fit's (None: no such steps)."""
        words: set[str] = set()
        seen: set[Any] = set()
        steps = self.__dict__.get("_steps", {})
        while digest != self.keys_digest:
            then = self._earlier.get(digest)
            if then is not None:
                return words | {k for k in self._mined if k not in then}
            step = steps.get(digest) if isinstance(digest, str) else None
            if step is None or digest in seen:
                return None
            seen.add(digest)
            words |= step[1]
            digest = step[0]
        return words

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_added"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_earlier", {})
        self.__dict__.setdefault("_steps", {})
        self._added = {}

    def get(self, key: str, default: Any = None) -> Any:
        d = self._mined.get(key)
        if d is not None:
            rec = _rec()
            if rec is not None:
                rec.index[key] = d
        return self._index.get(key, default)

    def entries_now(self, key: str) -> list:
        """A word's entries, not recorded (for ``holds``, not for apply)."""
        return self._index.get(key, [])

    def mined_digest(self, key: str) -> str | None:
        return self._mined.get(key)

    def source(self, entry: Any) -> str:
        """An entry's provenance (for an edit's reason), recorded for a corpus entry."""
        if entry.lexicon == self._corpus:
            rec = _rec()
            if rec is not None:
                rec.sources[entry.spun[0]] = self._sources.get(entry.spun[0], "")
        return entry.source

    def source_digest(self, key: str) -> str | None:
        return self._sources.get(key)

    def mined_keys(self) -> Iterable[str]:
        return self._mined.keys()

    # whole-index access, for reports and tests (not for apply)
    def values(self):
        return self._index.values()

    def items(self):
        return self._index.items()

    def __len__(self) -> int:
        return len(self._index)


class NameView:
    """Two-word proper names: the shipped list and the corpus's, membership recorded."""

    def __init__(self, names: frozenset[tuple[str, str]]) -> None:
        self._names = names

    def __contains__(self, pair: tuple[str, str]) -> bool:
        v = pair in self._names
        rec = _rec()
        if rec is not None:
            rec.names[pair] = v
        return v

    def now(self, pair: tuple[str, str]) -> bool:
        return pair in self._names


def holds(reads: Any, lm: ModelView, index: IndexView, names: NameView, touches) -> bool:
    """Whether every read in ``reads`` answers the same now (``why_not`` gives None)."""
    return why_not(reads, lm, index, names, touches) is None


# why a record does not hold, as reported in a run's work summary (manifest "work")
CAUSES = ("format", "lexicon entry", "provenance", "new lexicon word", "exact read",
          *BOUND_KINDS.values(), "trigram", "unigram", "name pair")


UNDECIDED = object()  # ``budget_causes``: a record the per-file check leaves to ``why_not``


def why_not(reads: Any, lm: ModelView, index: IndexView, names: NameView, touches,
            budgets: Any = UNDECIDED) -> str | None:
    """None when every read in ``reads`` answers the same now; else the first that does not,
    by kind (one of ``CAUSES``). ``touches(keys)``: whether one of these words' corpus-lexicon
    entries could give the document a reading (a superset of what apply would find; None: not
    known); it is called only when the set of words with corpus-lexicon entries changed.
    ``budgets``: what ``budget_causes`` found for this record under ``lm`` (the
    log-probability reads checked), when it decided it."""
    if not isinstance(reads, dict) or reads.get("q") != QUANTUM or reads.get("f") != FORMAT:
        return "format"
    ix = reads.get("ix", {})
    for k, d in ix.items():
        if index.mined_digest(k) != d:
            return "lexicon entry"
    for k, d in reads.get("sx", {}).items():
        if index.source_digest(k) != d:
            return "provenance"
    if reads.get("ik") != index.keys_digest:
        # words newly given corpus entries: the document must not contain one it did not read
        new = index.new_keys(reads.get("ik"), ix)
        if new and (touches is None or touches(set(new))):
            return "new lexicon word"
    cause = _budgets_cause(reads, lm) if budgets is UNDECIDED else budgets
    if cause is not None:
        return cause
    for a, b, w, v in reads.get("l3", ()):
        if lm.logp3_now(a, b, w) != v:
            return "trigram"
    for w, v in reads.get("pu", ()):
        if lm.unigram_now(w) != v:
            return "unigram"
    for a, b, v in reads.get("pn", ()):
        if names.now((a, b)) != v:
            return "name pair"
    return None


def _keys(reads: dict) -> list[str]:
    if "k" in reads:
        return reads["k"].split(" ")
    return [f"{p or ''}|{w}" for p, w in reads.get("kl", ())]


def _columns(reads: dict) -> tuple[array, int, int, int]:
    """The packed array of a record, the number of reads, of budgets, and of (read, budget)
    terms."""
    r = _unpack(reads["r"])
    nk, nb = r[0], r[1]
    return r, nk, nb, (len(r) - 2 - nk - nb) // 2


def moves(reads: dict, lm: ModelView) -> list[int]:
    """How many steps each log-probability read of a record moved (now - then), in its order."""
    if "k" in reads:
        return lm.moves(reads["k"].split(" "))
    return [lm.logp_now(p, w) - v for p, w, v in reads.get("kl", ())]


def budget_sums(reads: dict, moved: Sequence[int], only: Iterable[int] | None = None,
                columns: tuple[array, int, int, int] | None = None) -> dict[int, int]:
    """Per budget of a record (by its position), the sum of (weight x move) over its reads
    (``only``: the positions of the reads that moved; all when None); ``moved`` signed, taken
    as it is by a signed budget and as its size by the others."""
    sums: dict[int, int] = {}
    if "r" not in reads:
        return sums
    r, nk, nb, terms = columns or _columns(reads)
    kinds = reads["it"]
    by, weight = 2 + nk, 2 + nk + terms
    starts = [0, *accumulate(r[2:2 + nk])]
    for i in (range(nk) if only is None else only):
        d = moved[i]
        for t in range(starts[i], starts[i + 1]):
            b = r[by + t]
            sums[b] = sums.get(b, 0) + r[weight + t] * (d if kinds[b].isupper() else abs(d))
    return sums


def budgets_of(reads: dict) -> array:
    r, nk, nb, _ = _columns(reads)
    return r[len(r) - nb:]


def _budgets_cause(reads: dict, lm: ModelView) -> str | None:
    """The first budget exceeded (in the record's order), or an exact read that moved; only
    the reads that moved are looked at."""
    moved = moves(reads, lm)
    if not any(moved):
        return None
    changed = list(compress(count(), moved))
    if "x" in reads and not set(reads["x"]).isdisjoint(changed):
        return "exact read"
    columns = _columns(reads)
    sums = budget_sums(reads, moved, changed, columns)
    r, _, nb, _ = columns
    limits = len(r) - nb
    over = [b for b, total in sums.items() if total > r[limits + b]]
    return BOUND_KINDS.get(reads["it"][min(over)], "budget") if over else None


class _Moves:
    """Per fitted model: how far each read moved (now - then), by the read's hash, as sorted
    arrays (``known``/``moved``) and the reads added since they were last sorted (``fresh``)."""

    def __init__(self) -> None:
        self.known = np.zeros(0, dtype=np.uint64)
        self.moved = np.zeros(0, dtype=np.int64)
        self.fresh: dict[int, int] = {}

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The moves of ``hashes`` and a mask of those not known yet (their moves: 0)."""
        out = np.zeros(len(hashes), dtype=np.int64)
        found = np.zeros(len(hashes), dtype=bool)
        if len(self.known):
            at = np.minimum(np.searchsorted(self.known, hashes), len(self.known) - 1)
            found = self.known[at] == hashes
            out[found] = self.moved[at[found]]
        if self.fresh:
            for j in np.flatnonzero(~found).tolist():
                m = self.fresh.get(int(hashes[j]))
                if m is not None:
                    out[j], found[j] = m, True
        return out, ~found

    def add(self, got: dict[int, int]) -> None:
        self.fresh.update(got)
        if len(self.fresh) > max(4096, len(self.known) // 4):
            keys = np.concatenate([self.known, np.fromiter(self.fresh, dtype=np.uint64, count=len(self.fresh))])
            moved = np.concatenate([self.moved, np.fromiter(self.fresh.values(), dtype=np.int64,
                                                            count=len(self.fresh))])
            order = np.argsort(keys, kind="stable")
            self.known, self.moved, self.fresh = keys[order], moved[order], {}


_DTYPES = dict(_CODES)

_FEW = 24  # fewer records than this are checked one by one (the same verdicts)


def budget_causes(records: Sequence[Any], lm: ModelView) -> list[Any]:
    """For each record (of one input file, say): what ``_budgets_cause`` gives (None: every
    budget holds and no exact read moved; else the cause), computed for all the records at once
    with numpy; ``UNDECIDED`` for a record this check does not decide (another format, reads
    without hashes, hashes that do not match their digest, a packed array not of the form
    ``to_json`` writes: ``why_not`` checks it read by read).

    The same sums as ``budget_sums``: per budget, sum of weight x move over its reads (signed
    for a budget of upper-case kind, the move's size for the others), each read's move looked
    up by its hash (``Recorder.to_json``: "h") in a table of the reads seen so far in this run
    (a read not seen yet is split out of its record and computed as ``ModelView.moves`` does)."""
    out: list[Any] = [UNDECIDED] * len(records)
    use: list[int] = []
    hs: list[bytes] = []
    rs: list[np.ndarray] = []
    its: list[str] = []
    for i, reads in enumerate(records):
        if not isinstance(reads, dict) or reads.get("q") != QUANTUM or reads.get("f") != FORMAT:
            continue
        r = reads.get("r")
        if r is None:
            if "kl" not in reads:
                out[i] = None  # no log-probability read
            continue
        h, k, it = reads.get("h"), reads.get("k"), reads.get("it")
        if not (isinstance(h, str) and isinstance(k, str) and isinstance(r, str) and isinstance(it, str)
                and r and it.isascii() and reads.get("hd") == _hashes_digest(k, h)):
            continue
        try:
            hv = a2b_base64(h)
            rv = np.frombuffer(a2b_base64(r[1:]), dtype=_DTYPES[r[0]])
        except (ValueError, KeyError):
            continue
        if len(hv) % 8 or len(rv) < 2:
            continue
        use.append(i)
        hs.append(hv)
        rs.append(rv)
        its.append(it)
    if len(use) < _FEW:  # (numpy's fixed costs would outweigh what it saves)
        for i in use:
            out[i] = _budgets_cause(records[i], lm)
        return out
    while use:
        bad = _budget_causes(records, use, hs, rs, its, lm, out)
        if not bad:
            break
        keep = [n for n in range(len(use)) if n not in bad]  # (not of the form to_json writes)
        use, hs, rs, its = ([xs[n] for n in keep] for xs in (use, hs, rs, its))
    return out


def _budget_causes(records: Sequence[Any], use: list[int], hs: list[bytes], rs: list[np.ndarray], its: list[str],
                   lm: ModelView, out: list[Any]) -> set[int]:
    """``budget_causes`` of the records ``use`` (their hashes, packed arrays and budget kinds),
    into ``out``; or the positions in ``use`` of the records whose arrays are not of the form
    ``to_json`` writes (nothing decided then)."""
    n = len(use)
    nh = np.fromiter((len(h) // 8 for h in hs), dtype=np.int64, count=n)
    lr = np.fromiter((len(r) for r in rs), dtype=np.int64, count=n)
    R = np.concatenate(rs).astype(np.int64)
    at = np.cumsum(lr) - lr  # where each record's array starts in R
    nk, nb = R[at], R[at + 1]
    terms = (lr - 2 - nk - nb) // 2
    ok = (nk == nh) & (nb >= 0) & (terms >= 0) & (2 + nk + 2 * terms + nb == lr)
    ok &= np.fromiter((len(it) for it in its), dtype=np.int64, count=n) == nb
    if not ok.all():
        return set(np.flatnonzero(~ok).tolist())
    counts = R[ranges(at + 2, nk)]
    of_read = np.repeat(np.arange(n), nk)
    term_counts = np.bincount(of_read, weights=counts, minlength=n) if len(counts) else None
    if term_counts is not None and (counts.min() < 0 or not np.array_equal(term_counts, terms)):
        return set(np.flatnonzero((term_counts != terms) | (np.bincount(of_read, weights=counts < 0, minlength=n) > 0)).tolist())
    of_term = np.repeat(np.arange(n), terms)
    local = R[ranges(at + 2 + nk, terms)]
    if len(local) and ((local < 0) | (local >= nb[of_term])).any():
        return set(np.unique(of_term[(local < 0) | (local >= nb[of_term])]).tolist())
    xs = [records[i].get("x", []) for i in use]
    wrong = {m for m, x in enumerate(xs) if x and not (isinstance(x, list) and all(
        isinstance(j, int) and 0 <= j < nk[m] for j in x))}
    if wrong:
        return wrong
    # moves, by hash
    table = lm.__dict__.get("_table")
    if table is None:
        table = lm.__dict__["_table"] = _Moves()
    H = np.frombuffer(b"".join(hs), dtype="<u8")
    moved, unknown = table.lookup(H)
    ro = np.cumsum(nk) - nk  # where each record's reads start in H
    if unknown.any():
        got: dict[int, int] = {}
        unk = np.flatnonzero(unknown)
        owner = np.searchsorted(ro, unk, side="right") - 1  # the record of each unknown read
        cut = np.flatnonzero(np.diff(owner)) + 1
        for part, m in zip(np.split(unk, cut), owner[np.concatenate([[0], cut])].tolist()):
            keys = records[use[m]]["k"].split(" ")
            lo = int(ro[m])
            if len(keys) != nk[m]:
                return {m}
            local_at = (part - lo).tolist()
            for j, mv in zip(local_at, lm.moves([keys[j] for j in local_at])):
                moved[lo + j] = mv
                got[int(H[lo + j])] = mv
        table.add(got)
    # sums of weight x move per budget, all records' budgets numbered in turn
    bo = np.cumsum(nb) - nb
    budget = local + bo[of_term]
    weight = R[ranges(at + 2 + nk + terms, terms)]
    limit = R[ranges(at + lr - nb, nb)]
    signed = np.frombuffer("".join(its).encode("ascii"), dtype=np.uint8) < ord("a")
    mv = moved[np.repeat(np.arange(len(H)), counts)]
    val = weight * np.where(signed[budget], mv, np.abs(mv))
    total = int(nb.sum())
    if int(np.abs(val).sum()) < 1 << 52:  # float sums of integers exact
        sums = np.bincount(budget, weights=val, minlength=total).astype(np.int64)
    else:
        sums = np.zeros(total, dtype=np.int64)
        np.add.at(sums, budget, val)
    over = np.flatnonzero(sums > limit)
    of_budget = np.repeat(np.arange(n), nb)
    first_over = {}
    if len(over):
        recs, first = np.unique(of_budget[over], return_index=True)  # (``over`` ascending: each record's first)
        first_over = dict(zip(recs.tolist(), (over[first] - bo[recs]).tolist()))
    with_x = [m for m, x in enumerate(xs) if x]
    exact_moved: set[int] = set()
    if with_x:
        xat = np.concatenate([int(ro[m]) + np.asarray(xs[m], dtype=np.int64) for m in with_x])
        xof = np.repeat(np.asarray(with_x), [len(xs[m]) for m in with_x])
        exact_moved = set(np.unique(xof[moved[xat] != 0]).tolist())
    for m, i in enumerate(use):
        if m in exact_moved:
            out[i] = "exact read"
        elif m in first_over:
            out[i] = BOUND_KINDS.get(its[m][first_over[m]], "budget")
        else:
            out[i] = None
    return set()


# -- islands ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Island:
    lo: int  # token range [lo, hi) of the sentence
    hi: int
    context: str | None  # the normalised word before lo (None: a break or the sentence start)
    best: float  # best reading's score over the island
    plain: float  # the text as it stands, over the island
    # while recording: how many more times each read enters the best path's score than the
    # text's own path's (the island's gain moves by exactly the sum of these x the moves while
    # the best path stays the best; empty when the text wins)
    delta: dict | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class IslandPath(Path):
    islands: tuple[Island, ...] = ()


def islands(n: int, arcs: Sequence[Arc], breaks: frozenset[int], after: int = 1) -> list[tuple[int, int]]:
    """Token ranges [lo, hi) of a sentence of n tokens that alternative readings (arcs that are not
    the identity: ``tag`` set or other words) touch, each widened by the ``after`` tokens after it
    (1 for a bigram model, 2 for a trigram model: their probabilities depend on the reading's last
    words) unless a break resets the context first; ranges that would overlap are merged."""
    spans = sorted((a.start, a.end) for a in arcs if a.tag is not None)
    out: list[list[int]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    res: list[tuple[int, int]] = []
    for s, e in out:
        hi = e
        for _ in range(after):
            if hi >= n or hi in breaks:
                break
            hi += 1
        if res and s < res[-1][1]:  # the previous island's right neighbours reach an alternative's token
            res[-1] = (res[-1][0], max(hi, res[-1][1]))
        else:
            res.append((s, hi))
    return res


def decode(lm: Any, n: int, arcs: Sequence[Arc], breaks: frozenset[int], words: Sequence[str]) -> tuple[IslandPath, float]:
    """The best reading of a sentence (its arcs, identity arcs first: ``arcs[i]`` reads token i
    as itself) and its gain over the text as it stands, island by island."""
    chosen: list[Arc] = []
    found: list[Island] = []
    pos, gain, score = 0, 0.0, 0.0
    rec = _rec()
    for lo, hi in islands(n, arcs, breaks):
        chosen.extend(arcs[pos:lo])
        ctx = None if lo == 0 or lo in breaks else norm(words[lo - 1])
        inside = [a for a in arcs if lo <= a.start and a.end <= hi]
        delta = None
        if rec is not None:
            rec.scope = Counter()
        try:
            best = viterbi(lm, hi, inside, breaks, start=lo, context=ctx)
            if rec is not None:  # the text's own path is one viterbi weighed: its reads are counted
                counted, rec.scope = rec.scope, Counter()
            plain = chain_score(lm, words[lo:hi], frozenset(b - lo for b in breaks if lo <= b < hi), context=ctx)
            if rec is not None:
                rec.exact |= set(rec.scope) - set(counted)  # (none: a safeguard)
                rec.scope = counted
                _judge(rec, lm, best, plain, inside, breaks, lo, hi, ctx)
                delta = _difference(_path_counts(best.arcs, breaks, ctx),
                                    _path_counts([a for a in inside if a.tag is None], breaks, ctx))
        finally:
            if rec is not None:
                rec.scope = None
        found.append(Island(lo, hi, ctx, best.score, plain, delta))
        chosen.extend(best.arcs)
        gain += best.score - plain
        score += best.score
        pos = hi
    chosen.extend(arcs[pos:n])
    return IslandPath(tuple(chosen), score, tuple(found)), gain


_SLACK = 1e-6  # float rounding in sums of a few dozen terms is far below this


def _judge(rec: Recorder, lm: Any, best: Path, plain: float, inside: Sequence[Arc], breaks: frozenset[int],
           lo: int, hi: int, ctx: str | None) -> None:
    """Give the island its budget: how far its reads may move, together, without changing which
    path wins. With c_r how often the decoder asked for read r (at least the times r enters any
    one path: each transition of any path is among those requests), the difference of two
    paths' scores moves by at most sum(c_r * |change of r|). The best path wins by a margin M
    over every other path (the text as it stands, when it wins, over every path through a
    swap; a winning swap's path over every path lacking one of its arcs, as any other path
    does): it stays the best while that sum is under M: budget M - slack. The values computed
    from the winning path (the island's gain, a repair's confidence) get budgets of their own
    where they are used (``Recorder.bound``).

    Budgets are in steps of 1/QUANTUM nat, rounded down.
    """
    counts = rec.scope
    assert counts is not None
    rec.scope = Counter()  # the runner-up searches read the same keys: not counted
    if all(a.tag is None for a in best.arcs) and best.score == plain:
        runner_up = max(_best_score(lm, hi, [b for b in inside if b is a or b.end <= a.start or b.start >= a.end],
                                    breaks, lo, ctx) for a in inside if a.tag is not None)
    else:
        # any other path lacks one of the best path's arcs (they tile the island)
        runner_up = max(_best_score(lm, hi, [b for b in inside if b is not a], breaks, lo, ctx) for a in best.arcs)
    room = best.score - runner_up  # (= plain - runner_up when the text wins)
    rec.exact |= set(rec.scope) - set(counts)  # (a runner-up read not among the counted ones, if one could be)
    rec.bound(room, counts, "i")


def _best_score(lm: Any, hi: int, arcs: Sequence[Arc], breaks: frozenset[int], lo: int, ctx: str | None) -> float:
    try:
        return viterbi(lm, hi, arcs, breaks, start=lo, context=ctx).score
    except ValueError:  # no path through these arcs (an identity arc removed, nothing spans it)
        return -math.inf


def _path_counts(arcs: Sequence[Arc], breaks: frozenset[int], ctx: str | None) -> Counter:
    """How many times each (previous word, word) read enters the score of the path through
    ``arcs`` (in order), as viterbi adds them."""
    out: Counter = Counter()
    prev = ctx
    for arc in sorted(arcs, key=lambda a: a.start):
        p = None if arc.start in breaks else prev
        for w in arc.words:
            out[(p, norm(w))] += 1
            p = norm(w)
        prev = p
    return out


def _difference(a: Counter, b: Counter) -> dict:
    """a - b per read (signed, zeros left out)."""
    out = {r: a[r] - b[r] for r in set(a) | set(b)}
    return {r: d for r, d in out.items() if d}


def margin(lm: Any, path: IslandPath, arc: Arc, kept: Sequence[Arc], breaks: frozenset[int]) -> tuple[float, dict | None]:
    """How much better the best reading is than the best one with only ``kept`` arcs, on the
    island ``arc`` lies in (the others are the same on both); and, while recording, the weights
    of the reads it depends on. That best kept path is given a budget of its own, as an
    island's best path is (``_judge``), so that while both paths stay the best the margin moves
    by exactly sum((times a read enters one path - the other) x its move)."""
    for isl in path.islands:
        if isl.lo <= arc.start < isl.hi:
            inside = [a for a in kept if isl.lo <= a.start and a.end <= isl.hi]
            rec = _rec()
            if rec is None or isl.delta is None:
                return isl.best - viterbi(lm, isl.hi, inside, breaks, start=isl.lo, context=isl.context).score, None
            rec.scope = counts = Counter()
            try:
                other = viterbi(lm, isl.hi, inside, breaks, start=isl.lo, context=isl.context)
                rec.scope = Counter()  # the runner-up searches read the same keys: not counted
                runner_up = max(_best_score(lm, isl.hi, [b for b in inside if b is not a], breaks, isl.lo, isl.context)
                                for a in other.arcs)
                rec.exact |= set(rec.scope) - set(counts)
            finally:
                rec.scope = None
            rec.bound(other.score - runner_up, counts, "i")
            best = [a for a in path.arcs if isl.lo <= a.start < isl.hi]
            # signed: while both paths hold, the margin moves by exactly sum(weight x move)
            weights = _difference(_path_counts(best, breaks, isl.context), _path_counts(other.arcs, breaks, isl.context))
            return isl.best - other.score, weights
    raise ValueError("arc outside every island")


def gain_weights(islands: Iterable[Any]) -> dict | None:
    """The weights of the reads a sum of islands' gains depends on: the sum of their ``delta``
    (signed: while the islands' best paths are held by their own budgets, the sum of gains moves
    by exactly sum(weight x move)); None when not recording (a trigram decoder's islands: their
    reads are exact)."""
    total: Counter = Counter()
    for isl in islands:
        delta = getattr(isl, "delta", None)
        if delta is None:
            return None
        total.update(delta)
    return {r: d for r, d in total.items() if d}
