"""Each chapter, as readers, students and instructors meet it.

One execution of each chapter serves every test that needs a trained kernel: nbval runs the notebook copied alone
into an empty folder (what Colab does), with a few cells appended (tests/kernel_checks.py). The same run proves it
is standalone, that every claim's check cell passes and that every solution passes its check (nbval compares those
cells' stored output, "✅ ..."); then, in the same kernel, the student notebook's own checks are given every wrong
answer and every untouched exercise, and otter's tests grade the solved chapter and every wrong answer. The student
notebook is proved equal to the chapter less its solutions and claim checks, cell by cell, without retraining.
"""

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from xml.etree import ElementTree

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
from make_otter_assignments import (
    FEEDBACK_CALL,
    helper_and_check_sources,
    exercises as exercises_of,
)
from make_student_notebooks import student_version
from wrong_answers import PROBES_PER_CHECK, WRONG_ANSWERS

KERNEL_CHECKS = ROOT / "tests" / "kernel_checks.py"
# the check an otter test runs (tools/make_otter_assignments.py writes the test)
OTTER_CHECK = re.compile(r"namespace\[['\"](check_\w+)['\"]\]")
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


def code_cell_count(notebook):
    return sum(cell.cell_type == "code" for cell in notebook.cells)


def appended_cells(chapter, otter_tests):
    """{what they check: cell} appended to the chapter, to run in its kernel after it (tests/kernel_checks.py)."""
    student = student_version(nbformat.read(chapter, as_version=4))
    helpers, checks = helper_and_check_sources(student)
    untouched = [
        (
            FEEDBACK_CALL.search(check.source)["exercise"],
            stub.source,
            check.source,
        )
        for stub, check in zip(
            cells_tagged(student, "exercise"), cells_tagged(student, CHECK_TAG)
        )
    ]
    wrong = WRONG_ANSWERS.get(chapter.stem, [])
    sources = {
        "kernel checks": KERNEL_CHECKS.read_text(),
        "wrong answers": f"problems = probe_checks(globals(), {helpers!r}, {checks!r}, {wrong!r})\n"
        "assert not problems, '\\n'.join(problems)\n"
        f"print('{len(wrong)} wrong answers: each got ❌ and its message')",
        "untouched exercises": f"problems = unsolved_verdicts(globals(), {helpers!r}, {checks!r}, {untouched!r})\n"
        "assert not problems, '\\n'.join(problems)\n"
        f"print('{len(untouched)} untouched exercises: each got ⏳')",
    }
    if otter_tests is not None:
        sources["otter tests"] = (
            f"problems = otter_verdicts(globals(), {otter_tests!r})\n"
            "assert not problems, '\\n'.join(problems)\n"
            f"print('{len(otter_tests)} otter tests: full marks when solved, none for each wrong answer')"
        )
    return {
        purpose: nbformat.v4.new_code_cell(
            f"# appended by tests/test_chapters.py: {purpose}\n{source}"
        )
        for purpose, source in sources.items()
    }


def cell_results(junit_xml):
    """{nbval cell number: None if it passed, else what went wrong} from nbval's JUnit report."""
    results = {}
    for case in ElementTree.parse(junit_xml).getroot().iter("testcase"):
        number = int(case.get("name").removeprefix("Cell "))
        problem = next(
            (
                (child.get("message") or "") + "\n" + (child.text or "")
                for child in case
                if child.tag in ("failure", "error", "skipped")
            ),
            None,
        )
        results[number] = problem
    return results


def run_chapter(chapter, folder, otter_tests):
    """The chapter, with the appended cells after it, through nbval once, copied alone into the empty `folder`
    (what Colab does): {"returncode", "output", "files", "chapter": {cell: problem}, "appended": {what: problem}}."""
    notebook = nbformat.read(chapter, as_version=4)
    first_appended = code_cell_count(notebook)
    appended = appended_cells(chapter, otter_tests)
    notebook.cells += list(appended.values())
    copy = folder / "notebook" / chapter.name
    copy.parent.mkdir()
    nbformat.write(notebook, copy)
    junit_xml = folder / "nbval.xml"
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
            str(copy.parent),
            f"--junitxml={junit_xml}",
            "-q",
            copy.name,
        ],
        cwd=copy.parent,
        env=environment,
        capture_output=True,
        text=True,
    )
    results = cell_results(junit_xml) if junit_xml.is_file() else {}
    not_run = "not run (nbval stopped: " + result.stdout[-3000:] + ")"
    return {
        "returncode": result.returncode,
        "output": result.stdout,
        "files": sorted(p.name for p in copy.parent.iterdir()),
        "chapter": {
            number: results.get(number, not_run)
            for number in range(first_appended)
        },
        "appended": {
            purpose: results.get(first_appended + offset, not_run)
            for offset, purpose in enumerate(appended)
        },
    }


EXECUTED_TESTS = [
    "test_chapter_passes_nbval_alone_in_an_empty_folder",
    "test_student_checks_answer_every_wrong_answer_with_its_message",
    "test_student_checks_say_an_untouched_exercise_is_not_solved_yet",
    "test_otter_tests_give_full_marks_when_solved_and_none_for_wrong_answers",
]


@pytest.fixture(scope="module")
def otter_tests(request):
    """{chapter name: [(test, source, answer name, exercise cell, [(wrong answer, phrase)])]} from the otter
    assignments, or None where otter-grader is not installed (Colab's versions: students' notebooks need none)."""
    if importlib.util.find_spec("otter") is None:
        return None
    import grade_submissions

    assignments = request.getfixturevalue("otter_assignments")
    found = {}
    for chapter in CHAPTERS:
        (autograder,) = (
            assignments / chapter.stem / "dist" / "autograder"
        ).glob("*.zip")
        stubs = {
            title: exercise.source
            for _, exercise, _, _, (title, _, _) in exercises_of(
                nbformat.read(chapter, as_version=4)
            )
        }
        with zipfile.ZipFile(autograder) as archive:
            found[chapter.stem] = [
                (
                    name,
                    source,
                    answer,
                    stubs[title],
                    [
                        (wrong, phrase)
                        for check, wrong, phrase in WRONG_ANSWERS.get(
                            chapter.stem, []
                        )
                        if check == OTTER_CHECK.search(source)[1]
                    ],
                )
                for name, title, answer in grade_submissions.exercises_of(
                    autograder
                )
                for source in [archive.read(f"tests/{name}.py").decode()]
            ]
    return found


@pytest.fixture(scope="module")
def chapter_runs(request, tmp_path_factory, otter_tests):
    """Every selected chapter executed once, two at a time (conftest.side_by_side), with the appended checks."""
    selected = chapters_selected_for(request, *EXECUTED_TESTS)
    # Folders made here, before the threads start: pytest's tmp_path_factory is not thread-safe (two
    # threads asking first for its base folder each make one, and mktemp then refuses its own path).
    folders = {
        chapter: tmp_path_factory.mktemp(chapter.stem) for chapter in selected
    }
    return side_by_side(
        lambda chapter: run_chapter(
            chapter,
            folders[chapter],
            None if otter_tests is None else otter_tests[chapter.stem],
        ),
        selected,
    )


def problems_in(results):
    return "\n\n".join(
        f"{where}: {problem[-3000:]}"
        for where, problem in results.items()
        if problem is not None
    )


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_chapter_passes_nbval_alone_in_an_empty_folder(chapter, chapter_runs):
    """Every cell runs, standalone, and each stored "✅" and claim check holds (nbval compares those outputs)."""
    run = chapter_runs[chapter]
    assert not problems_in(run["chapter"]), problems_in(run["chapter"])
    assert run["files"] == [chapter.name], "the chapter wrote files"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_student_checks_answer_every_wrong_answer_with_its_message(
    chapter, chapter_runs
):
    """The student notebook's own check cells, given every wrong answer of tests/wrong_answers.py in the trained
    kernel, print one line: ❌ and the phrase expected."""
    assert chapter.stem in WRONG_ANSWERS, (
        "list wrong answers for this chapter's checks in WRONG_ANSWERS"
    )
    problem = chapter_runs[chapter]["appended"]["wrong answers"]
    assert problem is None, problem


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_student_checks_say_an_untouched_exercise_is_not_solved_yet(
    chapter, chapter_runs
):
    problem = chapter_runs[chapter]["appended"]["untouched exercises"]
    assert problem is None, problem


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_otter_tests_give_full_marks_when_solved_and_none_for_wrong_answers(
    chapter, chapter_runs, otter_tests
):
    """Each exercise's otter test, run by otter's own test runner in the solved chapter's kernel: 1 point for the
    solution, 0 with the check's message for the untouched exercise and for every wrong answer."""
    if otter_tests is None:
        pytest.skip("otter-grader is not installed (Colab's versions)")
    assert len(otter_tests[chapter.stem]) == 3
    problem = chapter_runs[chapter]["appended"]["otter tests"]
    assert problem is None, problem


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
    assert "tests/test_chapters.py -m slow" in job
    assert "pytest tests/test_backend.py" in job
    # the job's -m selects this file's executed tests, the ones that hang off each chapter's one execution
    executed = [
        name
        for name, test in globals().items()
        if name.startswith("test_")
        and any(mark.name == "slow" for mark in getattr(test, "pytestmark", []))
    ]
    assert sorted(executed) == sorted(EXECUTED_TESTS)


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


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_student_notebook_is_the_chapter_without_solutions_and_claim_checks(
    chapter,
):
    """Cell by cell, by source: what a student receives is the chapter less its `solution` and `remove-cell`
    cells, outputs cleared. Its check cells are the ones the executed tests above probe."""
    full = nbformat.read(chapter, as_version=4)
    student = student_version(full)
    kept = [
        cell
        for cell in full.cells
        if not {"solution", "remove-cell"} & set(cell.metadata.get("tags", []))
    ]
    assert [(c.cell_type, c.source) for c in student.cells] == [
        (c.cell_type, c.source) for c in kept
    ]
    assert len(kept) < len(full.cells) - 3, "solutions and claim checks removed"
    assert not student.metadata.get("widgets")
    assert all(
        not cell.get("outputs")
        for cell in student.cells
        if cell.cell_type == "code"
    )
    assert all(
        cell.metadata.get("cellView") == "form"
        for cell in cells_tagged(student, "shared-helpers")
    ), "the helper cell stays collapsed in Colab"
    assert not any(
        "glue(" in cell.source
        for cell in student.cells
        if "shared-helpers" not in cell.metadata.get("tags", [])
    )
    _, checks_cell = helper_and_check_sources(full)
    probed = [check for check, _, _ in WRONG_ANSWERS.get(chapter.stem, [])]
    for check in re.findall(r"^def (check_\w+)\(", checks_cell, re.M):
        assert probed.count(check) >= PROBES_PER_CHECK, (
            f"probe {check} with {PROBES_PER_CHECK} wrong answers"
        )


def names_defined(source):
    """The names a cell binds at its top level: functions, classes, assignments, imports."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names
            }
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = (
                node.targets if isinstance(node, ast.Assign) else [node.target]
            )
            names |= {
                name.id
                for target in targets
                for name in ast.walk(target)
                if isinstance(name, ast.Name)
            }
    return names


def names_used(source):
    return {
        node.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_student_notebook_needs_no_solution_to_run(chapter):
    """Without executing it: no cell a student receives after a solution uses what that solution defined (other
    than the exercise's own check, which says "not solved yet"), so "Run all" works before anything is solved.
    The student's exercise cell binds the same names to its `...`, so a later cell would get no answer to use."""
    full = nbformat.read(chapter, as_version=4)
    defined_by_solutions, defined_by_student = set(), set()
    for cell in full.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        if "solution" in tags:
            defined_by_solutions |= names_defined(cell.source)
        elif "remove-cell" in tags or CHECK_TAG in tags:
            continue
        else:
            missing = (
                names_used(cell.source) & defined_by_solutions
            ) - defined_by_student
            assert not missing, (
                f"a student's cell uses {sorted(missing)}, which only a solution defines: {cell.source[:200]}"
            )
            if "exercise" not in tags:
                defined_by_student |= names_defined(cell.source)
