"""Shared fixtures: the repository's tools on the import path, and the book built once per test session."""

import concurrent.futures
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from notebooks import chapter_facts, chapters  # noqa: E402

CHAPTERS = chapters()
# chapter executions run side by side: one uses about 1 to 1.6 of the 2 cores
EXECUTIONS_AT_ONCE = 2


def chapter_ids():
    return [path.stem for path in CHAPTERS]


def chapters_selected_for(request, test_name):
    """The chapters that `test_name` (parametrized by `chapter`) runs for in this session, after -k."""
    return [
        item.callspec.params["chapter"]
        for item in request.session.items
        if item.originalname == test_name
    ]


def side_by_side(run, chapters_to_run):
    """{chapter: run(chapter)}, at most EXECUTIONS_AT_ONCE at a time, the longest budgets first.

    Each run executes a chapter in processes of its own (nbval, otter), so two share the machine's cores
    and finish sooner together than one after another; each test then reads its chapter's result."""
    budget = {
        name: facts["budget_seconds"] for name, facts in chapter_facts().items()
    }
    ordered = sorted(chapters_to_run, key=lambda path: -budget[path.stem])
    with concurrent.futures.ThreadPoolExecutor(EXECUTIONS_AT_ONCE) as pool:
        return dict(zip(ordered, pool.map(run, ordered)))


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
