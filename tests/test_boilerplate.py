"""The boilerplate stage: gold precision/recall on the seeds, other sites' shapes, prose that
must not change, corpus statistics, metadata, edits that replay and revert, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cleancorpus
from cleancorpus.config import Config, DedupConfig
from cleancorpus.document import Document, Rejection, apply_edits, revert
from cleancorpus.stages import REGISTRY
from cleancorpus.stages.base import ConfigError
from cleancorpus.stages.boilerplate import BoilerplateStage

from paths import CASES, RAW

GOLD = CASES / "boilerplate"
SITES = GOLD / "sites"
SEEDS = sorted(p.stem for p in RAW.glob("*.txt"))


def _doc(path: Path) -> Document:
    return Document(path.stem, path.read_text("utf-8"), path.name)


def _gold(stem: str) -> list[tuple[str, str]]:
    rows = (GOLD / f"{stem}.gold.tsv").read_text("utf-8").splitlines()
    return [tuple(r.split("\t", 1)) for r in rows]  # type: ignore[misc]


def _line_spans(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for raw in text.split("\n"):
        if raw.strip():
            lead = len(raw) - len(raw.lstrip())
            out.append((pos + lead, pos + lead + len(raw.strip()), raw.strip()))
        pos += len(raw) + 1
    return out


def _predictions(doc: Document, out: Document) -> list[tuple[str, str]]:
    """Per non-blank input line: 'B' removed whole, 'L' only a leading label cut, 'T' untouched."""
    edits = out.edits_by("boilerplate")
    labels = []
    for start, end, text in _line_spans(doc.text):
        touching = [e for e in edits if e.start < end and e.end > start]
        if any(e.start <= start and e.end >= end for e in touching):
            labels.append(("B", text))
        elif touching:
            assert all(e.start == start and e.end < end for e in touching), text
            labels.append(("L", text))
        else:
            labels.append(("T", text))
    return labels


def _fitted(docs: list[Document]) -> BoilerplateStage:
    stage = BoilerplateStage()
    stage.fit(docs)
    return stage


@pytest.mark.parametrize("fit", [True, False], ids=["corpus-fitted", "single-document"])
def test_gold_precision_and_recall_on_the_seeds_are_one(fit):
    docs = [_doc(RAW / f"{s}.txt") for s in SEEDS]
    stage = _fitted(docs) if fit else BoilerplateStage()
    tp = fp = fn = 0
    for doc in docs:
        out = stage.apply(doc)
        assert isinstance(out, Document)
        gold, pred = _gold(doc.id), _predictions(doc, out)
        assert [t for _, t in gold] == [t for _, t in pred], "gold out of step with raw/"
        for (g, text), (p, _) in zip(gold, pred):
            tp += g == "B" and p == "B"
            fp += g != "B" and p == "B"
            fn += g == "B" and p != "B"
            if g == "L":
                assert p == "L", f"label not stripped: {text!r}"
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert (precision, recall) == (1.0, 1.0), f"P={precision:.3f} R={recall:.3f} tp={tp} fp={fp} fn={fn}"


def test_metadata_block_facts_go_to_metadata_and_listing_junk_only_to_edits():
    expected = json.loads((GOLD / "metadata.json").read_text("utf-8"))
    stage = BoilerplateStage()
    for stem, meta in expected.items():
        out = stage.apply(_doc(RAW / f"{stem}.txt"))
        assert {k: out.metadata.get(k) for k in meta} == meta
    out = stage.apply(_doc(RAW / "001_3a9078d9734bdab0.txt"))
    assert not {"price", "artist", "number", "group", "impact"} & set(out.metadata)
    listing = {e.before.strip() for e in out.edits if e.reason.startswith("listing_field")}
    assert {"Price: 0.7 ETH", "Artist: Stas Svetlov", "Number: 56/100"} <= listing
    assert out.text.startswith("1956 - Hungarian Revolution\n\n\nA nationwide revolt")
    assert out.text.endswith("substantial economic disruption.")


@pytest.mark.parametrize("name", ["blog_footer", "news_link_list", "german_shop"])
def test_other_sites_footer_and_menu_shapes(name):
    doc = _doc(SITES / f"{name}.in.txt")
    out = BoilerplateStage().apply(doc)
    assert out.text.strip() == (SITES / f"{name}.out.txt").read_text("utf-8").strip()
    assert all(e.reason and e.confidence for e in out.edits)


def _negatives() -> list[str]:
    text = (GOLD / "negative.txt").read_text("utf-8")
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    return [c.strip("\n") for c in body.split("\n=====\n")]


@pytest.mark.parametrize("text", _negatives())
def test_prose_must_not_change(text):
    doc = Document("n", text, "n.txt")
    assert BoilerplateStage().apply(doc) is doc


def test_lines_repeated_across_the_corpus_are_removed_only_with_corpus_statistics():
    docs = [_doc(SITES / f"corpus_{c}.txt") for c in "abcd"]
    fitted = _fitted(docs)
    out = fitted.apply(docs[0])
    assert out.text == "Bridge reopens after repairs\n\nThe bridge over the river reopened on Monday after six weeks of repairs to its deck.\n"
    assert {e.reason.split(":")[0] for e in out.edits} == {"repeated_in_corpus"}
    assert fitted.apply(docs[3]) is docs[3]  # the name inside a sentence is text
    assert BoilerplateStage().apply(docs[0]) is docs[0]  # one document alone: no evidence


def test_edits_replay_and_revert_exactly():
    stage = BoilerplateStage()
    for stem in SEEDS:
        doc = _doc(RAW / f"{stem}.txt")
        out = stage.apply(doc)
        assert apply_edits(doc.text, out.edits) == out.text
        assert revert(out.text, out.edits) == doc.text


def test_only_boilerplate_is_rejected_with_a_reason():
    doc = Document("x", "Back to top\n\nPrivacy Policy | Terms of Use | Contact\n", "x.txt")
    out = BoilerplateStage().apply(doc)
    assert isinstance(out, Rejection) and out.reason == "only boilerplate"
    assert "page_furniture" in out.detail and "separator_menu" in out.detail


def test_bad_options_fail_at_construction():
    with pytest.raises(ConfigError, match="min_repeats_in_doc"):
        Config(stages=("boilerplate",), stage_options={"boilerplate": {"min_repeats_in_doc": 1}})
    with pytest.raises(ConfigError, match="no option"):
        Config(stages=("boilerplate",), stage_options={"boilerplate": {"max_wrods": 3}})
    assert REGISTRY["boilerplate"].needs_corpus


def _clean_seeds(seeds: Path, out: Path, config: Config | None = None) -> dict[str, Document]:
    result = cleancorpus.clean(seeds, out, config=config)
    return {Path(d.source).stem: d for d in result.version}


def test_clean_output_of_the_seeds_has_no_junk_and_keeps_all_prose(seeds, out):
    config = Config(stages=("unicode", "boilerplate"), dedup=DedupConfig(enabled=False))
    docs = _clean_seeds(seeds, out, config)
    assert set(docs) == set(SEEDS)
    for stem, doc in docs.items():
        for tag, line in _gold(stem):
            if tag == "T":
                assert line in doc.text, f"{stem}: prose lost: {line[:60]!r}"
            elif tag == "B":
                assert line not in doc.text.split("\n"), f"{stem}: junk kept: {line[:60]!r}"
    assert docs["001_3a9078d9734bdab0"].metadata["year"] == "1956"
    assert docs["001_3a9078d9734bdab0"].metadata["country"] == "Hungary + USSR"


def test_default_pipeline_removes_the_seed_junk_and_reports_it(seeds, out):
    docs = _clean_seeds(seeds, out)
    text = "\n".join(d.text for d in docs.values())
    for junk in ("U.S. Department of State\n", "Back to top", "top of page", "bottom of page", "Price: 0.7 ETH",
                 "Foto: Unknown", "Source: BBC", "Privacy Notice", "Bureau of Public Affairs"):
        assert junk not in text, junk
    version = cleancorpus.load(out)
    edits = [e for es in version.edits().values() for e in es if e.stage == "boilerplate"]
    expected = sum(tag in "BL" for stem in docs for tag, _ in _gold(stem))
    assert len(edits) == expected and all(e.reason and e.confidence for e in edits)
    if "001_3a9078d9734bdab0" in docs:  # may be dropped as a near-duplicate of 000
        assert docs["001_3a9078d9734bdab0"].metadata["year"] == "1956"
