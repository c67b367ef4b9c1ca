"""Candidate readings beyond the reverse-spin lexicons: WordNet synonyms, inflected in context.

A word spinner replaces a word by a thesaurus synonym ("former" -> "previous", "armed" ->
"equipped", "took" -> "required"), so the original is, most of the time, one of the spun word's
synonyms. For a content word this module proposes the other lemmas of its WordNet synsets
(resources/spun/wordnet_synonyms.tsv, built from WordNet 3.0 by bench/build_wordnet_synonyms.py)
in the spun word's own inflection (lemminflect: "required" is VBD of "require", so "take" is
proposed as "took"), and a few multi-word function phrases both ways (resources/spun/
phrase_synonyms.tsv: "in order to" <-> "to", "prior to" <-> "before"). It only proposes; the
spun stage's language model decides, and only inside text already found spun.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import lemminflect
from wordfreq import zipf_frequency

from .stages.base import ConfigError

# lemminflect's universal POS -> WordNet's
_WN_POS = {"NOUN": "n", "VERB": "v", "ADJ": "a", "ADV": "r"}
# grammar more than meaning: never proposed, never proposed for (auxiliaries and modals)
_AUX = frozenset(
    "be is are was were been being am have has had having do does did done doing will would shall "
    "should can could may might must ought".split())
# words too general to read anything into: never proposed for (they are proposed: "stated" may
# stand for "said", "obtain" for "get")
_SKIP = _AUX | frozenset(
    "not no yes so too very also then there here now just only even still well much many more most "
    "less least few lot lots thing things one ones way ways get got make made go went gone come came "
    "let lets say says said see saw seen".split())
# the spun word's Zipf frequency minus this bounds the candidates' (wordfreq): the spinner trades
# a word for a rarer or equally common synonym far more often than for a much more common one,
# and a rare candidate is almost never the original
MAX_RARER = 1.0
MIN_ZIPF = 3.0


@dataclass(frozen=True)
class Candidate:
    words: tuple[str, ...]  # the reading (lower case unless the word itself has capitals)
    source: str  # why: "wordnet:require/v VBD", "phrase:in order to"


@lru_cache(maxsize=1)
def load_wordnet() -> dict[tuple[str, str], tuple[str, ...]]:
    path = resources.files("cleancorpus") / "resources" / "spun" / "wordnet_synonyms.tsv"
    table: dict[tuple[str, str], tuple[str, ...]] = {}
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 3 or cols[1] not in "nvar":
                raise ConfigError(f"resources/spun/wordnet_synonyms.tsv line {no}: expected lemma, pos, synonyms")
            table[(cols[0], cols[1])] = tuple(cols[2].split("|"))
    return table


@lru_cache(maxsize=1)
def load_phrases() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Multi-word phrase <-> word readings, both ways: key = the spun words, value = readings."""
    path = resources.files("cleancorpus") / "resources" / "spun" / "phrase_synonyms.tsv"
    table: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 3 or not cols[0] or not cols[1]:
                raise ConfigError(f"resources/spun/phrase_synonyms.tsv line {no}: expected phrase, phrase, source")
            a, b = tuple(cols[0].split(" ")), tuple(cols[1].split(" "))
            table.setdefault(a, []).append(b)
            table.setdefault(b, []).append(a)
    return {k: tuple(v) for k, v in table.items()}


@lru_cache(maxsize=1 << 16)
def _zipf(word: str) -> float:
    return zipf_frequency(word, "en")


@lru_cache(maxsize=1 << 15)
def analyses(word: str) -> tuple[tuple[str, str, str], ...]:
    """(universal POS, lemma, Penn tag) readings of a lower-case word form."""
    out = []
    for upos, lemmas in lemminflect.getAllLemmas(word).items():
        if upos not in _WN_POS:
            continue
        for lemma in lemmas:
            for tag, forms in lemminflect.getAllInflections(lemma, upos).items():
                if word in forms:
                    out.append((upos, lemma, tag))
                    # a regular past form is both VBD and VBN; lemminflect lists it under VBD
                    if tag == "VBD":
                        out.append((upos, lemma, "VBN"))
    return tuple(dict.fromkeys(out))


def _inflect(lemma: str, upos: str, tag: str) -> str | None:
    """``lemma`` (one or more words) in the Penn ``tag``: verbs inflect their first word ("look
    for" -> "looked for"), nouns their last ("prime minister" -> "prime ministers")."""
    words = lemma.split(" ")
    i = 0 if upos == "VERB" else len(words) - 1
    forms = lemminflect.getInflection(words[i], tag=tag)
    if not forms:
        if tag in ("NN", "VB", "VBP", "JJ", "RB"):
            return lemma
        return None
    words[i] = forms[0]
    return " ".join(words)


@lru_cache(maxsize=1 << 15)
def word_candidates(word: str) -> tuple[Candidate, ...]:
    """Synonyms of one lower-case content word, in its inflection, and its other verb forms."""
    if word in _SKIP or not word.isalpha() or len(word) < 3:
        return ()
    floor = max(MIN_ZIPF, _zipf(word) - MAX_RARER)
    wordnet = load_wordnet()
    seen: dict[str, Candidate] = {}
    for upos, lemma, tag in analyses(word):
        for syn in wordnet.get((lemma, _WN_POS[upos]), ()):
            if syn in _AUX or "-" in syn:
                continue
            form = _inflect(syn, upos, tag)
            if form is None or form == word or form in seen or _variant(form, word):
                continue
            if all(_zipf(w) >= floor for w in form.split(" ")) and min(_zipf(w) for w in form.split(" ")) >= MIN_ZIPF:
                seen[form] = Candidate(tuple(form.split(" ")), f"wordnet:{lemma}/{_WN_POS[upos]} {tag}")
        if upos == "VERB":
            # the spinner also changes a verb's tense ("sought asylum" -> "seek asylum")
            for t, forms in lemminflect.getAllInflections(lemma, "VERB").items():
                for form in forms:
                    if form != word and form not in seen and t in ("VBD", "VBN", "VB", "VBZ", "VBP"):
                        seen[form] = Candidate((form,), f"inflection:{lemma} {t}")
    return tuple(seen.values())


def _variant(a: str, b: str) -> bool:
    """A spelling variant rather than a synonym ("vapour"/"vapor", "defence"/"defense"): at most
    two letters apart. Reading one back would be the spelling stage's business, not ours."""
    if abs(len(a) - len(b)) > 2:
        return False
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1] <= 2


def phrase_candidates(words: tuple[str, ...]) -> tuple[Candidate, ...]:
    """Readings of a multi-word (or one-word) function phrase from phrase_synonyms.tsv."""
    return tuple(Candidate(r, f"phrase:{' '.join(words)}") for r in load_phrases().get(words, ()))


@lru_cache(maxsize=1)
def phrase_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(k) for k in load_phrases()}, reverse=True))
