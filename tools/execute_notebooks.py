"""Execute the chapters and store their outputs, so GitHub, Colab and the website show current results.

Usage:  python tools/execute_notebooks.py [book/01_undercomplete.ipynb ...]   (default: every chapter)

Each chapter runs standalone in an empty folder. The outputs and the widget state are written back into the
notebook, stamped with a hash of its code cells; tests/test_book.py fails if the code changes without a rerun,
so a reader never sees outputs from older code.
"""

import pathlib
import sys
import time

import nbformat

from notebooks import STAMP_KEY, chapters, code_hash, execute_standalone
import sync_shared_cells


def main(paths):
    sync_shared_cells.main()
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        started = time.perf_counter()
        execute_standalone(notebook)
        notebook.metadata[STAMP_KEY] = {"code_sha256": code_hash(notebook)}
        nbformat.write(notebook, path)
        print(f"{path}: executed in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main([pathlib.Path(arg) for arg in sys.argv[1:]] or chapters())
