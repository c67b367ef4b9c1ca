"""Mergeable corpus fits: shards' statistics add up to the whole stream's, in any order, and a
stage finished from merged shards behaves exactly like one fitted on the whole stream."""

import pickle
import random

import numpy as np
import pytest

from cleancorpus.document import Document
from cleancorpus.lm import CorpusCounts
from cleancorpus.stages import REGISTRY
from cleancorpus.stages.counts import KeyCounter, KeyCounts
from cleancorpus.stages.spelling import SpellingStage
from cleancorpus.stages.spun import SpunStage
from paths import CASES, RAW

CORPUS_STAGES = ["boilerplate", "spun", "spelling"]


# misspelt names the corpus spells right elsewhere (Hungary), misspelt common words
TYPOS = {4: "The goverment said that travel to Hugary was hard that winter.",
         8: "The commitee met again in Budapset on Monday."}
NAV_LINES = ["Home | News | Sport | Weather | Contact", "Share this article", "Subscribe to our newsletter"]


def _docs() -> list[Document]:
    """The seeds, and documents built from their paragraphs, spun sentences from the case files
    and navigation lines shared across documents, so that every stage has statistics to learn
    (frequent lines, clean and spun documents, names) and something to change."""
    docs = [Document(p.name, p.read_text(encoding="utf-8"), p.name) for p in sorted(RAW.glob("*.txt"))]
    paras = [x.strip() for d in docs for x in d.text.split("\n\n") if len(x.split()) >= 8]
    with open(CASES / "spun" / "tortured_in_context.tsv", encoding="utf-8") as fh:
        spun = [line.split("\t")[0] for line in list(fh)[1:]]
    rng = random.Random(5)
    for i in range(60):
        parts = rng.sample(paras, rng.randint(2, 5))
        if i % 3 == 0:
            parts.insert(rng.randint(0, len(parts)), " ".join(rng.sample(spun, 3)))
        if i in TYPOS:  # once each: a typo the corpus repeats counts as its own word
            parts.append(TYPOS[i])
        text = "\n\n".join([rng.choice(NAV_LINES), *parts, rng.choice(NAV_LINES)])
        docs.append(Document(f"doc-{i}", text, "built"))
    return docs


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return _docs()


def _shards(docs: list[Document], n: int, seed: int) -> list[list[Document]]:
    cuts = sorted(random.Random(seed).sample(range(1, len(docs)), n - 1))
    return [docs[a:b] for a, b in zip([0, *cuts], [*cuts, len(docs)])]


def _stats_equal(a, b) -> bool:
    return _canonical(a) == _canonical(b)


def _canonical(stats):
    """Counters compared as sorted items (their insertion order differs with the sharding)."""
    if isinstance(stats, KeyCounts):
        return stats.keys.tolist(), stats.counts.tolist()
    if isinstance(stats, CorpusCounts):
        return sorted(stats.unigrams.items()), sorted(stats.bigrams.items()), stats.pivots
    if hasattr(stats, "__dict__"):
        return {k: _canonical(v) for k, v in vars(stats).items()}
    if isinstance(stats, dict):
        return sorted(stats.items())
    return stats


@pytest.mark.parametrize("name", CORPUS_STAGES)
def test_merged_shard_statistics_equal_the_whole_streams(docs, name):
    stage = REGISTRY[name]()
    whole = stage.partial_fit(iter(docs))
    for n, seed in ((2, 1), (5, 2), (len(docs), 3)):
        parts = [stage.partial_fit(iter(s)) for s in _shards(docs, n, seed)]
        assert _stats_equal(stage.merge_stats(parts), whole)
        random.Random(seed).shuffle(parts)  # order-independent
        assert _stats_equal(stage.merge_stats(parts), whole)
        # merging merged parts (the flow merges in batches) changes nothing either
        half = len(parts) // 2
        nested = stage.merge_stats([stage.merge_stats(parts[:half]), stage.merge_stats(parts[half:])])
        assert _stats_equal(nested, whole)


@pytest.mark.parametrize("name", CORPUS_STAGES)
def test_stage_finished_from_shards_behaves_like_the_whole_fit(docs, name):
    whole = REGISTRY[name]()
    whole.fit(iter(docs))
    sharded = REGISTRY[name]()
    sharded.finish_fit(sharded.merge_stats([sharded.partial_fit(iter(s)) for s in _shards(docs, 4, 9)]))
    shipped = pickle.loads(pickle.dumps(sharded))  # what a Dask worker gets
    changed = 0
    for doc in docs:
        want = whole.apply(doc)
        assert sharded.apply(doc) == want and shipped.apply(doc) == want
        changed += want is not doc
    assert changed  # the corpus statistics were exercised, not an empty fit


def test_partial_fit_ignores_what_the_stage_learned_before(docs):
    fresh, fitted = SpunStage(), SpunStage()
    fitted.fit(iter(docs))
    assert _stats_equal(fresh.partial_fit(iter(docs[:50])), fitted.partial_fit(iter(docs[:50])))


def test_key_counts_merge_exactly_and_stay_compact():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**64 - 1, 5000, dtype=np.uint64, endpoint=True) % np.uint64(1500)
    counter = KeyCounter()
    for chunk in np.array_split(keys, 7):
        counter.update(int(k) for k in chunk)
    got = counter.result()
    uniq, counts = np.unique(keys, return_counts=True)
    assert got.keys.tolist() == uniq.tolist() and got.counts.tolist() == counts.tolist()
    assert got.nbytes == 12 * len(uniq)  # 8-byte key, 4-byte count
    assert KeyCounts.merged([]).keys.size == 0
    assert set(got.at_least(5).tolist()) == {int(k) for k, c in zip(uniq, counts) if c >= 5}


def test_spun_bigrams_only_around_lexicon_words(docs):
    stage = SpunStage()
    stats = stage.partial_fit(iter(docs))
    pivots = stats.counts.pivots
    assert stats.counts.bigrams and all(a in pivots or b in pivots for a, b in stats.counts.bigrams)
    everything = CorpusCounts()
    everything.add([d.text.split() for d in docs[:50]])
    some = CorpusCounts(pivots=pivots)
    some.add([d.text.split() for d in docs[:50]])
    assert some.unigrams == everything.unigrams  # every word stays known
    assert len(some.bigrams) < len(everything.bigrams)
    with pytest.raises(ValueError):
        CorpusCounts.merged([some, everything])


def test_spelling_keeps_only_words_it_may_look_up():
    stage = SpellingStage()
    stats = stage.partial_fit([Document("a", "the house and the garden near Kecskemet and Budapest; Hugary", "a")])
    assert stats.words == 10
    # lower-case dictionary words are never looked up; names and unknown words are
    assert set(stats.counts) == {"Kecskemet", "Budapest", "Hugary"}
    stage.finish_fit(stats)
    assert not stage._corpus  # each seen once: under both thresholds
    assert stage._fitted  # a fitted stage uses corpus counts, even when none reaches a threshold


def test_buffers_and_memos_stay_bounded(monkeypatch):
    from cleancorpus import lm
    from cleancorpus.stages import counts

    monkeypatch.setattr(counts, "BUFFER_KEYS", 100)
    counter = KeyCounter()
    for k in range(1000):
        counter.update([k % 300])
        assert len(counter._buffer) < 100
    assert len(counter.result()) == 300
    monkeypatch.setattr(lm, "MEMO_SIZE", 50)
    model = lm.web_lm().with_corpus(CorpusCounts())
    words = [lm.norm(w) for w in "the state of the art is a matter of public record".split()]
    expected = [model._logp(a, b) for a in words for b in words]
    for _ in range(3):
        assert [model.logp(a, b) for a in words for b in words] == expected
        assert len(model._memo) <= 50
    assert pickle.loads(pickle.dumps(model))._memo == {}
