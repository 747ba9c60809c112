"""Copy each chapter's reference-run results into the chapter.

Usage:  python tools/sync_reference_results.py [--check]

A chapter with a reference run (studies/<chapter>.py, which writes studies/results/<chapter>.json) holds a copy
of the results in its code cell tagged `reference-results`, so that it runs alone in Colab. This tool writes that
cell from the results file, the one source; with --check nothing is written and the exit status says whether
every copy is current (the tests run the same comparison and also check that the results are as new as the
study's code). After a change here, re-execute the chapter: python tools/execute_notebooks.py book/<chapter>.ipynb
"""

import base64
import json
import sys
import textwrap
import zlib

import nbformat

from notebooks import ROOT, chapters, sync_command_line

TAG = "reference-results"
STUDIES = ROOT / "studies"
MAX_STORED_CHARACTERS = 100_000  # what a chapter may carry (issue 17)
HEADER = """\
# @title Reference runs: their stored results
# This chapter's models trained for long runs over several
# seeds by a script in the book's repository, studies/{stem}.py,
# which keeps the readable results and their provenance in
# studies/results/{stem}.json. They are copied here, compressed, so
# that the notebook runs alone. Do not edit this cell by hand:
# tools/sync_reference_results.py writes it.
import base64
import json
import zlib

"""


def studied_chapters():
    """{chapter notebook path: its results file} for every chapter that has a reference run."""
    return {
        path: STUDIES / "results" / f"{path.stem}.json"
        for path in chapters()
        if (STUDIES / f"{path.stem}.py").exists()
    }


def cell_source(results_path):
    """What the chapter's `reference-results` cell must hold for these results."""
    results = json.loads(results_path.read_text())
    packed = base64.b64encode(
        zlib.compress(json.dumps(results, separators=(",", ":")).encode(), 9)
    ).decode()
    chunks = "\n".join(
        f'            "{chunk}"' for chunk in textwrap.wrap(packed, 64)
    )
    return (
        HEADER.format(stem=results_path.stem)
        + "reference = json.loads(\n    zlib.decompress(\n        base64.b64decode(\n"
        + chunks
        + "\n        )\n    )\n)\n"
        + 'made = reference["provenance"]\n'
        + "print(\n"
        + "    f\"reference runs of {made['date']} on {made['processor']}: \"\n"
        + "    f\"{made['wall_seconds'] / 60:.0f} min, Keras {made['packages']['keras']}\"\n"
        + ")"
    )


def reference_cells(notebook):
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])
    ]


def main(check=False):
    out_of_date = []
    for path, results_path in studied_chapters().items():
        notebook = nbformat.read(path, as_version=4)
        cells = reference_cells(notebook)
        if len(cells) != 1:
            sys.exit(
                f"{path}: needs exactly one code cell tagged {TAG!r}, has {len(cells)}"
            )
        wanted = cell_source(results_path)
        if cells[0].source == wanted:
            continue
        out_of_date.append(path)
        if not check:
            cells[0].source = wanted
            nbformat.write(notebook, path)
            print(
                f"{path}: reference results updated; rerun tools/execute_notebooks.py {path}"
            )
    return out_of_date


if __name__ == "__main__":
    sync_command_line(
        main, "reference results", "python tools/sync_reference_results.py"
    )
