"""The quality stage on documents the language stage finds not English: the English-only rules
(thresholds.json, english_only) are computed but not flagged, and metadata["quality_skipped"]
says which and why; English documents are judged as before."""

from __future__ import annotations

import json

import pytest

from cleancorpus.document import Document, Rejection
from cleancorpus.stages.language import LanguageStage
from cleancorpus.stages.quality import QualityStage, load_thresholds

# Written for these tests: ordinary prose, several sentences a line, nothing repeated.
FRENCH = """La rivière est montée lentement pendant la nuit, et au matin les champs du bas étaient sous l'eau.
Les agriculteurs ont conduit leurs bêtes sur la colline avant l'aube. Personne dans la vallée ne se souvenait d'une crue pareille.

L'ingénieur du département a expliqué que la vieille digue avait tenu quarante ans. Elle avait été construite après la tempête de 1983, quand la ville avait perdu son pont.
Selon elle, les réparations occuperont presque tout l'été, et la région en partagera le coût avec l'État.

Des bénévoles ont rempli des sacs de sable à l'école jusqu'à la tombée du jour. D'autres ont préparé de la soupe pour les familles obligées de quitter leur maison.
À la fin de la semaine, l'eau avait commencé à baisser, laissant une trace de boue sur chaque mur qu'elle avait touché. Le maire a remercié tous ceux qui avaient aidé."""

GERMAN = """Der Fluss stieg in der Nacht langsam an, und am Morgen standen die unteren Felder unter Wasser.
Die Bauern brachten ihre Tiere noch vor der Dämmerung auf den Hügel. Niemand im Tal konnte sich an ein solches Hochwasser erinnern.

Der Kreisingenieur sagte, der alte Deich habe vierzig Jahre lang gehalten. Er war nach dem Sturm von 1983 gebaut worden, als die Stadt ihre Brücke verlor.
Sie glaubt, dass die Reparaturen den größten Teil des Sommers dauern werden und dass sich das Land an den Kosten beteiligt.

Freiwillige füllten in der Schule Sandsäcke, bis es dunkel wurde. Andere kochten Suppe für die Familien, die ihre Häuser verlassen mussten.
Am Wochenende begann das Wasser zu sinken und hinterließ an jeder Wand, die es berührt hatte, einen Streifen Schlamm. Der Bürgermeister dankte allen, die geholfen hatten."""

ENGLISH = """The river rose slowly through the night, and by morning the lower fields were under water.
Farmers moved their animals to the ridge before dawn. Nobody in the valley could remember a flood like it.

The county engineer said the old levee had held for forty years. It was built after the storm of 1983, when the town lost its bridge.
She thinks the repairs will take most of the summer, and that the cost will be shared with the state.

Volunteers filled sandbags at the school until the light failed. Others cooked soup for the families who had to leave their homes.
By the weekend the water had started to fall, leaving a line of mud on every wall it had touched. The mayor thanked everyone who helped."""

ENGLISH_ONLY = {rule for s, spec in load_thresholds().items() if not s.startswith("_")
                for rule, r in spec["rules"].items() if r["english_only"]}


@pytest.fixture(scope="module")
def language() -> LanguageStage:
    return LanguageStage()


def judged(language: LanguageStage, text: str, **options) -> Document | Rejection:
    stage = QualityStage(QualityStage.Options(**options)) if options else QualityStage()
    doc = language.apply(Document("d", text, "d"))
    assert isinstance(doc, Document)
    return stage.apply(doc)


@pytest.mark.parametrize("text,code", [(FRENCH, "fr"), (GERMAN, "de")])
def test_no_english_only_flags_on_french_and_german(language, text, code):
    out = judged(language, text)
    assert out.metadata["language"] == code
    # without the language decision the English rules do flag this prose (no English stop words)
    alone = QualityStage().apply(Document("d", text, "d"))
    assert "gopher_few_stop_words" in alone.metadata["quality_flags"]
    assert not set(out.metadata["quality_flags"]) & ENGLISH_ONLY
    skipped = out.metadata["quality_skipped"]
    assert skipped["reason"] == "language" and skipped["language"] == code
    assert "gopher_few_stop_words" in skipped["rules"] and "c4_badwords" in skipped["rules"]
    assert set(skipped["rules"]) == ENGLISH_ONLY
    # the signals are still computed, the same as without the decision
    assert out.metadata["quality"] == alone.metadata["quality"]
    # and the rules that are not English-only still flag as before
    assert out.metadata["quality_flags"] == [f for f in alone.metadata["quality_flags"] if f not in ENGLISH_ONLY]


def test_language_neutral_rules_still_flag_a_french_page(language):
    page = FRENCH + "\n" + "\n".join(["Accueil", "Actualités", "Contact"] * 6)
    out = judged(language, page)
    assert out.metadata["language"] == "fr"
    assert "gopher_dup_line_frac" in out.metadata["quality_flags"]
    assert "fineweb_short_line_ratio" in out.metadata["quality_flags"]


def test_english_document_is_unchanged_by_the_decision(language):
    out = judged(language, ENGLISH)
    assert out.metadata["language"] == "en"
    alone = QualityStage().apply(Document("d", ENGLISH, "d"))
    assert "quality_skipped" not in out.metadata
    assert out.metadata["quality"] == alone.metadata["quality"]
    assert out.metadata["quality_flags"] == alone.metadata["quality_flags"] == []


def test_english_only_rules_flag_english_text(language):
    text = ENGLISH + "\nThe tour ended at a strip club downtown."
    out = judged(language, text)
    assert out.metadata["language"] == "en"
    assert "c4_badwords" in out.metadata["quality_flags"]


def test_all_rules_option_flags_every_language(language):
    out = judged(language, FRENCH, non_english="all_rules")
    assert "gopher_few_stop_words" in out.metadata["quality_flags"]
    assert "quality_skipped" not in out.metadata


def test_filter_does_not_reject_a_french_document_for_english_rules(language):
    out = judged(language, FRENCH, filter=True)
    assert isinstance(out, Document)
    every_rule = judged(language, FRENCH, filter=True, non_english="all_rules")
    assert isinstance(every_rule, Rejection) and "gopher_few_stop_words" in every_rule.reason


def test_no_language_found_applies_every_rule():
    doc = Document("d", "12345 67890", "d").with_metadata(language=None)
    out = QualityStage().apply(doc)
    assert "quality_skipped" not in out.metadata
    assert "gopher_short_doc" in out.metadata["quality_flags"]


def test_bad_option_fails_at_construction():
    with pytest.raises(ValueError, match="non_english"):
        QualityStage.Options(non_english="ignore")


def test_metadata_is_strict_json(language):
    json.dumps(judged(language, GERMAN).metadata, allow_nan=False)
