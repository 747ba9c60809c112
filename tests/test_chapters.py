"""Each chapter, as readers, students and instructors meet it.

One execution of each chapter does most of the work: nbval runs the notebook copied alone into an empty folder
(what Colab does), so the same run proves it is standalone, that every claim's check cell passes and that every
solution passes its check (nbval compares those cells' stored output, "✅ ...").
"""

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

import sync_prose
from conftest import (
    CHAPTERS,
    ROOT,
    chapter_ids,
    chapters_selected_for,
    side_by_side,
)
from make_student_notebooks import student_version
from notebooks import copy_alone
from wrong_answers import PROBES_PER_CHECK, WRONG_ANSWERS

CHECK_TAG = (
    "nbval-check-output"  # the cells that call give_feedback, one per exercise
)
VERDICTS = {"✅": "passed", "❌": "failed", "⏳": "not attempted"}


def printed(cell):
    """What a code cell printed (its stored or fresh stdout)."""
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.output_type == "stream" and output.name == "stdout"
    )


def feedback(notebook):
    """[(exercise, verdict)] from the lines an executed notebook's check cells printed."""
    results = []
    for cell in cells_tagged(notebook, CHECK_TAG):
        symbol, _, rest = printed(cell).strip().partition(" ")
        results.append(
            (rest.partition(": ")[0], VERDICTS.get(symbol, "not run"))
        )
    return results


def cells_tagged(notebook, tag):
    return [
        cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])
    ]


def nbval_alone(chapter, folder):
    """nbval on a copy of the chapter alone in `folder`: (return code, output, files left there)."""
    copy = copy_alone(chapter, folder)
    environment = {
        key: value for key, value in os.environ.items() if key != "PYTHONPATH"
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "--nbval-cell-timeout=900",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(folder),
            "-q",
            copy.name,
        ],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
    )
    return (
        result.returncode,
        result.stdout,
        sorted(p.name for p in folder.iterdir()),
    )


@pytest.fixture(scope="module")
def nbval_runs(request, tmp_path_factory):
    """Every selected chapter through nbval, two at a time (conftest.side_by_side)."""
    selected = chapters_selected_for(
        request, "test_chapter_passes_nbval_alone_in_an_empty_folder"
    )
    return side_by_side(
        lambda chapter: nbval_alone(
            chapter, tmp_path_factory.mktemp(chapter.stem)
        ),
        selected,
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_chapter_passes_nbval_alone_in_an_empty_folder(chapter, nbval_runs):
    returncode, output, files = nbval_runs[chapter]
    assert returncode == 0, output[-6000:]
    assert files == [chapter.name], "the chapter wrote files"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_chapter_has_three_exercises_with_hidden_solutions_and_checks(chapter):
    notebook = nbformat.read(chapter, as_version=4)
    exercises, solutions = (
        cells_tagged(notebook, "exercise"),
        cells_tagged(notebook, "solution"),
    )
    checks = cells_tagged(notebook, "nbval-check-output")
    assert len(exercises) >= 3 and len(solutions) == len(exercises) == len(
        checks
    )
    assert all("hide-input" in cell.metadata["tags"] for cell in solutions), (
        "solutions must be collapsed"
    )
    assert all("give_feedback(" in cell.source for cell in checks)
    assert all(printed(cell).startswith("✅") for cell in checks), (
        "every stored solution passes its check"
    )
    assert feedback(notebook) == [
        (f"Exercise {number}", "passed") for number in (1, 2, 3)
    ]
    for heading in ["(warm-up)", "(practice)", "(stretch)"]:
        assert any(
            heading in cell.source
            for cell in notebook.cells
            if cell.cell_type == "markdown"
        )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_stored_outputs_show_no_error_no_warning_and_no_local_path(chapter):
    notebook = nbformat.read(chapter, as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", cell.source[:200]
            assert not (
                output.output_type == "stream" and output.name == "stderr"
            ), output.text[:500]
            assert "/work/" not in json.dumps(
                output
            ) and "/tmp/" not in json.dumps(output)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_prose_is_plain_markdown_showing_the_numbers_the_code_computed(
    chapter,
):
    """Colab and Jupyter render Markdown, not MyST: the prose holds no role or directive, and each number in it is
    the value its code glued (tools/sync_prose.py writes them after each execution)."""
    notebook = nbformat.read(chapter, as_version=4)
    markdown = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    raw = {
        cell.source[:60]: sync_prose.raw_myst(cell.source)
        for cell in markdown
        if sync_prose.raw_myst(cell.source)
    }
    assert not raw, f"Colab would show these as typed: {raw}"
    assert sync_prose.stale_numbers(notebook) == [], (
        "run python tools/sync_prose.py"
    )
    assert (
        sum(len(sync_prose.NUMBER.findall(cell.source)) for cell in markdown)
        >= 20
    )
    for cell in notebook.cells:  # output shown as Markdown: the site renders it as CommonMark, without tables
        for output in cell.get("outputs", []):
            shown = output.get("data", {}).get("text/markdown", "")
            assert not re.search(r"^\s*\|.*\|\s*$", shown, re.M), shown[:200]


COLLAPSED_IN_COLAB = ["shared-helpers", "remove-cell", "reference-results"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_colab_opens_on_the_chapter_not_its_scaffolding(chapter):
    """The helper cell, the claim checks, the stored reference runs and the exercise checks show in Colab as one
    titled line (a form: `cellView: "form"` and `# @title`, as TensorFlow's notebooks do) and with their source
    hidden in JupyterLab; the site hides them by their tags. Only those cells glue values into the text."""
    notebook = nbformat.read(chapter, as_version=4)
    collapsed = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if set(tags) & set(COLLAPSED_IN_COLAB) or "def check_" in cell.source:
            assert cell.metadata.get("cellView") == "form", cell.source[:80]
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), (
                "collapsed in JupyterLab too: " + cell.source[:80]
            )
            assert cell.source.startswith("# @title "), cell.source[:80]
            collapsed += 1
        if "glue(" in cell.source and "shared-helpers" not in tags:
            assert "remove-cell" in tags, (
                "glue in a claim-check cell, not between the paragraphs: "
                + cell.source[:200]
            )
    assert collapsed >= 4


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_chapter_installs_nothing(chapter):
    """Colab's own TensorFlow, Keras and ipywidgets must do: no cell installs or upgrades a package."""
    notebook = nbformat.read(chapter, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for word in [
                "pip install",
                "%pip",
                "!pip",
                "conda install",
                "uv pip",
            ]:
                assert word not in cell.source, cell.source[:200]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_backend_is_chosen_before_keras_is_imported(chapter):
    """KERAS_BACKEND counts only before Keras's first import; the stored outputs ran on the chosen backend."""
    notebook = nbformat.read(chapter, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    chosen = re.search(
        r'os\.environ\.setdefault\("KERAS_BACKEND", "(\w+)"\)', first.source
    )
    assert chosen, "the first code cell must choose KERAS_BACKEND"
    assert chosen.start() < first.source.index("import keras")
    printed = "".join(output.get("text", "") for output in first.outputs)
    assert f", {chosen.group(1)} backend" in printed, printed


def test_ci_runs_every_chapter_on_colabs_versions():
    """Colab ships TensorFlow 2.20, Keras 3.13, ipywidgets 7.7.1: .ci/run runs each chapter on exactly those."""
    pins = (ROOT / ".ci" / "colab-requirements.txt").read_text().splitlines()
    for pin in [
        "tensorflow==2.20.",
        "keras==3.13.",
        "ipywidgets==7.7.1",
        "jax==0.7.",
    ]:
        assert any(line.startswith(pin) for line in pins), pin
    assert "bash .ci/colab-versions" in (ROOT / ".ci" / "run").read_text()
    job = (ROOT / ".ci" / "colab-versions").read_text()
    assert "-r .ci/colab-requirements.txt" in job
    assert 'tests/test_chapters.py -k "nbval_alone"' in job
    assert "pytest tests/test_backend.py" in job
    # the job's -k selects this file's standalone nbval test by name
    assert "test_chapter_passes_nbval_alone_in_an_empty_folder" in globals()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_every_figure_has_alt_text(chapter):
    notebook = nbformat.read(chapter, as_version=4)
    for cell in notebook.cells:
        if any(
            "image/png" in output.get("data", {})
            for output in cell.get("outputs", [])
        ):
            assert (
                cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
            ), cell.source[:200]
    widget_state = json.dumps(notebook.metadata.get("widgets", {}))
    assert widget_state.count("<img ") == widget_state.count(' alt=\\"')


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_student_notebook_holds_no_line_of_any_solution(chapter):
    """The checks leak no answer: the exercise-check cell and the helper cell a student receives hold no line of a
    solution's code (beyond what the chapter shows anyway), so the checks compare with stored values,
    constructions and properties, not with the solution's formula."""
    full = nbformat.read(chapter, as_version=4)

    def lines(cells):
        return {
            " ".join(line.split("#")[0].split())
            for cell in cells
            for line in cell.source.splitlines()
        }

    student = student_version(full).cells
    scaffolding = [
        cell
        for cell in student
        if cell.source.startswith("# @title Checks for the exercises")
        or "shared-helpers" in cell.metadata.get("tags", [])
    ]
    shown = lines(cell for cell in student if cell not in scaffolding)
    hidden = lines(scaffolding)
    for cell in cells_tagged(full, "solution"):
        for line in lines([cell]) - shown:
            if len(line) >= 20:
                assert not any(line in text for text in hidden), (
                    f"the checks show a line of the solution: {line!r}"
                )


def probe_cells(chapter):
    """One cell per wrong answer in WRONG_ANSWERS: its check given that answer."""
    return [
        nbformat.v4.new_code_cell(f'give_feedback("probe", {check}, {answer})')
        for check, answer, _ in WRONG_ANSWERS[chapter.stem]
    ]


def student_run(chapter, folder):
    """The chapter's student version with the probe cells added, executed standalone in a process of its own:
    (the executed notebook or None, what went wrong)."""
    student = student_version(nbformat.read(chapter, as_version=4))
    student.cells.extend(probe_cells(chapter))
    given, executed = folder / "student.ipynb", folder / "executed.ipynb"
    nbformat.write(student, given)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, nbformat; sys.path.insert(0, sys.argv[1]); "
            "from notebooks import execute_standalone; "
            "notebook = nbformat.read(sys.argv[2], as_version=4); "
            "execute_standalone(notebook); nbformat.write(notebook, sys.argv[3])",
            str(ROOT / "tools"),
            str(given),
            str(executed),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        return None, result.stderr[-6000:]
    return nbformat.read(executed, as_version=4), ""


@pytest.fixture(scope="module")
def student_runs(request, tmp_path_factory):
    """Every selected chapter's student version, executed two at a time (conftest.side_by_side)."""
    selected = chapters_selected_for(
        request,
        "test_student_version_runs_and_its_checks_give_feedback_without_crashing",
    )
    return side_by_side(
        lambda chapter: student_run(
            chapter, tmp_path_factory.mktemp(f"student-{chapter.stem}")
        ),
        selected,
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_student_version_runs_and_its_checks_give_feedback_without_crashing(
    chapter, student_runs
):
    assert chapter.stem in WRONG_ANSWERS, (
        "list wrong answers for this chapter's checks in WRONG_ANSWERS"
    )
    full = nbformat.read(chapter, as_version=4)
    checks_cell = next(
        cell.source
        for cell in full.cells
        if cell.source.startswith("# @title Checks for the exercises")
    )
    probed = [check for check, _, _ in WRONG_ANSWERS[chapter.stem]]
    for check in re.findall(r"^def (check_\w+)\(", checks_cell, re.M):
        assert probed.count(check) >= PROBES_PER_CHECK, (
            f"probe {check} with {PROBES_PER_CHECK} wrong answers"
        )
    student = student_version(full)
    assert not cells_tagged(student, "solution") and not student.metadata.get(
        "widgets"
    )
    assert not cells_tagged(student, "remove-cell"), "claim checks are left"
    assert all(
        cell.metadata.get("cellView") == "form"
        for cell in cells_tagged(student, "shared-helpers")
    ), "the helper cell stays collapsed in Colab"
    assert not any(
        "glue(" in cell.source
        for cell in student.cells
        if "shared-helpers" not in cell.metadata.get("tags", [])
    )
    student_code = "\n".join(cell.source for cell in student.cells)
    for solution in cells_tagged(full, "solution"):
        assert solution.source not in student_code, "a solution is left"
    assert all(
        not cell.get("outputs")
        for cell in student.cells
        if cell.cell_type == "code"
    )

    executed, problem = student_runs[chapter]
    assert executed is not None, problem
    probes = executed.cells[len(student.cells) :]
    assert [cell.source for cell in probes] == [
        cell.source for cell in probe_cells(chapter)
    ]
    for check in cells_tagged(executed, CHECK_TAG):
        assert printed(check).startswith("⏳") and "not solved yet" in printed(
            check
        ), printed(check)
    assert [verdict for _, verdict in feedback(executed)] == [
        "not attempted"
    ] * 3
    for probe, (_, answer, expected) in zip(
        probes, WRONG_ANSWERS[chapter.stem]
    ):
        said = printed(probe)
        assert (
            said.startswith("❌")
            and expected in said
            and "Traceback" not in said
            and said.count("\n") == 1
        ), f"{answer}: {said}"
