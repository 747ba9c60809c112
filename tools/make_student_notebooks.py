"""Write student versions of every chapter: solutions and claim checks removed, outputs cleared, exercise checks kept.

Usage:  python tools/make_student_notebooks.py [OUTPUT_FOLDER]     (default: _build/student)

Built on nbconvert's preprocessors (TagRemovePreprocessor, ClearOutputPreprocessor, ClearMetadataPreprocessor):
cells tagged `solution` are removed, and so are the claim checks tagged `remove-cell` (they glue the text's numbers
and assert its claims: a student needs neither); all outputs and the stored widget state are cleared. The exercise cells
(tagged `exercise`, with `...` for the student to fill in) and every check stay, so a student who runs a check
before solving the exercise is told it is not solved yet.
"""

import pathlib
import sys

import nbformat
from nbconvert.preprocessors import (
    ClearMetadataPreprocessor,
    ClearOutputPreprocessor,
    TagRemovePreprocessor,
)

from notebooks import ROOT, chapters

PREPROCESSORS = [
    TagRemovePreprocessor(remove_cell_tags={"solution", "remove-cell"}),
    ClearOutputPreprocessor(),
    # keep cell tags and the collapsed views of helper code (Colab's form, JupyterLab's hidden source); drop the rest
    ClearMetadataPreprocessor(
        preserve_cell_metadata_mask={"tags", "cellView", "jupyter"},
        preserve_nb_metadata_mask={("language_info", "name"), ("kernelspec",)},
    ),
]


def student_version(notebook):
    """A student copy of `notebook` (a NotebookNode); the original is not changed."""
    student = nbformat.from_dict(notebook)
    resources = {}
    for preprocessor in PREPROCESSORS:
        student, resources = preprocessor.preprocess(student, resources)
    return student


def main(output_folder):
    output_folder = pathlib.Path(output_folder)
    output_folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in chapters():
        target = output_folder / path.name
        nbformat.write(
            student_version(nbformat.read(path, as_version=4)), target
        )
        written.append(target)
        print(f"wrote {target}")
    return written


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "student")
