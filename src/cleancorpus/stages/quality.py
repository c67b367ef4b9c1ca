"""Quality signals: the published heuristics of Gopher, C4 and FineWeb, as annotations (and, on
request, a filter).

Every document gets ``metadata["quality"]`` (signal name -> value) and ``metadata["quality_flags"]``
(the names of the rules it fails, in the order of ``resources/quality/thresholds.json``). The text
is never changed. With ``filter`` on, a document that fails a rule (of ``filter_rules``, or any
rule when that is empty) is rejected; the reason names the failing rules and the detail gives
the values against the thresholds.

The rule sets, each as its paper defines it and as datatrove (their reference implementation,
used to build FineWeb) computes it; the thresholds and the source of every rule are data, in
``resources/quality/thresholds.json``:

- ``gopher_quality``: Rae et al. 2021 (arXiv:2112.11446), Appendix A.1.1: word count, mean word
  length, hash and ellipsis per word, bullet and ellipsis lines, words with a letter, stop words.
- ``gopher_repetition``: Rae et al. 2021, Appendix A.1.1 and Table A1: duplicated lines and
  paragraphs (share of items and of characters), the most frequent 2-4-gram's characters, the
  characters in duplicated 5-10-grams.
- ``c4``: Raffel et al. 2020 (JMLR 21(140)), section 2.2: sentences in the lines C4 keeps,
  "lorem ipsum", curly brackets. C4's line removal is counted (``c4_kept_line_frac``) but not applied.
- ``fineweb``: Penedo et al. 2024 (arXiv:2406.17557), section 3.3.3: lines ending in punctuation,
  short lines, characters in duplicated lines; and datatrove's newline-per-word list rule.
- ``c4_badwords``: Raffel et al. 2020, section 2.2: a word of the LDNOOBW list (English, shipped
  in resources/quality/, the version datatrove pins), matched as datatrove's C4BadWordsFilter
  matches it (``BadWords``); deterministic: every such document is flagged (datatrove's
  ``keep_fraction``, a random share kept, is left to the user).

The rules are English heuristics: on a document the language stage found not to be English, the
rules marked ``english_only`` in thresholds.json are computed but not flagged
(``metadata["quality_skipped"]`` lists them), unless ``non_english`` is ``"all_rules"``.

Words are counted as datatrove counts them for English (spaCy's rule-based tokenizer), by
:mod:`.quality_words`; bench/quality.py measures the agreement with datatrove's filters.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections import Counter
from functools import partial
from itertools import accumulate, compress, count, filterfalse
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np

from ..document import Document, Rejection
from .base import ConfigError, Stage, register
from .quality_words import _ASTRAL, RESOURCE_DIR, WordSplitter, _load_json, make_room

try:  # the per-word loops compiled at install time (optional: setup.py, _quality_c.c)
    from . import _quality_c
except ImportError:  # no C compiler at install time: the same numbers in Python and numpy
    _quality_c = None

RULE_SETS = ("gopher_quality", "gopher_repetition", "c4", "c4_badwords", "fineweb")
NON_ENGLISH = ("skip_english_rules", "all_rules")


def _is(value: Any, expected: bool) -> bool:
    return bool(value) is expected


_OPS = {"<": operator.lt, ">": operator.gt, "true": _is}


def load_thresholds() -> dict[str, Any]:
    data = _load_json("thresholds.json")
    for name in RULE_SETS:
        rules = data.get(name, {}).get("rules")
        if not isinstance(rules, dict) or not rules:
            raise ConfigError(f"quality resource thresholds.json has no rules for {name!r}")
        for rule, spec in rules.items():
            if spec.get("fails_if") not in _OPS or "signal" not in spec or "threshold" not in spec:
                raise ConfigError(f"quality rule {rule!r} in thresholds.json needs signal, fails_if (<, >, true) and threshold")
            if not isinstance(spec.get("english_only"), bool):
                raise ConfigError(f"quality rule {rule!r} in thresholds.json needs english_only (true or false)")
    return data


@dataclasses.dataclass(frozen=True)
class QualityOptions:
    # which rule sets to compute (signals and flags)
    rule_sets: tuple[str, ...] = RULE_SETS
    # reject documents that fail a rule (off: annotate only)
    filter: bool = False
    # with filter on, only these rules or rule sets reject (empty: every computed rule)
    filter_rules: tuple[str, ...] = ()
    # documents the language stage found in another language than English: "skip_english_rules"
    # computes every signal but flags only the rules that are not English-only (thresholds.json,
    # english_only) and says so in metadata["quality_skipped"]; "all_rules" flags them all.
    # Without a language decision (no language stage, or no language found) every rule applies.
    non_english: str = "skip_english_rules"

    def __post_init__(self) -> None:
        if not isinstance(self.filter, bool):
            raise ValueError("filter must be true or false")
        if self.non_english not in NON_ENGLISH:
            raise ValueError(f"non_english must be one of {', '.join(NON_ENGLISH)}")
        for name in ("rule_sets", "filter_rules"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name} must be a list of names")
            object.__setattr__(self, name, tuple(value))
        unknown = sorted(set(self.rule_sets) - set(RULE_SETS))
        if unknown or not self.rule_sets:
            raise ValueError(f"rule_sets must be some of {', '.join(RULE_SETS)}; unknown: {', '.join(unknown) or 'none given'}")
        rules = load_thresholds()
        known = set(RULE_SETS) | {r for s in RULE_SETS for r in rules[s]["rules"]}
        unknown = sorted(set(self.filter_rules) - known)
        if unknown:
            raise ValueError(f"filter_rules: unknown rule(s) or rule set(s) {', '.join(unknown)}")


@register
class QualityStage(Stage):
    name = "quality"
    Options = QualityOptions

    def __init__(self, options: QualityOptions | None = None) -> None:
        super().__init__(options)
        self.words = WordSplitter()
        t = load_thresholds()
        punct = _load_json("punctuation.json")
        symbol_chars = frozenset(punct["punctuation"]) | frozenset(punct["terminal_punctuation"])
        # per token (memos): made only of datatrove's punctuation? holds a letter?
        self._only_symbols = _TokenTest(partial(_only_symbols, symbol_chars))
        self._symbol_str = "".join(sorted(symbol_chars))  # (the C module tests the characters)
        if not all(len(c) == 1 for c in symbol_chars):
            raise ConfigError("punctuation.json: punctuation and terminal_punctuation must be single characters")
        self._has_letter = _TokenTest(_has_letter)
        self._terminal = frozenset(punct["terminal_punctuation"])  # single characters
        self._stop_words = frozenset(t["gopher_quality"]["stop_words"])
        c4 = t["c4"]
        self._c4_end_chars = frozenset(c4["end_punctuation"])
        if not all(len(c) == 1 for c in self._c4_end_chars):
            raise ConfigError("c4 end_punctuation in thresholds.json must be single characters")
        self._c4_last_chars = self._c4_end_chars | {"]"}
        self._c4_min_words = int(c4["min_words_per_line"])
        self._c4_max_word = int(c4["max_word_length"])
        self._c4_policy = tuple(c4["policy_substrings"])
        self._c4_citation = re.compile(c4["citation_pattern"])
        self._c4_phrases = ("lorem ipsum", "javascript", *self._c4_policy)
        self._short_line = int(t["fineweb"]["short_line_length"])
        self._badwords = BadWords(_load_list(t["c4_badwords"]["list"]))
        if "c4_badwords" in self.options.rule_sets:
            self.words.key_of = self._badwords.chunk_keys
            self.words.key_one = self._badwords._one  # (chunk_keys' answer for letters and digits)
        self._specs = {rule: spec for set_name in RULE_SETS for rule, spec in t[set_name]["rules"].items()}
        self._rules = [
            (rule, spec["signal"], _OPS[spec["fails_if"]], spec["threshold"], set_name)
            for set_name in RULE_SETS if set_name in self.options.rule_sets
            for rule, spec in t[set_name]["rules"].items()
        ]
        self._filter_on = frozenset(self.options.filter_rules)
        self._english_only = frozenset(rule for rule, spec in self._specs.items() if spec["english_only"])

    # -- the stage --------------------------------------------------------------------------------
    def apply(self, doc: Document) -> Document | Rejection:
        signals = self.signals(doc.text)
        flags = self.flags(signals)
        skipped = None
        language = doc.metadata.get("language")
        if isinstance(language, str) and language != "en" and self.options.non_english == "skip_english_rules":
            # the language stage's decision: the English-only rules are not this text's
            not_applied = [r for r, _, _, _, _ in self._rules if r in self._english_only]
            flags = [r for r in flags if r not in self._english_only]
            skipped = {"reason": "language", "language": language, "rules": not_applied}
        if self.options.filter:
            failing = [r for r in flags if not self._filter_on or r in self._filter_on
                       or self._rule_set(r) in self._filter_on]
            if failing:
                detail = "; ".join(self._explain(r, signals) for r in failing)
                return self.reject(", ".join(failing), detail)
        # floats to 6 decimals; most are 0.0 (no repetition), which round() would return as they
        # are, at a microsecond each (the signals are plain Python numbers: never numpy scalars)
        shown = {k: (round(v, 6) if v else v) if type(v) is float else v for k, v in signals.items()}
        if skipped:
            return doc.with_metadata(quality=shown, quality_flags=flags, quality_skipped=skipped)
        return doc.with_metadata(quality=shown, quality_flags=flags)

    def flags(self, signals: dict[str, Any]) -> list[str]:
        """The names of the rules the signals fail, in the order of thresholds.json (a signal that
        is undefined, None, for this text, such as the mean length of no words, fails no rule)."""
        return [rule for rule, signal, fails, threshold, _ in self._rules
                if signals[signal] is not None and fails(signals[signal], threshold)]

    def _rule_set(self, rule: str) -> str:
        return next(s for r, _, _, _, s in self._rules if r == rule)

    def _explain(self, rule: str, signals: dict[str, Any]) -> str:
        spec = self._specs[rule]
        value = signals[spec["signal"]]
        value = round(value, 4) if isinstance(value, float) else value
        if spec["fails_if"] == "true":
            return f"{spec['signal']}"
        return f"{spec['signal']} {value} {spec['fails_if']} {spec['threshold']}"

    # -- signals ----------------------------------------------------------------------------------
    def signals(self, text: str) -> dict[str, Any]:
        """Every signal of the chosen rule sets (plain numbers and booleans, deterministic)."""
        split_lines = text.splitlines()
        stripped = list(map(str.strip, split_lines))
        parts = text.split("\n")
        chunks = text.split()
        if "c4_badwords" in self.options.rule_sets:
            words, keys = self.words.words_and_keys(chunks)
        else:
            words, keys = self.words.words_of_chunks(chunks), set()
        out: dict[str, Any] = {"char_count": len(text), "word_count": len(words)}
        sets = self.options.rule_sets
        if "gopher_quality" in sets:
            # the characters of the words: a chunk's tokens are its characters, cut (tokens_join)
            chars = len("".join(chunks)) if self.words.tokens_join else sum(map(len, words))
            out.update(self._gopher_quality(text, words, stripped, chars))
        if "gopher_repetition" in sets:
            out.update(self._gopher_repetition(text, words, parts))
        if "c4" in sets:
            out.update(self._c4(stripped))
        if "c4_badwords" in sets:
            out["c4_badword_count"] = self._badwords.count(keys, text)
        if "fineweb" in sets:
            out.update(self._fineweb(text, words, parts))
        return out

    def _gopher_quality(self, text: str, words: list[str], stripped: list[str], chars: int) -> dict[str, Any]:
        # Gopher A.1.1. "Words" that are only punctuation (datatrove's PUNCTUATION_SET) do not count
        # towards the word count and the mean length; the per-word ratios divide by all tokens.
        n_all = len(words)
        if _quality_c is not None:
            n_other, n_symbols, symbol_chars, n_lettered, n_stop = _quality_c.word_counts(
                words, self._stop_words, self._symbol_str)
        else:
            other = list(filterfalse(str.isalpha, words))  # most words are letters only: no test needed
            symbols = list(compress(other, map(self._only_symbols.__getitem__, other)))
            n_other, n_symbols, symbol_chars = len(other), len(symbols), sum(map(len, symbols))
            n_lettered = sum(map(self._has_letter.__getitem__, other))
            n_stop = len(self._stop_words.intersection(words))
        n_words = n_all - n_symbols
        n_alpha = n_all - n_other + n_lettered
        n_lines = len(stripped)  # the lines of str.splitlines, stripped
        # lines starting with a bullet, ending in an ellipsis: counted in the lines joined by "\n"
        # (no line of str.splitlines holds one), each "\n-" the start of a line, each "...\n" an end
        joined = "\n".join(stripped) + "\n"
        bullets = joined.count("\n•") + joined.count("\n-") + (joined[0] in _BULLETS)
        ellipses = joined.count("...\n") + joined.count("…\n")
        return {
            "gopher_word_count": n_words,
            "gopher_mean_word_length":
                (chars - symbol_chars) / n_words if n_words else None,
            "gopher_hash_word_ratio": text.count("#") / n_all if n_all else None,
            "gopher_ellipsis_word_ratio": (text.count("...") + text.count("…")) / n_all if n_all else None,
            "gopher_bullet_line_frac": bullets / n_lines if n_lines else None,
            "gopher_ellipsis_line_frac": ellipses / n_lines if n_lines else None,
            "gopher_alpha_word_frac":
                n_alpha / n_all if n_all else None,
            "gopher_stop_word_count": n_stop,
        }

    def _gopher_repetition(self, text: str, words: list[str], parts: list[str]) -> dict[str, Any]:
        # Gopher A.1.1 / Table A1, as datatrove computes them: paragraphs are split at two or more
        # newlines (of the stripped text), lines at one or more; every fraction of characters is
        # of the whole text's length.
        n_chars = len(text) or 1
        paras = paragraphs(text.strip())
        lines = newline_runs_split(parts)
        para_items, para_chars = _duplicates(paras)
        line_items, line_chars = _duplicates(lines)
        out: dict[str, Any] = {
            "gopher_dup_para_frac": para_items / len(paras),
            "gopher_dup_para_char_frac": para_chars / n_chars,
            "gopher_dup_line_frac": line_items / len(lines),
            "gopher_dup_line_char_frac": line_chars / n_chars,
        }
        if _quality_c is not None:
            for key, chars in zip(_NGRAM_KEYS, _quality_c.repetition(words)):
                out[key] = chars / n_chars
            return out
        top, dup = ngram_repetition(words)
        for n, chars in top.items():
            out[_TOP_KEYS[n]] = chars / n_chars
        for n, chars in dup.items():
            out[_DUP_KEYS[n]] = chars / n_chars
        return out

    def _c4(self, stripped: list[str]) -> dict[str, Any]:
        # C4 (Raffel et al. 2020, 2.2) line by line as its clean_page does: drop lines with a word
        # over 1000 characters, remove citation markers, keep lines that end in terminal
        # punctuation (not an ellipsis) with at least 3 words and neither "javascript" nor a
        # policy phrase; count the sentences of the kept lines. (The tests that only drop a
        # line run cheapest first; lorem ipsum and curly brackets count only in lines that pass
        # them, as in clean_page.) ``stripped``: the lines of str.splitlines, stripped.
        nonblank = list(filter(None, stripped))
        n_lines = len(nonblank)
        # only a line ending in terminal punctuation, or in "]" (a citation marker, removed
        # below), can be kept: the others are dropped before the loop, most of a web page's
        # menu and footer lines
        candidates = list(compress(nonblank, map(self._c4_last_chars.__contains__, map(_LAST, nonblank))))
        kept = 0
        kinds: list[str] = []  # token kinds of the kept lines, for the sentence count
        lorem = curly = False
        end_chars = self._c4_end_chars
        # the phrase and bracket tests, only when one of the candidates holds something they look
        # for (lower-casing is per character, so a phrase of a line is one of the lines joined;
        # removing a citation marker could make one: "[" counts too)
        joined = "\n".join(candidates)
        look = "[" in joined or "{" in joined or any(map(joined.lower().__contains__, self._c4_phrases))
        words = self.words
        end_before = words.end_search  # a sentence-ending character of the BMP in line[:i] (or None)
        chunk_kinds = words._chunk_kinds
        compiled = _quality_c is not None and words.end_chars is not None
        if compiled and not look and "]" not in end_chars:
            kept, starts = _quality_c.c4_lines(candidates, chunk_kinds, words.end_chars,
                                               self._c4_min_words, self._c4_max_word)
            return {
                "c4_sentence_count": kept + starts,
                "c4_kept_line_frac": kept / n_lines if n_lines else None,
                "c4_lorem_ipsum": False,
                "c4_curly_bracket": False,
            }
        kept_lines: list[str] = []  # (compiled: their sentences counted at the end)
        for line in candidates:
            ws = line.split()  # words before the citation markers go, as clean_page counts them
            if len(ws) < self._c4_min_words:
                continue
            if len(line) > self._c4_max_word and any(len(w) > self._c4_max_word for w in ws):
                continue
            if line[-1] == "]":
                line, ws = self._c4_citation.sub("", line), None
                if not line or line[-1] not in end_chars:
                    continue
            elif "[" in line:
                line, ws = self._c4_citation.sub("", line), None
            if line.endswith("..."):
                continue
            if compiled and not look:
                kept_lines.append(line)
                continue
            if not look:
                kept += 1
                last = (ws or line.split())[-1]
                if end_before is not None and not end_before(line, 0, len(line) - len(last)) \
                        and (line.isascii() or not _ASTRAL(line)):
                    # a sentence ends only in the last chunk: the line's boundaries are the
                    # chunk's (the tokens before it hold no sentence end, so none starts there)
                    kinds.append(chunk_kinds[last])
                else:
                    kinds.append(words.boundary_kinds(line, ws))
                continue
            low = line.lower()
            if "{" in line or any(map(low.__contains__, self._c4_phrases)):  # (most lines have none)
                if "lorem ipsum" in low:
                    lorem = True
                    continue
                if "javascript" in low:
                    continue
                if "{" in line:
                    curly = True
                    continue
                if any(p in low for p in self._c4_policy):
                    continue
            if compiled:
                kept_lines.append(line)
                continue
            kept += 1
            kinds.append(self.words.boundary_kinds(line, ws))
        # every kept line starts a sentence; more start after sentence ends inside the lines
        if compiled:
            kept = len(kept_lines)
            sentences = kept + _quality_c.c4_boundaries(kept_lines, chunk_kinds, words.end_chars)
        else:
            sentences = kept + self.words.count_boundaries("|".join(kinds))
        return {
            "c4_sentence_count": sentences,
            "c4_kept_line_frac": kept / n_lines if n_lines else None,
            "c4_lorem_ipsum": lorem,
            "c4_curly_bracket": curly,
        }

    def _fineweb(self, text: str, words: list[str], parts: list[str]) -> dict[str, Any]:
        # FineWeb 3.3.3 as datatrove computes it: non-blank lines of text.split("\n"), unstripped
        lines = list(compress(parts, map(str.strip, parts)))
        n = len(lines)
        body = len(text) - len(parts) + 1  # the characters that are not "\n"
        return {
            "fineweb_line_count": n,
            "fineweb_line_punct_frac":
                sum(map(self._terminal.__contains__, map(_LAST, lines))) / n if n else None,
            "fineweb_short_line_frac":
                sum(map(self._short_line.__ge__, map(len, lines))) / n if n else None,
            "fineweb_dup_line_char_frac": _duplicates(lines)[1] / body if body else None,
            "fineweb_newline_word_ratio": text.count("\n") / len(words) if words else None,
        }


# Below this many words the n-gram statistics run in plain Python; above, with numpy (the same
# numbers: tests/test_quality.py checks both on the same texts).
NUMPY_MIN_WORDS = 700
TOP_NS = (2, 3, 4)
DUP_NS = (5, 6, 7, 8, 9, 10)


def paragraphs(text: str) -> list[str]:
    """``re.split(r"\n{2,}", text)`` for a text without newlines at either end (datatrove's
    paragraphs of the stripped text), with str.split: a run of newlines splits as "\n\n" pairs,
    an odd one left at the start of the next piece, and the empty pieces of long runs dropped."""
    pieces = text.split("\n\n")
    if len(pieces) == 1:
        return pieces
    return list(filter(None, map(_LSTRIP_NEWLINES, pieces)))


def newline_runs_split(parts: list[str]) -> list[str]:
    """``re.split(r"\n+", text)`` from ``text.split("\n")``: the empty pieces between newlines
    go, an empty first or last piece (a newline at an end of the text) stays."""
    if len(parts) < 3:
        return parts
    return [parts[0], *filter(None, parts[1:-1]), parts[-1]]


_LSTRIP_NEWLINES = methodcaller("lstrip", "\n")
_LAST = itemgetter(-1)
_BULLETS = ("•", "-")  # Gopher's bullet lines start with one, its ellipsis lines end in "..." or "…"
_TOP_KEYS = {n: f"gopher_top_{n}_gram_char_frac" for n in TOP_NS}
_DUP_KEYS = {n: f"gopher_dup_{n}_gram_char_frac" for n in DUP_NS}
_NGRAM_KEYS = (*_TOP_KEYS.values(), *_DUP_KEYS.values())  # the order of _quality_c.repetition's numbers


def ngram_repetition(words: list[str], use_numpy: bool | None = None,
                     compiled: bool | None = None) -> tuple[dict[int, int], dict[int, int]]:
    """Gopher's n-gram repetition (Rae et al. 2021, Table A1), in characters, as datatrove counts:

    - top: for n = 2, 3, 4, the most frequent n-gram (the first seen among equals) times its
      count, an n-gram's characters counted with the spaces between its words;
    - dup: for n = 5 ... 10, the characters (without spaces) of the n-grams that repeat one seen
      before, scanning left to right and jumping over a repeat, so overlapping repeats count once.

    An n-gram is a sequence of words (datatrove joins an n-gram's words without a separator,
    so "ab c" and "a bc" would also count as a repeat there; never seen in bench/quality.py).

    ``compiled``: the C module's numbers (``_quality_c.c``; the default when it was built and
    ``use_numpy`` is not given); else numpy's above ``NUMPY_MIN_WORDS`` words (``use_numpy``
    forces one or the other), plain Python's below. All three give the same numbers.
    """
    if compiled is None:
        compiled = _quality_c is not None and use_numpy is None
    if compiled:
        if _quality_c is None:
            raise RuntimeError("the compiled module (cleancorpus.stages._quality_c) was not built")
        values = _quality_c.repetition(list(words))
        return dict(zip(TOP_NS, values)), dict(zip(DUP_NS, values[len(TOP_NS):]))
    if use_numpy is None:
        use_numpy = len(words) >= NUMPY_MIN_WORDS
    return _ngram_numpy(words) if use_numpy else _ngram_python(words)


def _ngram_python(words: list[str]) -> tuple[dict[int, int], dict[int, int]]:
    """Plain Python, for short texts: count the 2-grams, then look at longer n-grams only where
    the shorter one repeats (as ``_ngram_numpy`` does)."""
    n_words = len(words)
    # when no n-gram repeats, the top one is the first, once
    top = {n: sum(map(len, words[:n])) + n - 1 if n_words >= n else 0 for n in TOP_NS}
    dup = {n: 0 for n in DUP_NS}
    if n_words < 2:
        return top, dup
    grams = list(zip(words, words[1:]))
    counts = Counter(grams)
    best = max(counts.values())
    if best == 1:
        return top, dup
    gram = next(g for g, c in counts.items() if c == best)  # dicts keep first-seen order
    top[2] = (sum(map(len, gram)) + 1) * best
    repeated = {g for g, c in counts.items() if c > 1}
    pos = list(compress(range(len(grams)), map(repeated.__contains__, grams)))
    cum: list[int] = []
    for n in range(3, DUP_NS[-1] + 1):
        pos = [i for i in pos if i + n <= n_words]
        if not pos:
            break
        grams = [tuple(words[i:i + n]) for i in pos]
        counts = Counter(grams)
        best = max(counts.values())
        if best == 1:
            break
        if n in top:
            gram = next(g for g, c in counts.items() if c == best)
            top[n] = (sum(map(len, gram)) + n - 1) * best
        else:
            if not cum:
                cum = list(accumulate(map(len, words), initial=0))
            # the left-to-right scan, over the only positions that can repeat
            seen: set = set()
            chars = idx = 0
            for i, g in zip(pos, grams):
                if i < idx:
                    continue  # inside the jump over the last repeat
                if g in seen:
                    chars += cum[i + n] - cum[i]
                    idx = i + n
                else:
                    seen.add(g)
            dup[n] = chars
        pos = [i for i, g in zip(pos, grams) if counts[g] > 1]
    return top, dup


def _ngram_numpy(words: list[str]) -> tuple[dict[int, int], dict[int, int]]:
    """The same numbers with exact integer n-gram ids: the id of an n-gram is the rank of the pair
    (id of its first n-1 words, id of its last word), so no hashing and no collisions. An n-gram
    can only repeat where its first n-1 words repeat, so each n looks only at those positions
    (kept in text order)."""
    n_words = len(words)
    # a word's id: the position of its first use (one pass; ids below n_words, not dense)
    first: dict[str, int] = {}
    ids = np.fromiter(map(first.setdefault, words, count()), dtype=np.int64, count=n_words)
    lengths = np.zeros(n_words, dtype=np.int64)
    lengths[np.fromiter(first.values(), dtype=np.int64, count=len(first))] = \
        np.fromiter(map(len, first), dtype=np.int64, count=len(first))
    cum = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(lengths[ids], out=cum[1:])
    cum_list: list[int] = []
    width = max(n_words, 1)
    # when no n-gram repeats, the top one is the first, once
    top = {n: int(cum[n] - cum[0]) + n - 1 if n_words >= n else 0 for n in TOP_NS}
    dup = {n: 0 for n in DUP_NS}
    pos = np.arange(n_words, dtype=np.int64)  # where an n-gram may repeat (all, to begin with)
    gram = ids  # the id of the (n-1)-gram at each of those positions
    for n in range(2, DUP_NS[-1] + 1):
        m = int(np.searchsorted(pos, n_words - n, side="right"))  # the n-grams that fit
        if not m:
            break
        if m < len(pos):
            pos, gram = pos[:m], gram[:m]
        key = gram * width + ids[pos + n - 1]
        order = np.argsort(key, kind="stable")  # equal n-grams together (stable: faster here)
        sorted_keys = key[order]
        first = np.empty(m, dtype=bool)  # first of its kind, in sorted order
        first[0] = True
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
        kind = np.cumsum(first) - 1  # dense id of each sorted n-gram
        counts = np.bincount(kind)
        best = int(counts.max())
        if best == 1:
            break  # no repeated n-gram: no longer one repeats either
        dense = np.empty(m, dtype=np.int64)
        dense[order] = kind
        count_at = counts[dense]
        if n in top:
            i = int(pos[int(np.argmax(count_at == best))])  # the first in text order
            top[n] = (int(cum[i + n] - cum[i]) + n - 1) * best
        repeated = count_at > 1
        pos, gram = pos[repeated], dense[repeated]
        if n in dup:
            if not cum_list:
                cum_list = cum.tolist()
            dup[n] = _greedy_repeats(pos.tolist(), gram.tolist(), cum_list, n)
    return top, dup


def _greedy_repeats(positions: list[int], grams: list[int], cum: list[int], n: int) -> int:
    """datatrove's left-to-right scan (an n-gram seen before is a repeat: its characters count
    and the scan jumps past it, so the n-grams it jumps over are not seen), visiting only the
    positions whose n-gram occurs more than once (``positions`` in text order, ``grams`` their
    ids): an n-gram that occurs once can be neither a repeat nor repeated."""
    seen: set[int] = set()
    chars = idx = 0
    for i, g in zip(positions, grams):
        if i < idx:
            continue  # inside the jump over the last repeat
        if g in seen:
            chars += cum[i + n] - cum[i]
            idx = i + n
        else:
            seen.add(g)
    return chars


_WORD_RUNS = re.compile(r"\w+").findall
_WORD_RUN = re.compile(r"\w+").fullmatch


def _load_list(name: str) -> list[str]:
    """A word list of resources/quality/, one entry a line (blank lines skipped)."""
    path = RESOURCE_DIR / name
    try:
        entries = [line.strip() for line in path.read_text("utf-8").splitlines()]
    except OSError as exc:
        raise ConfigError(f"quality resource {path} cannot be read: {exc}") from exc
    entries = [e for e in entries if e]
    if not entries:
        raise ConfigError(f"quality resource {path} holds no entries")
    return entries


class BadWords:
    """C4's bad-words rule (Raffel et al. 2020, 2.2) as datatrove's C4BadWordsFilter tests it: an
    entry of the list occurs in the lower-cased text with no word character (``\\w``) right before
    or right after it. ``count`` says how many distinct entries occur.

    Searching every text for 377 entries would cost more than all the other rules, and almost no
    text holds one, so the work is per whitespace-separated chunk, when the word splitter meets a
    chunk for the first time (``WordSplitter.key_of``; a chunk with keys is kept apart from its
    memo, so a text made of remembered chunks has none, at no cost). A chunk's *keys* are the
    one-word entries that are a run of word characters of the lower-cased chunk, the entries
    without spaces ("g-spot", an emoji) that occur in it, and the *anchor* word of each entry
    with spaces ("strip club") that is such a run. Word runs never cross whitespace, and
    lower-casing a chunk alone gives the characters lower-casing the whole text gives (whitespace
    is neither cased nor case-ignorable), so the one-word and no-space entries found in the chunks
    are exactly those of the text; an entry with spaces can only occur when its anchor is among
    the keys, and only then is the lower-cased text searched for it."""

    def __init__(self, entries: list[str]) -> None:
        entries = sorted(set(entries))
        self.single = frozenset(e for e in entries if _WORD_RUN(e))
        self.spaced: list[tuple[str, str, Any]] = []  # (anchor word, entry, search), entries with spaces
        unspaced: list[tuple[str, Any]] = []  # (entry, search) of the other entries
        for e in entries:
            if e in self.single:
                continue
            search = re.compile(rf"(?<!\w){re.escape(e)}(?!\w)").search
            if any(c.isspace() for c in e):
                runs = _WORD_RUNS(e)
                if not runs:
                    raise ConfigError(f"bad-words entry {e!r}: an entry with spaces needs a word")
                # the anchor: a word that is an entry itself if there is one (a text holding it is
                # searched anyway), else the longest (the last of equals)
                anchor = max(runs, key=lambda r: (r in self.single, len(r)))
                anchor = max((r for r in runs if (r in self.single, len(r)) == (anchor in self.single, len(anchor))),
                             key=runs.index)
                self.spaced.append((anchor, e, search))
            else:
                unspaced.append((e, search))
        self.unspaced = tuple(unspaced)
        self.unspaced_entries = frozenset(e for e, _ in unspaced)
        self.by_anchor: dict[str, list[tuple[str, Any]]] = {}
        for anchor, e, search in self.spaced:
            self.by_anchor.setdefault(anchor, []).append((e, search))
        self.anchors = frozenset(self.by_anchor)
        self.words = self.single | self.anchors
        self._one = {w: frozenset((w,)) for w in self.words}

    def chunk_keys(self, chunk: str) -> frozenset[str]:
        low = chunk.lower()
        if low.isalnum():  # one run of word characters, the whole chunk (most chunks)
            return self._one.get(low, _NO_KEYS)
        keys = set(self.words.intersection(_WORD_RUNS(low)))
        for e, search in self.unspaced:
            if e in low and search(low):
                keys.add(e)
        return frozenset(keys) if keys else _NO_KEYS

    def keys_of(self, text: str) -> set[str]:
        """The keys of a text's chunks, without a memo (the stage gets them from its word splitter,
        which remembers the chunks)."""
        return set().union(*map(self.chunk_keys, set(text.split())))

    def count(self, keys: set[str], text: str) -> int:
        """How many distinct entries occur in the text (exact), given its chunks' keys."""
        if not keys:
            return 0
        found = len(keys & self.single) + len(keys & self.unspaced_entries)
        anchors = keys & self.anchors
        if anchors:
            low = text.lower()
            found += sum(1 for a in anchors for e, search in self.by_anchor[a] if e in low and search(low))
        return found


_NO_KEYS: frozenset[str] = frozenset()


def _only_symbols(symbol_chars: frozenset[str], token: str) -> bool:
    return not token.isalnum() and symbol_chars.issuperset(token)


def _has_letter(token: str) -> bool:
    return any(c.isalpha() for c in token)


class _TokenTest(dict):
    """token -> 1 or 0, a test's answer, remembered (bounded like the word splitter's memos)."""

    def __init__(self, test) -> None:
        super().__init__()
        self.test = test

    def __missing__(self, token: str) -> int:
        answer = 1 if self.test(token) else 0
        make_room(self)
        self[token] = answer
        return answer


def _duplicates(items: list[str]) -> tuple[int, int]:
    """How many items repeat an earlier one, and their characters (each repeat counted)."""
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


__all__ = ["QualityStage", "QualityOptions", "RULE_SETS", "NON_ENGLISH", "RESOURCE_DIR", "BadWords", "load_thresholds"]
