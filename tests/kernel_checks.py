"""Checks that run inside a chapter's own kernel, after the chapter has run: tests/test_chapters.py appends them
to the chapter as code cells, so one execution of the chapter (its training paid once) serves them all.

- `probe_checks`: the student notebook's own helper and check cells, given each wrong answer of
  tests/wrong_answers.py, must print one line "❌ ..." with the expected phrase.
- `unsolved_verdicts`: each exercise cell as a student receives it (`...`) must get "⏳ ... not solved yet" from
  its check cell.
- `otter_verdicts`: each otter test (tools/make_otter_assignments.py) gives the solved chapter full marks, and
  zero with the check's own message to each wrong answer and to the untouched exercise.

This file's source travels in the appended cell (the chapter runs alone in an empty folder, as in Colab), so it
imports nothing of this repository. Each function returns the problems it found; the cell asserts there are none.
"""

import contextlib
import io


def printed_by(run):
    """What `run()` printed to stdout, and the exception it raised (or None)."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            run()
    except BaseException as error:  # a check must never raise: report it
        return buffer.getvalue(), error
    return buffer.getvalue(), None


def student_namespace(solved, helpers_source, checks_source):
    """The solved chapter's variables, with the student notebook's helper and check cells run over them."""
    namespace = dict(solved)
    exec(
        compile(helpers_source, "the student's helper cell", "exec"), namespace
    )
    exec(compile(checks_source, "the student's check cell", "exec"), namespace)
    return namespace


def probe_checks(solved, helpers_source, checks_source, wrong_answers):
    """Each (check, answer expression, expected phrase) through give_feedback, as a student's cell would call it."""
    namespace = student_namespace(solved, helpers_source, checks_source)
    problems = []
    for check, answer, expected in wrong_answers:
        said, error = printed_by(
            lambda: namespace["give_feedback"](
                "probe", namespace[check], eval(answer, namespace)
            )
        )
        if error is not None:
            problems.append(
                f"{check} given {answer}: raised {type(error).__name__}: {error}"
            )
        elif not (
            said.startswith("❌")
            and expected in said
            and "Traceback" not in said
            and said.count("\n") == 1
        ):
            problems.append(
                f"{check} given {answer}: said {said!r}; expected one line, ❌ and {expected!r}"
            )
    return problems


def unsolved_verdicts(solved, helpers_source, checks_source, exercises):
    """Each (title, exercise cell, check cell) of the student notebook: the check cell, run right after the
    untouched exercise cell, must say "⏳ <title>: not solved yet"."""
    problems = []
    for title, exercise_source, check_source in exercises:
        namespace = student_namespace(solved, helpers_source, checks_source)
        said, error = printed_by(lambda: exec(exercise_source, namespace))
        if error is None:
            said, error = printed_by(lambda: exec(check_source, namespace))
        if error is not None or not said.startswith(
            f"⏳ {title}: not solved yet"
        ):
            problems.append(
                f"{title}, untouched: said {said!r}"
                + (f", raised {type(error).__name__}: {error}" if error else "")
            )
    return problems


def otter_score(test_source, name, environment):
    """(score, message) of one otter test file run by otter itself over `environment`."""
    from otter.test_files.exception_test import ExceptionTestFile

    test = ExceptionTestFile.from_string(test_source, path=f"tests/{name}.py")
    test.run(environment)
    return test.score, "\n".join(
        result.message for result in test.test_case_results
    )


def otter_verdicts(solved, otter_tests):
    """otter_tests: [(test name, its source, answer name, exercise cell, [(answer, expected phrase)])]."""
    problems = []
    for name, source, answer_name, exercise_source, wrong in otter_tests:
        score, message = otter_score(source, name, dict(solved))
        if score != 1:
            problems.append(f"{name}, solved: scored {score}: {message}")
        untouched = dict(solved)
        exec(exercise_source, untouched)
        score, message = otter_score(source, name, untouched)
        if score != 0 or "not solved yet" not in message:
            problems.append(f"{name}, untouched: scored {score}: {message}")
        for answer, expected in wrong:
            environment = dict(solved)
            environment[answer_name] = eval(answer, environment)
            score, message = otter_score(source, name, environment)
            if score != 0 or "❌" not in message or expected not in message:
                problems.append(
                    f"{name} given {answer}: scored {score}: {message[-300:]}"
                )
    return problems
