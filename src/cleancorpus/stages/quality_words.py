"""English word and sentence splitting as the published quality filters' reference code counts them.

The Gopher, C4 and FineWeb rules count "words" and "sentences"; datatrove, whose filters are the
reference implementation of all three, counts them with spaCy's rule-based English tokenizer
(``spacy.blank("en")``, no model) and spaCy's sentencizer. To agree with it, this module splits
text by the same published rules, written here in plain Python (no spaCy):

1. split on whitespace;
2. a whitespace-separated chunk that is a *special case* (``resources/quality/spacy_en_exceptions.json``,
   exported from spaCy: "don't" -> "do" "n't", "Mr." stays whole) becomes its pieces;
3. otherwise strip *prefixes* (opening punctuation, quotes, currency signs, symbols) and *suffixes*
   (closing punctuation, quotes, "'s", units and currency after a digit, a final period after a
   lower-case letter, digit or two capitals) one at a time, stopping as soon as the rest is a
   special case;
4. what is left is one token if it looks like a URL, else it is cut at *infixes* (ellipses, hyphens
   and "/" ":" between letters, "." between a lower-case and an upper-case letter, "," between
   letters, arithmetic signs between digits).

The character classes follow spaCy's ``lang/char_classes.py`` and ``lang/punctuation.py`` (its
English infixes), expressed with Unicode categories instead of spaCy's hand-made ranges.
Sentences (C4's "at least 5 sentences") follow spaCy's sentencizer: a new sentence starts at the
first non-punctuation token after a sentence-ending token (``sentence_end_tokens`` in
``resources/quality/punctuation.json``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from itertools import chain, filterfalse, islice
from typing import Callable
from pathlib import Path

from .base import ConfigError

try:  # the quality stage's per-word loops, compiled at install time (optional: setup.py)
    from . import _quality_c
except ImportError:  # no C compiler at install time: the same words, in Python
    _quality_c = None

RESOURCE_DIR = Path(__file__).resolve().parent.parent / "resources" / "quality"


def _load_json(name: str) -> dict:
    path = RESOURCE_DIR / name
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"quality resource {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"quality resource {path} must hold a JSON object")
    return data


def _class(chars: str) -> str:
    """A regex character class body for the given characters."""
    return "".join(re.escape(c) for c in chars)


def _ranges(codepoints: list[int]) -> str:
    """A compact regex character class body (ranges) of the sorted code points."""
    out: list[tuple[int, int]] = []
    for cp in codepoints:
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in out)


@lru_cache(maxsize=1)
def _classes() -> dict[str, tuple[str, str]]:
    """Unicode letter and symbol classes, built once per process from the Unicode database (planes
    0-1 scanned; planes 2-3 hold only CJK ideographs, all letters), each as two regex character
    class bodies: its characters of the Basic Multilingual Plane, and the others (see ``_one_of``)."""
    cat = unicodedata.category
    lower: list[int] = []
    upper: list[int] = []
    alpha: list[int] = []
    icon: list[int] = []
    for cp in range(0x20000):
        c = cat(chr(cp))
        if c[0] == "L" or c in ("Mn", "Mc"):
            alpha.append(cp)
            if c == "Ll":
                lower.append(cp)
            elif c in ("Lu", "Lt"):
                upper.append(cp)
            elif c == "Lo":  # letters of scripts without case count as both (spaCy's _uncased)
                lower.append(cp)
                upper.append(cp)
        elif c == "So":
            icon.append(cp)
    # spaCy's _cjk ranges also cover CJK symbol and punctuation blocks, taken as letters there
    cjk = ("\u2E80-\u2EFF\u2F00-\u2FDF\u2FF0-\u2FFF\u3000-\u303F\u31C0-\u31EF"
           "\u3200-\u32FF\u3300-\u33FF\uF900-\uFAFF\uFE30-\uFE4F",
           "\U00020000-\U0003134F\U0001F200-\U0001F2FF")

    def split(cps: list[int], extra: tuple[str, str] = ("", "")) -> tuple[str, str]:
        bmp = [c for c in cps if c <= 0xFFFF]
        return _ranges(bmp) + extra[0], _ranges(cps[len(bmp):]) + extra[1]

    return {"lower": split(lower, cjk), "upper": split(upper, cjk), "alpha": split(alpha, cjk), "icon": split(icon)}


def _one_of(bmp: str, astral: str = "") -> str:
    """A regex for one character of the class ``[bmp astral]`` (bodies of character classes, the
    second of characters beyond the Basic Multilingual Plane), the same characters, faster:
    Python's ``re`` looks a BMP character up in one table, but goes through the ranges beyond the
    BMP one by one (hundreds here) whenever the table says no. So those ranges are only looked at
    for a character beyond the BMP."""
    if not astral:
        return f"[{bmp}]"
    return f"(?:[{bmp}]|(?![\x00-\uffff])[{astral}])"


# spaCy's punctuation, quote, hyphen, currency and unit lists (lang/char_classes.py), as data
_PUNCT = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪"
_QUOTES = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧"
_CURRENCY_CHARS = "$£€¥฿₽﷼₴" + "".join(chr(c) for c in range(0x20A0, 0x20C0))
_HYPHENS = ("-", "–", "—", "--", "---", "——", "~")
_UNITS = (
    "km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz "
    "m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K % км км² км³ м м² м³ дм дм² дм³ "
    "см см² см³ мм мм² мм³ нм кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тб"
).split()


# closing marks the affix loop strips from a word of letters whatever the letters are, and opening
# marks it strips from one (fast paths of ``words``; the general loop gives the same tokens)
_PLAIN_SUFFIX = frozenset(',;:!?)]"”’“‘\'«»„‚…')
_PLAIN_PREFIX = frozenset('(["“‘„‚\'«»’')
_PLAIN_SUFFIX_MARKS = "".join(sorted(_PLAIN_SUFFIX))  # (for _quality_c.chunk_words)
_PLAIN_PREFIX_MARKS = "".join(sorted(_PLAIN_PREFIX))
_MEMO_SIZE = 1 << 18  # entries per memo (a few tens of MB at most)


def make_room(memo: dict, incoming: int = 1) -> None:
    """Keep a memo under ``_MEMO_SIZE`` entries, room made for ``incoming`` more: when it would be
    full, forget its older entries (dicts keep insertion order) down to half the size, so the words
    of the last pages stay known. Emptying it all at once made a corpus with a few more distinct
    chunks than the memo holds start cold again and again."""
    if len(memo) + incoming > _MEMO_SIZE:
        keep = max(_MEMO_SIZE // 2 - incoming, 0)
        if keep == 0:
            memo.clear()
            return
        for key in list(islice(memo, len(memo) - keep)):
            del memo[key]


class WordSplitter:
    """Splits text into datatrove's English words (see the module docstring). Pure and
    deterministic; keeps a bounded memo of chunk -> tokens (chunks repeat a lot)."""

    def __init__(self) -> None:
        exc = _load_json("spacy_en_exceptions.json").get("exceptions")
        if not isinstance(exc, dict):
            raise ConfigError("quality resource spacy_en_exceptions.json has no 'exceptions' table")
        self.specials: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in exc.items()}
        # every rule only cuts a chunk, so its tokens joined are the chunk, when every special
        # case's pieces joined are its string (as spaCy requires of them)
        self.tokens_join = all("".join(v) == k for k, v in self.specials.items())
        punct = _load_json("punctuation.json")
        self.sentence_end = frozenset(punct["sentence_end_tokens"])
        # the sentence-ending characters of the Basic Multilingual Plane, found in a line
        # (boundary_kinds; None, and the plain way, if a sentence-ending token were longer than
        # a character or a letter or digit)
        self._end_bmp = None
        # a sentence-ending character of the BMP in line[pos:endpos] (None when a token is
        # longer; a class with characters beyond the BMP would be many times slower: see _one_of)
        self.end_search: Callable | None = None
        self.end_chars: str | None = None  # the same characters, all, as one string
        if all(len(e) == 1 and not e.isalnum() for e in self.sentence_end):
            self.end_chars = "".join(sorted(self.sentence_end))
            bmp = "".join(sorted(e for e in self.sentence_end if e <= "\uffff"))
            self._end_bmp = re.compile(f"[{_class(bmp)}]").finditer
            self.end_search = re.compile(f"[{_class(bmp)}]").search
        k = _classes()
        lower, upper, alpha, icon = k["lower"], k["upper"], k["alpha"], k["icon"]
        quotes = _class(_QUOTES)
        punct_cls = _class(_PUNCT)
        hyph = "|".join(re.escape(h) for h in _HYPHENS)
        prefixes = [
            _one_of(f"§%=—–{punct_cls}{quotes}{_class(_CURRENCY_CHARS)}{icon[0]}", icon[1]),
            r"\+(?![0-9])", r"\.\.+", r"US\$", r"C\$", r"A\$",
        ]
        currency = "|".join(["US\\$", "C\\$", "A\\$"] + [re.escape(c) for c in _CURRENCY_CHARS])
        units = "|".join(re.escape(u) for u in _UNITS)
        # one character of a class (_one_of), for the look-behinds and look-aheads below
        before_dot = _one_of("0-9" + lower[0] + "%²\\-+" + punct_cls + quotes, lower[1])
        up, any_alpha, alnum = _one_of(*upper), _one_of(*alpha), _one_of(alpha[0] + "0-9", alpha[1])
        suffixes = [
            _one_of(f"{punct_cls}{quotes}{icon[0]}", icon[1]), "……", r"\.\.+", "'s", "'S", "’s", "’S", "—", "–",
            r"(?<=[0-9])\+",
            r"(?<=°[FfCcKk])\.",
            f"(?<=[0-9])(?:{currency})",
            f"(?<=[0-9])(?:{units})",
            # (the character first, then the look-behind: most positions fail at once)
            f"\\.(?<={before_dot}\\.)",
            f"\\.(?<={up}{up}\\.)",
        ]
        infixes = [
            r"\.\.+", "…", _one_of(*icon),
            r"(?<=[0-9])[+\-*^](?=[0-9-])",
            f"\\.(?<={_one_of(lower[0] + quotes, lower[1])}\\.)(?={_one_of(upper[0] + quotes, upper[1])})",
            f",(?<={any_alpha},)(?={any_alpha})",
            f"(?=[-–—~])(?<={alnum})(?:{hyph})(?={any_alpha})",
            f"[:<>=/](?<={alnum}[:<>=/])(?={any_alpha})",
        ]
        # a prefix is tried at the start only; a suffix ends at the end: every suffix but a run
        # of dots is at most 6 characters, so the search starts there (look-behinds still see
        # the characters before it)
        self._prefix = re.compile("|".join(f"(?:{p})" for p in prefixes)).match
        self._suffix_search = re.compile("|".join(f"(?:{s})$" for s in suffixes)).search
        self._infix = re.compile("|".join(infixes)).finditer
        self._url = re.compile(_url_pattern(lower)).match
        self._memo = _ChunkTokens(self)
        # special cases that the affix rules would cut into several tokens ("z." -> "z" "."): when
        # those tokens appear side by side in a chunk, they are put back together ("z.B." ->
        # "z." "B."), as spaCy's special-case matcher does after the affix pass
        self._rejoin: dict[tuple[str, ...], tuple[str, ...]] = {}
        for key, pieces in self.specials.items():
            toks = self._split(key, with_specials=False)
            if len(toks) > 1:
                self._rejoin[toks] = pieces
        self._rejoin_max = max(map(len, self._rejoin), default=0)
        self._rejoin_first = frozenset(k[0] for k in self._rejoin)
        self._kind = _TokenKinds(self.sentence_end)
        self._chunk_kinds = _ChunkKinds(self)
        # optional: chunk -> the keys it holds (an empty frozenset for most), for a rule that
        # looks for rare strings (C4's bad words); chunks with keys are kept apart, in _flagged
        self.key_of: Callable[[str], frozenset] | None = None
        # optional, with key_of: its answer for a chunk of ASCII letters and digits, by the chunk
        # lower-cased (absent: no keys); the C module then calls key_of only for other chunks
        self.key_one: dict[str, frozenset] | None = None
        self._flagged: dict[str, tuple[tuple[str, ...], frozenset]] = {}
        self._stamp = object()  # a new object at every miss of the memo (see words_and_keys)

    # -- words ------------------------------------------------------------------------------------
    def words(self, text: str) -> list[str]:
        return self.words_of_chunks(text.split())

    def chunk_kinds(self, chunks: list[str]) -> list[str]:
        """Per whitespace-separated chunk, the kinds of its tokens (see ``count_boundaries``)."""
        return list(map(self._chunk_kinds.__getitem__, chunks))

    def words_and_keys(self, chunks: list[str]) -> tuple[list[str], set]:
        """The words of a text given as ``text.split()``, and the keys (``key_of``) of its chunks.
        A chunk with keys is never in the memo, so a text whose chunks were all in the memo (the
        memo's stamp unchanged: it changes at every miss) has no key, and costs what
        ``words_of_chunks`` costs; otherwise the chunks not in the memo are looked at."""
        if _quality_c is not None:
            words, missed, keys = self._chunk_words(chunks)  # (keys: found as the chunks are)
            if missed:
                self._stamp = object()
            return words, keys
        stamp = self._stamp
        words = self.words_of_chunks(chunks)
        keys: set = set()
        if self._stamp is not stamp and self.key_of is not None:
            flagged = self._flagged
            for chunk in filterfalse(self._memo.__contains__, set(chunks)):
                hit = flagged.get(chunk)
                keys.update(hit[1] if hit is not None else self.key_of(chunk))  # (None: forgotten since)
        return words, keys

    def words_of_chunks(self, chunks: list[str]) -> list[str]:
        """The words of a text given as ``text.split()``."""
        if _quality_c is not None:
            words, missed, _ = self._chunk_words(chunks)
            if missed:
                self._stamp = object()
            return words
        return list(chain.from_iterable(map(self._memo.__getitem__, chunks)))

    def _chunk_words(self, chunks: list[str]) -> tuple[list[str], bool, set]:
        """The C module's words, whether a chunk was new, and the chunks' keys (key_of): the
        same look-ups and the same new entries (memo, _flagged) as __missing__ makes."""
        return _quality_c.chunk_words(chunks, self._memo, self.specials, _MEMO_SIZE,
                                      _PLAIN_SUFFIX_MARKS, _PLAIN_PREFIX_MARKS, self._rejoin_specials,
                                      self._general, self.key_of, self._flagged, self._flag, self.key_one)

    def _chunk(self, chunk: str) -> tuple[str, ...]:
        toks = self._chunk_affixes(chunk)
        return self._rejoin_specials(toks) if len(toks) > 2 else toks

    def _flag(self, chunk: str, toks: tuple[str, ...], keys: frozenset) -> None:
        """Keep a new chunk with keys apart from the memo (as _ChunkTokens.__missing__ does)."""
        make_room(self._flagged)
        self._flagged[chunk] = (toks, keys)

    def _general(self, chunk: str) -> tuple[str, ...]:
        """``_chunk`` of a chunk that is no special case, not letters only, and not of
        ``_plain``'s shapes (the C module's fallback)."""
        toks = self._split(chunk)
        return self._rejoin_specials(toks) if len(toks) > 2 else toks

    def _chunk_affixes(self, chunk: str) -> tuple[str, ...]:
        specials = self.specials
        if chunk in specials:
            return specials[chunk]
        if chunk.isalpha():
            return (chunk,)
        return self._plain(chunk) or self._split(chunk)

    def _plain(self, chunk: str) -> tuple[str, ...] | None:
        """The common shapes without the general loop: an opening mark, then letters (with
        inner apostrophes or soft hyphens), letters or digits joined by hyphens, a number or a
        possessive, then up to two closing marks or dot runs ("(word", "well-known,", "„Hi“",
        "1,000).", "England's,", "so..."). None for anything else, or when a part could be a
        special case (then the general loop decides)."""
        specials = self.specials
        pre = ""
        core = chunk
        if core[0] in _PLAIN_PREFIX:
            pre, core = core[0], core[1:]
        post: list[str] = []
        for _ in range(2):
            if len(core) < 2:
                break
            last = core[-1]
            if last == "." and core[-2] == ".":
                run = len(core) - len(core.rstrip("."))
                if run == len(core):
                    break
                post.insert(0, core[-run:])
                core = core[:-run]
            elif last == "…" and core[-2] == "…":
                return None  # "……" is one suffix
            elif last in _PLAIN_SUFFIX or (last == "." and _DOT_AFTER(core[-2])):
                post.insert(0, last)
                core = core[:-1]
            else:
                break
        if not core:
            return None
        # every string the general loop could stop at must not be a special case
        cut = len(chunk)
        cuts = [cut]
        for mark in reversed(post):
            cut -= len(mark)
            cuts.append(cut)
        for i in {0, len(pre)}:
            for j in cuts:
                part = chunk[i:j]
                if part != chunk and part in specials:
                    return None
        if core.isalpha():
            body: tuple[str, ...] = specials.get(core, (core,))
        elif _NUMBER(core):
            body = (core,)  # no affix or infix rule cuts digits joined by , . or :
        elif core[-2:] in _POSSESSIVE:
            word = core[:-2]
            if not word.isalpha():
                return None
            body = specials.get(word, (word,)) + (core[-2:],)
        elif "-" in core:
            parts = core.split("-")
            if not (all(p.isalpha() for p in parts) or all(p.isascii() and p.isdigit() for p in parts)):
                return None  # letters-hyphen-letters and digits-hyphen-digits are infixes
            body = tuple(t for p in parts for t in (p, "-"))[:-1]
        elif _INNER_MARKS(core):
            body = (core,)  # no rule cuts an apostrophe or a soft hyphen between letters
        else:
            return None
        return ((pre,) if pre else ()) + body + tuple(post)

    def _split(self, string: str, with_specials: bool = True) -> tuple[str, ...]:
        specials = self.specials if with_specials else {}
        prefixes: list[str] = []
        suffixes: list[str] = []
        last = -1
        while string and len(string) != last:
            if string in specials:
                break
            last = len(string)
            m = self._prefix(string)
            pre = m.end() if m else 0
            if pre:
                minus_pre = string[pre:]
                if minus_pre and minus_pre in specials:
                    prefixes.append(string[:pre])
                    string = minus_pre
                    break
            m = self._suffix(string[pre:]) if len(string) > pre else None
            suf = (len(string) - pre - m.start()) if m else 0
            if suf:
                minus_suf = string[:-suf]
                if minus_suf and minus_suf in specials:
                    suffixes.append(string[-suf:])
                    string = minus_suf
                    break
            if pre and suf and pre + suf <= len(string):
                prefixes.append(string[:pre])
                suffixes.append(string[-suf:])
                string = string[pre:-suf]
            elif pre:
                prefixes.append(string[:pre])
                string = string[pre:]
            elif suf:
                suffixes.append(string[-suf:])
                string = string[:-suf]
        toks = prefixes
        if string:
            if string in specials:
                toks.extend(specials[string])
            elif self._url(string):
                toks.append(string)
            else:
                start = 0
                for m in self._infix(string):
                    a, b = m.span()
                    if a == 0:
                        continue
                    if a != start:
                        toks.append(string[start:a])
                    if a != b:
                        toks.append(string[a:b])
                    start = b
                if string[start:]:
                    toks.append(string[start:])
        toks.extend(reversed(suffixes))
        out = tuple(t.strip() for t in toks if t.strip())
        if with_specials and len(out) > 1:
            out = self._rejoin_specials(out)
        return out

    def _rejoin_specials(self, toks: tuple[str, ...]) -> tuple[str, ...]:
        """Put back special cases cut by the affix rules: the longest first, then the leftmost,
        never overlapping (spaCy's filter_spans)."""
        found = []
        first = self._rejoin_first
        for i in range(len(toks) - 1):
            if toks[i] not in first:
                continue
            for j in range(i + 2, min(len(toks), i + self._rejoin_max) + 1):
                if toks[i:j] in self._rejoin:
                    found.append((i, j))
        if not found:
            return toks
        taken: list[tuple[int, int]] = []
        for i, j in sorted(found, key=lambda s: (s[0] - s[1], s[0])):
            if all(j <= a or i >= b for a, b in taken):
                taken.append((i, j))
        out: list[str] = []
        pos = 0
        for i, j in sorted(taken):
            out.extend(toks[pos:i])
            out.extend(self._rejoin[toks[i:j]])
            pos = j
        out.extend(toks[pos:])
        return tuple(out)

    def _suffix(self, string: str):
        """The leftmost suffix match ending at the end of ``string`` (None if none)."""
        if string.endswith(".."):
            dots = len(string) - len(string.rstrip("."))
            return self._suffix_search(string, len(string) - dots)
        return self._suffix_search(string, max(0, len(string) - _MAX_SUFFIX))

    # -- sentences --------------------------------------------------------------------------------
    def sentence_count(self, text: str) -> int:
        """How many sentences spaCy's sentencizer finds in the line ``text`` (0 for blank text)."""
        kinds = self.line_kinds(text.strip())
        return 1 + self.count_boundaries(kinds) if kinds else 0

    def boundary_kinds(self, line: str, chunks: list[str] | None = None) -> str:
        """Token kinds of a stripped, non-blank line that count the same sentence boundaries as
        ``line_kinds`` (``count_boundaries``), found with fewer look-ups. Only a token that is a
        sentence-ending character starts a boundary, so when single plain spaces separate the
        chunks, only the chunks holding such a character are looked up; the chunks between two of
        them count as one "w" when they hold a letter or digit (a token with one is a word: no
        such character is punctuation, and none ends a sentence), else by their own kinds. A run
        of words counts as one, and p tokens before the first w of the run change nothing, so the
        count is the same. ``chunks``: ``line.split()``, if known."""
        if chunks is not None:
            single = len(line) == sum(map(len, chunks)) + len(chunks) - 1 and line.count(" ") == len(chunks) - 1
        else:
            single = not _ODD_SPACE.search(line)
        if not single or self._end_bmp is None or (not line.isascii() and _ASTRAL(line)):
            return self.line_kinds(line)
        kinds = self._chunk_kinds
        alnum = _ALNUM
        out = []
        pos = 0
        for m in self._end_bmp(line):
            i = m.start()
            if i < pos:
                continue  # in the chunk just looked up
            a = line.rfind(" ", 0, i) + 1
            b = line.find(" ", i)
            if b < 0:
                b = len(line)
            if a > pos and out:  # (the chunks before the first: no sentence end to follow)
                out.append("w" if alnum(line, pos, a) else self._gap_kinds(line[pos:a]))
            out.append(kinds[line[a:b]])
            pos = b
        if not out:
            return "w"  # no sentence-ending token: no boundary (and not blank)
        if pos < len(line):
            out.append("w" if alnum(line, pos) else self._gap_kinds(line[pos:]))
        return "".join(out)

    def _gap_kinds(self, gap: str) -> str:
        return "".join(map(self._chunk_kinds.__getitem__, gap.split()))

    def line_kinds(self, line: str, chunk_kinds: list[str] | None = None) -> str:
        """The token kinds of a stripped line, whitespace tokens included: spaCy keeps a run of
        whitespace other than one plain space as a token, which the sentencizer takes for a word
        (so "end.\u2009»" ends with a one-token sentence). ``chunk_kinds``: the kinds of the
        line's chunks, if known."""
        if not _ODD_SPACE.search(line):
            if chunk_kinds is None:
                chunk_kinds = self.chunk_kinds(line.split())
            return "".join(chunk_kinds)
        out = []
        for i, part in enumerate(_SPACES.split(line)):
            if i % 2:
                if part != " ":
                    out.append("w")
            elif part:
                out.append(self._chunk_kinds[part])
        return "".join(out)

    @staticmethod
    def count_boundaries(kinds: str) -> int:
        """Sentence starts after the first token, in a string of token kinds: e (a token that
        ends a sentence), p (other punctuation), w (anything else). As spaCy's sentencizer: a
        sentence starts at the first w after an e. Lines joined by "|" may be counted at once."""
        return len(_BOUNDARY.findall(kinds))


class _ChunkTokens(dict):
    """whitespace-separated chunk -> its tokens, filled on first sight. A memo only: bounded
    (its older half forgotten when full), and safe to share between threads (a miss is computed
    again)."""

    def __init__(self, splitter: "WordSplitter") -> None:
        super().__init__()
        self.splitter = splitter

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        splitter = self.splitter
        splitter._stamp = object()
        hit = splitter._flagged.get(chunk)
        if hit is not None:
            return hit[0]
        specials = splitter.specials
        if chunk in specials:
            toks = self.splitter._chunk(chunk)
        elif chunk.isalpha():
            toks = (chunk,)
        else:
            # the most common new chunks on web pages, a word with one closing mark ("word,",
            # "word.") or one opening mark ("(word"): what ``_plain`` gives, without its loop,
            # when the word is no special case
            last = chunk[-1]
            if (last in _PLAIN_SUFFIX or last == ".") and (core := chunk[:-1]).isalpha() \
                    and (last != "." or core[-1].islower()) and core not in specials:
                toks = (core, last)
            elif chunk[0] in _PLAIN_PREFIX and (core := chunk[1:]).isalpha() and core not in specials:
                toks = (chunk[0], core)
            else:
                toks = self.splitter._chunk(chunk)
        if splitter.key_of is not None:
            keys = splitter.key_of(chunk)
            if keys:
                make_room(splitter._flagged)
                splitter._flagged[chunk] = (toks, keys)
                return toks
        if len(self) >= _MEMO_SIZE:
            make_room(self)
        self[chunk] = toks
        return toks


class _ChunkKinds(dict):
    """whitespace-separated chunk -> the kinds of its tokens, filled on first sight."""

    def __init__(self, splitter: "WordSplitter") -> None:
        super().__init__()
        self.splitter = splitter

    def __missing__(self, chunk: str) -> str:
        if chunk.isalnum():
            # letters and digits only: every token is a "w" (no sentence-ending token has a letter
            # or digit, punctuation.json), and a run of w's counts as one for the sentencizer
            kinds = "w"
        else:
            sp = self.splitter
            kinds = "".join(map(sp._kind.__getitem__, sp._memo[chunk]))
        if len(self) >= _MEMO_SIZE:
            make_room(self)
        self[chunk] = kinds
        return kinds


class _TokenKinds(dict):
    """token -> "e", "p" or "w" (see ``count_boundaries``), filled on first sight."""

    def __init__(self, ends: frozenset[str]) -> None:
        super().__init__()
        self.ends = ends

    def __missing__(self, token: str) -> str:
        kind = "e" if token in self.ends else "w" if token.isalnum() or not _all_punct(token) else "p"
        if len(self) >= _MEMO_SIZE:
            make_room(self)
        self[token] = kind
        return kind


_BOUNDARY = re.compile("e[ep]*w")
_NUMBER = re.compile(r"[0-9]+(?:[.,:][0-9]+)*").fullmatch
_POSSESSIVE = ("'s", "'S", "’s", "’S")
# letters with apostrophes or soft hyphens inside ("l’homme", "infor\xadmation"), not at the ends
_INNER_MARKS = re.compile(r"[^\W\d_](?:['’\xad]?[^\W\d_])*").fullmatch
_MAX_SUFFIX = 6  # longest suffix but a run of dots ("km/h", "mbar", "US$", "……" are shorter)


def _DOT_AFTER(c: str) -> bool:
    """A final "." is cut off after a lower-case letter, a digit or a closing mark (spaCy's
    suffix rule; after capitals only when two precede it, left to the general loop)."""
    return c.islower() or "0" <= c <= "9" or c in _PLAIN_SUFFIX
_ALNUM = re.compile(r"[^\W_]").search  # a letter or digit (str.isalnum's characters)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]").search  # a character beyond the BMP
_ODD_SPACE = re.compile(r"[^\S ]|  ")  # whitespace other than single plain spaces
_SPACES = re.compile(r"(\s+)")


def _all_punct(token: str) -> bool:
    cat = unicodedata.category
    return all(cat(c)[0] == "P" for c in token)


def _url_pattern(lower: tuple[str, str]) -> str:
    """URL-shaped chunks stay whole (spaCy's URL_MATCH: scheme, user, IPv4 or host.tld, port, path)."""
    return (
        r"(?u)^"
        r"(?:(?:[\w+\-.]{2,})://)?"
        r"(?:\S+(?::\S*)?@)?"
        r"(?:"
        r"(?!(?:10|127)(?:\.\d{1,3}){3})"
        r"(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})"
        r"(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})"
        r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])"
        r"(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
        r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
        r"|"
        r"(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\.)+"
        f"(?:{_one_of(*lower)}{{2,63}})"
        r")"
        r"(?::\d{2,5})?"
        r"(?:[/?#]\S*)?"
        r"$"
    )
