"""Reference runs (studies/): results as new as the code that made them, copied into their chapters, small."""

import hashlib
import json
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "studies"))

import reference  # noqa: E402
import sync_reference_results  # noqa: E402

STUDIES = sorted((ROOT / "studies").glob("[0-9]*.py"))


def test_there_is_a_study_and_each_belongs_to_a_chapter():
    assert STUDIES, "no reference runs found under studies/"
    for study in STUDIES:
        assert (ROOT / "book" / f"{study.stem}.ipynb").exists(), (
            f"studies/{study.name} names no chapter"
        )


@pytest.mark.parametrize("study", STUDIES, ids=[s.stem for s in STUDIES])
def test_results_are_as_new_as_the_study_code(study):
    results = reference.results_path(study)
    remake = f"run: python studies/{study.name}, then python tools/sync_reference_results.py"
    assert results.exists(), f"studies/{study.name} has no results; {remake}"
    provenance = json.loads(results.read_text())["provenance"]
    assert provenance["code_sha256"] == reference.code_sha256(study), (
        f"studies/{study.name} (or studies/reference.py) changed since its "
        f"results were made; {remake}"
    )


@pytest.mark.parametrize("study", STUDIES, ids=[s.stem for s in STUDIES])
def test_results_are_as_new_as_the_code_they_borrow(study):
    """A study that runs code from outside studies/ (e.g. a shared chapter cell) stores that code's hash."""
    provenance = json.loads(reference.results_path(study).read_text())[
        "provenance"
    ]
    for path, digest in provenance.get("uses", {}).items():
        current = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
        assert current == digest, (
            f"{path} changed since studies/{study.name} made its results; "
            f"run: python studies/{study.name}, then python tools/sync_reference_results.py"
        )


@pytest.mark.parametrize("study", STUDIES, ids=[s.stem for s in STUDIES])
def test_results_say_how_they_were_made(study):
    results = json.loads(reference.results_path(study).read_text())
    provenance = results["provenance"]
    for key in ["date", "packages", "processor", "cpu_count", "wall_seconds"]:
        assert provenance.get(key), f"provenance lacks {key}"
    assert provenance["packages"]["keras"]
    assert len(results["settings"]["seeds"]) >= 3, "at least three seeds"
    assert results["settings"]["convergence_test"]


def test_every_chapter_holds_its_current_results():
    stale = sync_reference_results.main(check=True)
    assert not stale, (
        f"out of date in {[path.name for path in stale]}: "
        "run python tools/sync_reference_results.py"
    )


def test_stored_results_are_small_enough_to_carry():
    for results in sync_reference_results.studied_chapters().values():
        size = len(sync_reference_results.cell_source(results))
        assert size <= sync_reference_results.MAX_STORED_CHARACTERS, (
            f"{results.name}: {size:,} characters"
        )


def test_evaluation_steps_are_whole_calls_spread_on_a_log_axis():
    steps = reference.log_spaced_steps(18_000, points=16, include=[450, 1350])
    assert steps[0] == reference.STEPS_PER_EXECUTION and steps[-1] == 18_000
    assert {450, 1350} <= set(steps)
    assert steps == sorted(set(steps))
    assert all(step % reference.STEPS_PER_EXECUTION == 0 for step in steps)
    ratios = [b / a for a, b in zip(steps, steps[1:])]
    assert max(ratios) < 2.5, "no wide gaps on the log axis"


def test_convergence_test_tells_a_flat_curve_from_a_falling_one():
    steps = [100, 200, 400, 800, 900, 1000]
    flat, falling = [5, 3, 2, 1.01, 1.0, 1.0], [5, 4, 3, 2, 1.5, 1.0]
    spread = [0.05] * len(steps)
    assert reference.converged(flat, spread, steps)[0]
    assert not reference.converged(falling, spread, steps)[0]
