"""Convert the shared Problematic Paper Screener list into the spun-lexicon format.

Reads ../shared/benchmarks/spun/tortured-phrases/tortured_phrases.tsv (a derived copy of the PPS
fingerprint export) and writes src/cleancorpus/resources/spun/tortured_phrases.tsv, so that the
package never reads outside itself at run time. Run from the repository root:

    .venv/bin/python bench/spun_tortured_import.py [SOURCE_TSV]
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

SOURCE = Path("../shared/benchmarks/spun/tortured-phrases/tortured_phrases.tsv")
TARGET = Path("src/cleancorpus/resources/spun/tortured_phrases.tsv")
PLAIN = re.compile(r"^[a-z]+(?: [a-z]+)*$")
HEADER = """# Reverse-spin lexicon, family "tortured": the Problematic Paper Screener's tortured-phrase
# fingerprints (Cabanac, Labbe & Magazinov 2021, arXiv:2107.06751; list reported as CC BY 4.0,
# attribute the PPS authors). Copied from GitHub hahuyhoang411/tortured-phrase, data/tortured.csv,
# commit d096655bdaab654474fc7073792a8b9fdae031c4 (MIT repository), via the parsed TSV in
# ../shared/benchmarks/spun/tortured-phrases/, by bench/spun_tortured_import.py.
# Kept: exact-match rows of two or more plain words whose expected text is a plain phrase of at
# most five words; no NOT-context. Rows the PPS only counts together with the correct term
# (AND-context) are 'ambiguous', the rest 'marker'. source = pps:<number of papers retrieved>.
# Columns: spun, original, kind, left, source (same format as word_spinner.tsv).
"""


def rows(source: Path) -> dict[str, tuple[str, str, int]]:
    best: dict[str, tuple[str, str, int]] = {}
    with open(source, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            spun, expected = r["tortured"].strip().lower(), r["expected"].strip()
            if r["match_type"] != "exact" or r["not_context"] or " " not in spun:
                continue
            if not PLAIN.match(spun) or not PLAIN.match(expected.lower()) or len(expected.split()) > 5:
                continue
            if spun == expected.lower():
                continue
            kind = "ambiguous" if r["and_context"] else "marker"
            papers = int(r["num_papers"] or 0)
            if spun not in best or papers > best[spun][2]:
                best[spun] = (expected, kind, papers)
    return best


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    kept = rows(source)
    with open(TARGET, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for spun, (expected, kind, papers) in sorted(kept.items()):
            out.write(f"{spun}\t{expected}\t{kind}\t-\tpps:{papers}\n")
    print(f"wrote {len(kept)} entries to {TARGET}")


if __name__ == "__main__":
    main()
