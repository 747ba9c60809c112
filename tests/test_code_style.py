"""Code a reader would copy: every notebook and tool is formatted and lint-free (ruff, configured in ruff.toml)."""

import subprocess
import sys

import nbformat

from conftest import CHAPTERS, ROOT

FOLDERS = ["book", "tools", "tests", "benchmarks", "studies"]


def ruff(*arguments):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *arguments, *FOLDERS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_code_is_formatted():
    result = ruff("format", "--check")
    assert result.returncode == 0, (
        f"run `ruff format {' '.join(FOLDERS)}`:\n{result.stdout}"
    )


def test_code_is_lint_free():
    result = ruff("check", "--output-format", "concise")
    assert result.returncode == 0, result.stdout


def test_notebook_code_fits_the_website_code_column():
    """Lines over 80 characters need a scroll bar on the website; ruff cannot wrap strings."""
    for chapter in CHAPTERS:
        notebook = nbformat.read(chapter, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                for line in cell.source.splitlines():
                    assert len(line) <= 80, f"{chapter.name}: {line}"
