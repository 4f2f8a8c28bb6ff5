"""The published site in a real browser: Debian's chromium driven by Playwright.

The built site is served on localhost; every page a test opens must load nothing from other
hosts and log no errors. Set SLAENGINE_SKIP_BROWSER=1 to skip these tests where chromium
cannot be installed; without it, a missing chromium is a failure, not a skip.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import slaengine
from slaengine.site import build as site
from test_render import HOSTILE, hostile_files, write_agreement
from test_site import site_kit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TODAY = date(2026, 11, 22)

if os.environ.get("SLAENGINE_SKIP_BROWSER") == "1":
    pytest.skip("SLAENGINE_SKIP_BROWSER=1: browser tests skipped", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright  # noqa: E402

# The site tests build into the repository's site/ folder and rewrite docs/ files:
# one pytest-xdist worker runs them all, one after another.
pytestmark = pytest.mark.xdist_group("site")



class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium "
                    "(`apt-get install -y chromium`) or set SLAENGINE_SKIP_BROWSER=1 to skip "
                    "the browser tests", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _built(tmp: Path, agreement: Path, today: date) -> Path:
    return site.build(agreement, today, site_kit(tmp))


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = _built(tmp_path_factory.mktemp("example"), ROOT / "agreement", TODAY)
    yield from _serve(out)


@pytest.fixture(scope="module")
def overdue_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    due = slaengine.load_agreement(ROOT / "agreement").reviews[-1].next_review
    assert due is not None
    out = _built(tmp_path_factory.mktemp("overdue"), ROOT / "agreement",
                 date(due.year + 1, due.month, 1))
    yield from _serve(out)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    agreement = write_agreement(tmp_path_factory.mktemp("hostile-agreement"), hostile_files())
    out = _built(tmp_path_factory.mktemp("hostile"), agreement, TODAY)
    yield from _serve(out)


class Visit:
    """A page that records console errors, page errors, dialogs and requests to other hosts."""

    def __init__(self, page: Page, base: str):
        self.page, self.base = page, base
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.offsite: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.offsite.append(request.url)

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        assert self.offsite == [], self.offsite


@pytest.fixture
def visit(browser: Browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    visits: list[Visit] = []

    def open_site(base: str) -> Visit:
        visits.append(Visit(context.new_page(), base))
        return visits[-1]

    yield open_site
    for v in visits:
        v.check_clean()
    context.close()


def test_home_shows_version_and_both_approvals(visit: Any, example_site: str) -> None:
    v = visit(example_site)
    page = v.open("/agreement/")
    agreement = slaengine.load_agreement(ROOT / "agreement")
    article = page.locator("article").inner_text()
    assert f"Version in force: {agreement.version}" in article
    for approval in agreement.reviews[-1].approvals:
        row = page.locator("tr", has_text=agreement.spec.parties[approval.party].lead.name)
        assert approval.day.isoformat() in row.inner_text()
    assert page.locator(".admonition.danger").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home.png"))


def test_definition_page_states_its_criteria(visit: Any, example_site: str) -> None:
    page = visit(example_site).open("/agreement/definitions/icp_fit/")
    items = page.locator("article li").all_inner_texts()
    assert "Employee count is between 50 and 5,000" in items
    page.get_by_role("link", name="Excluded contact").first.click()
    page.wait_for_url("**/definitions/excluded/")
    assert "Email domain ends with .edu" in page.locator("article").inner_text()


def test_lifecycle_diagram_is_drawn(visit: Any, example_site: str) -> None:
    page = visit(example_site).open("/agreement/lifecycle/")
    svg = page.locator(".mermaid svg")
    svg.wait_for(timeout=15_000)
    assert svg.count() == 1
    drawn = svg.text_content() or ""
    for label in ("Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer", "Nurture",
                  "Disqualified"):
        assert label in drawn
    box = svg.bounding_box()
    assert box is not None and box["width"] > 400
    page.screenshot(path=str(SCREENSHOTS / "lifecycle.png"))


def test_search_finds_mql(visit: Any, example_site: str) -> None:
    page = visit(example_site).open("/")
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("MQL", delay=50)  # Material searches as keys are typed
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15_000)
    assert results.count() > 3
    assert "MQL" in page.locator(".md-search-result").inner_text()


def test_overdue_banner(visit: Any, overdue_site: str) -> None:
    page = visit(overdue_site).open("/agreement/")
    banner = page.locator(".admonition.danger")
    assert banner.count() == 1
    assert "Review overdue" in banner.inner_text()
    assert "The review was due on" in banner.inner_text()


def test_hostile_text_is_shown_and_never_run(visit: Any, hostile_site: str) -> None:
    v = visit(hostile_site)
    for path in ("/agreement/", "/agreement/definitions/icp_fit/",
                 "/agreement/definitions/excluded/", "/agreement/lifecycle/",
                 "/agreement/glossary/", "/agreement/reviews/", "/agreement/scoring/"):
        page = v.open(path)
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("article script, article img").count() == 0, path
        assert page.locator("article a[href^='javascript']").count() == 0, path
    page = v.open("/agreement/")
    assert HOSTILE["script"] in page.locator("article").inner_text()
    assert HOSTILE["script"] in page.locator("h1").inner_text()
    assert HOSTILE["title"] in page.title()  # `</title>` in a title does not end it
    page = v.open("/agreement/lifecycle/")
    page.locator(".mermaid svg").wait_for(timeout=15_000)
    assert "<script>" in (page.locator(".mermaid svg").text_content() or "")
    assert page.evaluate("window.__pwned") is None
