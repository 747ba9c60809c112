"""What every reference run shares: evaluation at log-spaced steps, the convergence test, provenance, results.

A chapter trains its models for a few passes so that it runs in a minute or two. A reference run (one script per
chapter in this folder) trains the same models, on the same data split with the same optimiser settings, for long
enough to converge, over several seeds. It records the test metric against optimiser steps, so the chapter can
draw its lessons about methods from converged models and show its own short run as points on these curves.

Results go to studies/results/<chapter>.json with their provenance (date, hash of the code that made them,
package versions, processor, wall time); `python tools/sync_reference_results.py` copies them into the chapter's
cell tagged `reference-results`, and the tests fail when either is older than the code.
"""

import datetime
import hashlib
import importlib.metadata
import json
import os
import pathlib
import platform
import sys
import time

STUDIES = pathlib.Path(__file__).resolve().parent
RESULTS = STUDIES / "results"
ROOT = STUDIES.parent
SHARED_FILES = [STUDIES / "reference.py"]
PACKAGES = ["keras", "jax", "jaxlib", "tensorflow", "numpy", "scikit-learn"]
STEPS_PER_EXECUTION = 50  # as in the chapters: evaluation steps are multiples


def choose_backend():
    """The chapters' backend settings, applied before Keras is imported."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    # JAX 0.7.2 (Colab's) trains wrongly on a CPU with XNNPACK; the JAX chapters turn it off too
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_use_xnnpack=false"
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def code_sha256(study_file):
    """Hash of a study script and the shared code it runs: what its results are current for."""
    digest = hashlib.sha256()
    for path in [pathlib.Path(study_file), *SHARED_FILES]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def results_path(study_file):
    return RESULTS / (pathlib.Path(study_file).stem + ".json")


def log_spaced_steps(total_steps, points=16, include=()):
    """About `points` steps from the first call to `total_steps`, evenly spaced on a log axis.

    Every step is a multiple of STEPS_PER_EXECUTION (Keras reports to callbacks once per call);
    `include` adds the steps a chapter's live runs stop at, so they can be compared exactly, and
    the start of the last fifth of training is always included, for the convergence test.
    """
    first = STEPS_PER_EXECUTION
    last_fifth = int(round(0.8 * total_steps / first)) * first
    steps = set(include) | {total_steps, last_fifth}
    for i in range(points):
        step = first * (total_steps / first) ** (i / (points - 1))
        steps.add(
            max(first, int(round(step / first)) * first)
        )  # nearest whole call
    return sorted(step for step in steps if step <= total_steps)


def converged(mean_curve, std_curve, steps, last_fraction=0.2):
    """The convergence test: over the last `last_fraction` of the steps, the mean moves less than the seed spread.

    Returns (held, movement, spread): the mean's change from the first evaluation in that window to the last,
    and the largest seed standard deviation there.
    """
    start = steps[-1] * (1 - last_fraction)
    window = [i for i, step in enumerate(steps) if step >= start - 1e-9]
    if len(window) < 2:
        raise ValueError(
            "the convergence test needs an evaluation at the start of the last fifth"
        )
    movement = abs(mean_curve[window[0]] - mean_curve[window[-1]])
    spread = max(std_curve[i] for i in window)
    return movement <= spread, movement, spread


def make_evaluation_callback(keras, steps, steps_per_epoch, evaluate):
    """A Keras callback that calls `evaluate()` after each step in `steps` and keeps {step: result}."""

    class EvaluateAtSteps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.results, self.epoch = {}, 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            step = self.epoch * steps_per_epoch + batch + 1
            if step in steps:
                self.model  # noqa: B018 (reading it brings JAX's training state into the variables)
                self.results[step] = evaluate()

    return EvaluateAtSteps()


class Progress:
    """One line per finished run on stderr, with the time so far and an estimate of what is left."""

    def __init__(self, total_runs):
        self.total, self.done, self.start = total_runs, 0, time.perf_counter()

    def finished(self, what):
        self.done += 1
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done)
        print(
            f"[{self.done}/{self.total}] {what}: {elapsed / 60:.1f} min so far, "
            f"about {left / 60:.1f} min left",
            file=sys.stderr,
            flush=True,
        )


def provenance(study_file, wall_seconds, keras):
    """Where and how results were made."""
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "made_by": f"python studies/{pathlib.Path(study_file).name}",
        "date": datetime.date.today().isoformat(),
        "code_sha256": code_sha256(study_file),
        "packages": versions,
        "python": platform.python_version(),
        "backend": keras.backend.backend(),
        "processor": processor_name(),
        "cpu_count": os.cpu_count(),
        "wall_seconds": round(wall_seconds, 1),
    }


def processor_name():
    """The CPU's model name (Linux), else what platform reports."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mean_and_std(curves):
    """Mean and standard deviation over seeds (the rows) of equal-length curves, as lists."""
    import numpy as np

    curves = np.asarray(curves, dtype=float)
    spread = curves.std(axis=0, ddof=1) if len(curves) > 1 else 0 * curves[0]
    return curves.mean(axis=0).tolist(), spread.tolist()


def rounded(value, digits=5):
    """Floats to `digits` significant digits, recursively, so the stored results stay small."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item, digits) for item in value]
    return value


def write_results(study_file, results):
    RESULTS.mkdir(exist_ok=True)
    path = results_path(study_file)
    path.write_text(json.dumps(rounded(results), indent=1) + "\n")
    print(
        f"wrote {path.relative_to(ROOT)}; now run: python tools/sync_reference_results.py",
        file=sys.stderr,
    )
