"""Benchmark: execute every chapter standalone and report its run time, memory and headline figures.

Usage:  python benchmarks/run_chapters.py [book/01_undercomplete.ipynb ...]    (default: every chapter)

Each chapter runs in its own process (a fresh kernel, in an empty folder, as in Colab). The report gives wall
time, CPU time and peak memory of the kernel, and every value the chapter glues into its text. It is written to
benchmarks/report.md and benchmarks/report.json, which are committed: the instructors' page shows the run times
from report.json. Benchmarking some chapters updates their entries and keeps the others; each entry records the
hash of the code it measured, the date and the machine, and the tests fail when a chapter's code has changed
since (run this script on that chapter). Not part of the tests: timings belong in a benchmark.
"""

import datetime
import json
import multiprocessing
import os
import pathlib
import platform
import resource
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import nbformat  # noqa: E402

from notebooks import chapters, code_hash, execute_standalone  # noqa: E402

# From the chapters' issues: what each must stay under on 2 CPU cores.
BUDGET_SECONDS = {
    "01_undercomplete": 90,
    "02_tied_weights": 90,
    "03_sparse": 90,
    "04_denoising": 120,
    "05_stacked": 120,
    "06_comparison": 300,
}
BOOK_BUDGET_SECONDS = 12 * 60  # every chapter, one after another (issue 8)


def glued_values(notebook):
    """Every value the chapter glues into its text: {name: shown text}."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:  # myst-nb stores glued values under a prefixed MIME type
                values[name] = next(
                    (
                        text
                        for mime, text in output["data"].items()
                        if mime.endswith("text/plain")
                    ),
                    None,
                )
    return values


def run_one(path, queue):
    """Child process: execute one chapter; report wall time, the kernel's CPU time and peak memory."""
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    execute_standalone(notebook)
    wall = time.perf_counter() - started
    kernel = resource.getrusage(
        resource.RUSAGE_CHILDREN
    )  # the kernel has exited: its totals are in
    queue.put(
        {
            "wall_s": round(wall, 1),
            "kernel_cpu_s": round(kernel.ru_utime + kernel.ru_stime, 1),
            "kernel_peak_memory_mb": round(kernel.ru_maxrss / 1024),
            "figures": glued_values(notebook),
            "code_sha256": code_hash(notebook),
        }
    )


REPORT = ROOT / "benchmarks" / "report.json"


def main(paths):
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }
    previous = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    kept = {  # earlier measurements of chapters not run now, in book order
        path.stem: previous["chapters"][path.stem]
        for path in chapters()
        if path.stem in previous.get("chapters", {})
        and "code_sha256" in previous["chapters"][path.stem]
    }
    report = {"chapters": kept}
    for path in paths:
        queue = multiprocessing.Queue()
        child = multiprocessing.Process(target=run_one, args=(path, queue))
        child.start()
        result = queue.get()
        child.join()
        result["budget_s"] = BUDGET_SECONDS.get(path.stem)
        result["date"] = datetime.date.today().isoformat()
        result["machine"] = machine
        report["chapters"][path.stem] = result
        print(
            f"{path.stem}: {result['wall_s']} s wall, {result['kernel_cpu_s']} s CPU, "
            f"{result['kernel_peak_memory_mb']} MB peak (budget {result['budget_s']} s)"
        )
    order = [path.stem for path in chapters()]
    report["chapters"] = dict(
        sorted(
            report["chapters"].items(), key=lambda item: order.index(item[0])
        )
    )
    total = sum(chapter["wall_s"] for chapter in report["chapters"].values())
    report["total_wall_s"] = round(total, 1)
    report["book_budget_s"] = BOOK_BUDGET_SECONDS

    lines = [
        "# Chapter benchmark",
        "",
        f"Total: {total:.0f} s for the whole book (budget {BOOK_BUDGET_SECONDS} s). "
        "Written by `python benchmarks/run_chapters.py`.",
        "",
        "| chapter | wall (s) | budget (s) | kernel CPU (s) | peak memory (MB) | date | CPUs | Python |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, chapter in report["chapters"].items():
        lines.append(
            f"| {name} | {chapter['wall_s']} | {chapter['budget_s']} | {chapter['kernel_cpu_s']} | "
            f"{chapter['kernel_peak_memory_mb']} | {chapter['date']} | {chapter['machine']['cpus']} | "
            f"{chapter['machine']['python']} |"
        )
    for name, chapter in report["chapters"].items():
        lines += [
            "",
            f"## {name}: the figures its text states",
            "",
            "| name | value |",
            "|---|---|",
        ]
        lines += [
            f"| {key} | {value} |" for key, value in chapter["figures"].items()
        ]
    (ROOT / "benchmarks" / "report.md").write_text("\n".join(lines) + "\n")
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print("wrote benchmarks/report.md and benchmarks/report.json")


if __name__ == "__main__":
    main([pathlib.Path(arg).resolve() for arg in sys.argv[1:]] or chapters())
