"""Near-duplicate removal: the passes one by one, the driver on planted cases, and the whole run."""

import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import cleancorpus
from cleancorpus.config import Config, DedupConfig
from cleancorpus.dedup import DedupError, find_duplicates, normalize_for_hash
from cleancorpus.dedup.cluster import Member, components, representative
from cleancorpus.dedup.exact import exact_groups, exact_hashes
from cleancorpus.dedup.lsh import bucket_pairs
from cleancorpus.dedup.minhash import MinHashParams, signatures
from cleancorpus.dedup.shingles import shingle_hashes, shingle_set
from cleancorpus.dedup.tasks import SignatureJob, signature_task, write_batch
from cleancorpus.dedup.verify import ShingleStore, score_pairs, similarity, verify_codes
from cleancorpus.document import Document, Edit
from cleancorpus.stages import REGISTRY
from cleancorpus.stages.base import ConfigError

from paths import RAW

# real text: the seed articles that are not about to be cleaned into each other
ARTICLE = (RAW / "003_a739058c7e7fc698.txt").read_text("utf-8")
OTHER = (RAW / "004_dff09041fee8fc03.txt").read_text("utf-8")
THIRD = (RAW / "002_0bc2088ad81ff738.txt").read_text("utf-8")
CONFIG = DedupConfig()


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def reword(text: str, every: int) -> str:
    """Change every ``every``-th word: a light, spread-out revision."""
    words = text.split(" ")
    return " ".join(w + "x" if i % every == 0 else w for i, w in enumerate(words))


def docs_of(*items: tuple[str, str] | Document):
    built = [d if isinstance(d, Document) else Document(d[0], d[1], d[0] + ".txt") for d in items]
    return lambda: iter(built)


def write_texts(path: Path, texts: list[str]) -> Path:
    write_batch(path, texts)
    return path


def dedup(*items, config=CONFIG, **kw):
    return find_duplicates(docs_of(*items), config, **kw)


# -- passes ------------------------------------------------------------------------------------


def test_shingles_are_stable_and_order_sensitive():
    a = shingle_hashes("the cat sat on the mat", 3)
    assert a.tolist() == shingle_hashes("the cat sat on the mat", 3).tolist()
    assert a.size == 4
    assert set(shingle_set("the cat sat", 3)) != set(shingle_set("sat cat the", 3))
    assert shingle_hashes("", 5).size == 0
    assert shingle_hashes("two words", 5).size == 1  # short text: one shingle of all its words


def test_minhash_estimates_jaccard_of_real_text():
    a = shingle_set(normalize_for_hash(ARTICLE), 5)
    b = shingle_set(normalize_for_hash(reword(ARTICLE, 9)), 5)
    true_jaccard = similarity(a, b)[0]
    params = MinHashParams(5, 256, 7)
    sig = signatures([a, b, shingle_set(normalize_for_hash(OTHER), 5)], params)
    assert sig.shape == (256, 3) and sig.dtype == np.uint32
    estimate = float(np.mean(sig[:, 0] == sig[:, 1]))
    assert abs(estimate - true_jaccard) < 0.1
    assert np.mean(sig[:, 0] == sig[:, 2]) < 0.05


def test_signature_of_a_batch_equals_signatures_one_by_one():
    texts = [normalize_for_hash(t) for t in (ARTICLE, OTHER, "", THIRD)]
    sets = [shingle_hashes(t, 5) for t in texts]
    params = MinHashParams(5, 64, 3)
    together = signatures(sets, params)
    for j, s in enumerate(sets):
        assert np.array_equal(together[:, j], signatures([s], params)[:, 0])
    assert (together[:, 2] == 0xFFFFFFFF).all()  # no shingles: an empty signature


def test_exact_groups_ignore_case_punctuation_and_spacing():
    texts = ["Hello, World!", "hello   world", "Hello world.", "something else"]
    leaders = exact_groups(exact_hashes(normalize_for_hash(t) for t in texts))
    assert leaders.tolist() == [0, 0, 0, 3]


def test_bucket_pairs_all_pairs_then_star():
    keys = np.array([5, 7, 5, 5, 9, 7], dtype=np.uint64)
    index = np.arange(6)
    pairs = {tuple(p) for p in bucket_pairs(keys, index, max_all_pairs=3).tolist()}
    assert pairs == {(0, 2), (0, 3), (2, 3), (1, 5)}
    star = {tuple(p) for p in bucket_pairs(keys, index, max_all_pairs=2).tolist()}
    assert star == {(0, 2), (0, 3), (1, 5)}


def test_bucket_pairs_equal_a_bucket_by_bucket_expansion():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 40, size=400).astype(np.uint64)  # buckets of every size from 1 to ~25
    index = np.sort(rng.choice(10_000, size=400, replace=False))
    for limit in (1, 2, 7, 50):
        want = set()
        for key in np.unique(keys).tolist():
            members = sorted(index[keys == key].tolist())
            if len(members) <= max(limit, 2):
                want |= {(a, b) for x, a in enumerate(members) for b in members[x + 1 :]}
            else:
                want |= {(members[0], b) for b in members[1:]}
        got = bucket_pairs(keys, index, limit)
        assert {tuple(p) for p in got.tolist()} == want and len(got) == len(want)


def test_components_do_not_depend_on_edge_order():
    edges = [(4, 1), (1, 3), (5, 6)]
    assert components(7, edges).tolist() == components(7, edges[::-1]).tolist() == [0, 1, 2, 1, 1, 5, 5]
    assert components(7, np.array(edges * 3)).tolist() == [0, 1, 2, 1, 1, 5, 5]  # repeated edges
    assert components(3, []).tolist() == [0, 1, 2] and components(0, []).size == 0


def test_keep_policy_order():
    info = [
        Member("b", 3, 900),  # needed more repairs
        Member("a", 0, 500),  # shorter
        Member("c", 0, 800),  # fewer repairs, longer: the best copy
    ]
    assert representative([0, 1, 2], info) == 2
    tie = [Member("b", 0, 10), Member("a", 0, 10)]
    assert representative([0, 1], tie) == 1


# -- driver on planted cases --------------------------------------------------------------------


def test_exact_duplicates_keep_one_copy():
    res = dedup(("a", ARTICLE), ("b", ARTICLE.upper().replace(",", " ")), ("c", OTHER))
    assert list(res.duplicates) == ["b"]  # same length: the smaller id is kept
    dup = res.duplicates["b"]
    assert dup.duplicate_of == "a"
    assert dup.similarity == 1.0 and dup.reason.startswith("exact duplicate")
    assert res.stats["exact_duplicates"] == 1 and res.stats["near_duplicates"] == 0


def test_planted_near_duplicate_is_found_by_jaccard():
    res = dedup(("orig", ARTICLE), ("light", reword(ARTICLE, 25)), ("other", OTHER), ("third", THIRD))
    assert list(res.duplicates) == ["orig"]  # the reworded copy is a little longer, so it is kept
    dup = res.duplicates["orig"]
    assert dup.duplicate_of == "light"
    assert "Jaccard" in dup.reason and dup.similarity >= CONFIG.jaccard_threshold
    assert res.stats["candidate_pairs"] >= 1


def test_heavily_reworded_copy_is_not_a_duplicate():
    res = dedup(("orig", ARTICLE), ("heavy", reword(ARTICLE, 2)))
    assert res.duplicates == {}


def test_document_mostly_inside_a_longer_one_is_found_by_containment():
    part = "\n\n".join(paragraphs(ARTICLE)[:6])
    longer = ARTICLE + "\n\n" + OTHER
    res = dedup(("part", part), ("long", longer), ("third", THIRD))
    j, c, _ = similarity(shingle_set(normalize_for_hash(part), 5), shingle_set(normalize_for_hash(longer), 5))
    assert j < CONFIG.jaccard_threshold <= c  # the case Jaccard alone misses
    assert set(res.duplicates) == {"part"}
    dup = res.duplicates["part"]
    assert dup.duplicate_of == "long" and "containment" in dup.reason
    assert dup.similarity == pytest.approx(c)


def test_a_short_quote_is_not_contained_duplicate():
    quote = " ".join(ARTICLE.split()[40:60])  # 20 words, all inside the article
    res = dedup(("quote", quote), ("article", ARTICLE))
    assert res.duplicates == {}


def test_transitive_cluster_names_the_representative_and_the_direct_similarity():
    base = ARTICLE.split()
    n = len(base)
    a = " ".join(base[: int(n * 0.7)])
    b = " ".join(base[int(n * 0.15) : int(n * 0.85)])
    c = " ".join(base[int(n * 0.3) :])
    res = dedup(("a", a), ("b", b), ("c", c), config=DedupConfig(containment_threshold=0.75))
    assert len(res.duplicates) == 2
    kept = {d.duplicate_of for d in res.duplicates.values()}
    assert len(kept) == 1  # every member points at the one representative
    (rep,) = kept
    assert rep not in res.duplicates
    reasons = " ".join(d.reason for d in res.duplicates.values())
    assert "through other members" in reasons


def test_keep_policy_prefers_fewer_repairs_then_longer():
    spun_edit = Edit("spun", 0, 1, "x", "y", "spun phrase", 0.9)
    repaired = Document("repaired", ARTICLE + " Extra closing words here.", "r.txt", edits=(spun_edit,) * 3)
    clean = Document("clean", ARTICLE, "c.txt")
    res = dedup(repaired, clean)
    assert res.duplicates["repaired"].duplicate_of == "clean"
    longer = Document("longer", ARTICLE + " Extra closing words here.", "l.txt")
    res = dedup(clean, longer)
    assert res.duplicates["clean"].duplicate_of == "longer"


def test_result_does_not_depend_on_map_fn_or_batching():
    items = [("orig", ARTICLE), ("light", reword(ARTICLE, 30)), ("other", OTHER), ("copy", OTHER + " "),
             ("part", "\n\n".join(paragraphs(ARTICLE)[:6])), ("third", THIRD), ("empty", "...")]
    base = dedup(*items)
    with ProcessPoolExecutor(2) as pool:
        pooled = dedup(*items, map_fn=lambda f, xs: list(pool.map(f, xs)), batch_size=2, bands_per_task=5,
                       pairs_per_task=1)
    assert pooled.duplicates == base.duplicates and pooled.stats == base.stats
    assert dedup(*items, batch_size=1, bands_per_task=64).duplicates == base.duplicates
    assert {k: d.duplicate_of for k, d in base.duplicates.items()} == {"orig": "light", "part": "light",
                                                                       "other": "copy"}
    assert base.stats["too_short"] == 1


def test_documents_are_read_once():
    calls = {"n": 0}

    def once():
        calls["n"] += 1
        # a generator: a second read would see nothing
        yield from [Document("a", ARTICLE, "a"), Document("b", reword(ARTICLE, 25), "b"), Document("c", OTHER, "c")]

    res = find_duplicates(once, CONFIG, batch_size=1)
    assert calls["n"] == 1
    assert set(res.duplicates) == {"a"} and res.duplicates["a"].duplicate_of == "b"


def test_a_map_fn_that_loses_batches_is_an_error():
    with pytest.raises(DedupError, match="map_fn returned 1 results for 2"):
        dedup(("a", ARTICLE), ("b", OTHER), batch_size=1, map_fn=lambda f, xs: [f(xs[0])])


def test_verification_reads_back_the_sets_of_the_signature_pass(tmp_path):
    texts = [ARTICLE, reword(ARTICLE, 7), OTHER, "", THIRD, OTHER + " " + ARTICLE]
    jobs = [SignatureJob(write_texts(tmp_path / f"b{k}", texts[k::2]), tmp_path / f"s{k}.npy",
                         tmp_path / f"sets{k}", MinHashParams(5, 64, 1)) for k in range(2)]
    outs = [signature_task(j) for j in jobs]
    order = [i for k in range(2) for i in range(k, len(texts), 2)]  # the text of each store row
    expected = [shingle_set(normalize_for_hash(texts[i]), 5) for i in order]
    pairs = np.array([(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))], dtype=np.int64)
    for cache in (1, 1 << 20):  # a cache of one byte still holds the set in use
        with ShingleStore([o.sets for o in outs], [o.offsets for o in outs], cache_bytes=cache) as store:
            assert all(np.array_equal(store.get(i), expected[i]) for i in (5, 0, 3, 0))
            got = score_pairs(store, pairs)
            want = [similarity(expected[i], expected[j]) for i, j in pairs.tolist()]
            assert got.jaccard.tolist() == [w[0] for w in want]
            assert got.containment.tolist() == [w[1] for w in want]
            codes = pairs[:, 0] * len(texts) + pairs[:, 1]
            kept, s = verify_codes(store, codes, lambda sc: sc.jaccard > 0.3, block=4)
            assert kept.tolist() == codes[got.jaccard > 0.3].tolist()
            assert s.jaccard.tolist() == got.jaccard[got.jaccard > 0.3].tolist()


def test_nothing_to_do():
    assert dedup().duplicates == {}
    # both empty once normalized: one exact copy of the other; the longer raw text is kept
    assert dedup(("a", ""), ("b", "!!!")).duplicates["a"].duplicate_of == "b"
    assert find_duplicates(docs_of(("a", ARTICLE), ("b", ARTICLE)), DedupConfig(enabled=False)).duplicates == {}


@pytest.mark.parametrize("bad", [dict(num_perm=100, bands=64), dict(jaccard_threshold=0), dict(bands=0),
                                 dict(shingle_size=0), dict(containment_threshold=1.5),
                                 dict(containment_min_shingles=-1)])
def test_bad_config_fails_at_construction(bad):
    with pytest.raises(ConfigError):
        DedupConfig(**bad)


# -- through cleancorpus.clean -----------------------------------------------------------------


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    return folder


def outcomes(version) -> dict[str, dict]:
    return {o.source: o.to_dict() for o in version.outcomes()}


def test_cross_version_new_file_duplicating_an_old_one(tmp_path, out):
    first = cleancorpus.clean(write(tmp_path / "r1", {"a.txt": ARTICLE, "b.txt": OTHER}), out)
    again = ARTICLE + "\n\nA new closing paragraph that the earlier copy did not have at all.\n"
    # a.txt is gone from raw/: it leaves the corpus, and c.txt has nothing to duplicate
    second = cleancorpus.clean(write(tmp_path / "r2", {"b.txt": OTHER, "c.txt": again}), out)
    got = outcomes(second.version)
    assert set(got) == {"b.txt", "c.txt"} and outcomes(first.version)["b.txt"] == got["b.txt"]
    assert got["c.txt"]["status"] == "kept"
    assert list(second.version.dropped()) == []


def test_kept_copy_does_not_depend_on_history(tmp_path, out):
    """The same inputs give the same version in a store with history and in a fresh one: the
    kept copy of a cluster is the best copy under the keep policy, not the one kept before."""
    cleancorpus.clean(write(tmp_path / "r1", {"a.txt": ARTICLE}), out)
    longer = ARTICLE + "\n\nA new closing paragraph that the earlier copy did not have at all.\n"
    second = cleancorpus.clean(write(tmp_path / "r2", {"a.txt": ARTICLE, "c.txt": longer}), out)
    got = outcomes(second.version)
    # c is longer: it becomes the kept copy, a (kept in the first version) its duplicate
    assert got["c.txt"]["status"] == "kept"
    assert got["a.txt"]["duplicate_of"] == got["c.txt"]["id"]
    # built with the store's id key (README "Personal data"): the same ids, so the same version
    fresh = cleancorpus.clean(tmp_path / "r2", tmp_path / "fresh", id_key=out / "_private" / "pii.id-key")
    assert fresh.version.id == second.version.id
    assert outcomes(fresh.version) == got


def test_report_only_keeps_everything_and_lists_clusters(tmp_path, out):
    raw = write(tmp_path / "r", {"a.txt": ARTICLE, "b.txt": reword(ARTICLE, 25), "c.txt": OTHER})
    res = cleancorpus.clean(raw, out, Config(dedup=DedupConfig(report_only=True)))
    m = res.version.manifest
    assert m["counts"]["kept"] == 3 and m["counts"]["duplicate"] == 0
    assert m["dedup"]["clusters"] == 1
    (cluster,) = m["dedup"]["largest_clusters"]
    assert cluster["size"] == 1 and len(cluster["dropped"]) == 1 and "Jaccard" in cluster["dropped"][0]["reason"]
    assert m["dedup"]["report_only"] is True


def test_seeds_000_and_001_form_one_cluster(seeds, out):
    # needs the boilerplate and spun stages: 000 is spun, 001 carries listing junk
    assert {"boilerplate", "spun"} <= set(REGISTRY)
    v = cleancorpus.clean(seeds, out).version
    m = v.manifest
    got = {o.source[:3]: o.to_dict() for o in v.outcomes()}
    assert [o["status"] for k, o in sorted(got.items()) if k in {"002", "003", "004"}] == ["kept"] * 3
    (cluster,) = m["dedup"]["largest_clusters"]
    members = {cluster["kept"]} | {d["id"] for d in cluster["dropped"]}
    assert members == {got["000"]["id"], got["001"]["id"]}
    assert cluster["kept"] == got["001"]["id"]  # the copy that needed no spun repairs


def test_scores_from_overlaps_are_the_pairwise_expressions():
    """The remembered pairs' scores, computed for all pairs at once, are bit for bit the floats
    the per-pair expressions of verify.similarity give (empty sets and equal sizes included)."""
    import random

    from cleancorpus.dedup.verify import scores_from_overlaps

    rng = random.Random(7)
    a = [rng.choice([0, 1, 2, rng.randint(0, 50_000)]) for _ in range(20_000)]
    b = [rng.choice([x, rng.randint(0, 50_000)]) for x in a]
    inter = [rng.randint(0, min(x, y)) for x, y in zip(a, b)]
    got = scores_from_overlaps(np.array(inter), np.array(a), np.array(b))
    for k, (i, x, y) in enumerate(zip(inter, a, b)):
        want = (0.0, 0.0, 0) if x == 0 or y == 0 else (i / (x + y - i), i / min(x, y), min(x, y))
        assert (float(got.jaccard[k]), float(got.containment[k]), int(got.smaller[k])) == want


def test_pair_keys_and_their_lookup_are_the_bytes_ones():
    """The remembered pairs' keys for all pairs at once (index.pair_keys) are index.pair_key's
    bytes, and their lookup (index.lookup_pairs) finds what a dict of those bytes finds:
    equal text keys, keys that differ only in a late or a zero byte, and pairs not stored."""
    import random

    from cleancorpus.dedup.index import lookup_pairs, pair_key, pair_keys

    rng = random.Random(3)
    base = [bytes(rng.randrange(256) for _ in range(16)) for _ in range(200)]
    keys = base + [base[0], base[1][:15] + b"\x00", base[2][:15] + bytes([base[2][15] ^ 1]), b"\x00" * 16]
    arr = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
    pairs = np.array([(rng.randrange(len(keys)), rng.randrange(len(keys))) for _ in range(3000)]
                     + [(0, 200), (1, 201), (2, 202), (203, 5)], dtype=np.int64)
    pk = pair_keys(arr, pairs)
    want = [pair_key(keys[i], keys[j]) for i, j in pairs.tolist()]
    assert [bytes(r) for r in pk] == want
    memo = {k: n for n, k in enumerate(want[::2])}  # half the pairs stored (a dict keeps a repeated key's last value)
    stored = np.frombuffer(b"".join(memo), dtype=np.uint8).reshape(len(memo), 32)
    got = lookup_pairs(stored, np.array(list(memo.values()), dtype=np.int64), pk)
    assert got.tolist() == [memo.get(k, -1) for k in want]
