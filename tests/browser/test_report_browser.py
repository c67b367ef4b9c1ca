"""The report in a real browser: Debian's headless Chromium, driven by Playwright (which is
pointed at /usr/bin/chromium and downloads nothing). `make test` installs the package."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

import cleancorpus
from cleancorpus.report import report_path, write_report

# the report tests' shared helper lives one folder up (a conftest.py here would shadow tests/conftest.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from report_demo import build_demo_version  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _missing(what: str) -> None:
    message = f"{what}; `make test` installs it (apt-get install chromium)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)  # in CI the browser test must run, not quietly skip
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (test extra)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        yield ctx
        ctx.close()


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory) -> tuple[Path, dict]:
    raw = tmp_path_factory.mktemp("raw")
    shutil.copytree(ROOT / "raw", raw, dirs_exist_ok=True)
    version = cleancorpus.clean(raw, tmp_path_factory.mktemp("clean")).version
    return write_report(version), version.manifest


def test_seed_report_shows_summary_and_repairs(browser, seed_report):
    path, manifest = seed_report
    page = browser.new_page()
    page.goto(path.as_uri())
    for key in ("documents", "kept", "duplicate", "rejected"):
        card = page.locator(f"#count-{key} b")
        assert card.is_visible()
        assert card.inner_text() == str(manifest["counts"][key])
    assert page.locator("svg.chart").is_visible()
    edited = {name: s["edits"] for name, s in manifest["stages"].items() if s["edits"]}
    marks = page.locator("article.doc .text mark, article.doc .text del")
    if edited:
        assert marks.count() > 0
        first = marks.first
        first.scroll_into_view_if_needed()
        assert first.is_visible() and first.get_attribute("title")
    if edited.get("spun"):
        spun = page.locator("article.doc[data-source^='000_'] mark.s-spun")
        assert spun.count() > 0
        spun.first.scroll_into_view_if_needed()
        assert spun.first.is_visible()
        # the original wording is drawn before the repair, struck through
        before = page.evaluate("el => getComputedStyle(el, '::before').content", spun.first.element_handle())
        assert before.strip('"') == spun.first.get_attribute("data-was")
    if edited.get("boilerplate"):
        nav = page.locator("article.doc del.s-boilerplate", has_text="U.S. Department of State").first
        assert nav.is_visible()
        assert "line-through" in page.evaluate("el => getComputedStyle(el).textDecorationLine", nav.element_handle())
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    # the top (summary, filter, index, the first document) readable at full size; then everything
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1900})
    page.screenshot(path=str(ARTIFACTS / "report-full.png"), full_page=True)
    page.close()


def test_filter_hover_and_escaping_in_the_browser(browser, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    report = report_path(build_demo_version(tmp_path / "store", raw))
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report.resolve().as_uri())
    # a document holding </body><script> is shown as text and nothing of it ran
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.locator("article.doc", has_text="</body></html><script>").is_visible()
    articles = page.locator("article.doc")
    assert articles.count() == 7  # 6 kept, 1 dropped duplicate
    page.fill("#min-edits", "17")
    assert page.locator("article.doc:visible").count() == 2  # 000 (19 edits) and 004 (17)
    assert page.inner_text("#shown-count") == "2 of 7 shown"
    page.fill("#min-edits", "1")
    page.select_option("#stage-filter", "boilerplate")
    shown = page.locator("article.doc:visible h3").all_inner_texts()
    assert [s.split()[0] for s in shown] == ["001_3a9078d9734bdab0.txt", "004_dff09041fee8fc03.txt"]
    page.select_option("#stage-filter", "")
    page.fill("#min-edits", "0")
    mark = page.locator("mark[data-was='top top']").first
    mark.hover()
    assert "confidence 0.93" in mark.get_attribute("title")
    page.uncheck("#show-was")
    assert page.evaluate("el => getComputedStyle(el, '::before').content", mark.element_handle()) == "none"
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.check("#show-was")
    page.screenshot(path=str(ARTIFACTS / "report-demo.png"), full_page=True)
    page.close()
