"""The instructors' tools, on small notebooks made here."""

import subprocess
import sys

import nbformat

from conftest import ROOT


def test_collect_feedback_runs_past_errors_and_tabulates_each_check(tmp_path):
    check = {"tags": ["nbval-check-output"]}
    cells = [
        nbformat.v4.new_code_cell(
            'print("✅ Exercise 1: right.")', metadata=check
        ),
        nbformat.v4.new_code_cell("undefined_name"),  # a student's broken cell
        nbformat.v4.new_code_cell(
            'print("❌ Exercise 2: expected shape (5,).")', metadata=check
        ),
        nbformat.v4.new_code_cell(
            'print("⏳ Exercise 3: not solved yet.")', metadata=check
        ),
        nbformat.v4.new_code_cell("solution_of_exercise_4()", metadata=check),
    ]
    submission = tmp_path / "alice.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), submission)

    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "collect_feedback.py"),
            str(submission),
        ],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    report = (tmp_path / "alice.feedback.md").read_text()
    assert report in result.stdout
    assert "| Exercise 1 | passed | right. |" in report
    assert "| Exercise 2 | failed | expected shape (5,). |" in report
    assert "| Exercise 3 | not attempted | not solved yet. |" in report
    assert "| Exercise 4 | not run | the check cell raised NameError" in report


def test_collect_feedback_says_which_file_is_missing(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "collect_feedback.py"),
            str(tmp_path / "nope.ipynb"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert (
        "no such notebook" in result.stderr and "Traceback" not in result.stderr
    )
