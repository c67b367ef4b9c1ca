"""The audit report: edits laid over the original text, escaping, and the page's structure,
on real versions of the seed corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cleancorpus
from cleancorpus.cli import app
from cleancorpus.document import Document, Edit, Replacement, replay
from cleancorpus.report import ReportOptions, annotate, build_report, report_path, write_report
from cleancorpus.report.view import document_view, side_by_side
from cleancorpus.stages import REGISTRY
from cleancorpus.store import Store
from cleancorpus.store.verify import verify
from report_demo import HOSTILE, build_demo_version


# -- laying edits over the original text


def _joined(pieces, attr):
    return "".join(getattr(p, attr) for p in pieces)


def test_pieces_rebuild_original_and_final_text():
    doc = Document("d", "Soviet tanks and also troops top top November 4.\nNav | Home\n", "x")
    doc = doc.revise("spun", [Replacement(13, 21, "and", "tortured", 0.7), Replacement(29, 36, "on", "tortured", 0.93)])
    doc = doc.revise("boilerplate", [Replacement(doc.text.index("Nav"), len(doc.text), "", "navigation")])
    pieces = annotate("Soviet tanks and also troops top top November 4.\nNav | Home\n", doc.edits)
    assert _joined(pieces, "original") == "Soviet tanks and also troops top top November 4.\nNav | Home\n"
    assert _joined(pieces, "text") == doc.text
    kinds = [(p.kind, p.original, p.text) for p in pieces if p.kind != "same"]
    assert kinds == [("replaced", "and also", "and"), ("replaced", "top top", "on"), ("removed", "Nav | Home\n", "")]


def test_a_later_stage_editing_across_an_earlier_repair_is_merged_not_lost():
    original = "a much more democratic politics system here"
    doc = Document("d", original, "x").revise("spun", [Replacement(23, 38, "political system", "tortured", 0.8)])
    doc = doc.revise("spelling", [Replacement(2, 32, "more democratic political", "doubled", 0.6)])
    pieces = annotate(original, doc.edits)
    merged = [p for p in pieces if p.edits]
    assert len(merged) == 1
    assert merged[0].original == "much more democratic politics system"
    assert merged[0].text == "more democratic political system"
    assert [e.stage for e in merged[0].edits] == ["spun", "spelling"]
    assert _joined(pieces, "text") == doc.text


def test_edits_that_do_not_match_the_text_are_reported_not_raised():
    bad = Document("d", "hello world", "x", edits=(Edit("spun", 0, 5, "HELLO", "hi", "r"),))
    view = document_view(bad)
    assert view.problem and "does not match" in view.problem
    assert _joined(view.pieces, "text") == "hello world"


@st.composite
def _history(draw):
    original = draw(st.text(alphabet="ab \n", max_size=40))
    doc = Document("d", original, "x")
    # each stage runs once, as in the pipeline (consecutive edits of one stage are one pass)
    for stage in draw(st.lists(st.sampled_from(["ingest", "unicode", "boilerplate", "spun", "spelling"]), unique=True)):
        cuts = sorted(draw(st.lists(st.integers(0, len(doc.text)), max_size=6)))
        spans = list(zip(cuts[::2], cuts[1::2]))
        reps = [Replacement(s, e, draw(st.text(alphabet="xy", max_size=3)), "r") for s, e in spans]
        doc = doc.revise(stage, reps)
    return original, doc


@settings(max_examples=300, deadline=None)
@given(_history())
def test_pieces_account_for_every_character_of_any_history(case):
    original, doc = case
    pieces = annotate(original, doc.edits)
    assert _joined(pieces, "original") == original
    assert _joined(pieces, "text") == doc.text == replay(original, doc.edits)
    assert sum(len(p.edits) for p in pieces) == len(doc.edits)


def test_side_by_side_marks_words_found_on_one_side_only():
    left, right = side_by_side("the same words here", "the same words here and more", 100)
    assert [t for t, only in left if only] == []
    assert "".join(t for t, only in right if only).strip() == "and more"


def test_report_options_are_validated():
    with pytest.raises(ValueError, match="max_documents"):
        ReportOptions(max_documents=0)


# -- a real version of the seeds, built by the real pipeline


@pytest.fixture(scope="module")
def seed_version(tmp_path_factory):
    root = Path(__file__).resolve().parent.parent
    raw = tmp_path_factory.mktemp("seedraw")
    shutil.copytree(root / "raw", raw, dirs_exist_ok=True)
    # a mojibake copy makes the unicode stage edit for real; an exact copy gives a duplicate
    (raw / "010_mojibake.txt").write_text("The Mona Lisa doesnâ€™t have eyebrows. â€œReallyâ€\x9d.\n", encoding="utf-8")
    shutil.copy(raw / "002_0bc2088ad81ff738.txt", raw / "011_copy.txt")
    (raw / "012_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff" * 50)
    out = tmp_path_factory.mktemp("seedclean")
    version = cleancorpus.clean(raw, out).version
    write_report(version)
    return version, raw


def _tree(html: str):
    return lxml.html.document_fromstring(html)


def test_the_report_is_generated_from_the_tables_the_same_every_time(seed_version):
    version, _ = seed_version
    path = report_path(version)
    assert path.is_file() and path.parent.name == "_reports" and path.name == f"{version.id}.html"
    assert verify(version).ok
    # rebuilt from the stored tables it is the same page
    assert build_report(version) == path.read_text(encoding="utf-8")


def test_summary_shows_the_manifest_counts(seed_version):
    version, _ = seed_version
    tree = _tree(report_path(version).read_text(encoding="utf-8"))
    c = version.manifest["counts"]
    for key in ("documents", "kept", "duplicate", "rejected"):
        assert tree.get_element_by_id(f"count-{key}").find("b").text == str(c[key])
    assert c["duplicate"] >= 1 and c["rejected"] >= 1
    assert tree.xpath("//svg[@class='chart']//rect"), "the edits-per-stage chart is drawn"
    assert "012_binary.txt" in tree.get_element_by_id("rejected").text_content()
    assert "011_copy.txt" in tree.get_element_by_id("duplicates").text_content()


def test_each_kept_document_is_its_ingested_text_with_every_edit_marked(seed_version):
    version, raw = seed_version
    html = report_path(version).read_text(encoding="utf-8")
    tree = _tree(html)
    titles = " ".join(el.get("title") for el in tree.xpath("//article//*[@title]"))
    docs = list(version.documents(with_edits=True))
    assert any(d.edits for d in docs), "the mojibake document was repaired"
    for doc in docs:
        view = document_view(doc)
        assert view.problem is None
        if doc.source.endswith(".txt") and "ingest" not in {e.stage for e in doc.edits}:
            assert _joined(view.pieces, "original") == (raw / doc.source).read_text(encoding="utf-8")
        article = tree.get_element_by_id(f"doc-{doc.id}")
        assert int(article.get("data-edits")) == len(doc.edits)
        marked = article.xpath(".//div[@class='text']/*")
        assert len(marked) == sum(1 for p in view.pieces if p.edits)
        for e in doc.edits:
            assert e.reason.replace("\n", "⏎")[:40] in titles
    mojibake = next(d for d in docs if d.source == "010_mojibake.txt")
    marks = tree.get_element_by_id(f"doc-{mojibake.id}").xpath(".//mark")
    assert [m.text for m in marks] and all(m.get("data-was") for m in marks)
    assert "’" in "".join(m.text for m in marks)


@pytest.mark.skipif("spun" not in REGISTRY, reason="the spun stage has not landed yet")
def test_seed_000_spun_repairs_are_highlighted(seed_version):
    version, _ = seed_version
    tree = _tree(report_path(version).read_text(encoding="utf-8"))
    doc = next(o for o in (x.to_dict() for x in version.outcomes()) if o["source"].startswith("000_"))
    assert tree.get_element_by_id(f"doc-{doc['id']}").xpath(".//mark[contains(@class, 's-spun')]")


@pytest.mark.skipif("boilerplate" not in REGISTRY, reason="the boilerplate stage has not landed yet")
def test_seed_004_navigation_is_struck_through(seed_version):
    version, _ = seed_version
    tree = _tree(report_path(version).read_text(encoding="utf-8"))
    doc = next(o for o in (x.to_dict() for x in version.outcomes()) if o["source"].startswith("004_"))
    struck = " ".join(d.text_content() for d in tree.get_element_by_id(f"doc-{doc['id']}").xpath(".//del"))
    assert "U.S. Department of State" in struck


# -- boilerplate / spun / spelling edits made the way those stages record them


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    raw = tmp_path_factory.mktemp("demoraw")
    shutil.copytree(Path(__file__).resolve().parent.parent / "raw", raw, dirs_exist_ok=True)
    version = build_demo_version(tmp_path_factory.mktemp("demostore"), raw)
    return version, _tree(report_path(version).read_text(encoding="utf-8"))


def _article(tree, prefix: str):
    return next(a for a in tree.xpath("//article") if a.find("h3").text.startswith(prefix))


def test_removed_boilerplate_is_struck_through_in_place(demo):
    _, tree = demo
    text = _article(tree, "004_").xpath(".//div[@class='text']")[0]
    dels = text.xpath("./del")
    assert len(dels) >= 10
    assert dels[0].text.startswith("U.S. Department of State") and "boilerplate" in dels[0].get("title")
    assert all("removed" in d.get("class") for d in dels)
    # the body is there, untouched, between the struck header and footer
    assert "In October, 1956, the Soviet Union ordered its troops" in text.text_content()
    assert "Published by the U.S. Department of State" in dels[-1].text_content()


def test_repaired_words_show_original_wording_reason_and_confidence(demo):
    _, tree = demo
    marks = _article(tree, "000_").xpath(".//mark")
    on = next(m for m in marks if m.text == "on")
    assert on.get("data-was") == "top top"
    assert "spun: “top top” → “on”: tortured phrase" in on.get("title") and "confidence 0.93" in on.get("title")
    assert "s-spun" in on.get("class")
    chairman = next(m for m in marks if m.get("data-was") == "chairman")
    assert "low" in chairman.get("class").split()
    merged = next(m for m in marks if "spelling" in m.get("title") and "spun" in m.get("title"))
    assert merged.get("data-was") == "much more democratic politics system"


def test_metadata_pulled_out_of_the_text_is_a_table(demo):
    _, tree = demo
    rows = {tr.find("th").text: tr.find("td").text for tr in _article(tree, "004_").xpath(".//table[@class='meta']//tr")}
    assert rows["title"] == "Hungary, 1956" and rows["publisher"] == "U.S. Department of State"


def test_dropped_duplicates_get_their_own_document_view(demo):
    _, tree = demo
    article = _article(tree, "005_")
    assert "duplicate" in article.find("h3").text_content()
    assert article.xpath(".//h3//a")[0].text == "002_0bc2088ad81ff738.txt"


def test_duplicate_pair_is_side_by_side_with_the_difference_marked(demo):
    _, tree = demo
    cluster = tree.xpath("//div[@class='cluster']")[0]
    assert "002_0bc2088ad81ff738.txt" in cluster.find("h3").text_content()
    assert "0.94" in cluster.xpath(".//summary")[0].text_content()
    left, right = cluster.xpath(".//div[@class='sbs']/div")
    assert not left.xpath(".//span[@class='only']")
    assert "Share this page." in " ".join(s.text for s in right.xpath(".//span[@class='only']"))


def test_filter_reads_per_stage_counts(demo):
    _, tree = demo
    by = {a.find("h3").text.split()[0]: json.loads(a.get("data-by-stage")) for a in tree.xpath("//article")}
    assert by["004_dff09041fee8fc03.txt"] == {"boilerplate": 16, "spelling": 1}
    assert by["002_0bc2088ad81ff738.txt"] == {}
    assert tree.get_element_by_id("min-edits") is not None and tree.get_element_by_id("stage-filter") is not None


# -- escaping and self-containment


def test_markup_in_a_document_is_shown_as_text_and_cannot_run(demo):
    _, tree = demo
    assert len(tree.xpath("//script")) == 1  # ours
    assert len(tree.xpath("//body")) == 1 and tree.xpath("//body/*")[-1].tag == "script"
    assert HOSTILE.strip() in _article(tree, "006_").xpath(".//div[@class='text']")[0].text_content()
    assert not tree.xpath("//article//b")


def test_markup_in_metadata_sources_and_reasons_is_escaped(tmp_path):
    evil = "</td></table></body><script>alert(1)</script>"
    doc = Document("e1", "text " + evil, evil, {evil: evil}).revise("spun", [Replacement(0, 4, evil, evil, 0.5)])
    from cleancorpus.document import Outcome, Status
    from cleancorpus.store.write import write_version

    store = Store(tmp_path)
    summary = {"package_version": evil,
               "counts": {"input_files": 1, "documents": 1, "kept": 1, "duplicate": 0, "rejected": 0},
               "stages": {evil: {"seen": 1, "changed": 1, "edits": 1, "rejected": {evil: 1}}}, "dedup": {}}
    write_version(store, "v1", lambda: [(Outcome("e1", evil, Status.KEPT), doc)], lambda: summary,
                  created="now", commit_metadata={}, scratch=tmp_path)
    html = build_report(store.open("v1"))
    tree = _tree(html)
    assert len(tree.xpath("//script")) == 1
    assert html.count("</body>") == 1
    assert evil in tree.xpath("//article//table[@class='meta']//td")[0].text


def test_report_is_self_contained(demo):
    _, tree = demo
    assert not tree.xpath("//link | //img | //iframe | //script[@src] | //*[@src]")
    assert all(a.get("href").startswith("#") for a in tree.xpath("//a[@href]"))
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']")[0].get("content")
    assert "default-src 'none'" in csp
    assert "url(" not in "".join(s.text or "" for s in tree.xpath("//style"))


def test_large_versions_show_the_most_edited_documents_in_full(demo):
    # 6 kept + 1 dropped duplicate; only the two most edited are drawn
    version, _ = demo
    from cleancorpus.report import render_report

    tree = _tree(render_report(version, ReportOptions(max_documents=2)))
    shown = [a.find("h3").text.split()[0] for a in tree.xpath("//article")]
    assert shown == ["000_15983545b3afe273.txt", "004_dff09041fee8fc03.txt"]
    assert "5 more documents" in tree.get_element_by_id("documents").text_content()


# -- the command


def test_report_command_writes_the_report_and_prints_its_path(seed_version, monkeypatch, tmp_path):
    version, _ = seed_version
    runner = CliRunner()
    out_dir = str(version.store.root)
    res = runner.invoke(app, ["report", version.id[:6], "--out", out_dir])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(report_path(version).resolve())
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    target = tmp_path / "elsewhere" / "r.html"
    res = runner.invoke(app, ["report", version.id, "--out", out_dir, "--to", str(target), "--open"])
    assert res.exit_code == 0, res.output
    assert target.is_file() and opened == [target.resolve().as_uri()]


def test_report_command_fails_clearly_for_an_unknown_version(tmp_path):
    res = CliRunner().invoke(app, ["report", "nope", "--out", str(tmp_path)])
    assert res.exit_code != 0
    assert "no versions" in res.output or "no version" in res.output
