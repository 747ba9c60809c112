"""Copy the shared code cells into the chapters.

Usage:  python tools/sync_shared_cells.py [--check]

A code cell tagged `shared-helpers` (in every chapter) must hold exactly tools/shared_cells/helpers.py; one tagged
`sparsity-penalties` (chapters 3 and 6) exactly tools/shared_cells/sparsity_penalties.py. Every chapter keeps its
own copy so that it runs alone in Colab; these files are the one source. With --check nothing is written and the exit
status says whether every copy is current (the tests run the same comparison).
"""

import nbformat

from notebooks import ROOT, chapters, sync_command_line

SHARED_CELLS = {
    "shared-helpers": ROOT / "tools" / "shared_cells" / "helpers.py",
    "sparsity-penalties": ROOT
    / "tools"
    / "shared_cells"
    / "sparsity_penalties.py",
}


def stale_cells(notebook):
    """(tag, cell) pairs whose source differs from the shared file."""
    stale = []
    for cell in notebook.cells:
        for tag, source_file in SHARED_CELLS.items():
            if tag in cell.metadata.get(
                "tags", []
            ) and cell.source != source_file.read_text().rstrip("\n"):
                stale.append((tag, cell))
    return stale


def main(check=False):
    out_of_date = []
    for path in chapters():
        notebook = nbformat.read(path, as_version=4)
        stale = stale_cells(notebook)
        if not stale:
            continue
        out_of_date.append(path)
        if not check:
            for tag, cell in stale:
                cell.source = SHARED_CELLS[tag].read_text().rstrip("\n")
            nbformat.write(notebook, path)
            print(
                f"{path}: shared cells updated; rerun tools/execute_notebooks.py {path}"
            )
    return out_of_date


if __name__ == "__main__":
    sync_command_line(main, "shared cells", "python tools/sync_shared_cells.py")
