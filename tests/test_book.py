"""The book as a whole: it builds cleanly, each chapter has a page, and the site carries what it needs offline."""

import html.parser
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

from conftest import CHAPTERS, ROOT, chapter_ids
import freshness
from wrong_answers import PROBES_PER_CHECK
import sync_shared_cells
from notebooks import normal_form, site_url


def test_book_builds_with_warnings_as_errors(book_build):
    assert book_build.returncode == 0, (
        book_build.stdout[-3000:] + book_build.stderr[-3000:]
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_every_chapter_has_a_page(book_build, chapter):
    assert (book_build.html / "book" / f"{chapter.stem}.html").exists()


def test_the_bibliography_page_lists_every_cited_work(book_build):
    page = (book_build.html / "book" / "bibliography.html").read_text()
    for key in ["Xiao", "Baldi", "Bourlard", "Plaut", "Hinton", "Goodfellow"]:
        assert key in page


def test_widget_and_math_javascript_is_served_by_the_site(book_build):
    page = (book_build.html / "book" / "01_undercomplete.html").read_text()
    assert 'src="../_static/ipywidgets/embed.js"' in page
    assert "_static/mathjax/tex-mml-chtml.js" in page
    assert (book_build.html / "_static" / "ipywidgets" / "embed.js").exists()
    assert (
        book_build.html / "_static" / "mathjax" / "tex-mml-chtml.js"
    ).exists()
    assert (
        "cdn.jsdelivr.net" not in page
        and "unpkg.com/@jupyter-widgets" not in page
    )


def test_no_page_declares_a_script_twice(book_build):
    for page in book_build.html.rglob("*.html"):
        source = page.read_text()
        assert source.count("const THEBE_JS_URL") <= 1, page
        assert source.count("_static/site.js") <= 1, page


def test_footer_states_the_licenses_and_credits_fashion_mnist(book_build):
    page = (book_build.html / "book" / "intro.html").read_text()
    assert "MIT License" in page and "CC BY 4.0" in page and "Zalando" in page


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_stored_outputs_come_from_the_current_code(chapter):
    notebook = nbformat.read(chapter, as_version=4)
    assert freshness.outputs_are_current(notebook), (
        f"{chapter.name}: its code changed since its outputs were stored; run "
        f"`python tools/execute_notebooks.py {chapter.relative_to(ROOT)}`"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_the_benchmark_measured_the_current_code(chapter):
    """The instructors' page shows run times from benchmarks/report.json: they must be this code's."""
    notebook = nbformat.read(chapter, as_version=4)
    entry = freshness.measured_chapters()[chapter.stem]
    assert freshness.measurement_is_current(notebook, entry), (
        f"{chapter.name}: not measured since its code changed; run "
        f"`python tools/execute_notebooks.py {chapter.relative_to(ROOT)}`"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_stored_notebook_is_in_normal_form(chapter):
    """No per-cell timestamps, widget ids in their fixed order: re-executing unchanged code changes nothing."""
    stored = nbformat.read(chapter, as_version=4)
    assert not [
        index
        for index, cell in enumerate(stored.cells)
        if "execution" in cell.metadata
    ], f"{chapter.name} has per-cell timing metadata"
    assert normal_form(nbformat.read(chapter, as_version=4)) == stored, (
        f"{chapter.name} is not in normal form; store it with "
        f"`python tools/execute_notebooks.py {chapter.relative_to(ROOT)}`"
    )


def test_normal_form_numbers_widgets_in_a_fixed_order():
    """Two executions whose widgets got different random ids store the same notebook."""

    def executed(ids):
        slider, box = ids
        state = {
            slider: {"model_name": "SliderModel", "state": {"value": 1}},
            box: {
                "model_name": "VBoxModel",
                "state": {"children": [f"IPY_MODEL_{slider}"]},
            },
        }
        cell = nbformat.v4.new_code_cell("explorer")
        cell.id = "explorer"  # new cells get random ids
        cell.metadata["execution"] = {
            "iopub.execute_input": "2026-12-01T00:00:00Z"
        }
        cell.outputs = [
            nbformat.v4.new_output(
                "display_data",
                data={
                    "application/vnd.jupyter.widget-view+json": {
                        "model_id": box
                    }
                },
            )
        ]
        notebook = nbformat.v4.new_notebook(cells=[cell])
        notebook.metadata["widgets"] = {
            "application/vnd.jupyter.widget-state+json": {"state": state}
        }
        return notebook

    first = normal_form(executed(["a" * 32, "b" * 32]))
    second = normal_form(executed(["c" * 32, "d" * 32]))
    assert first == second
    assert "execution" not in first.cells[0].metadata
    assert normal_form(first) == first
    box_id = (
        first.cells[0]
        .outputs[0]
        .data["application/vnd.jupyter.widget-view+json"]["model_id"]
    )
    assert box_id not in {"a" * 32, "b" * 32}


def test_instructors_page_covers_every_chapter_and_exercise(book_build):
    page = (book_build.html / "book" / "instructors.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page)).replace("’", "'")
    for chapter in CHAPTERS:
        row = re.search(
            rf'<tr[^>]*>\s*<td[^>]*><p><a [^>]*href="{chapter.stem}.html"'
            rf".*?</tr>",
            page,
            re.S,
        )
        assert row, f"no run-time row for {chapter.stem}"
        assert re.search(r">\d+ s<", row.group(0)), row.group(0)
        notebook = nbformat.read(chapter, as_version=4)
        for cell in notebook.cells:
            for line in cell.source.splitlines():
                if cell.cell_type == "markdown" and line.startswith(
                    "### Exercise"
                ):
                    assert line[4:] in text, (
                        f"the instructors' page lacks {chapter.stem}'s {line[4:]!r}"
                    )


def test_shared_helper_cells_match_their_one_source():
    stale = sync_shared_cells.main(check=True)
    assert not stale, (
        f"run `python tools/sync_shared_cells.py`, then re-execute: {stale}"
    )


def test_readme_and_ci_run_the_same_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = "python -m pytest"
    assert command in readme and command in ci
    readme_line = next(
        line.strip()
        for line in readme.splitlines()
        if line.strip().startswith(command)
    )
    assert readme_line in ci, (
        f"README's test command {readme_line!r} is not what .ci/run runs"
    )


def test_the_readmes_jupyter_command_opens_a_chapter_with_its_widgets(
    tmp_path,
):
    """`jupyter lab book/01_undercomplete.ipynb`, as the README gives it, from the environment the build command
    made: JupyterLab starts, serves the chapter as a notebook, and has the widgets extension to draw its sliders."""
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"`jupyter lab (book/\S+\.ipynb)`", readme)
    assert command, "the README gives no `jupyter lab book/...ipynb` command"
    assert "--allow-root" in readme
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    jupyter = pathlib.Path(sys.executable).parent / "jupyter"
    with open(tmp_path / "lab.log", "w") as log:
        lab = subprocess.Popen(
            [str(jupyter), "lab", command.group(1), "--no-browser"]
            + [
                "--IdentityProvider.token=readme-test",
                f"--ServerApp.port={port}",
            ]
            + ["--ServerApp.ip=127.0.0.1"]
            # JupyterLab refuses root without it; the README says so
            + (["--allow-root"] if os.geteuid() == 0 else []),
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def get(path):
            request = urllib.request.Request(
                server + path, headers={"Authorization": "token readme-test"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.read().decode()

        for _ in range(120):  # JupyterLab takes a few seconds to start
            try:
                # given a file, the server serves the file's folder
                name = pathlib.Path(command.group(1)).name
                chapter = json.loads(get(f"/api/contents/{name}"))
                break
            except OSError:
                assert lab.poll() is None, (tmp_path / "lab.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within a minute")
        assert chapter["type"] == "notebook" and chapter["content"]["cells"]
        extensions = json.loads(get("/lab/api/extensions"))
        assert any(  # ipywidgets' JupyterLab extension, which draws the sliders
            extension["name"] == "jupyter-widgets-jupyterlab-manager"
            and extension["enabled"]
            for extension in extensions
        ), [extension["name"] for extension in extensions]
    finally:
        lab.terminate()
        lab.wait(timeout=30)


COLAB_LINK = re.compile(
    r"https://colab\.research\.google\.com/github/([^/\"]+/[^/\"]+)/blob/main/([^\"\)\s]+\.ipynb)"
)


def repository_name():
    text = (ROOT / "_config.yml").read_text()
    return re.search(r"url: https://github\.com/(\S+)", text).group(1)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_colab_buttons_open_this_chapter_in_this_repository(
    book_build, chapter
):
    page = (book_build.html / "book" / f"{chapter.stem}.html").read_text()
    links = COLAB_LINK.findall(page)
    assert links, f"{chapter.name}: no Colab launch button"
    for repository, path in links:
        assert repository == repository_name()
        assert path == f"book/{chapter.name}"


def test_readme_colab_links_point_at_notebooks_that_exist():
    links = COLAB_LINK.findall((ROOT / "README.md").read_text())
    assert {path for _, path in links} == {
        f"book/{chapter.name}" for chapter in CHAPTERS
    }
    for repository, path in links:
        assert repository == repository_name() and (ROOT / path).exists()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_each_chapter_page_weighs_at_most_3_mb(book_build, chapter):
    """The page's HTML (with the widget state embedded in it) and its images."""
    page = book_build.html / "book" / f"{chapter.stem}.html"
    images = set(re.findall(r'src="\.\./(_images/[^"]+)"', page.read_text()))
    weight = page.stat().st_size + sum(
        (book_build.html / image).stat().st_size for image in images
    )
    assert weight <= 3_000_000, f"{chapter.name}: {weight / 1e6:.2f} MB"


GLOSSARY_TERMS = [  # the terms issue 7 names, and those the chapters lean on
    "Code",
    "Latent space",
    "Undercomplete autoencoder",
    "Tied weights",
    "Sparsity target",
    "Corruption",
    "Greedy layer-wise pretraining",
    "Fine-tuning",
    "Linear probe",
    "Protocol",
    "Pareto front",
    "Variational autoencoder",
    "Anomaly detection",
    "AUROC",
]


def test_glossary_defines_the_books_terms(book_build):
    page = (book_build.html / "book" / "glossary.html").read_text()
    for term in GLOSSARY_TERMS:
        assert f'id="term-{term.replace(" ", "-")}"' in page, term


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_every_chapter_links_its_terms_to_the_glossary(book_build, chapter):
    page = (book_build.html / "book" / f"{chapter.stem}.html").read_text()
    assert 'href="glossary.html#term-' in page


class LinkCollector(html.parser.HTMLParser):
    """Every href and src in a page, and every id it defines."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def parsed(page):
    collector = LinkCollector()
    collector.feed(page.read_text())
    return collector


def test_no_internal_link_is_broken(book_build):
    """Every link within the site reaches a file, and its #fragment an id in it. The chapters' links to the
    published website (to other chapters, glossary terms, bibliography entries) count: the build makes them
    relative, so they are checked here too."""
    pages = {  # _static holds the theme's template sources, not pages
        page: parsed(page)
        for page in book_build.html.rglob("*.html")
        if "_static" not in page.relative_to(book_build.html).parts
    }
    broken = []
    for page, collector in pages.items():
        for link in collector.links:
            # a chapter's link to the website, not made relative
            if link.startswith(site_url()):
                broken.append(f"{page.name}: {link} (leaves the site)")
            if re.match(r"^(https?:|mailto:|data:|javascript:|//)", link):
                continue
            path, _, fragment = link.split("?")[0].partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.name}: {link}")
            elif fragment and target.suffix == ".html":
                ids = (
                    pages[target].ids if target in pages else parsed(target).ids
                )
                if fragment not in ids:
                    broken.append(f"{page.name}: {link} (no such id)")
    assert not broken, broken[:20]


def test_instructors_page_states_the_limits_the_code_sets():
    """The page types the chapters' budgets, the checks' time limit and their line length: the code's values."""
    page = (ROOT / "book" / "instructors.md").read_text()
    helpers = (ROOT / "tools" / "shared_cells" / "helpers.py").read_text()
    seconds = re.search(r"^SECONDS_PER_CALL = (\d+)", helpers, re.M).group(1)
    characters = re.search(r"^LONGEST_MESSAGE = (\d+)", helpers, re.M).group(1)
    assert f"longer than {seconds} seconds is stopped" in page
    assert f"at most {characters} characters" in page
    words = {6: "six", 7: "seven", 8: "eight"}
    assert f"at least {words[PROBES_PER_CHECK]} wrong answers" in " ".join(
        page.split()
    )
    budgets = freshness.BUDGET_SECONDS
    stated = re.search(
        r"(\d+) seconds for chapters 1 to 3, (\d+) for chapters 4, 5 and 7 .*?, (\d+) for chapter 8,"
        r" .*? and (\d+) for chapter 6",
        " ".join(page.split()),
    )
    assert stated, "the page no longer states the budgets"
    assert [int(value) for value in stated.groups()] == [
        budgets["01_undercomplete"],
        budgets["04_denoising"],
        budgets["08_codes"],
        budgets["06_comparison"],
    ]
    assert (
        budgets["01_undercomplete"]
        == budgets["02_tied_weights"]
        == budgets["03_sparse"]
    )
    assert (
        budgets["04_denoising"]
        == budgets["05_stacked"]
        == budgets["07_convolutional"]
    )


def test_each_chapters_facts_live_in_book_chapters_yml_and_agree_everywhere():
    """book/chapters.yml is the one place for a chapter's facts; what else names the chapters must agree with it:
    the notebooks, the table of contents, the README's table, the instructors' page and the wrong-answer probes."""
    import sync_chapter_lists
    import yaml

    from notebooks import chapter_facts
    from wrong_answers import WRONG_ANSWERS

    facts = chapter_facts()
    assert list(facts) == [path.stem for path in CHAPTERS], (
        "one entry per notebook, in order"
    )
    stale_lists = sync_chapter_lists.main(check=True)
    assert not stale_lists, (
        f"{stale_lists} list the chapters otherwise than book/chapters.yml; "
        "run: python tools/sync_chapter_lists.py"
    )
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapters_part = next(
        part for part in toc["parts"] if part["caption"] == "Chapters"
    )
    assert [entry["file"] for entry in chapters_part["chapters"]] == [
        f"book/{name}" for name in facts
    ]
    readme = (ROOT / "README.md").read_text()
    instructors = (ROOT / "book" / "instructors.md").read_text()
    for number, (name, chapter) in enumerate(facts.items(), start=1):
        assert f"| {number}. {chapter['title']} | [book/{name}.ipynb]" in readme
        assert f"### {number}. {chapter['title']}\n" in instructors
        assert set(chapter) == {
            "title",
            "budget_seconds",
            "slider",
            "exercises",
        }
        notebook = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
        asked = [
            re.match(r"(?:def|class) (\w+)", cell.source).group(1)
            for cell in notebook.cells
            if "exercise" in cell.metadata.get("tags", [])
        ]
        assert asked == chapter["exercises"], name
        assert name in WRONG_ANSWERS, f"list wrong answers for {name}"
