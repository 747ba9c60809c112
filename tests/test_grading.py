"""Grading with otter-grader: tools/make_otter_assignments.py turns the chapters into otter assignments, and
tools/grade_submissions.py grades a class with `otter run`.

End to end, once, on chapter 3 (the quickest to execute): its solved notebook scores full marks, an untouched one
zero and a partly wrong one partial marks with the check's own message; printed text and redefined checks change
nothing; a broken or never-ending submission is reported and never stops the others. Every chapter's otter tests
are proved here to be that chapter's own checks, and tests/test_chapters.py runs them with otter's test runner in
each chapter's executed kernel (full marks when solved, none for each wrong answer), so no other chapter is
executed again for grading."""

import ast
import csv
import json
import pathlib
import re
import zipfile

import nbformat
import pytest

from conftest import CHAPTERS
from wrong_answers import WRONG_ANSWERS

import grade_submissions
import make_otter_assignments


def built(assignments, chapter):
    dist = assignments / chapter.stem / "dist"
    (autograder,) = (dist / "autograder").glob("*.zip")
    student = nbformat.read(dist / "student" / chapter.name, as_version=4)
    solved = nbformat.read(dist / "autograder" / chapter.name, as_version=4)
    return autograder, student, solved


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_every_chapter_becomes_an_otter_assignment_without_its_answers(
    otter_assignments, chapter
):
    autograder, student, _ = built(otter_assignments, chapter)
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


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_each_otter_test_runs_the_chapters_own_check_on_the_exercises_answer(
    otter_assignments, chapter
):
    """The hidden test of exercise N runs the chapter's helper and check cells, exactly as the chapter holds them,
    and grades the name the chapter's check cell of exercise N grades, with the check it uses."""
    autograder, _, _ = built(otter_assignments, chapter)
    full = nbformat.read(chapter, as_version=4)
    helpers, checks = make_otter_assignments.helper_and_check_sources(full)
    # (title, check, answer) of each give_feedback cell
    calls = [names for *_, names in make_otter_assignments.exercises(full)]
    with zipfile.ZipFile(autograder) as archive:
        for (name, title, answer), (
            chapter_title,
            check,
            chapter_answer,
        ) in zip(
            grade_submissions.exercises_of(autograder), calls, strict=True
        ):
            test = archive.read(f"tests/{name}.py").decode()
            (embedded,) = re.findall(
                r"exec\(compile\(('(?:[^'\\]|\\.)*'), ", test
            )
            assert ast.literal_eval(embedded) == helpers + "\n\n" + checks
            assert (title, answer) == (chapter_title, chapter_answer)
            assert f"namespace['{check}'], env.get('{answer}')" in test


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


@pytest.mark.slow
def test_otter_grades_a_chapter_solved_untouched_partly_wrong_and_broken(
    otter_assignments, tmp_path
):
    chapter = next(c for c in CHAPTERS if c.stem == "03_sparse")
    autograder, student, solved = built(otter_assignments, chapter)
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
        "solved": solved,
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

    rows = grade_submissions.main(autograder, paths, 900, csv_path, jobs=2)

    by_name = {pathlib.Path(row[0]).stem: row for row in rows}
    assert by_name["solved"][1:6] == [1, 1, 1, 3, "graded"], by_name["solved"]
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


@pytest.mark.slow
def test_a_submission_that_never_finishes_is_stopped_and_reported(
    otter_assignments, tmp_path
):
    chapter = next(c for c in CHAPTERS if c.stem == "03_sparse")
    autograder, student, _ = built(otter_assignments, chapter)
    looping = submission(student, {})
    looping.cells.insert(0, nbformat.v4.new_code_cell("while True:\n    pass"))
    path = tmp_path / "loops.ipynb"
    nbformat.write(looping, path)
    report = grade_submissions.grade(autograder, path, timeout=30)
    assert report["status"].startswith("not graded: it ran longer than 30 s"), (
        report
    )
    assert make_otter_assignments.chapter_requirements()
