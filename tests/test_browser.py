"""The website as a reader sees it: served on 127.0.0.1, opened in headless Chromium (Debian's, driven by
Playwright). Without Chromium these tests skip, saying how to install it; with CI=true they must run."""

import functools
import http.server
import os
import re
import shutil
import threading

import nbformat
import pytest
from nbconvert import HTMLExporter

import sync_prose
from conftest import CHAPTERS, ROOT, chapter_ids
from notebooks import chapter_facts

# axe-core, pinned in package.json and installed by `npm ci`: the accessibility checker the tests inject.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHAPTER_PAGES = [f"book/{chapter.stem}.html" for chapter in CHAPTERS]
PAGES = [
    "book/intro.html",
    *CHAPTER_PAGES,
    "book/instructors.html",
    "book/glossary.html",
    "book/bibliography.html",
    "search.html",
    "genindex.html",
]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium must not reach out to Google's services: this machine has no network, and each try logs an error.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# about 3 minutes on 2 cores: outside the quick tier (`-m "not slow"`); `-m browser` runs these alone
pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM and os.environ.get("CI") != "true":
    pytestmark = [
        pytest.mark.browser,
        pytest.mark.slow,
        pytest.mark.skip(
            reason="Chromium is not installed: `sudo apt-get install chromium` (Debian/Ubuntu) runs these tests"
        ),
    ]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(book_build):
    assert book_build.returncode == 0, "the book did not build"
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0),
        functools.partial(QuietHandler, directory=str(book_build.html)),
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM, (
        "CI=true but Chromium is missing: .ci/run must install Debian's chromium"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


PHONE = {"width": 390, "height": 844}  # a phone's screen in CSS pixels


def open_page(browser, url, color_scheme="light", viewport=None):
    """Open `url`; return the page and the list that collects its console errors and failed requests."""
    page = browser.new_page(color_scheme=color_scheme, viewport=viewport)
    problems = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on(
        "requestfailed",
        lambda request: problems.append(f"failed: {request.url}"),
    )
    page.goto(url, wait_until="networkidle")
    return page, problems


def open_drawn_page(browser, url, page_path, **options):
    """`open_page`, then wait until a chapter's widgets are drawn and math and theme scripts have settled."""
    page, problems = open_page(browser, url, **options)
    if page_path in CHAPTER_PAGES:
        page.get_by_role("slider").first.wait_for(timeout=20_000)
    page.wait_for_timeout(500)
    return page, problems


# Each chapter's widget: the slider's accessible name, and the phrase every
# panel's alt text contains, with the slider's value in place of {} (book/chapters.yml).
SLIDERS = {
    name: (facts["slider"]["label"], facts["slider"]["alt_phrase"])
    for name, facts in chapter_facts().items()
}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_moving_the_slider_changes_the_panel_and_its_alt_text(
    browser, site_url, chapter
):
    label, alt_phrase = SLIDERS[chapter.stem]
    page, problems = open_page(browser, f"{site_url}/book/{chapter.stem}.html")
    slider = page.get_by_role("slider", name=label)
    slider.wait_for(timeout=20_000)
    shown = page.locator(f"img[alt*='{alt_phrase.split('{}')[0]}']:visible")
    readout = page.locator(".widget-readout").first
    assert shown.count() == 1
    before = {
        "src": shown.get_attribute("src"),
        "alt": shown.get_attribute("alt"),
    }
    first_value = readout.text_content()
    assert alt_phrase.format(first_value) in before["alt"]

    assert slider.evaluate("handle => handle.tabIndex") == 0  # reachable by Tab
    slider.focus()
    # from the keyboard, as a screen-reader user would
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "first => document.querySelector('.widget-readout').textContent !== first",
        arg=first_value,
    )
    second_value = readout.text_content()
    assert shown.count() == 1
    assert alt_phrase.format(second_value) in shown.get_attribute("alt")
    assert shown.get_attribute("src") != before["src"]
    assert slider.get_attribute("aria-valuetext") == second_value
    assert not problems, problems


@pytest.mark.parametrize("page_path", PAGES)
def test_page_loads_without_javascript_errors(browser, site_url, page_path):
    page, problems = open_page(browser, f"{site_url}/{page_path}")
    page.wait_for_timeout(1000)  # let widgets and math render
    assert not problems, problems


def test_site_js_logs_an_error_when_the_theme_it_mends_has_changed(
    browser, site_url
):
    """site.js mends the theme's buttons; served a page whose theme markup changed (the color-mode button renamed,
    as a theme update might), it says so in the console, which the page-load test above fails on."""
    page = browser.new_page()
    problems = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if message.type == "error" else None
        ),
    )

    def changed_theme(route):
        response = route.fetch()
        route.fulfill(
            response=response,
            body=response.text().replace("theme-switch-button", "mode-button"),
        )

    page.route("**/book/intro.html", changed_theme)
    page.goto(f"{site_url}/book/intro.html", wait_until="networkidle")
    page.wait_for_timeout(500)
    assert any(
        "color-mode button name workaround found nothing" in problem
        for problem in problems
    ), problems
    assert not any("search button" in problem for problem in problems)
    page.close()


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
@pytest.mark.parametrize("page_path", PAGES)
def test_axe_finds_no_accessibility_violations(
    browser, site_url, page_path, color_scheme
):
    """axe-core's WCAG checks on each page as rendered, widgets drawn, in the reader's light or dark mode.
    Every violation fails, moderate and minor ones too: the site has none today, so any is a regression."""
    assert AXE.exists(), f"{AXE} is missing: run `npm ci`"
    page, _ = open_drawn_page(
        browser, f"{site_url}/{page_path}", page_path, color_scheme=color_scheme
    )
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document)).violations.map(violation =>
            `${violation.impact} ${violation.id}: ${violation.help} at `
            + violation.nodes.map(node => node.target.join(" ")).join(", "))"""
    )
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("page_path", PAGES)
def test_page_fits_a_phone_screen(browser, site_url, page_path):
    """At 390 px nothing widens the page past the screen, and each slider's end and value readout are on it."""
    page, _ = open_drawn_page(
        browser, f"{site_url}/{page_path}", page_path, viewport=PHONE
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a phone"
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('mjx-container[display="true"]')]
            .filter(equation => equation.scrollWidth > equation.clientWidth + 1
                && getComputedStyle(equation).overflowX !== "auto")
            .map(equation => equation.textContent.slice(0, 60))"""
    )
    assert not clipped, (
        f"display equations cut off instead of scrolling: {clipped}"
    )
    rows = page.locator(".widget-slider")
    for row in range(rows.count()):
        for part in [rows.nth(row), page.locator(".widget-readout").nth(row)]:
            box = part.bounding_box()
            assert box and box["x"] + box["width"] <= PHONE["width"], (
                f"slider {row}: {box} reaches past the screen's right edge"
            )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_widgets_follow_the_dark_colour_mode(browser, site_url, chapter):
    """In dark mode a widget sits on the dark page, not on a light panel, and its label and readout are light."""
    page_path = f"book/{chapter.stem}.html"
    page, _ = open_drawn_page(
        browser, f"{site_url}/{page_path}", page_path, color_scheme="dark"
    )
    colours = page.evaluate(
        """() => {
        const lightness = colour => {
            const [r, g, b, a = 1] = colour.match(/[\\d.]+/g).map(Number);
            return a === 0 ? null : (r + g + b) / 3;
        };
        const panel = document.querySelector(".cell_output .widget-subarea");
        return {
            panel: lightness(getComputedStyle(panel).backgroundColor),
            label: lightness(getComputedStyle(document.querySelector(".widget-label")).color),
            readout: lightness(getComputedStyle(document.querySelector(".widget-readout")).color),
            nullTitles: document.querySelectorAll('[title="null"]').length,
        };
    }"""
    )
    assert colours["panel"] is None or colours["panel"] < 80, colours
    assert colours["label"] > 170 and colours["readout"] > 170, colours
    assert colours["nullTitles"] == 0, "an element's tooltip reads 'null'"


# Markup a reader should never see as text: MyST roles, Markdown the renderer passed through (a pipe table's
# delimiter row, an HTML comment, a glue marker shown as text).
RAW_TEXT = re.compile(
    r"\{(glue|doc|cite|term|ref|numref|eq)[:}]|<!--|data-glue|<span|\|\s*:?-{3,}:?\s*\|"
)
PROSE_TEXT = """() => {  // the page's visible text outside code listings
    const listings = [...document.querySelectorAll("pre, .highlight")];
    listings.forEach(listing => listing.style.display = "none");
    const text = document.body.innerText;
    listings.forEach(listing => listing.style.display = "");
    return text;
}"""


def raw_markup_in(page):
    text = page.evaluate(PROSE_TEXT)
    return [
        text[max(0, m.start() - 40) : m.end() + 40]
        for m in RAW_TEXT.finditer(text)
    ]


@pytest.mark.parametrize("page_path", PAGES)
def test_page_shows_no_raw_markdown_or_myst(browser, site_url, page_path):
    page, _ = open_drawn_page(browser, f"{site_url}/{page_path}", page_path)
    assert not raw_markup_in(page), raw_markup_in(page)


# nbconvert says it cannot show the values glued for the website's build; neither does Colab, which is the point
@pytest.mark.filterwarnings("ignore:Your element with mimetype")
@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_chapter_rendered_without_myst_nb_shows_its_numbers(
    browser, chapter, tmp_path
):
    """Colab and Jupyter render a notebook's Markdown themselves; nbconvert's HTML exporter does the same
    (without myst-nb), so the page it writes stands in for Colab here: every number the prose quotes is shown, as
    text, and no markup is."""
    notebook = nbformat.read(chapter, as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    exported = tmp_path / f"{chapter.stem}.html"
    exported.write_text(body)
    page = browser.new_page()
    page.route(  # offline, as the tests are: the exporter's CDN scripts are not needed for the text
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else route.abort()
        ),
    )
    page.goto(exported.as_uri(), wait_until="load")
    assert not raw_markup_in(page), raw_markup_in(page)
    text = page.evaluate(PROSE_TEXT)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for match in sync_prose.NUMBER.finditer(cell.source):
                assert match["shown"] in text, match.group(0)
    links = page.eval_on_selector_all(
        ".jp-MarkdownCell a[href]:not(.anchor-link)",
        "links => links.map(link => link.href)",
    )
    assert links and all(link.startswith("https://") for link in links), [
        link for link in links if not link.startswith("https://")
    ]
