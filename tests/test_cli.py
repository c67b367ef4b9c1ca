import json

from typer.testing import CliRunner

from cleancorpus.cli import app

from paths import RAW

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_clean_prints_the_version_and_is_idempotent(seeds, out):
    first = run("clean", seeds, "--out", out)
    assert first.exit_code == 0, first.output
    vid = first.stdout.strip().splitlines()[0]
    assert vid.startswith("v") and (out / "documents" / "_delta_log").is_dir()
    second = run("clean", seeds, "--out", out)
    assert second.exit_code == 0
    assert second.stdout.strip().splitlines()[0] == vid
    assert "unchanged" in second.stderr


def test_clean_on_a_missing_directory_fails_clearly(tmp_path):
    r = run("clean", tmp_path / "nope", "--out", tmp_path / "clean")
    assert r.exit_code != 0
    assert "does not exist" in r.stderr


def test_versions_show_verify_diff(seeds, out):
    v1 = run("clean", seeds, "--out", out).stdout.split()[0]
    (seeds / "new.txt").write_text("Completely new text about gardening and tomatoes.", "utf-8")
    v2 = run("clean", seeds, "--out", out).stdout.split()[0]

    r = run("versions", "--out", out)
    assert r.exit_code == 0 and v1 in r.stdout and v2 in r.stdout

    r = run("show", "latest", "--out", out)
    assert r.exit_code == 0 and v2 in r.stdout and "6 documents from 6 files" in r.stdout

    r = run("show", v1, "--out", out, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["version"] == v1

    r = run("verify", v2, "--out", out)
    assert r.exit_code == 0 and "verified" in r.stdout

    r = run("diff", v1, v2, "--out", out)
    assert r.exit_code == 0 and "1 added" in r.stdout and "+ new.txt" in r.stdout


def test_store_commands_on_an_empty_store_fail_clearly(tmp_path):
    for cmd in ("versions", "show", "verify"):
        r = run(cmd, "--out", tmp_path / "empty")
        assert r.exit_code != 0, cmd
        assert "cleancorpus clean" in r.stderr, cmd


def test_verify_fails_on_a_damaged_version(seeds, out):
    vid = run("clean", seeds, "--out", out).stdout.split()[0]
    sorted((out / "documents").rglob("*.parquet"))[0].write_bytes(b"not parquet")
    r = run("verify", vid, "--out", out)
    assert r.exit_code != 0 and "failed verification" in r.stderr


def test_show_summarises_and_lists_only_on_request(seeds, out):
    (seeds / "empty.txt").write_text("", "utf-8")
    (seeds / "bad.bin.txt").write_bytes(bytes(range(256)) * 8)
    vid = run("clean", seeds, "--out", out).stdout.split()[0]
    r = run("show", vid, "--out", out)
    assert r.exit_code == 0 and "rejection reason" in r.stdout and "empty file" in r.stdout
    assert "bad.bin.txt" not in r.stdout  # no document listed without --list
    r = run("show", vid, "--out", out, "--list", "rejected", "--limit", "1")
    assert r.exit_code == 0 and r.stdout.count(".txt") == 1 and "1 of 2 rejected" in r.stderr


def test_gc_export_and_report_commands(seeds, out, tmp_path):
    v1 = run("clean", seeds, "--out", out).stdout.split()[0]
    (seeds / "new.txt").write_text("Completely new text about gardening and tomatoes.", "utf-8")
    v2 = run("clean", seeds, "--out", out).stdout.split()[0]
    r = run("export", v1, "--out", out, "--to", tmp_path / "x", "--format", "parquet")
    assert r.exit_code == 0 and (tmp_path / "x" / "documents.parquet").is_file()
    r = run("export", v1, "--out", out, "--to", tmp_path / "y", "--format", "csv")
    assert r.exit_code == 2 and "--format" in r.stderr
    r = run("report", v2, "--out", out, "--to", tmp_path / "r.html")
    assert r.exit_code == 0 and (tmp_path / "r.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    r = run("gc", "--out", out)
    assert r.exit_code == 2 and "--keep" in r.stderr
    r = run("gc", "--out", out, "--keep", "1")
    assert r.exit_code == 0 and v1 in r.stdout
    r = run("verify", v2, "--out", out)
    assert r.exit_code == 0
    r = run("verify", v1, "--out", out)
    assert r.exit_code != 0 and "removed by `cleancorpus gc`" in r.stderr


def test_repair_from_file_and_stdin_with_explanations(tmp_path):
    f = tmp_path / "m.txt"
    f.write_text("The Mona Lisa doesnâ€™t have eyebrows.", "utf-8")
    r = run("repair", f, "--explain")
    assert r.exit_code == 0
    assert r.stdout == "The Mona Lisa doesn’t have eyebrows.\n"
    assert "unicode" in r.stderr and "ftfy" in r.stderr
    r = run("repair", "-", input="cafÃ© au lait")
    assert r.exit_code == 0 and r.stdout == "café au lait\n"


def test_repair_leaves_clean_text_alone():
    text = (RAW / "002_0bc2088ad81ff738.txt").read_text("utf-8")
    r = run("repair", RAW / "002_0bc2088ad81ff738.txt")
    assert r.exit_code == 0
    assert r.stdout.rstrip("\n") == text.rstrip("\n")


def test_repair_of_a_missing_or_binary_file_fails_clearly(tmp_path):
    r = run("repair", tmp_path / "missing.txt")
    assert r.exit_code != 0 and "cannot read" in r.stderr
    b = tmp_path / "b.bin"
    b.write_bytes(bytes(range(256)) * 8)
    r = run("repair", b)
    assert r.exit_code != 0 and "binary" in r.stderr


def test_bad_config_fails_before_any_work(tmp_path, seeds):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"stages": ["unicode", "nonsense"]}), "utf-8")
    r = run("clean", seeds, "--out", tmp_path / "o", "--config", cfg)
    assert r.exit_code == 2 and "unknown stage" in r.stderr
    assert not (tmp_path / "o").exists()
