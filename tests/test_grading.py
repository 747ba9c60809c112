"""Grading with otter-grader, end to end, with the real tool: tools/make_otter_assignments.py turns the chapters
into otter assignments, and tools/grade_submissions.py grades a class with `otter run`, one submission at a time.

Every chapter's solved notebook scores full marks; an untouched one scores zero and a partly wrong one partial
marks with the check's own message; printed text and redefined checks change nothing; a broken submission is
reported and never stops the others (these use chapter 3, the quickest to execute)."""

import csv
import json
import pathlib
import subprocess
import sys
import zipfile

import nbformat
import pytest

from conftest import CHAPTERS, ROOT, chapters_selected_for, side_by_side
from wrong_answers import WRONG_ANSWERS

import grade_submissions
import make_otter_assignments


@pytest.fixture(scope="module")
def assignments(tmp_path_factory):
    folder = tmp_path_factory.mktemp("otter")
    result = subprocess.run(
        [sys.executable, "tools/make_otter_assignments.py", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder


def built(assignments, chapter):
    dist = assignments / chapter.stem / "dist"
    (autograder,) = (dist / "autograder").glob("*.zip")
    student = nbformat.read(dist / "student" / chapter.name, as_version=4)
    solved = nbformat.read(dist / "autograder" / chapter.name, as_version=4)
    return autograder, student, solved


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_every_chapter_becomes_an_otter_assignment_without_its_answers(
    assignments, chapter
):
    autograder, student, _ = built(assignments, chapter)
    full = nbformat.read(chapter, as_version=4)
    exercises = grade_submissions.exercises_of(autograder)
    assert [title for _, title, _ in exercises] == [
        "Exercise 1",
        "Exercise 2",
        "Exercise 3",
    ]
    with zipfile.ZipFile(autograder) as archive:
        for name in [f"tests/{test}.py" for test, _, _ in exercises]:
            assert "verdict" in archive.read(name).decode()
        assert "tensorflow" in archive.read("environment.yml").decode()
    student_text = json.dumps(student)
    for cell in full.cells:
        tags = cell.metadata.get("tags", [])
        if "solution" in tags or "remove-cell" in tags:
            assert cell.source not in student_text, cell.source[:200]
    assert "exec(" not in json.dumps(student.metadata), "tests leak"
    stubs = [
        c for c in student.cells if "exercise" in c.metadata.get("tags", [])
    ]
    assert len(stubs) == 3 and all("..." in c.source for c in stubs)
    assert not any(
        c.get("outputs") for c in student.cells if c.cell_type == "code"
    )


@pytest.fixture(scope="module")
def full_marks_reports(request, assignments, tmp_path_factory):
    """Each selected chapter's solved notebook graded by `otter run`, two at a time (conftest.side_by_side)."""

    def grade_solved(chapter):
        autograder, _, solved = built(assignments, chapter)
        path = tmp_path_factory.mktemp(chapter.stem) / chapter.name
        nbformat.write(solved, path)
        return grade_submissions.grade(autograder, path, timeout=900)

    selected = chapters_selected_for(
        request, "test_otter_gives_a_solved_chapter_full_marks"
    )
    return side_by_side(grade_solved, selected)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_otter_gives_a_solved_chapter_full_marks(chapter, full_marks_reports):
    """The autograder's own solved notebook, graded by `otter run`: each exercise's check passes in otter too."""
    report = full_marks_reports[chapter]
    assert report["status"] == "graded" and not report["notes"], report
    assert [score for score, _ in report["results"].values()] == [1, 1, 1], (
        report
    )


def submission(student, answers, extra=()):
    """The student notebook with some exercise cells replaced, and extra cells at the end."""
    notebook = nbformat.from_dict(json.loads(json.dumps(student)))
    stubs = [
        c for c in notebook.cells if "exercise" in c.metadata.get("tags", [])
    ]
    for index, source in answers.items():
        stubs[index].source = source
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in extra]
    return notebook


def test_otter_grades_a_chapter_untouched_partly_wrong_and_broken(
    assignments, tmp_path
):
    chapter = next(c for c in CHAPTERS if c.stem == "03_sparse")
    autograder, student, _ = built(assignments, chapter)
    full = nbformat.read(chapter, as_version=4)
    solution = [
        c.source for c in full.cells if "solution" in c.metadata.get("tags", [])
    ]
    wrong = next(
        a
        for check, a, _ in WRONG_ANSWERS["03_sparse"]
        if check == "check_active_fraction"
    )
    expected_message = next(
        m for check, a, m in WRONG_ANSWERS["03_sparse"] if a == wrong
    )
    notebooks = {
        "untouched": student,
        # exercise 1 right, 2 wrong, 3 untouched; the student prints a pass and redefines the checks
        "partly": submission(
            student,
            {0: solution[0], 1: f"active_fraction = {wrong}"},
            extra=[
                'print("✅ Exercise 2: right.")',
                "give_feedback = lambda *args: print('✅')\n"
                "verdict = lambda check, answer: ('✅', 'right')\n"
                "check_keep_top_k = lambda answer: 'right'",
            ],
        ),
        "stops_python": submission(student, {}, extra=[]),
        "other_chapter": nbformat.read(CHAPTERS[0], as_version=4),
    }
    notebooks["stops_python"].cells.insert(
        0, nbformat.v4.new_code_cell("import os\nos._exit(1)")
    )
    paths = []
    for name, notebook in notebooks.items():
        paths.append(tmp_path / f"{name}.ipynb")
        nbformat.write(notebook, paths[-1])
    paths.append(tmp_path / "not_json.ipynb")
    paths[-1].write_text('{"cells": [')
    csv_path = tmp_path / "grades.csv"

    rows = grade_submissions.main(autograder, paths, 900, csv_path)

    by_name = {pathlib.Path(row[0]).stem: row for row in rows}
    assert by_name["untouched"][1:5] == [0, 0, 0, 0], by_name["untouched"]
    assert by_name["partly"][1:5] == [1, 0, 0, 1], by_name["partly"]
    report = (tmp_path / "partly.feedback.md").read_text()
    assert expected_message in report and "not solved yet" in report, report
    assert "not solved yet" in (tmp_path / "untouched.feedback.md").read_text()
    for name, phrase in [
        ("stops_python", "not graded"),
        ("other_chapter", "not this assignment's notebook"),
        ("not_json", "not a valid notebook"),
    ]:
        assert by_name[name][4] == 0 and phrase in by_name[name][5], by_name[
            name
        ]
        assert phrase in (tmp_path / f"{name}.feedback.md").read_text()
    with open(csv_path) as file:
        table = list(csv.reader(file))
    assert table[0][:5] == [
        "submission",
        "Exercise 1",
        "Exercise 2",
        "Exercise 3",
        "total",
    ]
    assert len(table) == 1 + len(paths)


def test_a_submission_that_never_finishes_is_stopped_and_reported(
    assignments, tmp_path
):
    chapter = next(c for c in CHAPTERS if c.stem == "03_sparse")
    autograder, student, _ = built(assignments, chapter)
    looping = submission(student, {})
    looping.cells.insert(0, nbformat.v4.new_code_cell("while True:\n    pass"))
    path = tmp_path / "loops.ipynb"
    nbformat.write(looping, path)
    report = grade_submissions.grade(autograder, path, timeout=30)
    assert report["status"].startswith("not graded: it ran longer than 30 s"), (
        report
    )
    assert make_otter_assignments.chapter_requirements()
