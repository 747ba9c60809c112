"""The exercise feedback every chapter shares (tools/shared_cells/helpers.py): whatever a student's code does, the
check answers in one short line, never a traceback, and never hangs."""

import sys

import pytest

from conftest import ROOT

HELPERS = ROOT / "tools" / "shared_cells" / "helpers.py"


@pytest.fixture(scope="module")
def helpers():
    namespace = {"__name__": "helpers"}
    exec(compile(HELPERS.read_text(), str(HELPERS), "exec"), namespace)
    namespace["SECONDS_PER_CALL"] = 1  # the limit, shortened for the test
    return namespace


def feedback_on(helpers, capsys, student_function, check=None):
    """What give_feedback prints for `student_function` under a check that calls it with 3."""

    def default_check(function):
        answer = helpers["answer_of"](function, 3)
        if answer != 9:
            raise helpers["Feedback"](f"for 3 expected 9, got {answer!r}.")
        return "right."

    helpers["give_feedback"](
        "Exercise 1", check or default_check, student_function
    )
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1, printed  # one line
    return printed.strip()


def loop_for_ever(x):
    while True:
        pass


def loop_catching_everything(x):
    while True:
        try:
            sum(range(1000))
        except Exception:
            pass


def raise_long_coloured_error(x):
    raise ValueError("\x1b[31mbad\x1b[0m\n" + "x" * 1_000_000)


def forget_return(x):
    x * x


@pytest.mark.parametrize(
    "student_function, expected",
    [
        (lambda x: x * x, "✅ Exercise 1: right."),
        (lambda x: x + x, "❌ Exercise 1: for 3 expected 9, got 6."),
        (lambda x: ..., "⏳ Exercise 1: not solved yet"),
        (
            forget_return,
            "❌ Exercise 1: your function returned None: did you forget `return`?",
        ),
        (
            loop_for_ever,
            "❌ Exercise 1: your code ran for more than 1 s and was stopped",
        ),
        (
            loop_catching_everything,
            "❌ Exercise 1: your code ran for more than 1 s",
        ),
        (lambda x: sys.exit(0), "❌ Exercise 1: your code called exit()"),
        (lambda x: exit(), "❌ Exercise 1: your code called exit()"),
        (
            lambda x: (_ for _ in ()).throw(KeyboardInterrupt),
            "❌ Exercise 1: your code was interrupted.",
        ),
        (
            lambda x: 1 / 0,
            "❌ Exercise 1: your code raised ZeroDivisionError: division by zero",
        ),
        (
            raise_long_coloured_error,
            "❌ Exercise 1: your code raised ValueError: bad x",
        ),
    ],
)
def test_any_student_code_gets_one_short_line(
    helpers, capsys, student_function, expected
):
    line = feedback_on(helpers, capsys, student_function)
    assert line.startswith(expected), line
    assert "\x1b" not in line and "Traceback" not in line
    assert len(line) <= helpers["LONGEST_MESSAGE"]


def test_an_error_in_the_check_is_not_blamed_on_the_students_code(
    helpers, capsys
):
    def check_that_misuses_the_answer(function):
        return helpers["answer_of"](function, 3).shape  # an int has no shape

    line = feedback_on(
        helpers, capsys, lambda x: x * x, check_that_misuses_the_answer
    )
    assert line.startswith("❌ Exercise 1: the check could not use your answer")
    assert "your code raised" not in line


def test_the_time_limit_is_lifted_after_each_call(helpers, capsys):
    import signal
    import time

    feedback_on(helpers, capsys, lambda x: x * x)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    time.sleep(1.2)  # no alarm goes off later


def test_graders_get_the_verdict_the_student_sees_without_reading_printed_text(
    helpers, capsys
):
    """tools/make_otter_assignments.py grades with `verdict`; `give_feedback` prints the same verdict."""

    def check(function):
        if helpers["answer_of"](function, 3) != 9:
            raise helpers["Feedback"]("for 3 expected 9.")
        return "right."

    for student_function, symbol in [
        (lambda x: x * x, "✅"),
        (lambda x: x + x, "❌"),
        (lambda x: ..., "⏳"),
        (lambda x: print("✅ Exercise 1: right.") or 6, "❌"),
    ]:
        said, message = helpers["verdict"](check, student_function)
        assert said == symbol, message
        capsys.readouterr()
        helpers["give_feedback"]("Exercise 1", check, student_function)
        printed = capsys.readouterr().out.strip().splitlines()
        assert printed[-1] == f"{said} Exercise 1: {message}", printed
