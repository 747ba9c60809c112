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
"""

import pathlib
import posixpath
import re
import shutil

from docutils import nodes

from sphinx.errors import ExtensionError

from notebooks import site_url  # tools/ is on the path, as for run_time_table

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTML_MANAGER = (
    ROOT / "node_modules" / "@jupyter-widgets" / "html-manager" / "dist"
)
ASSET_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".svg"}
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5"
MATHJAX_BUNDLE = "tex-mml-chtml.js"  # _config.yml sets mathjax_path to mathjax/tex-mml-chtml.js
MATHJAX_ON_DEMAND = ["input", "output/chtml", "a11y", "ui", "sre", "adaptors"]


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
            continue  # Jupyter Book's undeferred copy of our _static/site.js
        key = (filename, tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = (
        unique  # in place: myst-nb adds the widget scripts to this list later
    )


def repair_page_accessibility(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if not body:
        return
    body = body.replace(
        '<summary aria-label="Toggle hidden content">', "<summary>"
    )
    context["body"] = re.sub(
        r'(<div class="citation" id="[^"]*") role="doc-biblioentry"',
        r'\1 role="listitem"',
        body,
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
    app.connect(
        "html-page-context", drop_duplicate_scripts, priority=400
    )  # before any handler that returns a template (emit_firstresult)
    app.connect("html-page-context", repair_page_accessibility)
    app.connect("builder-inited", check_installed)
    app.add_js_file(
        "site.js", priority=600, defer="defer"
    )  # after MathJax (priority 500)
    app.connect("build-finished", copy_widget_javascript)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
