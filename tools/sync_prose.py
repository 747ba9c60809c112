"""Write each computed number into the chapter's prose, so Colab, Jupyter and the website all show it.

Usage:  python tools/sync_prose.py [--check]

A chapter's code glues every value its text quotes (`glue("mse_untied_128", mse, display=False)`), and the text
carries the value as plain text in a <span> that names it, which every Markdown renderer shows as plain text:

    a test MSE of <span data-glue="mse_untied_128:.4f">0.0105</span> after 1,350 steps

`data-glue` names the glued value and its format (Python's format mini-language, as myst-nb's {glue:text} role
takes it). (An HTML comment would be hidden too, but a line that starts with one ends the paragraph in CommonMark,
and the rest of the line is then shown unformatted.) This tool rewrites the text inside the span from the values
stored in the
executed notebook; tools/execute_notebooks.py runs it after every execution. With --check nothing is written and
the exit status says whether every number in the prose is the one the code computed (the tests run the same
comparison), so a number typed into prose fails the tests as soon as the code's value moves.

Links to other chapters, to glossary terms and to the bibliography are ordinary Markdown links to the published
website (Colab resolves no relative link; the website's build turns them back into links within the site, see
tools/site_assets.py). The website's address follows from the repository named in _config.yml, so when a fork
changes it, this tool rewrites those links too.
"""

import re

import nbformat

from freshness import glued_values
from notebooks import chapters, site_url, sync_command_line

NUMBER = re.compile(
    r'<span data-glue="(?P<name>[A-Za-z_]\w*)(?::(?P<format>[^"]*))?">'
    r"(?P<shown>[^<]*)</span>"
)
SITE_LINK = re.compile(
    r"\]\((?P<site>https://[\w.-]+\.github\.io/[^/)\s]+/)book/"
)


# What Colab and Jupyter would show as raw text: MyST roles ({glue:text}`x`, {doc}`x`, {cite}`x`, {term}`x`),
# MyST directives (```{note} or :::{note}), targets ((label)=), comments (% ...) and substitutions ({{ x }}).
RAW_MYST = re.compile(
    r"\{[a-z][\w:-]*\}`"
    r"|^\s*(`{3,}|:{3,})\{"
    r"|^\([\w-]+\)=\s*$"
    r"|^%"
    r"|\{\{.*?\}\}",
    re.MULTILINE,
)


def raw_myst(markdown):
    """The pieces of `markdown` that only myst-nb renders: Colab and Jupyter would show them as typed."""
    return [match.group(0) for match in RAW_MYST.finditer(markdown)]


def expected_text(values, name, format_spec):
    """What the prose must show for glued value `name` in `format_spec`."""
    # myst-nb's own formatting, as its {glue:text} role applies it (imported here: Colab's environment, in which
    # the tests also run the chapters, has no myst-nb)
    from myst_nb.core.variables import format_plain_text

    if name not in values:
        raise KeyError(
            f"the prose quotes {name!r}, which no cell glues; glue it or drop the marker"
        )
    return format_plain_text(values[name], format_spec or "")


def stale_numbers(notebook):
    """(name, shown, expected) for every number in the prose that differs from its glued value."""
    values = glued_values(notebook)
    stale = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            unreadable = cell.source.count("data-glue") - len(
                NUMBER.findall(cell.source)
            )
            if unreadable:
                stale.append(
                    (
                        "a marker",
                        "not <span data-glue=...>text</span>",
                        cell.source[:80],
                    )
                )
            for match in NUMBER.finditer(cell.source):
                expected = expected_text(values, match["name"], match["format"])
                if match["shown"] != expected:
                    stale.append((match["name"], match["shown"], expected))
            for match in SITE_LINK.finditer(cell.source):
                if match["site"] != site_url():
                    stale.append(("a link", match["site"], site_url()))
    return stale


def synced(notebook):
    """`notebook` with every number in its prose rewritten from its glued value (changed in place)."""
    values = glued_values(notebook)

    def replace(match):
        expected = expected_text(values, match["name"], match["format"])
        return match.group(0).replace(
            f">{match['shown']}</span>", f">{expected}</span>"
        )

    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = NUMBER.sub(replace, cell.source)
            cell.source = SITE_LINK.sub(f"]({site_url()}book/", cell.source)
    return notebook


def main(check=False, paths=None):
    out_of_date = []
    for path in paths or chapters():
        notebook = nbformat.read(path, as_version=4)
        stale = stale_numbers(notebook)
        if not stale:
            continue
        out_of_date.append(path)
        for name, shown, expected in stale[:10]:
            print(
                f"{path.name}: {name} reads {shown!r}, the code computed {expected!r}"
            )
        if not check:
            nbformat.write(synced(notebook), path)
            print(f"{path}: {len(stale)} number(s) in the prose updated")
    return out_of_date


if __name__ == "__main__":
    sync_command_line(
        main, "numbers in the prose", "python tools/sync_prose.py"
    )
