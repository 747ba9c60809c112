"""Shared pieces for the tools and tests: where the chapters are, how to execute one standalone, and the
normal form executed notebooks are stored in.

A chapter is executed the way Colab runs it: copied alone into an empty folder, so no file of this
repository can be imported or read.
"""

import hashlib
import json
import multiprocessing
import os
import pathlib
import queue as queue_module
import re
import resource
import shutil
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def chapters():
    """Every chapter notebook under book/, in file-name order."""
    return sorted(
        path for path in BOOK.glob("*.ipynb") if not path.name.startswith("_")
    )


def chapter_facts():
    """Each chapter's facts from book/chapters.yml (title, budget, slider, exercises), in reading order."""
    import yaml

    return yaml.safe_load((BOOK / "chapters.yml").read_text())


def repository():
    """(owner, name, branch) of the GitHub repository _config.yml names: a fork changes it there alone."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner, name = re.fullmatch(
        r"https://github\.com/([^/]+)/([^/]+?)/?", config["url"]
    ).groups()
    return owner, name, config.get("branch", "main")


def site_url():
    """The published website's address, from the repository named in _config.yml (GitHub Pages)."""
    owner, name, _ = repository()
    return f"https://{owner.lower()}.github.io/{name}/"


def title(notebook):
    """A chapter's title: the first level-1 heading of the notebook."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError("the notebook has no '# ' title")


def execute_standalone(
    notebook, timeout=600, allow_errors=False, record_timing=False
):
    """Execute `notebook` (a NotebookNode, changed in place) in an empty temporary folder."""
    with tempfile.TemporaryDirectory(prefix="chapter-") as folder:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            allow_errors=allow_errors,
            kernel_name="python3",
            resources={"metadata": {"path": folder}},
            store_widget_state=True,
            record_timing=record_timing,  # off: timestamps would be noise in diffs
        )
        client.execute(cwd=folder)
    return notebook


def copy_alone(path, folder):
    """Copy one notebook into `folder` (which must be empty) and return the copy's path."""
    folder = pathlib.Path(folder)
    if any(folder.iterdir()):
        raise ValueError(f"{folder} is not empty")
    return pathlib.Path(shutil.copy(path, folder / path.name))


def normal_form(notebook):
    """`notebook` as it is stored: re-executing unchanged code gives the same file.

    No per-cell execution timestamps, and widget model ids (random uuids, new every run) replaced by ids
    numbered in a fixed order: the displayed widgets in cell order, each followed depth-first by the models it
    refers to, then any other models by content.
    """
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    state = (
        notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state")
    )
    if not state:
        return notebook
    order = []

    def visit(model_id):
        if model_id in state and model_id not in order:
            order.append(model_id)
            for child in re.findall(
                r"IPY_MODEL_(\w+)", json.dumps(state[model_id], sort_keys=True)
            ):
                visit(child)

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                visit(view["model_id"])

    # a model's content and its children's, ids left out
    def subtree(model_id, seen=()):
        children = re.findall(
            r"IPY_MODEL_(\w+)", json.dumps(state[model_id], sort_keys=True)
        )
        own = re.sub(
            r"IPY_MODEL_\w+", "", json.dumps(state[model_id], sort_keys=True)
        )
        return own + "".join(
            subtree(child, seen + (model_id,))
            for child in children
            if child in state and child not in seen
        )

    referenced = set(re.findall(r"IPY_MODEL_(\w+)", json.dumps(state)))
    # models no one displays
    for root in sorted(set(state) - set(order) - referenced, key=subtree):
        visit(root)
    order += sorted(set(state) - set(order), key=subtree)  # cycles only, if any
    renamed = {
        old: hashlib.sha256(f"widget {number}".encode()).hexdigest()[:32]
        for number, old in enumerate(order)
    }
    text = re.sub(
        r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])",
        lambda match: renamed.get(match.group(0), match.group(0)),
        json.dumps(notebook),
    )
    return nbformat.from_dict(json.loads(text))


def _execute_and_report(path, queue):
    """Child process: execute one chapter; send back the notebook, wall time, the kernel's CPU time and memory."""
    try:
        notebook = nbformat.read(path, as_version=4)
        started = time.perf_counter()
        execute_standalone(notebook)
        wall = time.perf_counter() - started
        # the kernel has exited: its totals are in
        kernel = resource.getrusage(resource.RUSAGE_CHILDREN)
        queue.put(
            (
                nbformat.writes(notebook),
                {
                    "wall_s": round(wall, 1),
                    "kernel_cpu_s": round(kernel.ru_utime + kernel.ru_stime, 1),
                    "kernel_peak_memory_mb": round(kernel.ru_maxrss / 1024),
                },
            )
        )
    except Exception as error:  # a failing cell: the parent says which
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # no colours
        queue.put((None, f"{path}: {type(error).__name__}: {message}"))
    queue.close()
    queue.join_thread()  # the answer is sent: leave, whatever else still runs
    os._exit(0)


def execute_measured(path):
    """Execute the chapter at `path` standalone in a process of its own; return (notebook in normal form,
    {wall_s, kernel_cpu_s, kernel_peak_memory_mb})."""
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(
        target=_execute_and_report, args=(path, queue)
    )
    child.start()
    while True:  # the answer, or word that the child died without one
        try:
            text, measurement = queue.get(timeout=5)
            break
        except queue_module.Empty:
            if not child.is_alive():
                text, measurement = (
                    None,
                    f"{path}: the process died ({child.exitcode})",
                )
                break
    child.join()
    if text is None:
        raise RuntimeError(measurement)
    return normal_form(nbformat.reads(text, as_version=4)), measurement


def sync_command_line(main, what, command):
    """The command line of the tools that copy one source into every chapter: `--check` only reports."""
    check = "--check" in sys.argv
    stale = main(check=check)
    if check and stale:
        sys.exit(
            f"{what} out of date in: "
            + ", ".join(map(str, stale))
            + f"\nrun: {command}"
        )
