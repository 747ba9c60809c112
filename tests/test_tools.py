"""The instructors' tools, on small notebooks made here."""

import copy
import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from conftest import CHAPTERS, ROOT
import sync_prose
from notebooks import execute_measured


def test_two_executions_of_the_same_code_store_the_same_notebook(tmp_path):
    """Normal form, on a real kernel: widget ids are random uuids on every run, the stored file is not."""
    path = tmp_path / "widgets.ipynb"
    source = (
        "import ipywidgets as widgets\n"
        "widgets.VBox([widgets.IntSlider(3), widgets.HTML('<b>panel</b>')])"
    )
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]),
        path,
    )
    first, run = execute_measured(path)
    second, _ = execute_measured(path)
    assert nbformat.writes(first) == nbformat.writes(second)
    assert "execution" not in first.cells[0].metadata
    assert set(run) == {"wall_s", "kernel_cpu_s", "kernel_peak_memory_mb"}


def test_a_failing_cell_is_reported_in_one_message(tmp_path):
    path = tmp_path / "broken.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]),
        path,
    )
    with pytest.raises(RuntimeError, match="ZeroDivisionError") as raised:
        execute_measured(path)
    assert "\x1b[" not in str(raised.value)  # no terminal colour codes


GRADIENT_SCRIPT = """
import json, os, sys
import numpy as np
exec(open(sys.argv[1]).read())  # the shared helper cell, as every chapter runs it
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
kernel = np.arange(6, dtype="float32").reshape(3, 2) / 10
model.layers[0].set_weights([kernel, np.array([0.5, -0.5], "float32")])
inputs = np.array([[1, 2, 3], [0, -1, 1]], "float32")
(gradient,) = loss_gradients(
    lambda outputs: keras.ops.mean(outputs**2), model, inputs, [model.layers[0].kernel]
)
print(json.dumps({"backend": keras.backend.backend(), "gradient": gradient.tolist()}))
"""


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_loss_gradients_match_the_gradient_by_hand_on_either_backend(
    backend, tmp_path
):
    script = tmp_path / "gradient.py"
    script.write_text(GRADIENT_SCRIPT)
    helpers = ROOT / "tools" / "shared_cells" / "helpers.py"
    result = subprocess.run(
        [sys.executable, str(script), str(helpers)],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "KERAS_BACKEND": backend,
            "TF_CPP_MIN_LOG_LEVEL": "3",
        },
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    inputs = np.array([[1, 2, 3], [0, -1, 1]], "float32")
    kernel = np.arange(6, dtype="float32").reshape(3, 2) / 10
    outputs = inputs @ kernel + np.array([0.5, -0.5])
    by_hand = inputs.T @ (2 * outputs / outputs.size)  # d mean(y^2) / d kernel
    assert answer["backend"] == backend
    np.testing.assert_allclose(answer["gradient"], by_hand, rtol=1e-5)


def test_a_number_typed_into_prose_fails_when_the_code_computes_another():
    notebook = nbformat.read(CHAPTERS[1], as_version=4)
    assert sync_prose.stale_numbers(notebook) == []
    cell, match = next(
        (cell, match)
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for match in sync_prose.NUMBER.finditer(cell.source)
    )
    typed = copy.deepcopy(notebook)  # the prose says something else
    typed.cells[notebook.cells.index(cell)].source = cell.source.replace(
        match.group(0),
        match.group(0).replace(f">{match['shown']}<", ">0.1234<"),
    )
    assert [name for name, *_ in sync_prose.stale_numbers(typed)] == [
        match["name"]
    ]
    assert sync_prose.stale_numbers(sync_prose.synced(typed)) == []
    moved = copy.deepcopy(notebook)  # the code computes something else
    for moved_cell in moved.cells:
        for output in moved_cell.get("outputs", []):
            if (
                output.get("metadata", {}).get("scrapbook", {}).get("name")
                == match["name"]
            ):
                output["data"] = {
                    mime: "0.987654321" for mime in output["data"]
                }
    assert match["name"] in [
        name for name, *_ in sync_prose.stale_numbers(moved)
    ]
    broken = copy.deepcopy(notebook)  # a marker the tool cannot read
    broken.cells[
        notebook.cells.index(cell)
    ].source += ' <span data-glue="x"><b>1</b></span>'
    assert sync_prose.stale_numbers(broken)


def test_raw_myst_finds_what_only_myst_nb_renders():
    for raw in [
        "a {glue:text}`x:.2f` b",
        "see {doc}`01_undercomplete`",
        "{cite}`key`",
        "{term}`code <Code>`",
        "```{note}\nhi\n```",
        ":::{tip}\nhi\n:::",
        "(label)=\n# Heading",
        "% a comment",
        "{{ substitution }}",
    ]:
        assert sync_prose.raw_myst(raw), raw
    for plain in [
        "$W_{ij}$ and $$\\frac{a}{b}$$",
        "[a link](https://example.org) and `code` and | a | b |",
        '<span data-glue="x:.2f">0.12</span> per pixel, 50%',
    ]:
        assert not sync_prose.raw_myst(plain), plain


def test_student_notebooks_are_never_written_into_the_book(tmp_path):
    for target in [ROOT / "book", ROOT / "book" / "students"]:
        result = subprocess.run(
            [sys.executable, "tools/make_student_notebooks.py", str(target)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode != 0 and "refusing" in result.stderr
    assert not (ROOT / "book" / "students").exists()


def test_a_solution_that_lost_its_tag_stops_the_student_notebooks():
    from make_student_notebooks import student_version

    chapter = nbformat.read(CHAPTERS[1], as_version=4)
    solution = next(
        cell
        for cell in chapter.cells
        if "solution" in cell.metadata.get("tags", [])
    )
    untagged = copy.deepcopy(chapter)  # the tag lost in an edit
    untagged.cells[chapter.cells.index(solution)].metadata["tags"] = [
        "hide-input"
    ]
    with pytest.raises(ValueError, match="has no cell tagged `solution`"):
        student_version(untagged)
    moved = copy.deepcopy(chapter)  # the answer pasted into another cell
    moved.cells.append(nbformat.v4.new_code_cell(solution.source))
    with pytest.raises(ValueError, match="which an exercise asks for"):
        student_version(moved)


def test_a_workaround_that_stops_matching_makes_the_build_warn(monkeypatch):
    """Each workaround in tools/site_assets.py counts its changes; fed a page whose upstream markup changed, the
    build's end warns (and -W fails the build). The real build (tests/test_book.py) shows they all match today."""
    import types

    import site_assets

    page = {
        "body": '<summary aria-label="Toggle hidden content">Show code</summary>'
        '<div class="citation" id="cite-x" role="doc-biblioentry">',
        "script_files": ["a.js", "a.js"],
    }
    changed = {  # the same page after an upstream change: nothing to repair
        "body": '<summary aria-label="Show hidden content">Show code</summary>'
        '<div class="citation" id="cite-x" role="listitem">',
        "script_files": ["a.js"],
    }
    warnings = []
    monkeypatch.setattr(
        site_assets.logger,
        "warning",
        lambda message, **kwargs: warnings.append(message),
    )
    app = types.SimpleNamespace(
        builder=types.SimpleNamespace(format="html"),
        env=types.SimpleNamespace(found_docs={"index"}),
    )
    for context, expected in [
        (page, {"undeferred site.js"}),
        (changed, set(site_assets.WORKAROUNDS)),
    ]:
        site_assets.start_counting(app)
        site_assets.drop_duplicate_scripts(app, "index", None, context, None)
        site_assets.repair_page_accessibility(app, "index", None, context, None)
        assert set(site_assets.unmatched({"index"})) == expected
        warnings.clear()
        site_assets.warn_about_workarounds_that_matched_nothing(app, None)
        assert len(warnings) == len(expected)
        assert all("changed nothing in this build" in w for w in warnings)
    assert site_assets.unmatched({"index", "a page not written"}) == [], (
        "an incremental build does not warn"
    )
