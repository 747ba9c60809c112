"""Whether what the repository shows of a chapter comes from its current code: the one place that decides it.

Two things are shown from earlier runs, and both carry the hash of the code that produced them:
- a chapter's stored outputs: the hash is stamped into the notebook's metadata (`stamp`, `outputs_are_current`);
- its run time, CPU time, peak memory and glued figures: an entry in benchmarks/report.json, written by every
  run of `tools/execute_notebooks.py` (and by `benchmarks/run_chapters.py`, which measures without storing
  outputs), read by the instructors' page (`measurement_is_current`, `record_measurements`).
The tests fail when either is older than the code.
"""

import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import re

from notebooks import ROOT, chapter_facts, chapters

STAMP_KEY = "autoencoders_book"  # notebook metadata key holding the stamp
HASH_KEY = (
    "code_sha256"  # the stamp's and the report entries' key for the code hash
)
REPORT = ROOT / "benchmarks" / "report.json"

# From the chapters' issues: what each must stay under on 2 CPU cores.
BUDGET_SECONDS = {  # each chapter's budget, from book/chapters.yml
    name: facts["budget_seconds"] for name, facts in chapter_facts().items()
}
# every chapter, one after another: 12 minutes for chapters 1 to 6 (issue 8), plus chapter 7's 120 s (issue 22)
# and chapter 8's 180 s (issue 23)
BOOK_BUDGET_SECONDS = 12 * 60 + 120 + 180


def code_hash(notebook):
    """A hash of every code cell's source: what a stored result is current for."""
    sources = [
        cell.source for cell in notebook.cells if cell.cell_type == "code"
    ]
    return hashlib.sha256("\n\x00\n".join(sources).encode()).hexdigest()


def stamp(notebook):
    """Mark `notebook`'s stored outputs as made by its current code."""
    notebook.metadata[STAMP_KEY] = {HASH_KEY: code_hash(notebook)}


def outputs_are_current(notebook):
    """True when the notebook's stored outputs were made by its current code."""
    return notebook.metadata.get(STAMP_KEY, {}).get(HASH_KEY) == code_hash(
        notebook
    )


def read_report(report=REPORT):
    """The benchmark report: {"chapters": {stem: entry}, ...} (empty if none yet)."""
    return json.loads(report.read_text()) if report.exists() else {}


def measured_chapters():
    """{chapter stem: its report entry, or None if never measured}, for every chapter."""
    entries = read_report().get("chapters", {})
    return {
        path.stem: entries.get(path.stem)
        if HASH_KEY in entries.get(path.stem, {})
        else None
        for path in chapters()
    }


def measurement_is_current(notebook, entry):
    """True when the report `entry` measured `notebook`'s current code."""
    return bool(entry) and entry.get(HASH_KEY) == code_hash(notebook)


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


def backend_of(notebook):
    """The Keras backend a chapter ran on, as its first cell prints it ("Keras 3.15.1, jax backend")."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            found = re.search(
                r"Keras \S+, (\w+) backend", output.get("text", "")
            )
            if found:
                return found.group(1)
    return None


def measurement_of(notebook, run):
    """A report entry for `notebook` executed just now: `run`'s timings, the glued figures, backend, hash."""
    return {
        **run,
        "backend": backend_of(notebook),
        "figures": glued_values(notebook),
        HASH_KEY: code_hash(notebook),
    }


def machine():
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "keras": importlib.metadata.version("keras"),
    }


def record_measurements(measured, by, report=REPORT):
    """Store {path: measurement} in the report (keeping other chapters' entries); rewrite its .md beside it."""
    previous = read_report(report).get("chapters", {})
    entries = {
        path.stem: previous[path.stem]
        for path in chapters()
        if HASH_KEY in previous.get(path.stem, {})
    }
    for path, measurement in measured.items():
        entries[path.stem] = {
            **measurement,
            "budget_s": BUDGET_SECONDS.get(path.stem),
            "date": datetime.date.today().isoformat(),
            "measured_by": by,
            "machine": machine(),
        }
    order = [path.stem for path in chapters()]
    entries = dict(
        sorted(entries.items(), key=lambda item: order.index(item[0]))
    )
    total = sum(entry["wall_s"] for entry in entries.values())
    report.write_text(
        json.dumps(
            {
                "chapters": entries,
                "total_wall_s": round(total, 1),
                "book_budget_s": BOOK_BUDGET_SECONDS,
            },
            indent=2,
        )
        + "\n"
    )
    lines = [
        "# Chapter benchmark",
        "",
        f"Total: {total:.0f} s for the whole book (budget {BOOK_BUDGET_SECONDS} s). Each chapter's entry is "
        "written whenever it is executed: by `python tools/execute_notebooks.py` (which stores the outputs) "
        "or `python benchmarks/run_chapters.py` (which only measures).",
        "",
        "| chapter | wall (s) | budget (s) | kernel CPU (s) | peak memory (MB) | backend | measured by "
        "| date | CPUs | Python | Keras |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in entries.items():
        lines.append(
            f"| {name} | {entry['wall_s']} | {entry['budget_s']} | {entry['kernel_cpu_s']} "
            f"| {entry['kernel_peak_memory_mb']} | {entry.get('backend', '')} "
            f"| {entry.get('measured_by', '')} | {entry['date']} | {entry['machine']['cpus']} "
            f"| {entry['machine']['python']} | {entry['machine'].get('keras', '')} |"
        )
    for name, entry in entries.items():
        lines += [
            "",
            f"## {name}: the figures its text states",
            "",
            "| name | value |",
            "|---|---|",
        ]
        lines += [
            f"| {key} | {value} |" for key, value in entry["figures"].items()
        ]
    report.with_suffix(".md").write_text("\n".join(lines) + "\n")
