"""Benchmark on demand: execute chapters standalone and report their run time, memory and headline figures.

Usage:  python benchmarks/run_chapters.py [--report OTHER.json] [book/01_undercomplete.ipynb ...]
        (default: every chapter, into benchmarks/report.json; --report writes elsewhere, e.g. to compare
        backends: KERAS_BACKEND=tensorflow overrides the backend a chapter chooses)
        python benchmarks/run_chapters.py --cells book/01_undercomplete.ipynb
        (where the time goes: each cell that takes over a second; writes no report)

`tools/execute_notebooks.py` already records each chapter's measurement whenever it stores outputs; this script
measures without touching the notebooks, e.g. to compare two commits or machines back to back. Each chapter runs
in its own process (a fresh kernel, in an empty folder, as in Colab). The report gives wall time, CPU time and
peak memory of the kernel, and every value the chapter glues into its text; it is written to
benchmarks/report.md and benchmarks/report.json (tools/freshness.py), which are committed. Benchmarking some
chapters updates their entries and keeps the others. Not part of the tests: timings belong in a benchmark.
"""

import datetime
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import freshness  # noqa: E402
import nbformat  # noqa: E402

from notebooks import chapters, execute_measured, execute_standalone  # noqa: E402


def cell_seconds(path):
    """Print each cell of the chapter that takes over a second, slowest first."""
    notebook = nbformat.read(path, as_version=4)
    execute_standalone(notebook, record_timing=True)
    times = []
    for number, cell in enumerate(notebook.cells):
        execution = cell.metadata.get("execution", {})
        if "shell.execute_reply" in execution:
            started, ended = (
                datetime.datetime.fromisoformat(execution[key])
                for key in ["iopub.execute_input", "shell.execute_reply"]
            )
            times.append(((ended - started).total_seconds(), number, cell))
    print(f"{path.stem}: {sum(t for t, _, _ in times):.1f} s in cells")
    for seconds, number, cell in sorted(times, key=lambda item: -item[0]):
        if seconds > 1:
            first_line = cell.source.splitlines()[0][:70]
            print(f"  cell {number:3d}: {seconds:6.1f} s  {first_line}")


def main(paths, report=freshness.REPORT):
    for path in paths:
        notebook, run = execute_measured(path)
        entry = freshness.measurement_of(notebook, run)
        freshness.record_measurements(
            {path: entry}, by="benchmarks/run_chapters.py", report=report
        )
        print(
            f"{path.stem}: {run['wall_s']} s wall, {run['kernel_cpu_s']} s CPU, "
            f"{run['kernel_peak_memory_mb']} MB peak, {entry['backend']} backend "
            f"(budget {freshness.BUDGET_SECONDS.get(path.stem)} s)",
            flush=True,
        )
        budget = freshness.BUDGET_SECONDS.get(path.stem)
        if budget and run["wall_s"] > budget:
            print(f"{path.stem}: OVER BUDGET by {run['wall_s'] - budget:.0f} s")
    written = freshness.read_report(report)
    print(
        f"whole book: {written['total_wall_s']} s (budget {written['book_budget_s']} s); "
        f"wrote {report} and its .md"
    )


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--cells"]:
        for argument in arguments[1:] or chapters():
            cell_seconds(pathlib.Path(argument).resolve())
        sys.exit()
    report = freshness.REPORT
    if arguments[:1] == ["--report"]:
        report, arguments = pathlib.Path(arguments[1]).resolve(), arguments[2:]
    main(
        [pathlib.Path(arg).resolve() for arg in arguments] or chapters(), report
    )
