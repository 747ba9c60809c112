"""Shared pieces for the tools and tests: where the chapters are, and how to execute one standalone.

A chapter is executed the way Colab runs it: copied alone into an empty folder, so no file of this
repository can be imported or read.
"""

import hashlib
import pathlib
import shutil
import tempfile

from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
STAMP_KEY = "autoencoders_book"  # notebook metadata key for the hash of the code that made the outputs


def chapters():
    """Every chapter notebook under book/, in file-name order."""
    return sorted(
        path for path in BOOK.glob("*.ipynb") if not path.name.startswith("_")
    )


def title(notebook):
    """A chapter's title: the first level-1 heading of the notebook."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError("the notebook has no '# ' title")


def code_hash(notebook):
    """A hash of every code cell's source: stored outputs are current only if it still matches."""
    sources = [
        cell.source for cell in notebook.cells if cell.cell_type == "code"
    ]
    return hashlib.sha256("\n\x00\n".join(sources).encode()).hexdigest()


def execute_standalone(notebook, timeout=600, allow_errors=False):
    """Execute `notebook` (a NotebookNode, changed in place) in an empty temporary folder."""
    with tempfile.TemporaryDirectory(prefix="chapter-") as folder:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            allow_errors=allow_errors,
            kernel_name="python3",
            resources={"metadata": {"path": folder}},
            store_widget_state=True,
        )
        client.execute(cwd=folder)
    return notebook


def copy_alone(path, folder):
    """Copy one notebook into `folder` (which must be empty) and return the copy's path."""
    folder = pathlib.Path(folder)
    if any(folder.iterdir()):
        raise ValueError(f"{folder} is not empty")
    return pathlib.Path(shutil.copy(path, folder / path.name))
