"""Correct misspellings of out-of-vocabulary words with symspellpy, protecting names.

Only tokens the dictionaries (symspellpy's shipped English frequency list, and pyspellchecker's
larger English word list, which knows real but rarer words such as "balking" and "chili") and the
corpus do not know are looked at, one at a time with ``SymSpell.lookup`` (not ``lookup_compound``, which
drops punctuation and numbers). Protected, and never changed: numbers, URLs and e-mail
addresses, words with inner capitals (acronyms, brands, glued words), parts of hyphenated
compounds, possessives and contractions, British spellings, words that occur more than once in
the corpus (or, without a corpus, in the document), and words with non-English letters
(Gerő, Kádár, café), and words under five letters. A capitalised ASCII word is only corrected to
a word the corpus itself uses often ("Hugary" -> "Hungary"), since a rare capitalised word is
more likely a name than a typo.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

from spellchecker import SpellChecker
from symspellpy import SymSpell, Verbosity

from ..document import Document, Replacement
from .base import Stage, register, require_at_least
from .english import english_spans

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_CHUNK = re.compile(r"\S+")
_INFLECTIONS = ("s", "es", "ed", "d", "ing", "er", "ers", "ly")
_WEBBY = re.compile(r"://|^www\.|@|\.(?:com|org|net|gov|edu)\b", re.I)


@dataclasses.dataclass(frozen=True)
class SpellingOptions:
    max_edit_distance: int = 1
    # a lower-case correction must be at least this frequent in the dictionary
    min_suggestion_count: int = 100_000
    # a word seen this often in the corpus (or document) is the corpus's own, never corrected
    protect_min_count: int = 2
    # a capitalised word is corrected only to a word the corpus/document uses at least this often
    min_corpus_target: int = 2
    # shorter words are too often foreign or deliberate ("lait" is one edit from "last")
    min_length: int = 5
    # a document with more unknown lower-case words than this is not (mainly) English: leave it
    max_unknown_rate: float = 0.1

    def __post_init__(self) -> None:
        if self.max_edit_distance not in (1, 2):
            raise ValueError("max_edit_distance must be 1 or 2")
        require_at_least(self, ("min_suggestion_count", "protect_min_count", "min_corpus_target", "min_length"), 1)
        if not 0.0 <= self.max_unknown_rate <= 1.0:
            raise ValueError("max_unknown_rate must be in [0, 1]")


@lru_cache(maxsize=2)
def dictionary(max_edit_distance: int) -> SymSpell:
    """symspellpy's English frequency dictionary, indexed once per process (read-only after)."""
    sym = SymSpell(max_dictionary_edit_distance=max_edit_distance, prefix_length=7)
    path = resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    if not sym.load_dictionary(str(path), term_index=0, count_index=1, encoding="utf-8"):
        raise FileNotFoundError(f"symspellpy dictionary missing: {path}")
    return sym


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """pyspellchecker's English list (160k words, SCOWL-filtered): real words symspellpy's 82k
    list lacks ("balking", "chili") would otherwise be "corrected" to a frequent neighbour."""
    return frozenset(SpellChecker(language="en").word_frequency.dictionary)


@lru_cache(maxsize=1)
def variants() -> tuple[tuple[str, str], ...]:
    """British -> American spelling endings: a British spelling is a word, not a typo."""
    path = resources.files("cleancorpus") / "resources" / "spelling" / "variants.tsv"
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                a, b = line.rstrip("\n").split("\t")
                rows.append((a, b))
    return tuple(rows)


@dataclass
class WordCounts:
    """What spelling's fit learns: counts of the words it may look up, and the running words."""

    counts: Counter = field(default_factory=Counter)
    words: int = 0


@register
class SpellingStage(Stage):
    name = "spelling"
    Options = SpellingOptions
    needs_corpus = True
    fit_reads = "text"  # partial_fit counts the words of doc.text, nothing else

    def __init__(self, options: SpellingOptions | None = None) -> None:
        super().__init__(options)
        self._sym = dictionary(self.options.max_edit_distance)
        self._words = english_words()
        self._corpus: Counter = Counter()
        self._fitted = False

    def __getstate__(self) -> dict:
        # the dictionaries ship with symspellpy and pyspellchecker: a fitted stage sent to a
        # worker carries its corpus counts only, and the worker indexes the dictionaries once
        return {k: v for k, v in self.__dict__.items() if k not in ("_sym", "_words")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._sym = dictionary(self.options.max_edit_distance)
        self._words = english_words()

    def partial_fit(self, docs: Iterable[Document]) -> WordCounts:
        """Corpus counts of the words ``_correct`` may look up, and no others: lower-case
        dictionary words (most running words) are never looked up, so they are not kept."""
        stats = WordCounts()
        looked_up: dict[str, bool] = {}  # the same words recur; the dictionary checks cost
        for doc in docs:
            words = [m.group() for m in _WORD.finditer(doc.text)]
            stats.words += len(words)
            if len(looked_up) > 1 << 16:
                looked_up.clear()
            for w in words:
                keep = looked_up.get(w)
                if keep is None:
                    keep = looked_up[w] = self._looked_up(w)
                if keep:
                    stats.counts[w] += 1
        return stats

    def merge_stats(self, parts: Sequence[WordCounts]) -> WordCounts:
        total = WordCounts()
        for part in parts:
            total.words += part.words
            total.counts.update(part.counts)
        return total

    def finish_fit(self, stats: WordCounts) -> None:
        # a count under both thresholds reads as zero in every comparison _correct makes
        floor = min(self.options.protect_min_count, self.options.min_corpus_target)
        self._corpus = Counter({w: n for w, n in stats.counts.items() if n >= floor})
        self._fitted = stats.words > 0

    def _looked_up(self, word: str) -> bool:
        """Whether ``_correct`` can ever read ``seen[word]``: as the word under correction (an
        unknown word long enough, ASCII, no apostrophe or inner capital), or as a capitalised
        correction target (a dictionary word, at most max_edit_distance letters shorter)."""
        o = self.options
        if word == word.capitalize() and len(word) >= o.min_length - o.max_edit_distance:
            return True
        if len(word) < o.min_length or not word.isascii() or "'" in word or "\u2019" in word:
            return False
        if any(c.isupper() for c in word[1:]):
            return False
        return not self._known(word.lower())

    def apply(self, doc: Document) -> Document:
        return self._apply(doc, self._corpus)

    # -- reuse across runs: whether the corpus was empty, and for each word looked up in the
    # corpus counts, the two comparisons _correct makes with its count
    def apply_recorded(self, doc: Document) -> tuple[Document, dict]:
        seen = _Recording(self._corpus)
        out = self._apply(doc, seen)
        return out, {"fitted": self._fitted, "words": {w: self._marks(w) for w in sorted(seen.read)}}

    def reads_hold(self, reads: dict | None, doc: Document | None = None) -> bool:
        return self.miss_cause(reads, doc) is None

    def miss_cause(self, reads: dict | None, doc: Document | None = None) -> str | None:
        if not isinstance(reads, dict) or "words" not in reads:
            return "format"
        if reads.get("fitted") != self._fitted:
            return "statistics emptied or filled"
        for w, m in reads["words"].items():
            now = self._marks(w)
            if now != list(m):
                return "protect_min_count crossed" if now[0] != m[0] else "min_corpus_target crossed"
        return None

    def _marks(self, word: str) -> list[bool]:
        n = self._corpus[word]
        return [n >= self.options.protect_min_count, n >= self.options.min_corpus_target]

    def _apply(self, doc: Document, corpus: Counter) -> Document:
        local = Counter(m.group() for m in _WORD.finditer(doc.text))
        # the language stage's English lines (None: it did not run, read the whole text); the
        # unknown-word rate still guards them: foreign phrases inside English lines are not typos
        spans = english_spans(doc)
        english = local
        if spans is None:
            spans = [(0, len(doc.text))]
        elif spans != [(0, len(doc.text))]:
            english = Counter(m.group() for start, end in spans for m in _WORD.finditer(doc.text, start, end))
        if not spans or self._unknown_rate(english) > self.options.max_unknown_rate:
            return doc
        # without fit() (or after a fit on no words) the document is its own corpus
        seen = corpus if self._fitted else local
        reps = []
        for chunk in (c for start, end in spans for c in _CHUNK.finditer(doc.text, start, end)):
            if _WEBBY.search(chunk.group()):
                continue
            for m in _WORD.finditer(chunk.group()):
                start, end = chunk.start() + m.start(), chunk.start() + m.end()
                if _hyphenated(doc.text, start, end):
                    continue
                fix = self._correct(m.group(), seen)
                if fix is not None:
                    after, conf, why = fix
                    reps.append(Replacement(start, end, after, why, conf))
        return doc.revise(self.name, reps)

    def _correct(self, word: str, seen: Counter) -> tuple[str, float, str] | None:
        o = self.options
        lower = word.lower()
        # contractions and possessives (bloc's) are not typos of a longer word
        if "'" in word or "\u2019" in word:
            return None
        # an inner capital (govU, iPhone) marks glued words or a brand, not a typo
        if any(c.isupper() for c in word[1:]):
            return None
        if len(word) < o.min_length or self._known(lower) or seen[word] >= o.protect_min_count:
            return None
        if not word.isascii():
            return None  # a non-English name or word (Gerő, Kádár, café)
        capital = word[0].isupper()
        if self._inflected_or_variant(lower):
            return None
        found = self._sym.lookup(lower, Verbosity.CLOSEST, max_edit_distance=o.max_edit_distance)
        if capital:
            found = [s for s in found if seen[s.term.capitalize()] >= o.min_corpus_target]
        else:
            found = [s for s in found if s.count >= o.min_suggestion_count]
        if not found:
            return None
        best = max(found, key=lambda s: s.count)
        share = best.count / sum(s.count for s in found)
        after = best.term.capitalize() if capital else best.term
        where = "a word this corpus uses" if capital else "the dictionary's most frequent word"
        why = f"spelling: {word!r} is unknown; {after!r} is {best.distance} edit away, {where}"
        return after, share * (0.9 if best.distance == 1 else 0.6), why

    def _inflected_or_variant(self, lower: str) -> bool:
        """The dictionary lacks many inflections (colors, tweeted) and American or British forms
        (theater, favorite): such a word is correct if its stem or other spelling is known."""
        if any(lower.endswith(x) and self._known(lower[: -len(x)]) for x in _INFLECTIONS):
            return True
        return any(lower.endswith(a) and self._known(lower[: -len(a)] + b)
                   for pair in variants() for a, b in (pair, pair[::-1]))

    def _unknown_rate(self, words: Counter) -> float:
        lower = [(w, n) for w, n in words.items() if w.islower() and len(w) >= 3]
        total = sum(n for _, n in lower)
        if total < 20:  # too few words to tell the language
            return 0.0
        return sum(n for w, n in lower if not self._known(w)) / total

    def _known(self, lower: str) -> bool:
        straight = lower.replace("\u2019", "'")
        return straight in self._sym.words or straight in self._words


class _Recording(Counter):
    """The corpus counts, remembering which words were read (for ``apply_recorded``)."""

    def __init__(self, counts: Counter) -> None:
        super().__init__()
        self.counts, self.read = counts, set()

    def __getitem__(self, word: str) -> int:
        self.read.add(word)
        return self.counts[word]


def _hyphenated(text: str, start: int, end: int) -> bool:
    """Part of a compound (de-stalinisation): the pieces need not be dictionary words."""
    return (start > 0 and text[start - 1] == "-") or (end < len(text) and text[end] == "-")
