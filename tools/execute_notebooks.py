"""Execute the chapters and store their outputs, so GitHub, Colab and the website show current results.

Usage:  python tools/execute_notebooks.py [book/01_undercomplete.ipynb ...]   (default: every chapter)
        python tools/execute_notebooks.py --stale   (only chapters whose code changed since their last run)

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


def is_stale(path):
    """True when a chapter's code changed since its outputs were stored."""
    notebook = nbformat.read(path, as_version=4)
    stamp = notebook.metadata.get(STAMP_KEY, {}).get("code_sha256")
    return stamp != code_hash(notebook)


if __name__ == "__main__":
    if sys.argv[1:] == ["--stale"]:
        sync_shared_cells.main()  # a helper edit makes every chapter stale
        stale = [path for path in chapters() if is_stale(path)]
        print(f"{len(stale)} chapter(s) with outputs older than their code")
        main(stale)
    else:
        main([pathlib.Path(arg) for arg in sys.argv[1:]] or chapters())
