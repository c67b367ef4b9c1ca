"""How far the published document id (an unkeyed hash of the raw input) is from giving back a
withheld phone number: a real store, its published tables only, and a search over the numbers.

A one-page corpus with one phone number is cleaned; from the published tables alone (text, the
edits with the original withheld, the span's length, the document's id and source) the script
rebuilds the raw bytes for each candidate number and compares ``stable_id`` with the published
id. It searches the last ``--digits`` digits (the rest taken as known: the country and area
codes of a local paper, say) and reports the rate, so the full search can be extrapolated.

    nice -n 10 .venv/bin/python bench/id_bruteforce.py --digits 6
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

import cleancorpus  # noqa: E402
from cleancorpus.document import revert, stable_id  # noqa: E402

PAGE = ("The harbour office opens at 8 on weekdays and the slipway is free for residents.\n\n"
        "Ring the harbour master on +44 20 7946 0321 before mooring.\n")
PHONE = "+44 20 7946 0321"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--digits", type=int, default=6, help="unknown trailing digits searched")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        (raw / "harbour.txt").write_text(PAGE, "utf-8")
        v = cleancorpus.clean(raw, Path(tmp) / "clean").version
        doc = next(iter(v.documents(with_edits=True)))
        hidden = [e for e in doc.edits if e.before is None]
        assert len(hidden) == 1 and hidden[0].end - hidden[0].start == len(PHONE)
        # what an attacker knows: the published text, edits, span length, id and source; the
        # number's layout is taken as known too (a country's format), so only the digits vary
        unknown = [i for i, c in enumerate(PHONE) if c.isdigit()][-args.digits:]
        t0 = time.perf_counter()
        tried, found = 0, None
        for n in range(10 ** args.digits):
            cand = list(PHONE)
            for i, d in zip(unknown, str(n).zfill(args.digits)):
                cand[i] = d
            guess = "".join(cand)
            edits = [e if e.before is not None else replace(e, before=guess) for e in doc.edits]
            tried += 1
            if stable_id(doc.source, revert(doc.text, edits).encode("utf-8")) == doc.id:
                found = guess
                break
        dt = time.perf_counter() - t0
    rate = tried / dt
    print(json.dumps({"searched_digits": args.digits, "tried": tried, "seconds": round(dt, 2),
                      "guesses_per_s": round(rate), "recovered": found == PHONE,
                      "hours_for_10_digits_one_core": round(1e10 / rate / 3600, 1)}))


if __name__ == "__main__":
    main()
