"""Shared fixtures: the repository's tools on the import path, and the book built once per test session."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from notebooks import chapters  # noqa: E402

CHAPTERS = chapters()


def chapter_ids():
    return [path.stem for path in CHAPTERS]


@pytest.fixture(scope="session")
def book_build(tmp_path_factory):
    """Build the book once, exactly as the README does, with warnings as errors; return the build result."""
    output = tmp_path_factory.mktemp("book")
    jupyter_book = pathlib.Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [
            str(jupyter_book),
            "build",
            str(ROOT),
            "--path-output",
            str(output),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    result.html = output / "_build" / "html"
    return result
