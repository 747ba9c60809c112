"""Run students' notebooks and collect what each exercise's check said: a table for the instructor.

Usage:  python tools/collect_feedback.py SUBMISSION.ipynb [...] [--timeout SECONDS]

Each notebook is executed standalone, as in Colab, in an empty folder with a fresh kernel. An error in one cell
does not stop the run, so every check still gets its say. For each exercise the table shows ✅ (the check
passed), ❌ (it failed, with the check's one-line reason), ⏳ (not attempted) or "not run" (the check cell
produced nothing). The table is printed as markdown and written beside each submission as a .feedback.md file.

Submissions are students' code: run this in a container or an account that holds nothing you mind losing.
"""

import argparse
import pathlib

import nbformat
from nbclient.exceptions import CellTimeoutError

from notebooks import execute_standalone

CHECK_TAG = (
    "nbval-check-output"  # the cells that call give_feedback, one per exercise
)
VERDICTS = {"✅": "passed", "❌": "failed", "⏳": "not attempted"}


def printed(cell):
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.output_type == "stream" and output.name == "stdout"
    )


def feedback(notebook):
    """[(exercise, verdict, message)] from an executed notebook's check cells, in order."""
    results = []
    for number, cell in enumerate(
        (
            cell
            for cell in notebook.cells
            if CHECK_TAG in cell.metadata.get("tags", [])
        ),
        start=1,
    ):
        line = printed(cell).strip().splitlines()[-1:] or [""]
        symbol, _, rest = line[0].partition(" ")
        exercise, _, message = rest.partition(": ")
        if symbol in VERDICTS:
            results.append((exercise, VERDICTS[symbol], message))
            continue
        errors = [
            out for out in cell.get("outputs", []) if out.output_type == "error"
        ]
        reason = (
            f"the check cell raised {errors[0].ename}: {errors[0].evalue}"
            if errors
            else "the check cell printed nothing"
        )
        results.append((f"Exercise {number}", "not run", reason))
    return results


def table(rows):
    """A markdown table of feedback rows (a "|" in a message is escaped)."""
    lines = ["| exercise | verdict | feedback |", "|---|---|---|"]
    for row in rows:
        lines.append(
            "| "
            + " | ".join(str(cell).replace("|", "\\|") for cell in row)
            + " |"
        )
    return "\n".join(lines)


def main(paths, timeout):
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        try:
            execute_standalone(notebook, timeout=timeout, allow_errors=True)
        except CellTimeoutError:
            print(
                f"## {path.name}\n\nA cell ran longer than {timeout} s; checks after it did not run.\n"
            )
        report = f"## {path.name}\n\n{table(feedback(notebook))}\n"
        path.with_suffix(".feedback.md").write_text(report)
        print(report)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="+", type=pathlib.Path)
    parser.add_argument(
        "--timeout", type=int, default=600, help="seconds per cell"
    )
    arguments = parser.parse_args()
    missing = [
        str(path) for path in arguments.submissions if not path.is_file()
    ]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    main(arguments.submissions, arguments.timeout)
