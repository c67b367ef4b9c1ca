"""Can the published identifiers give back a withheld phone number? Before keyed ids, yes; now no.

A one-page corpus with one phone number is cleaned. From the published tables alone (text, the
edits with the original withheld, the span's length, the document's id and source, the
manifest's ``inputs.sha256``) an attacker rebuilds the raw bytes for each candidate number: the
last ``--digits`` digits vary, the rest of the number's layout is taken as known (a country's
format, a local paper's area code). Three searches over the same candidates:

- ``unkeyed`` (the comparison, what a store published before keyed ids): the target is the id the
  store used to publish, the first 64 bits of sha256(source, raw bytes), computed here from the
  raw file as that code did. The search finds the number.
- ``published`` (the attack on today's store): the targets are the published id, the version id
  and ``inputs.sha256``, tested with every unkeyed formula an attacker can compute (the old id,
  the old version id from the published configuration and package fingerprint, the old inputs
  digest). Nothing matches: they are HMAC-SHA256 with the store's secret key, and
  without it a candidate cannot be tested at all. The whole candidate space is searched.
- ``with the key`` (the control: the key's holder, i.e. whoever can read ``_private/``): the same
  search, keyed, finds the number, so the attack fails for want of the key, not for a wrong
  reconstruction.

    nice -n 10 .venv/bin/python bench/id_bruteforce.py --digits 6
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

import cleancorpus  # noqa: E402
from cleancorpus import api  # noqa: E402
from cleancorpus.config import Config  # noqa: E402
from cleancorpus.document import revert, stable_id  # noqa: E402
from cleancorpus.idkey import IdKey  # noqa: E402

PAGE = ("The harbour office opens at 8 on weekdays and the slipway is free for residents.\n\n"
        "Ring the harbour master on +44 20 7946 0321 before mooring.\n")
PHONE = "+44 20 7946 0321"


def candidates(digits: int):
    unknown = [i for i, c in enumerate(PHONE) if c.isdigit()][-digits:]
    for n in range(10 ** digits):
        cand = list(PHONE)
        for i, d in zip(unknown, str(n).zfill(digits)):
            cand[i] = d
        yield "".join(cand)


def search(doc, test) -> dict:
    """Try every candidate: rebuild the raw bytes with it and ask ``test(raw)``."""
    t0 = time.perf_counter()
    tried, found = 0, None
    for guess in CANDIDATES:
        edits = [e if e.before is not None else replace(e, before=guess) for e in doc.edits]
        tried += 1
        if test(revert(doc.text, edits).encode("utf-8")):
            found = guess
            break
    dt = time.perf_counter() - t0
    return {"tried": tried, "seconds": round(dt, 2), "guesses_per_s": round(tried / dt),
            "recovered": found == PHONE, "false_match": found is not None and found != PHONE}


def main() -> None:
    global CANDIDATES
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--digits", type=int, default=6, help="unknown trailing digits searched")
    args = ap.parse_args()
    CANDIDATES = list(candidates(args.digits))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        (raw / "harbour.txt").write_text(PAGE, "utf-8")
        out = Path(tmp) / "clean"
        v = cleancorpus.clean(raw, out).version
        doc = next(iter(v.documents(with_edits=True)))
        hidden = [e for e in doc.edits if e.before is None]
        assert len(hidden) == 1 and hidden[0].end - hidden[0].start == len(PHONE)
        published_inputs = v.manifest["inputs"]["sha256"]
        old_id = stable_id(doc.source, PAGE.encode("utf-8"))  # what the store published before keyed ids
        key = IdKey.read(out / "_private" / "pii.id-key")  # only for the control

        def unkeyed_inputs_digest(data: bytes) -> str:
            item = {"path": doc.source, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            return hashlib.sha256(json.dumps([item], sort_keys=True, ensure_ascii=False).encode()).hexdigest()

        config = Config.from_dict(v.manifest["config"]).fingerprint()  # all published
        head = f"cleancorpus {v.manifest['package_version']}\n{config}{v.manifest['package_sha256']}".encode()

        def unkeyed_version_id(data: bytes) -> str:
            h = hashlib.sha256(head)
            h.update(f"\n{doc.source}\0{hashlib.sha256(data).hexdigest()}".encode())
            return "v" + h.hexdigest()[:16]

        # the attacker's formula is the one the store used before keyed ids
        assert unkeyed_inputs_digest(PAGE.encode("utf-8")) == api.inputs_digest(api.describe_inputs(raw)[1], None)
        # the old version id's ingredients are all published: the configuration's fingerprint and
        # the package's (before keyed ids: version_id = sha256 of these and each file's path and sha256)
        assert config == Config().fingerprint() and v.manifest["package_sha256"] == api.package_fingerprint()
        rows = {
            "unkeyed": search(doc, lambda data: stable_id(doc.source, data) == old_id),
            "published": search(doc, lambda data: stable_id(doc.source, data) == doc.id
                                or unkeyed_version_id(data) == v.id
                                or unkeyed_inputs_digest(data) == published_inputs),
            "with the key": search(doc, lambda data: key.doc_id(doc.source, data) == doc.id),
        }
    print(json.dumps({"searched_digits": args.digits, "candidates": len(CANDIDATES), **rows}, indent=1))
    rate = rows["unkeyed"]["guesses_per_s"]
    print(f"unkeyed: 10 unknown digits would take {1e10 / rate / 3600:.1f} h on one core at that rate",
          file=sys.stderr)


CANDIDATES: list[str] = []

if __name__ == "__main__":
    main()
