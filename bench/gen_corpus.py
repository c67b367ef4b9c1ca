"""Generate a seeded, reproducible benchmark corpus (JSONL) with planted defects and a truth file.

Text is real: sentences from the 181 ground-truth article bodies of the Zyte article-extraction
benchmark (../shared/benchmarks/extraction/article-extraction-benchmark/ground-truth.json) and
the clean seed documents in raw/ (raw/000_* is left out: it is already machine-spun, so it
would plant spun text the truth file does not know about). That pool holds about 5,700
sentences, far fewer than a million documents need: drawn whole, every sentence would recur in
~900 documents and short documents would be contained in others by chance (unplanted
duplicates). So every real sentence is cut into runs of at most 8 words, and each generated
sentence chains a run that opens a real sentence, 0-2 inner runs and a run that closes one, all
drawn at random (billions of combinations); a document is a few paragraphs of 2-4 such
sentences (about 300-1000 characters). The words and phrases are real; the sentences read as
splices.

Planted, in known proportions (see Mix):
- near-duplicates: a light edit of an earlier original (word edits, a cut-off tail, other
  site chrome, or a spun rewrite); the truth file names the original and the word-5-gram
  Jaccard similarity of the pair, as a raw tool sees it and with the chrome removed;
- boilerplate: per-"site" navigation, share, newsletter, back-to-top and copyright lines added
  before and after the body; the truth file lists each planted line;
- spun sentences: the forward word swaps a synonym spinner makes ("on" -> "top top", ...),
  as observed in raw/000_15983545b3afe273.txt; the truth file lists each swap.

The stream is sequential from one seed, so the first N documents of a larger corpus are exactly
the corpus of N documents: every size is a prefix of the next.

    .venv/bin/python bench/gen_corpus.py --docs 10000 --out bench/out/corpus-10k
writes  <out>/raw/corpus.jsonl  (one {"id", "text"} a line: the input directory for every tool)
        <out>/truth.jsonl       (one line per document with something planted)
        <out>/meta.json         (counts, parameters, sizes)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
ZYTE_TRUTH = ROOT.parent / "shared/benchmarks/extraction/article-extraction-benchmark/ground-truth.json"
SEED_DIR = ROOT / "raw"
SPUN_SEED = "000_15983545b3afe273.txt"
# bump when the output for a given seed changes, so cached corpora are rebuilt
GENERATOR_VERSION = 3

# Forward swaps of a synonym spinner, read off raw/000 (a spun copy of a History.com article)
# against the wording it replaced. Multi-word sources are tried first.
SPIN_SWAPS: tuple[tuple[str, str], ...] = (
    ("had been", "had actually been"),
    ("broke out", "damaged out"),
    ("at the", "in ~ the"),
    ("on", "top top"),
    ("from", "indigenous"),
    ("and", "and also"),
    ("as", "together"),
    ("to", "come"),
    ("when", "once"),
    ("into", "right into"),
    ("former", "previous"),
    ("great", "good"),
    ("virtually", "practically"),
    ("streets", "roadways"),
    ("government", "federal government"),
    ("equivalent", "identical"),
    ("captured", "recorded"),
    ("sought", "seek"),
)
_SPIN_RE = re.compile(r"\b(" + "|".join(re.escape(s) for s, _ in SPIN_SWAPS) + r")\b")
_SPIN_MAP = dict(SPIN_SWAPS)

SITE_NAMES = (
    "The Daily Courier", "Metro Herald", "Global Post", "The Evening Standard", "Tech Review",
    "Riverside Gazette", "Capital Times", "The Observer Online", "Northern Star", "Coastal News",
    "Valley Tribune", "World Report", "City Ledger", "The Weekly Bulletin", "Harbor Chronicle",
    "Summit Journal", "The Morning Call", "Pioneer Press", "Lakeside Sentinel", "Union Dispatch",
)
NAV_SECTIONS = ("Home", "News", "World", "Politics", "Business", "Tech", "Science", "Health",
                "Sport", "Culture", "Opinion", "Travel", "Video", "Podcasts", "Contact")
HEADER_EXTRAS = ("Skip to main content", "Menu", "Search", "Sign in | Register", "Subscribe")
FOOTER_LINES = (
    "Back to top",
    "Share this: Facebook | Twitter | Email | Print",
    "Share this article",
    "Subscribe to our newsletter",
    "Privacy Policy | Terms of Use | Cookie Settings",
    "Related articles",
    "Follow us on Twitter and Facebook",
    "Advertisement",
    "Read more",
    "Comments are closed.",
)


@dataclass(frozen=True)
class Mix:
    """Proportions of what gets planted (per document, independently)."""

    near_duplicate: float = 0.10
    boilerplate: float = 0.30
    spun: float = 0.08
    # of the near-duplicates, by kind
    kinds: tuple[tuple[str, float], ...] = (
        ("chrome", 0.20),   # same body, other site's boilerplate
        ("light", 0.30),    # 1-2% of words edited
        ("medium", 0.20),   # 4-6% of words edited
        ("excerpt", 0.15),  # the tail cut off (a teaser copy)
        ("spun", 0.15),     # the body run through the spinner
    )
    recent_originals: int = 5000  # a duplicate copies one of the last N originals


def load_sentences() -> list[str]:
    """Distinct sentences of the real source texts, in a fixed order."""
    texts = [v["articleBody"] for _, v in sorted(json.loads(ZYTE_TRUTH.read_text()).items())]
    for p in sorted(SEED_DIR.glob("*.txt")):
        if p.name != SPUN_SEED:
            texts.append(p.read_text(encoding="utf-8"))
    seen: dict[str, None] = {}
    for text in texts:
        for para in re.split(r"\n\s*\n|\n", text):
            for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“‘(])", para.strip()):
                s = re.sub(r"\s+", " ", s).strip()
                # long unspaced (CJK) sentences would make runs of whole sentences
                if 40 <= len(s) <= 400 and len(s.split()) >= 6 and len(s) / len(s.split()) < 12:
                    seen.setdefault(s, None)
    return list(seen)


class Generator:
    def __init__(self, seed: int, mix: Mix) -> None:
        self.rng = random.Random(seed)
        self.mix = mix
        self.sentences = load_sentences()
        self.heads, self.inner, self.tails = _runs(self.sentences)
        self.vocab = sorted({w for s in self.sentences for w in s.split() if w.isalpha()})
        self.sites = [self._site(i, name) for i, name in enumerate(SITE_NAMES)]
        self.recent: deque[tuple[int, list[str]]] = deque(maxlen=mix.recent_originals)
        kinds, weights = zip(*mix.kinds)
        self._kinds, self._weights = list(kinds), list(weights)

    def _site(self, i: int, name: str) -> dict:
        r = random.Random(1000 + i)
        nav = " | ".join(r.sample(NAV_SECTIONS, r.randint(5, 9)))
        header = [nav] + r.sample(HEADER_EXTRAS, r.randint(0, 2))
        year = r.choice((2019, 2020, 2021, 2022, 2023, 2024))
        footer = r.sample(FOOTER_LINES, r.randint(2, 4)) + [f"© {year} {name}. All rights reserved."]
        return {"header": header, "footer": footer}

    # -- building blocks
    def body(self) -> list[str]:
        target = self.rng.randint(300, 800)
        paras: list[str] = []
        size = 0
        while size < target:
            para = " ".join(self.sentence() for _ in range(self.rng.randint(2, 4)))
            if paras and size + len(para) > target * 1.3:
                break
            paras.append(para)
            size += len(para) + 2
        return paras

    def sentence(self) -> str:
        middle = [self.rng.choice(self.inner) for _ in range(self.rng.randint(0, 2))]
        return " ".join([self.rng.choice(self.heads), *middle, self.rng.choice(self.tails)])

    def chrome(self) -> tuple[list[str], list[str]]:
        site = self.rng.choice(self.sites)
        head = site["header"][: self.rng.randint(1, len(site["header"]))]
        foot = self.rng.sample(site["footer"], self.rng.randint(1, min(3, len(site["footer"]))))
        return head, foot

    def spin(self, paras: list[str], sentence_p: float, swap_p: float) -> tuple[list[str], list[list[str]]]:
        swaps: list[list[str]] = []

        def sub(m: re.Match) -> str:
            if self.rng.random() < swap_p:
                swaps.append([m.group(1), _SPIN_MAP[m.group(1)]])
                return _SPIN_MAP[m.group(1)]
            return m.group(1)

        out = []
        for para in paras:
            sents = re.split(r"(?<=[.!?]) ", para)
            out.append(" ".join(_SPIN_RE.sub(sub, s) if self.rng.random() < sentence_p else s for s in sents))
        return out, swaps

    def edit_words(self, paras: list[str], rate: float) -> list[str]:
        out = []
        for para in paras:
            words = para.split(" ")
            new: list[str] = []
            for w in words:
                r = self.rng.random()
                if r >= rate:
                    new.append(w)
                elif r < rate / 3:
                    continue  # deletion
                elif r < 2 * rate / 3:
                    new.append(self.rng.choice(self.vocab))  # substitution
                else:
                    new.extend((w, self.rng.choice(self.vocab)))  # insertion
            out.append(" ".join(new))
        return out

    def truncate(self, paras: list[str]) -> list[str]:
        """A teaser copy: the first 70-85% of the sentences (at least one fewer), or of the words."""
        sents = [(i, s) for i, p in enumerate(paras) for s in re.split(r"(?<=[.!?]) ", p)]
        if len(sents) < 2:  # one sentence: cut its words instead
            words = " ".join(paras).split(" ")
            return [" ".join(words[: max(1, round(len(words) * self.rng.uniform(0.70, 0.85)))])]
        keep = min(len(sents) - 1, max(1, round(len(sents) * self.rng.uniform(0.70, 0.85))))
        out: dict[int, list[str]] = {}
        for i, s in sents[:keep]:
            out.setdefault(i, []).append(s)
        return [" ".join(v) for v in out.values()]

    def near_duplicate(self, kind: str, paras: list[str]) -> tuple[list[str], list[list[str]]]:
        if kind == "light":
            return self.edit_words(paras, self.rng.uniform(0.01, 0.02)), []
        if kind == "medium":
            return self.edit_words(paras, self.rng.uniform(0.04, 0.06)), []
        if kind == "excerpt":
            return self.truncate(paras), []
        if kind == "spun":
            return self.spin(paras, 1.0, 0.7)
        return list(paras), []  # chrome (and excerpts of documents too short to cut)

    # -- the stream
    def documents(self, n: int) -> Iterator[tuple[dict, dict | None]]:
        for line in range(1, n + 1):
            truth: dict = {"line": line, "id": f"d{line:07d}"}
            if self.recent and self.rng.random() < self.mix.near_duplicate:
                orig_line, orig_body = self.rng.choice(self.recent)
                kind = self.rng.choices(self._kinds, self._weights)[0]
                paras, swaps = self.near_duplicate(kind, orig_body)
                truth.update(dup_of=orig_line, kind=kind,
                             jaccard_body=round(jaccard(" ".join(paras), " ".join(orig_body)), 4))
                if swaps:
                    truth["spun"] = swaps
            else:
                paras = self.body()
                if self.rng.random() < self.mix.spun:
                    paras, swaps = self.spin(paras, 0.5, 0.7)
                    if swaps:
                        truth["spun"] = swaps
                self.recent.append((line, paras))
            head: list[str] = []
            foot: list[str] = []
            if self.rng.random() < self.mix.boilerplate or truth.get("kind") == "chrome":
                head, foot = self.chrome()
                truth["boilerplate"] = head + foot
            text = "\n\n".join(head + paras + foot)
            yield {"id": truth["id"], "text": text}, truth


RUN_WORDS = 8


def _runs(sentences: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Opening, inner and closing runs of at most RUN_WORDS words of the real sentences."""
    heads, inner, tails = [], [], []
    for s in sentences:
        words = s.split(" ")
        runs = [" ".join(words[i : i + RUN_WORDS]) for i in range(0, len(words), RUN_WORDS)]
        if len(runs) < 2:
            continue
        heads.append(runs[0])
        inner.extend(runs[1:-1])
        tails.append(runs[-1])
    return heads, inner, tails


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def generate(n: int, out: Path, seed: int = 7, mix: Mix | None = None, progress=None) -> dict:
    mix = mix or Mix()
    gen = Generator(seed, mix)
    (out / "raw").mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    texts: dict[int, str] = {}  # full text of the recent originals, for the raw-view Jaccard
    order: deque[int] = deque()
    nbytes = 0
    with open(out / "raw" / "corpus.jsonl", "w", encoding="utf-8") as docs_fh, \
            open(out / "truth.jsonl", "w", encoding="utf-8") as truth_fh:
        for doc, truth in gen.documents(n):
            line = json.dumps(doc, ensure_ascii=False) + "\n"
            docs_fh.write(line)
            nbytes += len(line.encode("utf-8"))
            if "dup_of" in truth:
                truth["jaccard_raw"] = round(jaccard(doc["text"], texts[truth["dup_of"]]), 4)
                counts["near_duplicate"] += 1
                counts[f"near_duplicate:{truth['kind']}"] += 1
            else:
                texts[truth["line"]] = doc["text"]
                order.append(truth["line"])
                if len(order) > mix.recent_originals:
                    texts.pop(order.popleft(), None)
            counts["boilerplate_docs"] += "boilerplate" in truth
            counts["boilerplate_lines"] += len(truth.get("boilerplate", ()))
            counts["spun_docs"] += "spun" in truth
            counts["spun_swaps"] += len(truth.get("spun", ()))
            if len(truth) > 2:
                truth_fh.write(json.dumps(truth, ensure_ascii=False) + "\n")
            if progress:
                progress(1)
    meta = {"documents": n, "seed": seed, "generator_version": GENERATOR_VERSION, "mix": asdict(mix), "bytes": nbytes,
            "sentence_pool": len(gen.sentences), "planted": dict(sorted(counts.items()))}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, required=True, help="number of documents")
    ap.add_argument("--out", type=Path, required=True, help="output directory (under bench/out/)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    if args.docs < 1:
        ap.error("--docs must be at least 1")
    meta = generate(args.docs, args.out, args.seed)
    print(json.dumps(meta["planted"]), f"{meta['bytes'] / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
