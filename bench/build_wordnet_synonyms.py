"""Build resources/spun/wordnet_synonyms.tsv from Princeton WordNet 3.0 (Debian's wordnet-base).

    apt-get install -y wordnet-base             # the database, in /usr/share/wordnet
    .venv/bin/python bench/build_wordnet_synonyms.py [--wordnet /usr/share/wordnet]

The spun stage proposes, for a content word of a spun passage, the other lemmas of the word's
synsets (a word spinner replaces a word by a thesaurus synonym, so the original is one of the
spun word's synonyms: "previous" <- "former", "equipped" <- "armed"). WordNet is read here with
NLTK's reader from the given path; the result is a small TSV shipped in the package, so nothing
reads WordNet at run time and `make run` needs no system package.

Row: lemma, part of speech (n, v, a, r), synonyms separated by '|' (multi-word ones with spaces),
in WordNet's sense order (most frequent sense first) and, inside a synset, its lemma order. Kept:
lower-case lemmas and synonyms (capitals mark proper names) made of letters, spaces and hyphens whose every word is a known English word
(wordfreq Zipf frequency >= MIN_ZIPF), at most MAX_SYNONYMS per row, from the first MAX_SENSES
senses (rare senses mostly propose nonsense, "capture" for "enamor"). WordNet's licence is copied
beside the result (LICENSE.wordnet).
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import re
import shutil
import sys
from pathlib import Path

import nltk
from nltk.corpus.reader.wordnet import WordNetCorpusReader
from wordfreq import zipf_frequency

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src/cleancorpus/resources/spun/wordnet_synonyms.tsv"
MIN_ZIPF = 2.5  # about one in 3 million words: drops archaic and technical lemmas
MAX_SENSES = 6
MAX_SYNONYMS = 16
MAX_WORDS = 3  # multi-word lemmas up to three words ("look for", "in front of")
_LEMMA = re.compile(r"^[a-z]+(?:[ -][a-z]+)*$")
LICENSE = """WordNet Release 3.0

This software and database is being provided to you, the LICENSEE, by
Princeton University under the following license.  By obtaining, using
and/or copying this software and database, you agree that you have
read, understood, and will comply with these terms and conditions.:

Permission to use, copy, modify and distribute this software and
database and its documentation for any purpose and without fee or
royalty is hereby granted, provided that you agree to comply with
the following copyright notice and statements, including the disclaimer,
and that the same appear on ALL copies of the software, database and
documentation, including modifications that you make for internal
use or for distribution.

WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.

THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON
UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR
IMPLIED.  BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON
UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT-
ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE
OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT
INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR
OTHER RIGHTS.

The name of Princeton University or Princeton may not be used in
advertising or publicity pertaining to distribution of the software
and/or database.  Title to copyright in this software, database and
any associated documentation shall at all times remain with
Princeton University and LICENSEE agrees to preserve same.
"""


def usable(lemma: str) -> bool:
    words = lemma.replace("-", " ").split(" ")
    return (bool(_LEMMA.match(lemma)) and len(words) <= MAX_WORDS
            and all(zipf_frequency(w, "en") >= MIN_ZIPF for w in words))


class _Reader(WordNetCorpusReader):
    """NLTK's reader on a WordNet 3.0 directory of our own: it would otherwise look for NLTK's
    downloadable 'wordnet' corpus to map synset ids between versions, which we do not need."""

    def map_wn(self, version="wordnet"):
        return None


_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


def with_lexnames(wordnet: Path, tmp: Path) -> Path:
    """Debian's wordnet-base lacks the ``lexnames`` file NLTK's reader opens (the list of the 45
    lexicographer files); its manual page lexnames(5WN) holds the same table. A directory of
    copies of the database files plus that one, rebuilt from the manual page (NLTK refuses
    links that point out of its root)."""
    man = Path("/usr/share/man/man5/lexnames.5WN.gz")
    for f in wordnet.iterdir():
        if f.is_file():
            shutil.copyfile(f, tmp / f.name)
    if not (wordnet / "lexnames").exists():
        rows = []
        for line in gzip.open(man, "rt", encoding="latin-1"):
            m = re.match(r"^(\d\d)\t(\w+)\.(\w+)\s", line)
            if m:
                rows.append(f"{m[1]}\t{m[2]}.{m[3]}\t{_CATEGORY[m[2]]}\n")
        if len(rows) != 45:
            raise SystemExit(f"expected 45 lexicographer files in {man}, found {len(rows)}")
        (tmp / "lexnames").write_text("".join(rows), encoding="utf-8")
    return tmp


def build(wordnet: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = with_lexnames(wordnet, Path(tmp))
        # NLTK reads only below its data path: the directory is named there explicitly
        nltk.data.path.append(str(root))
        return _rows(_Reader(str(root), None))


def _rows(wn: WordNetCorpusReader) -> list[str]:
    rows = []
    for pos in ("n", "v", "a", "r"):
        # lemma names with capitals are proper names ("Carry_Nation"): never a spinner's synonym
        lemmas = sorted(set(wn.all_lemma_names(pos)))
        for name in lemmas:
            lemma = name.replace("_", " ")
            if not usable(lemma):
                continue
            syns: list[str] = []
            # adjective satellites ("s") belong to "a": NLTK returns both for pos "a"
            for synset in wn.synsets(name, pos)[:MAX_SENSES]:
                for other in synset.lemma_names():
                    if other != other.lower():
                        continue
                    o = other.replace("_", " ")
                    if o != lemma and o not in syns and usable(o):
                        syns.append(o)
            if syns:
                rows.append(f"{lemma}\t{pos}\t{'|'.join(syns[:MAX_SYNONYMS])}")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    args = ap.parse_args()
    if not (args.wordnet / "data.noun").exists():
        print(f"no WordNet database in {args.wordnet} (apt-get install -y wordnet-base)", file=sys.stderr)
        return 1
    rows = build(args.wordnet)
    header = ("# Synonyms from Princeton WordNet 3.0 (Debian package wordnet-base, read with NLTK's WordNet reader),\n"
              "# built by bench/build_wordnet_synonyms.py; licence: LICENSE.wordnet beside this file.\n"
              f"# Kept: the first {MAX_SENSES} senses, lemmas of up to {MAX_WORDS} words each known to wordfreq "
              f"(Zipf >= {MIN_ZIPF}), at most {MAX_SYNONYMS} synonyms per row.\n"
              "# Columns: lemma, part of speech (n v a r), synonyms separated by '|'.\n")
    OUT.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    (OUT.parent / "LICENSE.wordnet").write_text(LICENSE, encoding="utf-8")
    print(f"{len(rows)} rows -> {OUT.relative_to(ROOT)} ({OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
