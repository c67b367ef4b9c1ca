"""Boilerplate stripping: navigation, footers, page furniture, metadata blocks, captions.

The stage judges whole lines (paragraphs) by general evidence, never by a list of one site's
strings: a line repeated in the document or across the corpus, menu shapes (separators, runs of
capitalised items, lists of very short lines), legal and site vocabulary, ``Key: value`` fields,
photo credits and furniture phrases. Each removed line is one Edit whose reason names the rule
and whose confidence says how sure that rule is. Site vocabulary inside a prose-shaped line
counts only when the line sits in a boilerplate block at the start or end of the document, so a
paragraph that mentions "the U.S. Department of State" stays.

``Key: value`` facts (title, year, country, source, ...) move into the document's metadata;
listing details (price, artist, number, ...) are removed and live on only in the edit record.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..document import Document, Rejection, Replacement
from . import boilerplate_rules as rules
from .base import Stage, register
from .counts import KeyCounter, KeyCounts

_T = rules.load_thresholds()


@dataclasses.dataclass(frozen=True)
class BoilerplateOptions:
    # defaults come from resources/boilerplate/thresholds.json
    min_repeats_in_doc: int = _T["min_repeats_in_doc"]
    max_repeat_words: int = _T["max_repeat_words"]
    min_docs_in_corpus: int = _T["min_docs_in_corpus"]
    min_menu_items: int = _T["min_menu_items"]
    max_menu_item_words: float = _T["max_menu_item_words"]
    min_title_menu_words: int = _T["min_title_menu_words"]
    min_title_menu_nav_words: int = _T["min_title_menu_nav_words"]
    min_link_run: int = _T["min_link_run"]
    max_link_words: int = _T["max_link_words"]
    min_link_run_nav_lines: int = _T["min_link_run_nav_lines"]
    min_site_score: int = _T["min_site_score"]
    min_edge_site_score: int = _T["min_edge_site_score"]
    max_site_words: int = _T["max_site_words"]
    max_caption_words: int = _T["max_caption_words"]
    max_meta_value_words: int = _T["max_meta_value_words"]
    max_meta_key_words: int = _T["max_meta_key_words"]
    min_meta_block: int = _T["min_meta_block"]
    min_label_value_words: int = _T["min_label_value_words"]
    sentence_min_words: int = _T["sentence_min_words"]
    # a document whose every line is boilerplate is rejected (False: keep it, emptied)
    reject_if_empty: bool = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "reject_if_empty":
                if not isinstance(value, bool):
                    raise ValueError("reject_if_empty must be true or false")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1:
                raise ValueError(f"{f.name} must be a number >= 1, not {value!r}")
        if self.min_repeats_in_doc < 2 or self.min_docs_in_corpus < 2:
            raise ValueError("min_repeats_in_doc and min_docs_in_corpus must be at least 2")


@dataclass(frozen=True, slots=True)
class Line:
    start: int  # raw line bounds in the stage's input (no newline)
    end: int
    text: str  # stripped
    lead: int  # offset of text inside the raw line
    words: int
    norm: str  # case-folded, whitespace collapsed: how repetitions are compared


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: str
    detail: str
    label: int = 0  # > 0: strip only this many leading characters (a "Key:" label), keep the rest
    fact: tuple[str, str] | None = None  # (metadata key, value) for a fact field


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    name: str  # normalised key
    value: str
    kind: str  # "fact", "listing", "unknown" or "label"
    label_len: int


@register
class BoilerplateStage(Stage):
    name = "boilerplate"
    Options = BoilerplateOptions
    needs_corpus = True

    def __init__(self, options: BoilerplateOptions | None = None) -> None:
        super().__init__(options)
        self.lex = rules.load_lexicon()
        self._frequent: frozenset[bytes] = frozenset()

    # -- corpus statistics -------------------------------------------------------------
    def partial_fit(self, docs: Iterable[Document]) -> KeyCounts:
        """Count, per short non-sentence line, how many documents hold it: 64-bit digests and
        counts in numpy arrays (12 bytes a distinct line), not the lines themselves."""
        counter = KeyCounter()
        for doc in docs:
            counter.update({_key(ln.norm) for ln in _lines(doc.text) if self._corpus_candidate(ln)})
        return counter.result()

    def merge_stats(self, parts: Sequence[KeyCounts]) -> KeyCounts:
        return KeyCounts.merged(parts)

    def finish_fit(self, stats: KeyCounts) -> None:
        frequent = stats.at_least(self.options.min_docs_in_corpus)
        self._frequent = frozenset(int(k).to_bytes(8, "big") for k in frequent)

    # -- reuse across runs: the document reads, per candidate line, "is it frequent"
    def apply_recorded(self, doc: Document) -> tuple[Document | Rejection, dict]:
        keys = sorted({_digest(ln.norm) for ln in _lines(doc.text) if self._corpus_candidate(ln)})
        return self.apply(doc), {"lines": [k.hex() for k in keys],
                                 "frequent": [k.hex() for k in keys if k in self._frequent]}

    def reads_hold(self, reads: dict | None, doc: Document | None = None) -> bool:
        if not isinstance(reads, dict):
            return False
        now = [k for k in reads["lines"] if bytes.fromhex(k) in self._frequent]
        return now == reads["frequent"]

    def _corpus_candidate(self, line: Line) -> bool:
        o = self.options
        return (
            line.words <= o.max_repeat_words
            and rules.has_letter(line.text)
            and not rules.is_sentence(line.text, o.sentence_min_words)
        )

    # -- one document -----------------------------------------------------------------
    def apply(self, doc: Document) -> Document | Rejection:
        lines = _lines(doc.text)
        if not lines:
            return doc
        verdicts = self.classify(lines)
        removed = [v for v in verdicts if v is not None and not v.label]
        if len(removed) == len(lines) and self.options.reject_if_empty:
            rules_fired = ", ".join(sorted({v.rule for v in removed}))
            return self.reject("only boilerplate", f"all {len(lines)} lines matched: {rules_fired}")
        reps = _replacements(doc.text, lines, verdicts, self.lex.confidence)
        facts = {k: v for k, v in _facts(verdicts).items() if k not in doc.metadata}
        return doc.revise(self.name, reps, facts or None)

    def classify(self, lines: list[Line]) -> list[Verdict | None]:
        """One verdict per line: None keeps it."""
        fields = [self._field(ln) for ln in lines]
        in_block = self._metadata_blocks(fields)
        in_link_list = self._link_lists(lines, fields)
        repeated = Counter(ln.norm for ln in lines if ln.words <= self.options.max_repeat_words)
        verdicts: list[Verdict | None] = []
        weak: dict[int, Verdict] = {}
        for i, line in enumerate(lines):
            v = (
                self._furniture(line)
                or self._caption(line)
                or self._metadata(fields[i], i in in_block)
                or self._repeated_in_corpus(line)
                or self._menu(line)
                or (_link_verdict() if i in in_link_list else None)
            )
            is_weak = False
            if v is None:
                v, is_weak = self._repeated_in_document(i, lines, repeated)
            if v is None:
                v, is_weak = self._site_text(line)
            if is_weak and v is not None:
                weak[i], v = v, None
            verdicts.append(v)
        self._glued(lines, verdicts, repeated)
        _promote_edges(verdicts, weak)
        return verdicts

    # -- the rules, one question each ---------------------------------------------------
    def _furniture(self, line: Line) -> Verdict | None:
        if rules.furniture_key(line.text) in self.lex.furniture:
            return Verdict("page_furniture", "page furniture phrase")
        return None

    def _caption(self, line: Line) -> Verdict | None:
        if line.words > self.options.max_caption_words:
            return None
        for pattern in self.lex.captions:
            if pattern.search(line.text):
                return Verdict("photo_caption", "image caption or photo credit")
        return None

    def _field(self, line: Line) -> Field | None:
        o = self.options
        kv = rules.key_value(line.text, o.max_meta_key_words)
        if kv is None:
            return None
        key, value, value_at = kv
        name = rules.key_name(key)
        n_value = len(value.split())
        if name in self.lex.label_keys and n_value >= o.min_label_value_words:
            return Field(key, name, value, "label", value_at)
        sentence_like = value[-1] in ".!?"
        if n_value > o.max_meta_value_words or (sentence_like and n_value > 3):
            return None
        if name in self.lex.fact_keys:
            return Field(key, name, value, "fact", value_at)
        if name in self.lex.listing_keys:
            return Field(key, name, value, "listing", value_at)
        # unknown keys: not dialogue ("SMITH: No.", "Q: Why?")
        if sentence_like or len(name) < 2:
            return None
        return Field(key, name, value, "unknown", value_at)

    def _metadata_blocks(self, fields: list[Field | None]) -> set[int]:
        """Indices of field lines in runs of at least min_meta_block consecutive field lines."""
        found: set[int] = set()
        run: list[int] = []
        for i, f in enumerate(fields + [None]):
            if f is not None and f.kind != "label":
                run.append(i)
                continue
            if len(run) >= self.options.min_meta_block:
                found.update(run)
            run = []
        return found

    def _metadata(self, f: Field | None, in_block: bool) -> Verdict | None:
        if f is None:
            return None
        shown = f"'{f.key}: {f.value}'"
        if f.kind == "label":
            return Verdict("metadata_label", f"label '{f.key}:' removed, its text kept", label=f.label_len)
        if f.kind == "fact":
            meta_key = self.lex.fact_keys[f.name]
            return Verdict("metadata_field", f"{shown} moved to metadata[{meta_key!r}]", fact=(meta_key, f.value))
        if f.kind == "listing":
            return Verdict("listing_field", f"listing detail {shown} (kept only in this edit)")
        if in_block:
            return Verdict("metadata_block", f"field {shown} of a key-value block (kept only in this edit)")
        return None

    def _repeated_in_document(self, i: int, lines: list[Line], repeated: Counter[str]) -> tuple[Verdict | None, bool]:
        """A short line the document repeats. Strong when the copies stand next to each other
        (a navigation bar scraped several times); otherwise weak, i.e. only in the document's
        edge blocks: a question or a table header repeated through an article is content."""
        o = self.options
        line = lines[i]
        if line.words > o.max_repeat_words or not rules.has_letter(line.text):
            return None, False
        n = repeated[line.norm]
        if n < o.min_repeats_in_doc:
            return None, False
        adjacent = any(0 <= j < len(lines) and lines[j].norm == line.norm for j in (i - 1, i + 1))
        where = "next to a copy of itself" if adjacent else "in the document's edge block"
        return Verdict("repeated_in_document", f"line occurs {n} times in this document, {where}"), not adjacent

    def _repeated_in_corpus(self, line: Line) -> Verdict | None:
        o = self.options
        if self._frequent and self._corpus_candidate(line) and _digest(line.norm) in self._frequent:
            return Verdict("repeated_in_corpus", f"line occurs in at least {o.min_docs_in_corpus} documents of the corpus")
        return None

    def _menu(self, line: Line) -> Verdict | None:
        o = self.options
        items = rules.menu_items(line.text)
        if len(items) >= o.min_menu_items and not rules.ends_like_sentence(line.text):
            mean = sum(len(it.split()) for it in items) / len(items)
            if mean <= o.max_menu_item_words and not any(rules.is_sentence(it, o.sentence_min_words) for it in items):
                return Verdict("separator_menu", f"{len(items)} short items between separators")
        if rules.is_title_case_menu(line.text, self.lex, o.min_title_menu_words, o.min_title_menu_nav_words):
            return Verdict("title_case_menu", "run of capitalised menu items without function words")
        return None

    def _link_lists(self, lines: list[Line], fields: list[Field | None]) -> set[int]:
        """Runs of very short, unpunctuated lines (one link per line) with menu words."""
        o = self.options
        found: set[int] = set()
        run: list[int] = []
        for i in range(len(lines) + 1):
            if i < len(lines) and self._link_item(lines[i], fields[i]):
                run.append(i)
                continue
            nav_lines = sum(1 for j in run if rules.nav_word_count(lines[j].text, self.lex))
            if len(run) >= o.min_link_run and nav_lines >= o.min_link_run_nav_lines:
                found.update(run)
            run = []
        return found

    def _link_item(self, line: Line, f: Field | None) -> bool:
        return (
            f is None
            and line.words <= self.options.max_link_words
            and rules.has_letter(line.text)
            and not rules.ends_like_sentence(line.text)
        )

    def _site_text(self, line: Line) -> tuple[Verdict | None, bool]:
        """Legal/site vocabulary; returns (verdict, weak). Weak verdicts (prose-shaped lines)
        stand only at the edges of the document."""
        o = self.options
        if line.words > o.max_site_words:
            return None, False
        score, strong, found = rules.site_score(line.text, self.lex)
        if score < o.min_site_score:
            return None, False
        terms = ", ".join(found)
        if rules.is_sentence(line.text, o.sentence_min_words):
            if score < o.min_edge_site_score or not strong:
                return None, False
            return Verdict("site_vocabulary_edge", f"site/legal text ({terms}) in the document's edge block"), True
        return Verdict("site_vocabulary", f"site/legal vocabulary: {terms}"), False

    def _glued(self, lines: list[Line], verdicts: list[Verdict | None], repeated: Counter[str]) -> None:
        """Lines where repeated navigation text is glued to other words without a space
        ("Archive SitesU.S. Department of State"): concatenated link texts."""
        o = self.options
        known = {
            ln.text for i, ln in enumerate(lines)
            if len(ln.text) >= 4 and rules.has_letter(ln.text) and ln.words <= o.max_repeat_words
            and (repeated[ln.norm] >= o.min_repeats_in_doc or (verdicts[i] and verdicts[i].rule == "repeated_in_corpus"))
        }
        if not known:
            return
        for i, line in enumerate(lines):
            if verdicts[i] is not None or rules.is_sentence(line.text, self.options.sentence_min_words):
                continue
            for k in known:
                if k in line.text and _glued_occurrence(line.text, k):
                    verdicts[i] = Verdict("glued_to_repeated", f"repeated line {k!r} glued to link text")
                    break


def _link_verdict() -> Verdict:
    return Verdict("link_list", "run of one-link lines with menu words")


def _glued_occurrence(text: str, part: str) -> bool:
    start = text.find(part)
    while start != -1:
        end = start + len(part)
        if (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
            return True
        start = text.find(part, start + 1)
    return False


def _promote_edges(verdicts: list[Verdict | None], weak: dict[int, Verdict]) -> None:
    """Weak verdicts hold where only boilerplate lies between the line and an end of the text."""
    if not weak:
        return
    for order in (range(len(verdicts)), range(len(verdicts) - 1, -1, -1)):
        for i in order:
            if verdicts[i] is not None and not verdicts[i].label:
                continue
            if i in weak and verdicts[i] is None:
                verdicts[i] = weak[i]
                continue
            break


def _lines(text: str) -> list[Line]:
    out = []
    for start, end, stripped in rules.split_lines(text):
        raw = text[start:end]
        words = stripped.split()
        out.append(Line(start, end, stripped, len(raw) - len(raw.lstrip()), len(words), " ".join(words).casefold()))
    return out


def _digest(norm: str) -> bytes:
    # stable across processes (unlike hash()), so a fitted stage can be shipped to workers
    return hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def _key(norm: str) -> int:
    return int.from_bytes(_digest(norm), "big")


def _facts(verdicts: list[Verdict | None]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for v in verdicts:
        if v is not None and v.fact is not None:
            facts.setdefault(v.fact[0], v.fact[1])
    return facts


def _replacements(
    text: str, lines: list[Line], verdicts: list[Verdict | None], confidence: dict[str, float]
) -> list[Replacement]:
    """A removed line takes the blank lines after it; a removed tail also takes the line break
    before it, so the kept text has no dangling blank lines."""
    kept = [i for i, v in enumerate(verdicts) if v is None or v.label]
    last_kept = kept[-1] if kept else -1
    reps = []
    for i, (line, v) in enumerate(zip(lines, verdicts)):
        if v is None:
            continue
        conf = confidence.get(v.rule)
        reason = f"{v.rule}: {v.detail}"
        if v.label:
            s = line.start + line.lead
            reps.append(Replacement(s, s + v.label, "", reason, conf))
            continue
        start = 0 if i == 0 else line.start
        if i == last_kept + 1 and last_kept >= 0:
            start = lines[last_kept].end
        end = lines[i + 1].start if i + 1 < len(lines) else len(text)
        reps.append(Replacement(start, end, "", reason, conf))
    return reps
