import json
from pathlib import Path

from cleancorpus.document import Document
from cleancorpus.ingest import RejectedInput, iter_documents, list_inputs

from paths import RAW


def read(dirpath: Path):
    items = list(iter_documents(list_inputs(dirpath)))
    docs = {i.source: i for i in items if isinstance(i, Document)}
    rejected = {i.source: i.reason for i in items if isinstance(i, RejectedInput)}
    return docs, rejected


def test_seeds_are_read_with_stable_ids():
    docs, rejected = read(RAW)
    assert not rejected
    assert sorted(docs) == sorted(p.name for p in RAW.glob("*.txt"))
    again, _ = read(RAW)
    assert {s: d.id for s, d in docs.items()} == {s: d.id for s, d in again.items()}
    assert len({d.id for d in docs.values()}) == 5


def test_id_changes_with_content_not_with_time(tmp_path):
    (tmp_path / "a.txt").write_text("hello world", "utf-8")
    first, _ = read(tmp_path)
    (tmp_path / "a.txt").write_text("hello world", "utf-8")
    second, _ = read(tmp_path)
    (tmp_path / "a.txt").write_text("hello there", "utf-8")
    third, _ = read(tmp_path)
    assert first["a.txt"].id == second["a.txt"].id != third["a.txt"].id


def test_html_is_parsed_into_paragraphs_without_scripts(tmp_path):
    (tmp_path / "p.html").write_text(
        "<html><head><title>T</title><style>p{color:red}</style><script>var x = 1;</script></head>"
        "<body><h1>Heading</h1><p>First <b>bold</b> paragraph.</p><div><p>Second paragraph.</p></div>"
        "<!-- a comment --></body></html>",
        "utf-8",
    )
    docs, rejected = read(tmp_path)
    text = docs["p.html"].text
    assert not rejected
    assert "var x" not in text and "color" not in text and "comment" not in text
    assert "First bold paragraph." in text and "Second paragraph." in text
    assert "\n\n" in text  # blocks become paragraphs
    assert docs["p.html"].metadata["format"] == "html"


def test_jsonl_lines_become_documents_with_metadata(tmp_path):
    lines = [
        json.dumps({"text": "first document", "url": "http://a", "lang": "en"}),
        "",
        json.dumps({"text": "second document", "n": 2}),
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    docs, rejected = read(tmp_path)
    assert not rejected
    assert docs["d.jsonl:1"].text == "first document"
    assert docs["d.jsonl:1"].metadata["url"] == "http://a"
    assert docs["d.jsonl:3"].metadata["n"] == 2


def test_bad_jsonl_lines_are_rejected_one_by_one(tmp_path):
    lines = ['{"text": "good"}', "{broken", '{"title": "no text"}', '{"text": 42}', "[1, 2]", '{"text": "   "}']
    (tmp_path / "d.jsonl").write_text("\n".join(lines), "utf-8")
    docs, rejected = read(tmp_path)
    assert list(docs) == ["d.jsonl:1"]
    assert "invalid JSON" in rejected["d.jsonl:2"]
    assert "no 'text' field" in rejected["d.jsonl:3"]
    assert "not a string" in rejected["d.jsonl:4"]
    assert "not an object" in rejected["d.jsonl:5"]
    assert "empty" in rejected["d.jsonl:6"]


def test_bad_files_are_rejected_with_reasons(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text("  \n\n ", "utf-8")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "nul.txt").write_bytes(b"\x00\x01\x02 valid UTF-8 but not text " * 20)
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "script.html").write_text("<html><script>alert(1)</script></html>", "utf-8")
    docs, rejected = read(tmp_path)
    assert not docs
    assert rejected["empty.txt"] == "empty file"
    assert rejected["blank.txt"] == "no text content"
    assert "binary" in rejected["binary.txt"]
    assert "binary" in rejected["nul.txt"]
    assert "unsupported file type" in rejected["image.png"]
    assert "no visible text" in rejected["script.html"]


def test_invalid_utf8_is_decoded_with_a_recorded_edit(tmp_path):
    text = "Le café était très bon, mais la crème brûlée était meilleure. Nous étions à Genève pour la fête."
    (tmp_path / "latin.txt").write_bytes(text.encode("cp1252"))
    docs, rejected = read(tmp_path)
    doc = docs["latin.txt"]
    assert not rejected
    assert doc.text == text
    assert doc.edits and all(e.stage == "ingest" for e in doc.edits)
    assert "not valid UTF-8" in doc.edits[0].reason
    assert "encoding" in doc.metadata


def test_nested_folders_are_walked(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("deep text", "utf-8")
    (tmp_path / "top.txt").write_text("top text", "utf-8")
    docs, rejected = read(tmp_path)
    assert sorted(docs) == ["a/b/deep.txt", "top.txt"]


def test_documents_are_read_lazily(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text(f"doc {i}", "utf-8")
    it = iter_documents(list_inputs(tmp_path))
    first = next(it)
    (tmp_path / "2.txt").write_text("changed after the first read", "utf-8")
    rest = list(it)
    assert first.text == "doc 0" and rest[-1].text == "changed after the first read"
