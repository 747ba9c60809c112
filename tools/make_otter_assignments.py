"""Turn chapters into otter-grader assignments: a student notebook and an autograder (Gradescope or `otter run`).

Usage:  python tools/make_otter_assignments.py [OUTPUT_FOLDER] [CHAPTER.ipynb ...]   (default: _build/otter, all)

For each chapter this writes otter's master format (one question per exercise: its prompt, the `...` cell as the
prompt code, the solution, and one hidden test) to OUTPUT_FOLDER/<chapter>/master.ipynb and runs `otter assign`
on it, which writes OUTPUT_FOLDER/<chapter>/dist/student/<chapter>.ipynb for the students and
OUTPUT_FOLDER/<chapter>/dist/autograder/<chapter>-autograder_*.zip for grading. The student notebook is the
chapter without its solutions and claim checks, as tools/make_student_notebooks.py writes it.

Each test runs the chapter's own check on the student's function, with the helper cell and the checks cell
taken from the chapter, not from the student's notebook: a student who redefines `give_feedback` or a check, or
prints "✅", changes nothing. The chapter's package ranges (requirements.txt) go into the autograder.
"""

import pathlib
import re
import subprocess
import sys

import nbformat
import yaml

from make_student_notebooks import solution_problems
from notebooks import BOOK, ROOT, chapters

CHECKS_TITLE = "# @title Checks for the exercises"
FEEDBACK_CALL = re.compile(
    r'give_feedback\(\s*"(?P<exercise>[^"]+)",\s*(?P<check>check_\w+),\s*(?P<answer>\w+)\s*\)'
)
TEST = '''def test_{name}(env):
    """{exercise}: the chapter's own check, run on the student's `{answer}`."""
    namespace = dict(env)  # the chapter's data and models, as the notebook left them
    exec(compile({source!r}, "checks", "exec"), namespace)
    symbol, message = namespace["verdict"](namespace["{check}"], env.get("{answer}"))
    assert symbol == "\u2705", f"{{symbol}} {exercise}: {{message}}"

test_{name}(env)
'''


def chapter_requirements():
    """The packages the chapters import, with their ranges, from requirements.txt's "The chapters" section."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    start = lines.index("# The chapters") + 1
    section = lines[start : lines.index("", start)]
    # each line without its comment; comment lines left out
    packages = [line.split("#")[0].strip() for line in section]
    return [package for package in packages if package]


def raw(text):
    return nbformat.v4.new_raw_cell(text)


def exercises(notebook):
    """[(prompt cell, exercise cell, solution cell, check cell, (exercise, check, answer))] in order."""
    cells = notebook.cells
    found = []
    for index, cell in enumerate(cells):
        if "exercise" not in cell.metadata.get("tags", []):
            continue
        prompt = next(
            c for c in reversed(cells[:index]) if c.cell_type == "markdown"
        )
        solution, check = cells[index + 1], cells[index + 2]
        call = FEEDBACK_CALL.search(check.source)
        if "solution" not in solution.metadata.get("tags", []) or not call:
            raise ValueError(
                f"exercise {len(found) + 1}: expected its solution, then its give_feedback cell"
            )
        found.append(
            (
                prompt,
                cell,
                solution,
                check,
                (call["exercise"], call["check"], call["answer"]),
            )
        )
    return found


def helper_and_check_sources(notebook):
    """The sources of a chapter's shared-helpers cell and of its cell of exercise checks: what every check needs."""
    helpers = next(
        c.source
        for c in notebook.cells
        if "shared-helpers" in c.metadata.get("tags", [])
    )
    checks = next(
        c.source for c in notebook.cells if c.source.startswith(CHECKS_TITLE)
    )
    return helpers, checks


def master_notebook(notebook, name):
    """The chapter in otter's master format (a new notebook; the chapter is not changed)."""
    problems = solution_problems(notebook)
    if problems:
        raise ValueError("; ".join(problems))
    helpers, checks = helper_and_check_sources(notebook)
    source = helpers + "\n\n" + checks
    config = {
        "name": name,
        "requirements": "requirements.txt",
        "overwrite_requirements": True,
        "export_cell": False,
        "init_cell": False,
        "check_all_cell": False,
        "run_tests": False,
        "generate": True,
        "tests": {"files": False, "ok_format": False},
    }
    cells = [
        raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False))
    ]
    by_prompt = {id(e[0]): e for e in exercises(notebook)}
    skip = {id(c) for e in by_prompt.values() for c in e[1:3]}
    for cell in notebook.cells:
        if id(cell) in skip or "remove-cell" in cell.metadata.get("tags", []):
            continue
        if id(cell) not in by_prompt:
            cells.append(cell)
            continue
        prompt, exercise, solution, _, (title, check, answer) = by_prompt[
            id(cell)
        ]
        number = re.search(r"\d+", title).group()
        cells += [
            raw(f"# BEGIN QUESTION\nname: exercise_{number}\npoints: 1"),
            prompt,
            raw("# BEGIN SOLUTION"),
            # students get the exercise's cell; the solution, after it in the same cell, replaces its `...`
            nbformat.v4.new_code_cell(
                exercise.source.rstrip()
                + "\n# BEGIN SOLUTION NO PROMPT\n"
                + solution.source.rstrip()
                + "\n# END SOLUTION",
                metadata={"tags": ["exercise"]},
            ),
            raw("# END SOLUTION"),
            raw("# BEGIN TESTS"),
            nbformat.v4.new_code_cell(
                "# HIDDEN\n"
                + TEST.format(
                    name=f"exercise_{number}",
                    exercise=title,
                    answer=answer,
                    check=check,
                    source=source,
                )
            ),
            raw("# END TESTS"),
            raw("# END QUESTION"),
        ]
    master = nbformat.v4.new_notebook(
        cells=[nbformat.from_dict(dict(cell)) for cell in cells],
        metadata={
            "kernelspec": notebook.metadata["kernelspec"],
            "language_info": {"name": "python"},
        },
    )
    for number, cell in enumerate(master.cells):
        cell["id"] = f"cell-{number}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return master


def main(output_folder, paths):
    output_folder = pathlib.Path(output_folder).resolve()
    if output_folder == BOOK or BOOK in output_folder.parents:
        sys.exit(
            f"refusing to write assignments into {output_folder}: the book would publish them"
        )
    written = []
    for path in paths:
        folder = output_folder / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        try:
            master = master_notebook(
                nbformat.read(path, as_version=4), path.stem
            )
        except ValueError as problem:
            sys.exit(f"{path.name}: {problem}")
        nbformat.write(master, folder / f"{path.stem}.ipynb")
        (folder / "requirements.txt").write_text(
            "\n".join(chapter_requirements()) + "\n"
        )
        print(f"== {path.name}: otter assign", flush=True)
        subprocess.run(
            [
                pathlib.Path(sys.executable).with_name("otter"),
                "assign",
                "--no-run-tests",
                "--no-pdfs",
                f"{path.stem}.ipynb",
                "dist",
            ],
            cwd=folder,
            check=True,
        )
        written.append(folder / "dist")
    return written


if __name__ == "__main__":
    arguments = sys.argv[1:]
    output = arguments.pop(0) if arguments else ROOT / "_build" / "otter"
    not_notebooks = [
        a
        for a in arguments
        if not a.endswith(".ipynb") or not pathlib.Path(a).is_file()
    ]
    if not_notebooks:
        sys.exit(f"not a chapter notebook: {', '.join(not_notebooks)}")
    main(
        output,
        [pathlib.Path(a).resolve() for a in arguments] or list(chapters()),
    )
