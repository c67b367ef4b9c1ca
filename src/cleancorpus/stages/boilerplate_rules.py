"""Line shapes and lexicons for the boilerplate stage.

The vocabularies and numbers live in ``resources/boilerplate/`` (see its README for where each
came from); this module loads them once per stage and holds the small per-line tests. Each
test answers one question about one line, so a removal's reason can name the test that fired.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import ConfigError

RESOURCE_DIR = Path(__file__).resolve().parent.parent / "resources" / "boilerplate"

_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_NON_WORD = re.compile(r"[\W_]+")
_WORD = re.compile(r"[^\W_]+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
# "Key: value" where the key is a few words of letters (no digits: "Step 1: mix" is content)
_KEY_VALUE = re.compile(r"^(?P<key>[^\W\d_][^\W\d_'’ &/.-]*(?:[ &/-]+[^\W\d_][^\W\d_'’.-]*)*)\s*:\s+(?P<value>\S.*)$")
# separators of menus and footers; "/" and ">" only with spaces round them ("and/or", "24/7")
_MENU_SEPARATOR = re.compile(r"\s*[|•·»›¦]\s*|\s+[/>]\s+")


def _read_resource(name: str, directory: Path) -> str:
    path = directory / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"boilerplate resource {path} cannot be read: {exc}") from exc


def _word_list(name: str, directory: Path) -> list[str]:
    lines = _read_resource(name, directory).splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _json(name: str, directory: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read_resource(name, directory))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"boilerplate resource {directory / name} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"boilerplate resource {directory / name} must hold a JSON object")
    return data


def load_thresholds(directory: Path = RESOURCE_DIR) -> dict[str, Any]:
    return {k: v for k, v in _json("thresholds.json", directory).items() if not k.startswith("_")}


def furniture_key(text: str) -> str:
    """'^ Back to top ^' -> 'back to top': how furniture phrases are compared."""
    return _NON_WORD.sub(" ", text.casefold()).strip()


@dataclass(frozen=True)
class Lexicon:
    furniture: frozenset[str]
    site_pattern: re.Pattern[str]
    site_weights: dict[str, int]
    site_first_words: frozenset[str]  # first word of each phrase: a cheap test before the regex
    site_symbols: tuple[str, ...]  # phrases without any word character ("©")
    nav_words: frozenset[str]
    function_words: frozenset[str]
    captions: tuple[re.Pattern[str], ...]
    fact_keys: dict[str, str]
    listing_keys: frozenset[str]
    label_keys: frozenset[str]
    confidence: dict[str, float]


def load_lexicon(directory: Path = RESOURCE_DIR) -> Lexicon:
    weights = _site_weights(directory)
    phrases = sorted(weights, key=len, reverse=True)  # longest first: "privacy policy" before "privacy"
    # one leading word-boundary test for all phrases: positions inside a word fail at once
    site_pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(p) + (r"(?!\w)" if p[-1].isalnum() else "") for p in phrases) + ")",
        re.IGNORECASE,
    )
    keys = _json("metadata_keys.json", directory)
    try:
        # one alternation instead of a search per pattern: every line is tested
        patterns = [p.removeprefix("(?i)") for p in _word_list("captions.txt", directory)]
        captions = (re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE),)
    except re.error as exc:
        raise ConfigError(f"bad pattern in boilerplate resource captions.txt: {exc}") from exc
    confidence = {k: float(v) for k, v in _json("confidence.json", directory).items() if not k.startswith("_")}
    return Lexicon(
        furniture=frozenset(furniture_key(p) for p in _word_list("furniture.txt", directory)),
        site_pattern=site_pattern,
        site_weights={p.casefold(): w for p, w in weights.items()},
        site_first_words=frozenset(_WORD.findall(p.casefold())[0] for p in phrases if _WORD.search(p)),
        site_symbols=tuple(p for p in phrases if not _WORD.search(p)),
        nav_words=frozenset(w.casefold() for w in _word_list("nav_words.txt", directory)),
        function_words=frozenset(w.casefold() for w in _word_list("function_words.txt", directory)),
        captions=captions,
        fact_keys={k.casefold(): v for k, v in keys.get("facts", {}).items()},
        listing_keys=frozenset(k.casefold() for k in keys.get("listing", [])),
        label_keys=frozenset(k.casefold() for k in keys.get("labels", [])),
        confidence=confidence,
    )


def _site_weights(directory: Path) -> dict[str, int]:
    weights: dict[str, int] = {}
    for row in _word_list("site_vocabulary.tsv", directory):
        weight, sep, phrase = row.partition("\t")
        if not sep or not weight.strip().isdigit() or not phrase.strip():
            raise ConfigError(f"bad row in boilerplate resource site_vocabulary.tsv: {row!r}")
        weights[phrase.strip()] = int(weight)
    if not weights:
        raise ConfigError("boilerplate resource site_vocabulary.tsv is empty")
    return weights


def split_lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, stripped text) of each non-blank line."""
    out = []
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            out.append((pos, pos + len(raw), stripped))
        pos += len(raw) + 1
    return out


def has_letter(text: str) -> bool:
    return _HAS_LETTER.search(text) is not None


def ends_like_sentence(text: str) -> bool:
    return _SENTENCE_END.search(text) is not None


def is_sentence(text: str, min_words: int) -> bool:
    """Prose shape: enough words and a sentence-final mark."""
    return len(text.split()) >= min_words and ends_like_sentence(text)


def key_value(text: str, max_key_words: int) -> tuple[str, str, int] | None:
    """(key, value, offset of value) of a 'Key: value' line."""
    m = _KEY_VALUE.match(text)
    if not m or len(m["key"].split()) > max_key_words or "http" in m["key"].casefold():
        return None
    return m["key"], m["value"].rstrip(), m.start("value")


def key_name(key: str) -> str:
    return "_".join(key.casefold().split())


def menu_items(text: str) -> list[str]:
    return [p.strip() for p in _MENU_SEPARATOR.split(text) if p.strip()]


def site_score(text: str, lex: Lexicon) -> tuple[int, bool, list[str]]:
    """(summed weight, whether a weight-2 phrase is present, phrases found)."""
    words = set(_NON_WORD.split(text.casefold()))
    if words.isdisjoint(lex.site_first_words) and not any(sym in text for sym in lex.site_symbols):
        return 0, False, []
    found = dict.fromkeys(m.group(0).casefold() for m in lex.site_pattern.finditer(text))
    weights = [lex.site_weights.get(p, 1) for p in found]
    return sum(weights), any(w >= 2 for w in weights), list(found)


def nav_word_count(text: str, lex: Lexicon) -> int:
    return sum(1 for w in _NON_WORD.split(text.casefold()) if w in lex.nav_words)


def is_title_case_menu(text: str, lex: Lexicon, min_words: int, min_nav: int) -> bool:
    """'Home Issues & Press Travel & Business Careers About Video': capitalised items, no
    function words, no sentence mark, several menu words."""
    tokens = text.split()
    if len(tokens) < min_words or ends_like_sentence(text):
        return False
    for tok in tokens:
        word = _NON_WORD.sub("", tok)
        if not word or not has_letter(word):
            continue
        if not word[0].isupper() or word.casefold() in lex.function_words:
            return False
    return nav_word_count(text, lex) >= min_nav
