"""Code a reader would copy: every notebook and tool is formatted and lint-free (ruff, configured in ruff.toml)."""

import re
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


def test_comments_stand_above_the_line_they_explain():
    """A trailing comment makes the formatter split a short call over three lines and leaves the comment after its
    closing bracket, far from what it explains: such comments go on the line above. (studies/ is left as it is:
    each reference result records the hash of the script that computed it.)"""
    split_by_a_comment = re.compile(r"^\s*[)\]}][^#\n]*  # ", re.MULTILINE)
    sources = {
        f"{chapter.name}, cell {index}": cell.source
        for chapter in CHAPTERS
        for index, cell in enumerate(nbformat.read(chapter, as_version=4).cells)
        if cell.cell_type == "code"
    }
    for folder in ["tools", "tests", "benchmarks"]:
        for path in (ROOT / folder).rglob("*.py"):
            sources[str(path.relative_to(ROOT))] = path.read_text()
    for where, source in sources.items():
        found = split_by_a_comment.findall(source)
        assert not found, f"{where}: move the comment above: {found}"
