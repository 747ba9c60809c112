"""Sphinx extension (loaded by _config.yml): the site serves its own JavaScript, so it works offline.

- Widgets are drawn by @jupyter-widgets/html-manager, which myst-nb would load from a CDN. We copy the
  npm-installed copy (package.json pins it; `npm ci` installs it) into _static/ipywidgets/: the standalone
  bundle and the fonts and icons it may request.
- Math is typeset by MathJax 3, which Sphinx would load from a CDN. We copy the npm-installed copy into
  _static/mathjax/ (the one combined bundle and the parts it loads on demand).
- _static/site.js (ours) lets the widgets' MathJax 2 calls reach MathJax 3, gives slider handles the
  accessible name and value a screen reader announces, and names the theme's search and color-mode buttons
  after what they show. _static/site.css (ours) keeps widget captions readable in dark mode.

Two accessibility repairs are made in each page's HTML, so they hold without JavaScript too (axe-core checks
the site in tests/test_browser.py):
- myst-nb names every "Show code cell source" toggle "Toggle hidden content"; a speech-input user who says
  what they see would miss it (WCAG 2.5.3). We drop that name, so the toggle is named by its visible text.
- docutils marks bibliography entries role="doc-biblioentry" (deprecated in ARIA 1.2) inside a role="list",
  which then has no list items. We make them role="listitem".

The chapters link to other chapters, glossary terms and bibliography entries by their address on the published
website, because Colab resolves no relative link (tools/sync_prose.py keeps the address current). On the site we
turn each such link back into a relative one, so a local build stays local and the link checker follows it.

It also drops exact duplicate <script> entries from each page. sphinx-thebe registers its inline configuration
(`const THEBE_JS_URL = ...`) on every `env-before-read-docs` event, which Jupyter Book 1.0.4 fires twice, so the
page declared the constant twice and the browser raised "Identifier 'THEBE_JS_URL' has already been declared".
And Jupyter Book adds every .js and .css file in _static/ to each page by itself, site.js included, but without
`defer`: we keep only our deferred entry, so site.js runs once, after MathJax. (site.css needs nothing more.)

Each workaround for upstream behaviour counts what it changes in a build (WORKAROUNDS names the versions it was
written for). When a full build ends and one of them changed nothing, the build warns, and fails, since it runs
with -W: the upstream markup or bug has changed, and the workaround must be updated or removed, not left to do
nothing in silence. _static/site.js does the same in the browser (a console error, which the browser tests fail on).
"""

import collections
import pathlib
import posixpath
import re
import shutil

from docutils import nodes

from sphinx.errors import ExtensionError
from sphinx.util import logging

from notebooks import site_url  # tools/ is on the path, as for run_time_table

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTML_MANAGER = (
    ROOT / "node_modules" / "@jupyter-widgets" / "html-manager" / "dist"
)
ASSET_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".svg"}
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5"
MATHJAX_BUNDLE = "tex-mml-chtml.js"  # _config.yml sets mathjax_path to mathjax/tex-mml-chtml.js
MATHJAX_ON_DEMAND = ["input", "output/chtml", "a11y", "ui", "sre", "adaptors"]

logger = logging.getLogger(__name__)

# What each workaround repairs, and in which upstream versions (the versions requirements.txt installs).
WORKAROUNDS = {
    "duplicate script": "sphinx-thebe 0.3.1 registering its inline script on each env-before-read-docs event, "
    "which Jupyter Book 1.0.4 fires twice",
    "undeferred site.js": "Jupyter Book 1.0.4 adding every _static/*.js file to each page without `defer`",
    "toggle name": 'myst-nb 1.x naming each code-cell toggle "Toggle hidden content"',
    "bibliography role": 'docutils 0.21 marking bibliography entries role="doc-biblioentry" (deprecated in ARIA 1.2)',
}
matched = collections.Counter()  # changes made by each workaround in this build
pages_written = set()


def check_installed(app):
    for required in [HTML_MANAGER / "embed.js", MATHJAX / MATHJAX_BUNDLE]:
        if not required.exists():
            raise ExtensionError(
                f"{required} is missing: run `npm ci` in the repository root, then build again."
            )


def copy_widget_javascript(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = pathlib.Path(app.outdir) / "_static" / "ipywidgets"
    target.mkdir(parents=True, exist_ok=True)
    for source in HTML_MANAGER.iterdir():
        if source.name == "embed.js" or source.suffix in ASSET_SUFFIXES:
            shutil.copy2(source, target / source.name)
    mathjax_target = pathlib.Path(app.outdir) / "_static" / "mathjax"
    mathjax_target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(MATHJAX / MATHJAX_BUNDLE, mathjax_target / MATHJAX_BUNDLE)
    for folder in MATHJAX_ON_DEMAND:
        shutil.copytree(
            MATHJAX / folder, mathjax_target / folder, dirs_exist_ok=True
        )


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    pages_written.add(pagename)
    scripts = context.get("script_files", [])
    deferred = {
        getattr(script, "filename", None)
        for script in scripts
        if getattr(script, "attributes", {}).get("defer")
    }
    seen, unique = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or None  # inline: None
        attributes = getattr(script, "attributes", {})
        if filename in deferred and not attributes.get("defer"):
            matched["undeferred site.js"] += 1
            continue  # Jupyter Book's undeferred copy of our _static/site.js
        key = (filename, tuple(sorted(attributes.items())))
        if key in seen:
            matched["duplicate script"] += 1
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"][:] = (
        unique  # in place: myst-nb adds the widget scripts to this list later
    )


TOGGLE = '<summary aria-label="Toggle hidden content">'
BIBLIOENTRY = re.compile(
    r'(<div class="citation" id="[^"]*") role="doc-biblioentry"'
)


def repair_page_accessibility(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if not body:
        return
    matched["toggle name"] += body.count(TOGGLE)
    body = body.replace(TOGGLE, "<summary>")
    body, count = BIBLIOENTRY.subn(r'\1 role="listitem"', body)
    matched["bibliography role"] += count
    context["body"] = body


def start_counting(app):
    matched.clear()
    pages_written.clear()


def unmatched(all_pages):
    """The workarounds that changed nothing in a build that wrote every page (an incremental build may not)."""
    if not set(all_pages) <= pages_written:
        return []
    return [name for name in WORKAROUNDS if not matched[name]]


def warn_about_workarounds_that_matched_nothing(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for name in unmatched(app.env.found_docs):
        logger.warning(
            f"tools/site_assets.py: the workaround for {WORKAROUNDS[name]} changed nothing in this build. "
            "The upstream behaviour has changed: update the workaround or remove it.",
            type="site_assets",
            subtype=name.replace(" ", "-"),
        )


def link_within_the_site(app, doctree, docname):
    site = site_url()
    for reference in doctree.findall(nodes.reference):
        address = reference.get("refuri", "")
        if address.startswith(site):
            reference["refuri"] = posixpath.relpath(
                address[len(site) :], posixpath.dirname(docname) or "."
            )
            reference["internal"] = True
            reference["classes"] = [
                name for name in reference["classes"] if name != "external"
            ] + ["internal"]


def setup(app):
    app.connect("doctree-resolved", link_within_the_site)
    # before any handler that returns a template (emit_firstresult)
    app.connect("html-page-context", drop_duplicate_scripts, priority=400)
    app.connect("html-page-context", repair_page_accessibility)
    app.connect("builder-inited", check_installed)
    app.connect("builder-inited", start_counting)
    app.connect("build-finished", warn_about_workarounds_that_matched_nothing)
    # after MathJax (priority 500)
    app.add_js_file("site.js", priority=600, defer="defer")
    app.connect("build-finished", copy_widget_javascript)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
