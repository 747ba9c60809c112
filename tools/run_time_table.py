"""Sphinx extension (loaded by _config.yml): the `chapter-run-times` directive, used on the instructors' page.

It renders the chapters' measured run times from the benchmark's report, benchmarks/report.json (written by
`python benchmarks/run_chapters.py`), at build time, so the page never states a time that no run produced. A
chapter whose code changed since it was measured is marked as such; tests/test_book.py fails until the benchmark
runs again.
"""

import nbformat
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from freshness import REPORT, measured_chapters, measurement_is_current
from notebooks import chapters, title


WORDS_PER_MINUTE = 200


def reading_minutes(notebook):
    """Minutes to read a chapter's prose (its markdown cells) at WORDS_PER_MINUTE."""
    words = sum(
        len(cell.source.split())
        for cell in notebook.cells
        if cell.cell_type == "markdown"
    )
    return words / WORDS_PER_MINUTE


class ChapterRunTimes(SphinxDirective):
    """A table: each chapter's wall time, CPU time and peak memory, as the benchmark measured them."""

    def run(self):
        self.env.note_dependency(str(REPORT))
        measured = measured_chapters()
        rows = [
            "| Chapter | Reading | Run time | CPU time | Peak memory | Budget |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        total, notes = 0.0, []
        for path in chapters():
            entry = measured[path.stem]
            notebook = nbformat.read(path, as_version=4)
            name = title(notebook)
            link = f"{{doc}}`{name} <{path.stem}>`"
            reading = f"{reading_minutes(notebook):.0f} min"
            if not entry:
                rows.append(f"| {link} | {reading} | not measured yet | | | |")
                continue
            total += entry["wall_s"]
            stale = "" if measurement_is_current(notebook, entry) else " *"
            over = (
                ", *over*"
                if entry["budget_s"] and entry["wall_s"] > entry["budget_s"]
                else ""
            )
            rows.append(
                f"| {link} | {reading} | {entry['wall_s']:.0f} s{stale} "
                f"| {entry['kernel_cpu_s']:.0f} s "
                f"| {entry['kernel_peak_memory_mb'] / 1024:.1f} GB "
                f"| {entry['budget_s']} s{over} |"
            )
            if stale:
                notes.append(name)
        machines = {
            (entry["machine"]["cpus"], entry["machine"]["python"])
            for entry in measured.values()
            if entry
        }
        where = "; ".join(
            f"{cpus} CPU cores, Python {python}"
            for cpus, python in sorted(machines)
        )
        if machines:
            summary = (
                f"Measured when each chapter was last executed (`python tools/execute_notebooks.py` or "
                f"`python benchmarks/run_chapters.py`) on {where}: from a fresh kernel, alone in an empty folder. All chapters together run in "
                f"{total / 60:.0f} minutes."
            )
        else:
            summary = (
                "Not measured yet: run `python benchmarks/run_chapters.py`."
            )
        lines = rows + ["", summary]
        if notes:
            lines.append("")
            lines.append(
                "\\* Measured before the chapter's code last changed: "
                + ", ".join(notes)
                + "."
            )
        # The lines are MyST markdown, parsed like the page around them.
        holder = nodes.container()
        self.state.nested_parse(
            StringList(lines, source=str(REPORT)), self.content_offset, holder
        )
        return holder.children


def setup(app):
    app.add_directive("chapter-run-times", ChapterRunTimes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
