"""Sphinx extension (loaded by _config.yml): the site serves its own JavaScript, so it works offline.

- Widgets are drawn by @jupyter-widgets/html-manager, which myst-nb would load from a CDN. We copy the
  npm-installed copy (package.json pins it; `npm ci` installs it) into _static/ipywidgets/: the standalone
  bundle and the fonts and icons it may request.
- Math is typeset by MathJax 3, which Sphinx would load from a CDN. We copy the npm-installed copy into
  _static/mathjax/ (the one combined bundle and the parts it loads on demand).
- _static/widgets-on-the-site.js (ours) lets the widgets' MathJax 2 calls reach MathJax 3 and gives slider
  handles the accessible name and value a screen reader announces.

It also drops exact duplicate <script> entries from each page. sphinx-thebe registers its inline configuration
(`const THEBE_JS_URL = ...`) on every `env-before-read-docs` event, which Jupyter Book 1.0.4 fires twice, so the
page declared the constant twice and the browser raised "Identifier 'THEBE_JS_URL' has already been declared".
"""

import pathlib
import shutil

from sphinx.errors import ExtensionError

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
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (
            getattr(script, "filename", script)
            or None,  # inline scripts: None or ""
            tuple(sorted(getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = (
        unique  # in place: myst-nb adds the widget scripts to this list later
    )


def setup(app):
    app.connect(
        "html-page-context", drop_duplicate_scripts, priority=400
    )  # before any handler that returns a template (emit_firstresult)
    app.connect("builder-inited", check_installed)
    app.add_js_file(
        "widgets-on-the-site.js", priority=600, defer="defer"
    )  # after MathJax (priority 500)
    app.connect("build-finished", copy_widget_javascript)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
