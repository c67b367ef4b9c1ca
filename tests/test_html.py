"""HTML ingest: full page text, page furniture and non-main content removed as auditable edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleancorpus.document import Document, revert
from cleancorpus.ingest import iter_documents, list_inputs
from cleancorpus.ingest.html import html_to_text

ARTICLE = [
    "Soviet tanks rolled into Budapest before dawn on the fourth of November, and by the evening the "
    "radio station had fallen silent after a last appeal to the West for help.",
    "Imre Nagy, who had announced Hungary's withdrawal from the Warsaw Pact only days before, took "
    "refuge in the Yugoslav embassy while fighting continued in the working-class districts.",
    "Some two hundred thousand Hungarians crossed into Austria in the weeks that followed, most of "
    "them on foot across the marshes near Andau, and many never returned home.",
]

PAGE = f"""<!doctype html><html><head><title>Budapest, 1956 | Example Archive</title></head><body>
<header><a href="/">Example Archive</a><form><input name=q><button>Search</button></form></header>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/about">About us</a></li></ul></nav>
<div class="layout">
  <aside><h3>Most read</h3><ul><li><a href="/x">Ten things to do in Vienna this weekend</a></li></ul></aside>
  <article>
    <h1>Budapest, November 1956</h1>
    {''.join(f'<p>{p}</p>' for p in ARTICLE)}
  </article>
  <div class="share">Share this article</div>
</div>
<footer><p>&copy; 2024 Example Archive. All rights reserved.</p><a href="/privacy">Privacy Policy</a> | <a href="/terms">Terms</a></footer>
</body></html>"""

JUNK = ["Example Archive", "Home", "World", "About us", "Most read", "Ten things to do", "All rights reserved",
        "Privacy Policy", "Search"]


def _final(html: str, extractor: str = "trafilatura") -> tuple[Document, str]:
    page = html_to_text(html, extractor)  # type: ignore[arg-type]
    doc = Document("p", page.text, "p.html", page.meta)
    return doc, doc.revise("html", page.removals).text


@pytest.mark.parametrize("extractor", ["trafilatura", "rules"])
def test_furniture_and_side_content_are_removed_and_the_article_kept(extractor):
    full, text = _final(PAGE, extractor)
    for paragraph in ARTICLE:
        assert paragraph in text
        assert paragraph in full.text
    for junk in JUNK:
        assert junk in full.text, junk  # the full page text keeps everything ...
        assert junk not in text, junk  # ... the main content none of it
    assert full.metadata["title"] == "Budapest, 1956 | Example Archive"


def test_every_removal_is_an_edit_with_a_reason_and_reverts_to_the_full_text():
    page = html_to_text(PAGE)
    doc = Document("p", page.text, "p.html").revise("html", page.removals)
    edits = doc.edits_by("html")
    assert edits and all(e.reason.startswith("html: ") and e.after == "" for e in edits)
    assert any("inside <nav>" in e.reason or "trafilatura" in e.reason for e in edits)
    assert revert(doc.text, doc.edits) == page.text


def test_rules_name_the_furniture_element():
    page = html_to_text(PAGE, "rules")
    reasons = {r.reason for r in page.removals}
    assert {"html: page furniture: inside <nav>", "html: page furniture: inside <footer>",
            "html: page furniture: inside <aside>", "html: page furniture: inside <header>"} <= reasons
    assert "html: outside the page's main content element" in reasons  # the share box


def test_table_cells_are_not_glued_together():
    page = html_to_text("<table><tr><td>Kyle Busch</td><td>5040</td></tr></table>", "none")
    assert "Kyle Busch5040" not in page.text
    assert "Kyle Busch" in page.text and "5040" in page.text


def test_a_tiny_page_keeps_its_text():
    _, text = _final("<html><body><h1>Heading</h1><p>First <b>bold</b> paragraph.</p></body></html>")
    assert "First bold paragraph." in text


def test_a_page_of_only_navigation_is_not_emptied_by_extraction():
    # deciding that a whole page is junk is the boilerplate stage's job, with its reasons
    html = "<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav></body></html>"
    _, text = _final(html)
    assert "Home" in text


def test_extractor_none_removes_nothing():
    page = html_to_text(PAGE, "none")
    assert page.removals == ()


def test_ingest_records_html_edits_and_keeps_the_main_text(tmp_path: Path):
    (tmp_path / "page.html").write_text(PAGE, "utf-8")
    (tmp_path / "deep.html").write_text("<div>" * 20000 + "<p>deep text</p>" + "</div>" * 20000, "utf-8")
    docs = {d.source: d for d in iter_documents(list_inputs(tmp_path)) if isinstance(d, Document)}
    doc = docs["page.html"]
    assert doc.metadata["format"] == "html"
    assert all(p in doc.text for p in ARTICLE) and "Privacy Policy" not in doc.text
    assert doc.edits_by("html")
    assert "deep text" in docs["deep.html"].text


def test_doctype_is_not_text_and_noscript_counts_only_with_real_text():
    article = " ".join(ARTICLE)
    page = html_to_text(f"<!DOCTYPE html><html><body><noscript>Please enable JavaScript.</noscript>"
                        f"<p>{ARTICLE[0]}</p></body></html>", "none")
    assert page.text == ARTICLE[0]
    # some pages put their whole content in <noscript> for readers without JavaScript
    page = html_to_text(f"<!DOCTYPE html><html><body><noscript><p>{article}</p></noscript></body></html>", "none")
    assert page.text == article
