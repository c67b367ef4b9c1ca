"""HTML to text with beautifulsoup4 and lxml: scripts, styles and markup removed, block
structure kept as paragraphs (one per line, blank line between blocks)."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

# never text a reader sees
INVISIBLE = ("script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object")
# elements that start a new paragraph
BLOCKS = frozenset(
    "address article aside blockquote body dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody "
    "thead tfoot tr ul caption".split()
)
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")


def html_to_text(html: str) -> tuple[str, dict[str, Any]]:
    soup = BeautifulSoup(html, "lxml")
    meta: dict[str, Any] = {}
    if soup.title and soup.title.string:
        meta["title"] = _SPACE.sub(" ", soup.title.string).strip()
    for el in soup.find_all(INVISIBLE):
        el.decompose()
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    blocks: list[str] = []
    current: list[str] = []
    _walk(soup, blocks, current)
    _flush(blocks, current)
    return "\n\n".join(blocks), meta


def _walk(node: Tag, blocks: list[str], current: list[str]) -> None:
    # iterative, so that deeply nested pages do not exhaust Python's stack
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if item is _FLUSH:
            _flush(blocks, current)
            continue
        if isinstance(item, NavigableString):
            current.append(str(item))
            continue
        if not isinstance(item, Tag):
            continue
        if item.name == "br":
            current.append("\n")
            continue
        is_block = item.name in BLOCKS
        if is_block:
            _flush(blocks, current)
            stack.append(_FLUSH)
        stack.extend(reversed(item.contents))


_FLUSH = object()


def _flush(blocks: list[str], current: list[str]) -> None:
    if not current:
        return
    raw = "".join(current)
    current.clear()
    lines = [_SPACE.sub(" ", ln).strip() for ln in raw.split("\n")]
    text = "\n".join(ln for ln in lines if ln)
    if text:
        blocks.append(text)
