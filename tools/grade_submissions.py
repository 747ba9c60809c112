"""Grade a class's notebooks with otter-grader, one at a time, and write what each check said: a table per student
and a CSV for the gradebook.

Usage:  python tools/grade_submissions.py AUTOGRADER.zip SUBMISSION.ipynb [...] [--timeout SECONDS] [--csv FILE]
                                          [--jobs N]

AUTOGRADER.zip comes from tools/make_otter_assignments.py. Each submission is copied alone into a fresh temporary
folder and graded there by `otter run` in its own process (its own Jupyter kernel), which executes the notebook and
then runs each exercise's check on the student's function: verdicts never come from what the notebook prints. This
script adds what `otter run` lacks for a class: one broken submission (invalid JSON, a kernel that dies, a run over
the time limit) is reported and the others are still graded; a notebook of another chapter, or one whose exercise
or check cell was deleted, is named as such; each student gets SUBMISSION.feedback.md beside the notebook, and the
class gets a CSV (default grades.csv). `--jobs 2` grades two submissions at a time (each `otter run` gets an equal
share of the cores for its BLAS thread pool), which pays on a machine with 2 cores or more.

With Docker, `otter grade -a AUTOGRADER.zip submissions/` grades in containers instead (see the instructors' page).
Submissions are students' code: without a container, run this in an account that holds nothing you mind losing.
"""

import argparse
import ast
import concurrent.futures
import csv
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile

import nbformat

TEST_ANSWER = re.compile(r"env\.get\(['\"](\w+)['\"]\)")
TEST_TITLE = re.compile(r"\"\"\"(Exercise \d+):")
VERDICT_LINE = re.compile(r"([✅❌⏳] Exercise \d+: .*)")
# ast.parse from two threads at once can fail on Python 3.11.7 ("SystemError: AST constructor recursion
# depth mismatch", CPython gh-106905); the tests grade two notebooks at a time from threads
PARSING = threading.Lock()
PRINTING = threading.Lock()


def exercises_of(autograder):
    """[(test name, exercise title, the function it grades)] from an autograder zip, in order."""
    found = []
    with zipfile.ZipFile(autograder) as archive:
        for name in sorted(archive.namelist()):
            if name.startswith("tests/") and name.endswith(".py"):
                text = archive.read(name).decode()
                found.append(
                    (
                        pathlib.Path(name).stem,
                        TEST_TITLE.search(text).group(1),
                        TEST_ANSWER.search(text).group(1),
                    )
                )
    return found


def defined_names(notebook):
    """Every name a code cell defines at its top level (cells that do not parse are skipped)."""
    names = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            with PARSING:
                tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def one_line(text, limit=200):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# the thread pools of NumPy's and scikit-learn's libraries: two gradings at once each get a share of the cores
THREAD_POOL_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)


def grade(autograder, submission, timeout, threads=None):
    """{"status": ..., "notes": [...], "results": {title: (score, message)}} for one submission; `threads`: the
    BLAS/OpenMP threads its kernel may use (None: as this process's environment says)."""
    exercises = exercises_of(autograder)
    report = {"status": "graded", "notes": [], "results": {}}
    try:
        notebook = nbformat.read(submission, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:
        report["status"] = one_line(
            f"not graded: not a valid notebook ({type(error).__name__}: {error})"
        )
        return report
    names = defined_names(notebook)
    if not names & {answer for _, _, answer in exercises}:
        report["status"] = one_line(
            "not graded: not this assignment's notebook (it defines none of "
            + ", ".join(answer for _, _, answer in exercises)
            + ")"
        )
        return report
    sources = "\n".join(cell.source for cell in notebook.cells)
    for _, title, answer in exercises:
        if answer not in names:
            report["notes"].append(
                f"{title}: the cell defining `{answer}` was deleted"
            )
        if f'give_feedback("{title}"' not in sources:
            report["notes"].append(
                f"{title}: its check cell was deleted (graded all the same)"
            )
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        copy = folder / "submission.ipynb"
        nbformat.write(notebook, copy)
        (folder / "results").mkdir()
        command = [
            str(pathlib.Path(sys.executable).with_name("otter")),
            "run",
            "--no-logo",
            "-a",
            str(pathlib.Path(autograder).resolve()),
            "-o",
            "results",
            copy.name,
        ]
        process = subprocess.Popen(
            command,
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={
                **os.environ,
                **dict.fromkeys(
                    THREAD_POOL_VARIABLES if threads else (), str(threads)
                ),
            },
            start_new_session=True,  # its kernel too, so a timeout stops both
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            report["status"] = (
                f"not graded: it ran longer than {timeout} s and was stopped"
            )
            return report
        results = folder / "results" / "results.json"
        if not results.is_file():
            last = [line for line in output.splitlines() if line.strip()][-1:]
            report["status"] = one_line(
                "not graded: otter could not run it (the kernel may have died): "
                + (last[0] if last else f"exit status {process.returncode}")
            )
            return report
        tests = {
            test["name"]: test
            for test in json.loads(results.read_text())["tests"]
        }
    for name, title, _ in exercises:
        test = tests.get(name, {})
        score = test.get("score", 0) or 0
        said = VERDICT_LINE.search(test.get("output", ""))
        message = (
            said.group(1).split(": ", 1)[1]
            if said
            else ("passed" if score else "not graded")
        )
        report["results"][title] = (score, one_line(message))
    return report


def markdown(submission, exercises, report):
    lines = [f"## {submission.name}", "", f"Status: {report['status']}", ""]
    lines += [f"- {note}" for note in report["notes"]]
    if report["results"]:
        lines += ["", "| exercise | points | feedback |", "|---|---|---|"]
        for _, title, _ in exercises:
            score, message = report["results"][title]
            lines.append(
                f"| {title} | {score:g} | {message.replace('|', chr(92) + '|')} |"
            )
    return "\n".join(lines) + "\n"


def main(autograder, submissions, timeout, csv_path, jobs=1):
    exercises = exercises_of(autograder)
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    done = 0

    def graded(submission):
        nonlocal done
        report = grade(autograder, submission, timeout, threads)
        text = markdown(submission, exercises, report)
        submission.with_suffix(".feedback.md").write_text(text)
        scores = [
            report["results"].get(title, (0, ""))[0]
            for _, title, _ in exercises
        ]
        with PRINTING:  # one report at a time on the terminal
            done += 1
            print(f"[{done}/{len(submissions)}] {text}", flush=True)
        return [str(submission), *scores, sum(scores), report["status"]] + [
            "; ".join(report["notes"])
        ]

    print(
        f"grading {len(submissions)} submissions, {jobs} at a time ...",
        flush=True,
    )
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        rows = list(pool.map(graded, submissions))  # in the order given
    with open(csv_path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["submission", *(title for _, title, _ in exercises)]
            + ["total", "status", "notes"]
        )
        writer.writerows(rows)
    print(f"wrote {csv_path}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("autograder", type=pathlib.Path)
    parser.add_argument("submissions", nargs="+", type=pathlib.Path)
    parser.add_argument(
        "--timeout",
        type=int,
        default=900,
        help="seconds per submission (default 900)",
    )
    parser.add_argument("--csv", type=pathlib.Path, default="grades.csv")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="submissions graded at a time (default 1)",
    )
    arguments = parser.parse_args()
    missing = [
        str(path)
        for path in [arguments.autograder, *arguments.submissions]
        if not path.is_file()
    ]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    main(
        arguments.autograder,
        arguments.submissions,
        arguments.timeout,
        arguments.csv,
        max(1, arguments.jobs),
    )
