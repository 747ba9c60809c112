"""The checks tests/test_chapters.py appends to each chapter (tests/kernel_checks.py) can fail: given a wrong answer
a check accepts, a phrase it does not say, an exercise that is already solved, or an otter test that passes what it
should not, each reports the problem. Quick: a toy check here, chapter 3's real otter test there."""

import zipfile

import numpy as np
import pytest

import grade_submissions
import kernel_checks
from conftest import CHAPTERS, ROOT

HELPERS = (ROOT / "tools" / "shared_cells" / "helpers.py").read_text()
CHECKS = """
def check_square(square):
    for x in [2, 3, -4]:
        if answer_of(square, x) != x * x:
            raise Feedback(f"for {x} expected {x * x}.")
    return "right for 2, 3 and -4."
"""
CHECK_CELL = 'give_feedback("Exercise 1", check_square, square)'


def test_probes_pass_only_when_every_wrong_answer_gets_its_message():
    solved = {"square": lambda x: x * x}
    assert not kernel_checks.probe_checks(
        solved,
        HELPERS,
        CHECKS,
        [("check_square", "lambda x: x + x", "for 3 expected 9")],
    )
    for wrong_answers in [
        # the check accepts it: no ❌
        [("check_square", "lambda x: x ** 2", "expected")],
        # ❌, but not with the phrase expected
        [("check_square", "lambda x: x + x", "did you forget `return`?")],
        # the probe itself cannot be evaluated
        [("check_square", "no_such_name", "expected")],
    ]:
        problems = kernel_checks.probe_checks(
            solved, HELPERS, CHECKS, wrong_answers
        )
        assert len(problems) == 1, problems


def test_untouched_exercises_must_say_not_solved_yet():
    stub = "def square(x):\n    return ..."
    assert not kernel_checks.unsolved_verdicts(
        {}, HELPERS, CHECKS, [("Exercise 1", stub, CHECK_CELL)]
    )
    solved_stub = "def square(x):\n    return x * x"
    (problem,) = kernel_checks.unsolved_verdicts(
        {}, HELPERS, CHECKS, [("Exercise 1", solved_stub, CHECK_CELL)]
    )
    assert "✅ Exercise 1" in problem


@pytest.fixture(scope="module")
def sparse_exercise_2(otter_assignments):
    """Chapter 3's real otter test of exercise 2 (active_fraction)."""
    chapter = next(c for c in CHAPTERS if c.stem == "03_sparse")
    (autograder,) = (
        otter_assignments / chapter.stem / "dist" / "autograder"
    ).glob("*.zip")
    name, _, answer = grade_submissions.exercises_of(autograder)[1]
    with zipfile.ZipFile(autograder) as archive:
        return name, archive.read(f"tests/{name}.py").decode(), answer


def test_otter_verdicts_fail_when_the_grade_is_not_the_one_expected(
    sparse_exercise_2,
):
    name, source, answer = sparse_exercise_2
    assert answer == "active_fraction"
    stub = "def active_fraction(codes, threshold):\n    return ..."
    right = "lambda codes, threshold: (codes > threshold).mean(axis=1)"
    percentage = (
        "lambda codes, threshold: 100 * (codes > threshold).mean(axis=1)"
    )
    solved = {"np": np, answer: eval(right, {"np": np})}

    def verdicts(solved, wrong):
        return kernel_checks.otter_verdicts(
            solved, [(name, source, answer, stub, wrong)]
        )

    assert not verdicts(solved, [(percentage, "not a percentage")])
    # a "wrong" answer the test passes, and one failed with another message
    assert len(verdicts(solved, [(right, "")])) == 1
    assert len(verdicts(solved, [(percentage, "did you forget")])) == 1
    # a solution the test fails gets no full marks
    wrongly_solved = {**solved, answer: eval(percentage, {"np": np})}
    (problem,) = verdicts(wrongly_solved, [])
    assert "solved: scored 0" in problem
