"""The static site (make book): built from the committed notebooks without running them, read in Chromium.

The build is the Makefile's (`sphinx-build -W`: a warning, such as a cross-reference that does not resolve, fails
it). The pages are opened in Debian's Chromium through Playwright, as in test_browser.py; without them the browser
test is skipped locally and fails under CI=true. Screenshots go to test-results/book/.
"""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from test_browser import CHROMIUM, FLAGS, require_browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SCREENSHOTS = ROOT / "test-results" / "book"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as `make book` builds it, into a temporary folder."""
    try:
        import myst_nb  # noqa: F401
    except ImportError:
        message = "the site needs Sphinx and myst-nb (pip install -r requirements-docs.txt)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("book")
    command = [sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-c", "book", "-d", out / "doctrees"]
    result = subprocess.run([*command, ".", out / "site"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"the site build failed:\n{result.stdout}{result.stderr}"
    return out / "site"


class Links(HTMLParser):
    """The link targets (href, src) and element ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            elif name in ("href", "src") and value and tag != "base":
                self.targets.append(value)


def parse(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def broken_links(site: Path) -> list[str]:
    """Every link between the site's pages (and to its images, scripts, styles) whose file or anchor is missing."""
    # Pages only: _static/ also holds the theme's HTML templates, which are no pages.
    pages = {page: parse(page) for page in site.rglob("*.html") if "_static" not in page.relative_to(site).parts}
    broken = []
    for page, links in pages.items():
        for target in links.targets:
            url = urlsplit(target)
            if url.scheme or url.netloc or target.startswith(("mailto:", "javascript:")):
                continue  # outside the site
            path = (page.parent / unquote(url.path)).resolve() if url.path else page
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                broken.append(f"{page.relative_to(site)}: {target} (no such file)")
            elif url.fragment and path.suffix == ".html" and url.fragment not in pages[path].ids:
                broken.append(f"{page.relative_to(site)}: {target} (no such anchor)")
    return broken


def notebook_with_figure() -> Path:
    """The first notebook whose stored outputs hold a figure."""
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any("image/png" in out.get("data", {}) for cell in cells for out in cell.get("outputs", [])):
            return path
    pytest.fail("no committed notebook stores a figure")


def test_site_has_every_page_and_no_broken_link(site):
    landing = parse(site / "README.html").targets
    for notebook in NOTEBOOKS:
        assert (site / "notebooks" / f"{notebook.stem}.html").is_file()
        assert f"notebooks/{notebook.stem}.html" in landing, f"the README's link to {notebook.name} did not resolve"
    assert "docs/teachers_guide.html" in landing
    assert "README.html" in (site / "index.html").read_text(encoding="utf-8"), "index.html must lead to the README"
    assert broken_links(site) == []


def test_broken_link_check_catches_what_it_must(site, tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<a id="here" href="#here">a</a> <a href="gone.html">b</a> <a href="page.html#nowhere">c</a>')
    expected = ["page.html: gone.html (no such file)", "page.html: page.html#nowhere (no such anchor)"]
    assert broken_links(tmp_path) == expected
    assert broken_links(site) == []


def test_site_pages_render_in_chromium(site):
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    notebook = notebook_with_figure()
    first_output = next(  # a stored stdout line of the notebook, shown verbatim under its code cell
        line
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for out in cell.get("outputs", [])
        if out.get("name") == "stdout"
        for line in "".join(out["text"]).splitlines()
        if line.strip()
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto((site / "index.html").as_uri())
            page.wait_for_url(re.compile(r"/README\.html$"))
            expect(page.locator("article h1").first).to_contain_text("GoogLeNet")
            expect(page.locator("article h2", has_text="The notebooks")).to_be_visible()
            expect(page.locator("table a", has_text=re.compile("Inception|GoogLeNet")).first).to_be_visible()
            page.screenshot(path=SCREENSHOTS / "landing.png")

            page.locator(f"article a[href='notebooks/{notebook.stem}.html']").first.click()
            page.wait_for_url(re.compile(rf"/notebooks/{notebook.stem}\.html$"))
            expect(page.locator("article h1").first).to_be_visible()
            expect(page.locator(".cell_input pre").first).to_be_visible()  # a code cell, highlighted
            expect(page.locator(".cell_output").filter(has_text=first_output).first).to_be_attached()
            figure = page.locator(".cell_output img").first
            figure.scroll_into_view_if_needed()
            assert figure.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0, "a figure did not load"
            page.screenshot(path=SCREENSHOTS / "notebook.png")
            assert errors == [], f"JavaScript errors: {errors}"
        finally:
            browser.close()
