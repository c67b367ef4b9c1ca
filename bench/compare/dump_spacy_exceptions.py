"""Write the character tables the quality stage shares with datatrove to resources/quality/ (run in
the datatrove venv).

datatrove splits English words with ``spacy.blank("en")``; its tokenizer keeps a table of special
cases ("don't" -> "do" + "n't", "Mr." stays whole, ":)" stays whole). The quality stage needs the
same table to count words as datatrove does. Also exported: spaCy's sentencizer end-of-sentence
characters (C4's sentence count) and datatrove's punctuation sets (Gopher's "symbol" words and
FineWeb's line-ending punctuation). Only data leaves here (strings), with versions and licences,
so the files can be regenerated and checked:

    bench/out/venvs/datatrove/bin/python bench/compare/dump_spacy_exceptions.py
"""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

import spacy
from spacy.symbols import ORTH

OUT = Path(__file__).resolve().parents[2] / "src" / "cleancorpus" / "resources" / "quality"


def main() -> int:
    rules = spacy.blank("en").tokenizer.rules
    table = {orth: [piece[ORTH] if ORTH in piece else piece["ORTH"] for piece in pieces]
             for orth, pieces in sorted(rules.items())}
    # whitespace cases never reach a word list (datatrove strips and drops whitespace tokens)
    table = {k: v for k, v in table.items() if not k.isspace()}
    version = metadata.version("spacy")
    doc = {
        "_source": f"spaCy {version}, spacy.blank('en').tokenizer.rules (orth strings only); "
                   "regenerate with bench/compare/dump_spacy_exceptions.py",
        "_licence": "MIT, Copyright (C) 2016-2024 ExplosionAI GmbH, 2016 spaCy GmbH, 2015 Matthew Honnibal; "
                    "see LICENSE.spacy",
        "exceptions": table,
    }
    # one exception a line, so a diff after regenerating shows what changed
    head = json.dumps({k: v for k, v in doc.items() if k != "exceptions"}, ensure_ascii=False, indent=1)[:-2]
    rows = ",\n".join(f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
                       for k, v in table.items())
    (OUT / "spacy_en_exceptions.json").write_text(f'{head},\n "exceptions": {{\n{rows}\n }}\n}}\n', "utf-8")
    lic = Path(spacy.__file__).resolve().parent.parent / f"spacy-{version}.dist-info" / "licenses" / "LICENSE"
    shutil.copyfile(lic, OUT / "LICENSE.spacy")
    from datatrove.utils.text import PUNCTUATION, TERMINAL_PUNCTUATION
    from spacy.pipeline import Sentencizer

    dt_version = metadata.version("datatrove")
    punct = {
        "_source": {
            "sentence_end_tokens": f"spaCy {version}, Sentencizer.default_punct_chars (MIT, LICENSE.spacy)",
            "punctuation": f"datatrove {dt_version}, datatrove.utils.text.PUNCTUATION (Apache-2.0, LICENSE.datatrove)",
            "terminal_punctuation": f"datatrove {dt_version}, datatrove.utils.text.TERMINAL_PUNCTUATION "
                                    "(Apache-2.0, LICENSE.datatrove)",
        },
        "sentence_end_tokens": list(Sentencizer.default_punct_chars),
        "punctuation": PUNCTUATION,
        "terminal_punctuation": "".join(sorted(TERMINAL_PUNCTUATION)),
    }
    (OUT / "punctuation.json").write_text(json.dumps(punct, ensure_ascii=True, indent=1) + "\n", "utf-8")
    import datatrove
    dt_lic = Path(datatrove.__file__).resolve().parent.parent / f"datatrove-{dt_version}.dist-info" / "licenses" / "LICENSE"
    shutil.copyfile(dt_lic, OUT / "LICENSE.datatrove")
    print(f"{len(table)} exceptions and the punctuation tables written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
