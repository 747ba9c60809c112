"""Write student versions of every chapter: solutions and claim checks removed, outputs cleared, exercise checks kept.

Usage:  python tools/make_student_notebooks.py [OUTPUT_FOLDER]     (default: _build/student)

Built on nbconvert's preprocessors (TagRemovePreprocessor, ClearOutputPreprocessor, ClearMetadataPreprocessor):
cells tagged `solution` are removed, and so are the claim checks tagged `remove-cell` (they glue the text's numbers
and assert its claims: a student needs neither); all outputs and the stored widget state are cleared. The exercise cells
(tagged `exercise`, with `...` for the student to fill in) and every check stay, so a student who runs a check
before solving the exercise is told it is not solved yet.

It refuses to write into book/, and stops when a chapter's exercise has no solution cell after it or another cell
defines what an exercise asks for without the `solution` tag: a tag lost in an edit must not hand out an answer.
"""

import ast
import pathlib
import sys

import nbformat
from nbconvert.preprocessors import (
    ClearMetadataPreprocessor,
    ClearOutputPreprocessor,
    TagRemovePreprocessor,
)

from notebooks import BOOK, ROOT, chapters

PREPROCESSORS = [
    TagRemovePreprocessor(remove_cell_tags={"solution", "remove-cell"}),
    ClearOutputPreprocessor(),
    # keep cell tags and the collapsed views of helper code (Colab's form, JupyterLab's hidden source); drop the rest
    ClearMetadataPreprocessor(
        preserve_cell_metadata_mask={"tags", "cellView", "jupyter"},
        preserve_nb_metadata_mask={("language_info", "name"), ("kernelspec",)},
    ),
]


def defined_names(source):
    """The functions and classes a cell defines at its top level (none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }


def solution_problems(notebook):
    """Why removing the cells tagged `solution` would hand students an answer, or lose one.

    Solutions are recognised by structure as well as by tag: the code cell after an exercise must be its tagged
    solution, and no other untagged cell may define what an exercise asks for.
    """
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    problems, asked = [], set()
    for index, cell in enumerate(code):
        if "exercise" not in cell.metadata.get("tags", []):
            continue
        names = defined_names(cell.source)
        asked |= names
        following = code[index + 1] if index + 1 < len(code) else None
        if following is None or "solution" not in following.metadata.get(
            "tags", []
        ):
            problems.append(
                f"the exercise defining {', '.join(sorted(names))} has no cell tagged `solution` after it"
            )
    for cell in code:
        tags = cell.metadata.get("tags", [])
        if "exercise" in tags or "solution" in tags:
            continue
        if defined_names(cell.source) & asked:
            problems.append(
                "an untagged cell defines "
                + ", ".join(sorted(defined_names(cell.source) & asked))
                + ", which an exercise asks for: tag it `solution` or students receive the answer"
            )
    return problems


def student_version(notebook):
    """A student copy of `notebook` (a NotebookNode); the original is not changed."""
    problems = solution_problems(notebook)
    if problems:
        raise ValueError("; ".join(problems))
    student = nbformat.from_dict(notebook)
    resources = {}
    for preprocessor in PREPROCESSORS:
        student, resources = preprocessor.preprocess(student, resources)
    return student


def main(output_folder):
    output_folder = pathlib.Path(output_folder).resolve()
    if output_folder == BOOK or BOOK in output_folder.parents:
        sys.exit(
            f"refusing to write student notebooks into {output_folder}: it would overwrite the chapters"
        )
    output_folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in chapters():
        target = output_folder / path.name
        try:
            student = student_version(nbformat.read(path, as_version=4))
        except ValueError as problem:
            sys.exit(f"{path.name}: {problem}")
        nbformat.write(student, target)
        written.append(target)
        print(f"wrote {target}")
    return written


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "student")
