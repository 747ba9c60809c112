"""Shared fixtures: the repository's tools on the import path, and the book built once per test session."""

import collections
import concurrent.futures
import os
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from notebooks import chapter_facts, chapters  # noqa: E402

CHAPTERS = chapters()
# chapter executions run side by side: one uses about 1 to 1.6 of the 2 cores
EXECUTIONS_AT_ONCE = 2
# NumPy's and scikit-learn's thread pools (OpenBLAS, OpenMP) in each of them: two executions that each spin
# up a pool as wide as the machine fight over its cores. Measured on 2 cores: one 2,000 x 784 SVD took 0.5 s
# alone and about 19 s beside another process's OpenBLAS (0.7 s when both use one thread); ch1's exercise
# check then ran past its 20 s limit in CI.
THREAD_POOL_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)


def chapter_ids():
    return [path.stem for path in CHAPTERS]


def chapters_selected_for(request, *test_names):
    """The chapters that any of `test_names` (parametrized by `chapter`) runs for in this session, after -k and
    -m, in the book's order."""
    selected = {
        item.callspec.params["chapter"]
        for item in request.session.items
        if item.originalname in test_names
    }
    return [chapter for chapter in CHAPTERS if chapter in selected]


def side_by_side(run, chapters_to_run):
    """{chapter: run(chapter)}, at most EXECUTIONS_AT_ONCE at a time, the longest budgets first.

    Each run executes a chapter in processes of its own (nbval, otter), so two share the machine's cores
    and finish sooner together than one after another; each test then reads its chapter's result. Those
    processes get an equal share of the cores for their BLAS and OpenMP thread pools (THREAD_POOL_VARIABLES)."""
    budget = {
        name: facts["budget_seconds"] for name, facts in chapter_facts().items()
    }
    ordered = sorted(chapters_to_run, key=lambda path: -budget[path.stem])
    threads_each = str(max(1, (os.cpu_count() or 1) // EXECUTIONS_AT_ONCE))
    saved = {name: os.environ.get(name) for name in THREAD_POOL_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_POOL_VARIABLES, threads_each))
    try:  # the runs' processes inherit the limits; nothing else runs meanwhile
        with concurrent.futures.ThreadPoolExecutor(EXECUTIONS_AT_ONCE) as pool:
            return dict(zip(ordered, pool.map(run, ordered)))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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


@pytest.fixture(scope="session")
def otter_assignments(tmp_path_factory):
    """Every chapter made into an otter assignment by tools/make_otter_assignments.py: the folder they are in."""
    folder = tmp_path_factory.mktemp("otter")
    result = subprocess.run(
        [sys.executable, "tools/make_otter_assignments.py", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder


# Seconds per test file (setup, call and teardown, module fixtures included), printed after every run: what
# each part of the suite costs, in CI's log too.
SECONDS_PER_FILE = collections.defaultdict(float)
STARTED = time.monotonic()


def pytest_runtest_logreport(report):
    SECONDS_PER_FILE[report.location[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not SECONDS_PER_FILE:
        return
    terminalreporter.section("seconds per test file")
    for path, seconds in sorted(
        SECONDS_PER_FILE.items(), key=lambda item: -item[1]
    ):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    terminalreporter.write_line(
        f"{time.monotonic() - STARTED:8.1f} s  in all, collection included"
    )
