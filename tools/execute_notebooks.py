"""Execute the chapters and store their outputs, so GitHub, Colab and the website show current results.

Usage:  python tools/execute_notebooks.py [book/01_undercomplete.ipynb ...]   (default: every chapter)
        python tools/execute_notebooks.py --stale   (only chapters whose code changed since their last run)

Each chapter runs standalone in an empty folder, in a fresh kernel. The outputs and the widget state are written
back into the notebook in normal form (tools/notebooks.py: no timestamps, widget ids in a fixed order, so
re-executing unchanged code leaves `git diff` empty), stamped with a hash of its code cells, and the numbers its
prose quotes are rewritten from the values it glued (tools/sync_prose.py). The run's wall time,
the kernel's CPU time and peak memory, and the values the chapter glues into its text go into
benchmarks/report.json under the same hash (tools/freshness.py), which the instructors' page shows. The tests
fail when either is older than the code, so a reader never sees outputs or timings from older code.
"""

import pathlib
import sys

import nbformat

import freshness
import sync_chapter_lists
import sync_prose
import sync_shared_cells
from notebooks import chapters, execute_measured


def main(paths):
    sync_chapter_lists.main()
    sync_shared_cells.main()
    for path in paths:
        try:
            notebook, measurement = execute_measured(path)
        # a cell failed: say which, keep the stored notebook
        except RuntimeError as error:
            sys.exit(f"not stored: {error}")
        freshness.stamp(notebook)
        sync_prose.synced(notebook)  # the prose quotes the values just computed
        nbformat.write(notebook, path)
        freshness.record_measurements(
            {path: freshness.measurement_of(notebook, measurement)},
            by="tools/execute_notebooks.py",
        )
        print(
            f"{path}: executed in {measurement['wall_s']:.0f} s "
            f"({measurement['kernel_cpu_s']:.0f} s CPU, {measurement['kernel_peak_memory_mb']} MB peak)",
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["--stale"]:
        sync_shared_cells.main()  # a helper edit makes every chapter stale
        stale = [
            path
            for path in chapters()
            if not freshness.outputs_are_current(
                nbformat.read(path, as_version=4)
            )
        ]
        print(f"{len(stale)} chapter(s) with outputs older than their code")
        main(stale)
    else:
        main(
            [pathlib.Path(arg).resolve() for arg in sys.argv[1:]] or chapters()
        )
