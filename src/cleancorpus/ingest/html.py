"""HTML to text with beautifulsoup4 and lxml, plus auditable main-content extraction.

The page is first turned into its *full* visible text (scripts, styles and markup removed; block
structure kept as paragraphs, one per line, blank line between blocks). Main-content extraction
then only *decides* which lines of that text are page furniture or outside the article, and says
so as removals (``Replacement`` spans with a reason). Ingest builds the Document from the full
text and applies the removals as edits of stage ``html``, so nothing an extractor drops is lost
from the record and every cut can be reverted.

Two extractors decide:

- ``"trafilatura"`` (default): trafilatura's main-content extraction; our lines are kept when they
  appear, in order, in its output. It won on ``bench/extraction.py`` (see bench/README.md).
- ``"rules"``: our beautifulsoup4 rules: drop furniture elements (nav, header, footer, aside,
  form, ...), then keep the main container (``<article>``, ``<main>``, ``role=main``, or the
  element holding the most paragraph text).

When an extractor finds nothing, the next weaker decision is used (trafilatura -> rules ->
furniture elements only -> keep everything), so a page with visible text never becomes empty.
"""

from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

from bs4 import BeautifulSoup, Comment, NavigableString, Tag, XMLParsedAsHTMLWarning
from bs4.element import CData, PreformattedString

from ..document import Replacement

Extractor = Literal["trafilatura", "rules", "none"]

# never text a reader sees
INVISIBLE = ("script", "style", "template", "head", "svg", "canvas", "iframe", "object")
# <noscript> is what a reader without JavaScript sees: usually "enable JavaScript" or a tracking
# pixel, but some pages put their whole content there; keep it only when it holds real text
NOSCRIPT_MIN_CHARS = 200
# elements that start a new paragraph
BLOCKS = frozenset(
    "address article aside blockquote body dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody "
    "thead tfoot tr td th ul caption".split()
)
# page furniture: navigation, site header and footer, sidebars, forms and dialogs
FURNITURE_TAGS = frozenset("nav header footer aside form dialog menu button select".split())
FURNITURE_ROLES = frozenset("navigation banner contentinfo complementary search menu menubar dialog".split())
MAIN_SELECTORS = ("article", "main", "[role=main]", "[itemprop=articleBody]")
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class HtmlText:
    text: str  # the full visible text of the page
    meta: dict[str, Any] = field(default_factory=dict)
    removals: tuple[Replacement, ...] = ()  # spans of ``text`` that are not main content


@dataclass
class _Block:
    text: str
    furniture: str | None  # name of the furniture element it sits in
    main: bool  # inside the rules' main container


def html_to_text(html: str, extractor: Extractor = "trafilatura") -> HtmlText:
    """The page's full text and the removals that leave its main content."""
    with warnings.catch_warnings():
        # XHTML and XML-declared pages parse fine as HTML; the warning would only be noise
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    meta: dict[str, Any] = {}
    if soup.title and soup.title.string:
        meta["title"] = _SPACE.sub(" ", soup.title.string).strip()
    for el in soup.find_all(INVISIBLE):
        el.decompose()
    for el in soup.find_all("noscript"):
        if len(el.get_text(" ", strip=True)) < NOSCRIPT_MIN_CHARS:
            el.decompose()
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    blocks = _walk(soup, _main_container(soup))
    text, lines = _layout(blocks)
    if extractor == "none" or not text:
        return HtmlText(text, meta)
    keep = _decide(html, lines, extractor)
    return HtmlText(text, meta, tuple(_removals(text, lines, keep)))


# -- full text ------------------------------------------------------------------------------
def _walk(root: Tag, main: Tag | None) -> list[_Block]:
    # iterative, so that deeply nested pages do not exhaust Python's stack
    blocks: list[_Block] = []
    current: list[tuple[str, str | None, bool]] = []
    stack: list[Any] = [(root, None, main is None)]
    while stack:
        item = stack.pop()
        if item is _FLUSH:
            _flush(blocks, current)
            continue
        node, furniture, in_main = item
        if isinstance(node, NavigableString):
            # doctype, declarations and processing instructions are markup, not text
            if not isinstance(node, PreformattedString) or isinstance(node, CData):
                current.append((str(node), furniture, in_main))
            continue
        if not isinstance(node, Tag):
            continue
        if node.name == "br":
            current.append(("\n", furniture, in_main))
            continue
        furniture = furniture or _furniture_name(node)
        in_main = in_main or node is main
        if node.name in BLOCKS:
            _flush(blocks, current)
            stack.append(_FLUSH)
        stack.extend((child, furniture, in_main) for child in reversed(node.contents))
    _flush(blocks, current)
    return blocks


_FLUSH = object()


def _furniture_name(node: Tag) -> str | None:
    if node.name in FURNITURE_TAGS:
        return node.name
    role = node.get("role")
    if isinstance(role, str) and role.lower() in FURNITURE_ROLES:
        return f"role={role.lower()}"
    return None


def _flush(blocks: list[_Block], current: list[tuple[str, str | None, bool]]) -> None:
    if not current:
        return
    raw = "".join(t for t, _, _ in current)
    # the block takes the context of most of its characters
    weights: dict[tuple[str | None, bool], int] = {}
    for t, furn, main in current:
        weights[(furn, main)] = weights.get((furn, main), 0) + len(t.strip())
    furniture, main = max(weights, key=weights.__getitem__)
    current.clear()
    lines = [_SPACE.sub(" ", ln).strip() for ln in raw.split("\n")]
    text = "\n".join(ln for ln in lines if ln)
    if text:
        blocks.append(_Block(text, furniture, main))


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str
    block: _Block


def _layout(blocks: list[_Block]) -> tuple[str, list[_Line]]:
    lines: list[_Line] = []
    pos = 0
    for b in blocks:
        for ln in b.text.split("\n"):
            lines.append(_Line(pos, pos + len(ln), ln, b))
            pos += len(ln) + 1
        pos += 1  # the blank line between blocks
    return "\n\n".join(b.text for b in blocks), lines


# -- main content -----------------------------------------------------------------------------
def _main_container(soup: BeautifulSoup) -> Tag | None:
    """The element the rules take as the article: a marked-up main element with real text,
    else the element holding the most paragraph text."""
    for selector in MAIN_SELECTORS:
        candidates = [el for el in soup.select(selector) if _paragraph_chars(el) >= 200]
        if candidates:
            return max(candidates, key=_paragraph_chars)
    scores: dict[int, tuple[int, Tag]] = {}
    for p in soup.find_all("p"):
        parent = p.parent
        if isinstance(parent, Tag) and not _inside_furniture(p):
            n, _ = scores.get(id(parent), (0, parent))
            scores[id(parent)] = (n + len(p.get_text(" ", strip=True)), parent)
    if not scores:
        return None
    return max(scores.values(), key=lambda s: s[0])[1]


def _paragraph_chars(el: Tag) -> int:
    return sum(len(p.get_text(" ", strip=True)) for p in el.find_all("p"))


def _inside_furniture(el: Tag) -> bool:
    return any(_furniture_name(a) for a in el.parents if isinstance(a, Tag))


def _decide(html: str, lines: list[_Line], extractor: Extractor) -> list[str | None]:
    """Per line: None to keep it, else the reason it is not main content."""
    decisions: list[list[str | None]] = []
    if extractor == "trafilatura":
        found = _trafilatura_lines(html, lines)
        if found is not None:
            decisions.append(found)
    decisions.append([_rules_reason(ln.block) for ln in lines])
    decisions.append([_furniture_reason(ln.block) for ln in lines])
    for keep in decisions:
        if any(r is None for r in keep):
            return keep
    return [None] * len(lines)


def _furniture_reason(block: _Block) -> str | None:
    return f"page furniture: inside <{block.furniture}>" if block.furniture else None


def _rules_reason(block: _Block) -> str | None:
    return _furniture_reason(block) or (None if block.main else "outside the page's main content element")


def _trafilatura_lines(html: str, lines: list[_Line]) -> list[str | None] | None:
    import trafilatura  # imported here: only pages that need it pay for the import

    try:
        extracted = trafilatura.extract(html, include_comments=False, include_tables=True)
    except Exception:  # trafilatura failing on a page only means the weaker rules decide
        return None
    if not extracted or not extracted.strip():
        return None
    matched = _aligned_tokens([_WORDS.findall(x) for x in extracted.splitlines()], [_WORDS.findall(ln.text) for ln in lines])
    reason = "not main content (trafilatura)"
    out: list[str | None] = []
    for got, total in matched:
        if total == 0:  # punctuation only: goes with the line before it
            out.append(out[-1] if out else reason)
        else:
            out.append(None if got / total >= _MIN_LINE_MATCH else reason)
    return out


def _aligned_tokens(extracted: list[list[str]], lines: list[list[str]]) -> list[tuple[int, int]]:
    """Per line, (tokens aligned with the extracted text, tokens). Word tokens only, aligned in
    order, so layout differences ("| a | b |" tables, trimmed punctuation) do not matter and a
    teaser repeating a sentence of the article does not claim the article's copy too.

    ``extracted`` is the extractor's text as lines of tokens. One token-level alignment of the
    whole page costs about the product of the two lengths in repeated words (a 750 KB page of
    5,000 paragraphs took 63 s), so past ``_MAX_ALIGN_PRODUCT`` whole lines are aligned first
    and tokens only inside the stretches that left unmatched. Below it (every page of the
    extraction benchmarks) the alignment is the whole-page one.
    """
    total = sum(len(t) for t in extracted)
    got = [0] * len(lines)
    ours = [tuple(t) for t in lines]
    flat = [t for line in extracted for t in line]
    if total * sum(len(t) for t in ours) <= _MAX_ALIGN_PRODUCT:
        _align_stretch(flat, ours, 0, len(ours), got, total)
        return [(g, len(toks)) for g, toks in zip(got, lines)]
    ext = [tuple(t) for t in extracted if t]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ext, ours, autojunk=False).get_opcodes():
        if tag == "equal":
            for j in range(j1, j2):
                got[j] = len(ours[j])
        elif i1 < i2 and j1 < j2:
            _align_stretch([t for line in ext[i1:i2] for t in line], ours, j1, j2, got, total)
    return [(g, len(toks)) for g, toks in zip(got, lines)]


# about two seconds of difflib at worst; the largest benchmark page (2.0e8) is below it
_MAX_ALIGN_PRODUCT = 300_000_000


def _align_stretch(extracted: list[str], ours: list[tuple[str, ...]], j1: int, j2: int, got: list[int], total: int) -> None:
    flat = [t for toks in ours[j1:j2] for t in toks]
    owner = [j for j in range(j1, j2) for _ in ours[j]]
    # a stretch still this large: difflib's popular-token heuristic keeps it near linear
    autojunk = len(extracted) * len(flat) > _MAX_ALIGN_PRODUCT
    matcher = difflib.SequenceMatcher(None, extracted, flat, autojunk=autojunk)
    for block in matcher.get_matching_blocks():
        if block.size < _MIN_RUN and block.size < total:
            continue  # a stray common word ("the", "1") is no evidence
        for k in range(block.b, block.b + block.size):
            got[owner[k]] += 1


_MIN_LINE_MATCH = 0.5  # share of a line's tokens that must align with the extracted text
_MIN_RUN = 2  # shortest aligned token run that counts


def _removals(text: str, lines: list[_Line], keep: list[str | None]) -> list[Replacement]:
    """One removal per dropped line, taking the line break(s) after it (or, at the end of the
    text, before it) so the kept text has no stray blank lines."""
    kept = [i for i, r in enumerate(keep) if r is None]
    last_kept = kept[-1] if kept else -1
    reps = []
    for i, (ln, reason) in enumerate(zip(lines, keep)):
        if reason is None:
            continue
        start = lines[last_kept].end if i == last_kept + 1 and last_kept >= 0 else ln.start
        end = lines[i + 1].start if i + 1 < len(lines) else len(text)
        reps.append(Replacement(start, end, "", f"html: {reason}", _CONFIDENCE.get(reason.split(":")[0])))
    return reps


# trafilatura's and our container choice are judgements; furniture elements are markup facts
_CONFIDENCE = {"not main content (trafilatura)": 0.8, "outside the page's main content element": 0.7}


# Structural pre-check: trafilatura's cost grows faster than linearly in the attributes of one
# element (a 1.3 MB page whose single tag held 100,000 attributes ran for over five minutes; 30,000
# took 19 s), and the time spent inside lxml cannot be interrupted by the time limit, so such
# pages are rejected before parsing. A tag with this many attributes needs at least this many
# characters, so only long tags are counted.
_LONG_TAG = re.compile(r"<[A-Za-z][^>]{4000,}>")
_ATTRIBUTE = re.compile(r"""[\s"'][^\s"'=<>/]+\s*=""")


def precheck_html(html: str, max_tags: int, max_attributes: int) -> str | None:
    """Why this page is too pathological to parse, or None. Cheap: C-speed scans only."""
    tags = html.count("<")
    if max_tags and tags > max_tags:
        return f"{tags} tags, over the limit of {max_tags}"
    if max_attributes:
        for m in _LONG_TAG.finditer(html):
            n = len(_ATTRIBUTE.findall(m.group()))
            if n > max_attributes:
                return f"one tag has {n} attributes, over the limit of {max_attributes}"
    return None
