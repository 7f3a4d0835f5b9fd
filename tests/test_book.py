"""The book (`make book`) read in a real browser, offline.

The book is built from the committed notebooks into a temporary folder, served on localhost,
and every lesson page is opened in headless Chromium (the system's, driven by Playwright's
Python client; no browser is downloaded). Each page must render with the sidebar listing every
lesson in order, its math typeset by the MathJax copy inside the site (no raw ``$...$`` or
``\\(...\\)`` left), as many figures as the notebook has image outputs, every exercise solution
collapsed, and no request leaving localhost.

`make test-book` installs what this needs (requirements-book.txt) and runs it; elsewhere the
test is skipped when the book's tools or Chromium are not installed.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from notebook_files import NOTEBOOKS, ROOT, load_script

LESSONS = NOTEBOOKS
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# Outputs shown as HTML or JavaScript rather than as an image (myst-nb's order for HTML).
RICHER_THAN_IMAGE = ("application/javascript", "text/html")
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


def _chromium() -> str | None:
    found = os.environ.get("CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    return found if found and Path(found).exists() else None


def _missing() -> str | None:
    tools = [m for m in ("sphinx", "myst_nb", "sphinx_book_theme", "playwright")
             if importlib.util.find_spec(m) is None]
    if tools:
        return f"the book's tools are not installed ({', '.join(tools)}): run make test-book"
    if _chromium() is None:
        return "no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
    return None


MISSING = _missing()
if MISSING and os.environ.get("BOOK_TEST_REQUIRED"):
    raise RuntimeError(f"make test-book cannot run: {MISSING}")
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=MISSING or ""),
    # The theme's and myst's use of Sphinx APIs that Sphinx 11 will remove: not ours to fix.
    pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API"),
]


def notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def image_outputs(nb: dict) -> int:
    """Outputs the book shows as an image: an image and nothing it would show instead."""
    return sum(
        1
        for cell in nb["cells"] if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if any(m in out.get("data", {}) for m in IMAGE_MIMES)
        and not any(m in out.get("data", {}) for m in RICHER_THAN_IMAGE)
    )


def widget_fallbacks(nb: dict) -> list[str]:
    """The start of each widget output's text/plain fallback, which the book shows."""
    return [
        "".join(out["data"]["text/plain"]).strip()[:30]
        for cell in nb["cells"] if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        and "".join(out["data"].get("text/plain", "")).strip()
    ]


def solutions(nb: dict, kind: str) -> int:
    return sum(
        1 for cell in nb["cells"]
        if cell["cell_type"] == kind and (cell["metadata"].get("nbgrader") or {}).get("solution")
    )


def title_of(nb: dict) -> str:
    first = "".join(nb["cells"][0]["source"])
    return next(line[2:] for line in first.splitlines() if line.startswith("# "))


def letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The book built from notebooks/, served on localhost; yields its base URL."""
    book_build = load_script("book/build.py")
    html = book_build.build(ROOT / "notebooks", tmp_path_factory.mktemp("book"))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page opened in a fresh browser context, with every request it made."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(url, wait_until="load")

    def outside_requests(self) -> list[str]:
        return [
            url for url in self.requests
            if urlparse(url).scheme not in ("data", "blob")
            and urlparse(url).hostname not in ("127.0.0.1", "localhost")
        ]

    def sidebar(self) -> list[str]:
        """The lesson pages the sidebar links to, in its order."""
        pages = self.page.eval_on_selector_all(
            "nav.bd-docs-nav li.toctree-l1 > a",
            "links => links.map(a => new URL(a.href).pathname.split('/').pop())",
        )
        return [name for name in pages if re.match(r"\d\d_", name)]


@pytest.fixture
def visit(browser):
    visits: list[Visit] = []

    def open_page(url: str) -> Visit:
        visits.append(Visit(browser, url))
        return visits[-1]

    yield open_page
    for v in visits:
        v.context.close()


LESSON_PAGES = [path.stem + ".html" for path in LESSONS]


def test_landing_page_lists_every_lesson_in_order(site, visit):
    page = visit(f"{site}/index.html")
    assert page.sidebar() == LESSON_PAGES
    linked = page.page.eval_on_selector_all(
        "article table a", "links => links.map(a => new URL(a.href).pathname.split('/').pop())"
    )
    assert linked == LESSON_PAGES, "the lesson table links every lesson, in order"
    assert page.outside_requests() == []


def test_search_works_offline(site, visit):
    page = visit(f"{site}/search.html?q=Bellman")
    page.page.wait_for_selector("#search-results li", timeout=30_000)
    hits = page.page.eval_on_selector_all(
        "#search-results li a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert any(h.startswith("01_") for h in hits), hits
    assert page.outside_requests() == []


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem[:2] for p in LESSONS])
def test_lesson_page_reads_offline(site, visit, lesson):
    nb = notebook(lesson)
    page = visit(f"{site}/{lesson.stem}.html")
    p = page.page

    # It renders: the lesson's title, and the sidebar with every lesson in order.
    h1 = p.inner_text("article h1")
    assert letters(h1) == letters(title_of(nb).replace("`", "")), (h1, title_of(nb))
    assert letters(h1) in letters(p.title())
    assert page.sidebar() == LESSON_PAGES

    # The math is typeset by the site's own MathJax, and none is left raw.
    if p.locator("article .math").count():  # Sphinx loads MathJax on pages with math only
        p.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        p.evaluate("() => MathJax.startup.promise")
    math = p.eval_on_selector_all(
        "article .math", "els => els.map(e => e.querySelector('mjx-container') !== null)"
    )
    has_math = any("$" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert not has_math or math, "the lesson's math is missing"
    assert all(math), f"{math.count(False)} of {len(math)} formulas not typeset"
    prose = p.evaluate(
        """() => { const a = document.querySelector('article').cloneNode(true);
        a.querySelectorAll('pre, code, script, style, mjx-container, .cell_output')
         .forEach(e => e.remove());
        return a.textContent; }"""
    )
    raw = re.findall(r"\$\$|\$[^$\s][^$\n]*?\$|\\\(|\\\[", prose)
    assert not raw, f"raw math left in the text: {raw[:5]}"

    # Every figure: as many images as the notebook has image outputs.
    figures = p.eval_on_selector_all(
        "article .cell_output img",
        "imgs => imgs.filter(i => !i.closest('.text_html')).map(i => i.naturalWidth > 0)",
    )
    assert len(figures) == image_outputs(nb)
    assert all(figures), "an image did not load"

    # Widgets show their text fallback; no widget scripts are loaded.
    assert p.locator("script[type='application/vnd.jupyter.widget-view+json']").count() == 0
    text = p.inner_text("article")
    for fallback in widget_fallbacks(nb):
        assert fallback in text, f"widget fallback missing: {fallback!r}"

    # Solutions are collapsed: each solution's code behind a closed toggle, answers in a
    # closed dropdown.
    hidden_code = p.locator("article .cell.tag_hide-input details.hide:not([open])").count()
    assert hidden_code == solutions(nb, "code")
    closed = p.locator("article details.sd-dropdown:not([open])").count()
    assert closed == solutions(nb, "markdown")

    assert page.outside_requests() == []
