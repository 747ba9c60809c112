"""Benchmark: which package makes the chapters run slower on our pins than on Colab's versions?

Usage:  python benchmarks/version_gap.py [--rounds N] [--colab-venv .venv-colab] [book/01_undercomplete.ipynb ...]
        (default: chapters 1 and 3, 1 round; about 8 minutes on 2 CPU cores; --colab-venv adds Colab's whole
        environment as .ci/colab-versions builds it, Python 3.13 included)

CI executes the chapters on our pins (requirements.lock) and on Colab's (.ci/colab-requirements.txt); one run of
1076ebb took 877 s on the first and 572 s on the second. This benchmark swaps one package at a time back to
Colab's version over our pinned environment (installed with --no-deps into _build/version-gap/<name> and put first
on the kernel's PYTHONPATH) and executes the same chapters standalone, the variants interleaved round by round so
that a busy machine slows them alike. Each chapter's first cell prints the Keras version and backend it ran on,
which the report quotes, with the versions each variant's interpreter imports, as proof of what was loaded. Writes benchmarks/version_gap.md and .json (committed).
Not part of the tests: timings belong in a benchmark, and only timings of one run are compared.
"""

import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "version_gap"
OVERLAYS = ROOT / "_build" / "version-gap"

# Colab's versions (.ci/colab-requirements.txt), one package (family) at a time
VARIANTS = {
    "our pins": [],
    "jax 0.7.2 (Colab's)": ["jax==0.7.2", "jaxlib==0.7.2"],
    "keras 3.13.2 (Colab's)": ["keras==3.13.2"],
}

RUN_ONE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from notebooks import execute_measured
import pathlib
notebook, run = execute_measured(pathlib.Path(sys.argv[2]))
first = next(cell for cell in notebook.cells if cell.cell_type == "code")
run["first_cell_said"] = "".join(o.get("text", "") for o in first.outputs).strip()
print(json.dumps(run))
"""


def overlay(name, requirements):
    """A folder holding `requirements` alone (no dependencies), installed once."""
    folder = OVERLAYS / "".join(c if c.isalnum() else "-" for c in name)
    if requirements and not folder.is_dir():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
            + ["--target", str(folder), *requirements],
            check=True,
        )
    return folder if requirements else None


VERSIONS = (
    "import sys, importlib.metadata as m; print(sys.version.split()[0], *(f'{p} {m.version(p)}' for p in "
    "['jax', 'keras', 'tensorflow', 'numpy']), sep=', ')"
)


def environment_of(folder):
    environment = {**os.environ}
    if folder:
        environment["PYTHONPATH"] = str(folder)
    return environment


def versions(python, folder):
    """Python's and the main packages' versions that `python` imports with the overlay `folder`."""
    return subprocess.run(
        [python, "-c", VERSIONS],
        env=environment_of(folder),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def run_chapter(path, python, folder):
    result = subprocess.run(
        [python, "-c", RUN_ONE, str(ROOT / "tools"), str(path)],
        env=environment_of(folder),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(paths, rounds, colab_venv=None):
    variants = {
        name: (sys.executable, overlay(name, reqs))
        for name, reqs in VARIANTS.items()
    }
    if colab_venv:
        variants["Colab's whole environment"] = (
            str(pathlib.Path(colab_venv).resolve() / "bin" / "python"),
            None,
        )
    loaded = {name: versions(*variant) for name, variant in variants.items()}
    runs = {name: {path.stem: [] for path in paths} for name in variants}
    for number in range(rounds):
        for path in paths:
            for name, (python, folder) in variants.items():
                run = run_chapter(path, python, folder)
                runs[name][path.stem].append(run)
                print(
                    f"round {number + 1}/{rounds} {path.stem} {name}: {run['wall_s']} s "
                    f"({run['first_cell_said'].splitlines()[-1]})",
                    flush=True,
                )
    report = {
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "python": platform.python_version(),
        "rounds": rounds,
        "variants": VARIANTS,
        "loaded": loaded,
        "runs": runs,
    }
    OUT.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    lines = [
        "# Our pins against Colab's versions, one package at a time",
        "",
        f"`python benchmarks/version_gap.py`: {report['machine']}, Python {report['python']}, "
        f"{rounds} rounds, variants interleaved. Median wall seconds of a standalone execution.",
        "",
        "| chapter | " + " | ".join(variants) + " |",
        "|---|" + "--:|" * len(variants),
    ]
    for path in paths:
        cells = [
            f"{statistics.median(r['wall_s'] for r in runs[name][path.stem]):.1f}"
            for name in variants
        ]
        lines.append(f"| {path.stem} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "What each variant loaded (its interpreter, then the chapter's first cell):",
        "",
    ]
    for name in variants:
        said = runs[name][paths[0].stem][0]["first_cell_said"].splitlines()[-1]
        lines.append(f"- {name}: {loaded[name]}; `{said}`")
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    rounds, colab_venv = 1, None
    if arguments[:1] == ["--rounds"]:
        rounds, arguments = int(arguments[1]), arguments[2:]
    if arguments[:1] == ["--colab-venv"]:
        colab_venv, arguments = arguments[1], arguments[2:]
    main(
        [pathlib.Path(a).resolve() for a in arguments]
        or [
            ROOT / "book" / "01_undercomplete.ipynb",
            ROOT / "book" / "03_sparse.ipynb",
        ],
        rounds,
        colab_venv,
    )
