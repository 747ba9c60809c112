"""Reference runs (studies/): results as new as the code that made them, copied into their chapters, small."""

import hashlib
import itertools
import json
import math
import sys

import numpy as np

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "studies"))

import convergence  # noqa: E402
import families  # noqa: E402
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


def simulated_training(curvatures, rate_at, total_steps):
    """Gradient descent on a quadratic with these curvatures: the loss at log-spaced steps, as a study records it.

    A spread of curvatures down to 1/1,000,000 of the largest is a problem that keeps improving for a long time
    at a constant rate, as the book's networks do.
    """
    import numpy as np

    hold = round(total_steps * (1 - convergence.COOLDOWN_FRACTION))
    steps = reference.log_spaced_steps(total_steps, include=[hold, hold // 2])
    squares, losses = np.ones_like(curvatures), {}
    for step in range(1, total_steps + 1):
        squares *= (1 - rate_at(step) * curvatures) ** 2
        if step in steps:
            losses[step] = 0.5 * float(np.sum(curvatures * squares))
    return steps, [losses[step] for step in steps]


def cosine(peak, total_steps):
    return lambda step: (
        peak * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    )


def recipe(peak, total_steps):
    return lambda step: convergence.recipe_rate(step - 1, peak, total_steps)


def test_a_cosine_flattens_a_run_the_old_test_calls_converged_and_the_new_one_does_not():
    total, peak = 20_000, 0.5
    slow = np.arange(1, 1001, dtype=float) ** -2.0
    steps, errors = simulated_training(slow, cosine(peak, total), total)
    one_percent_spread = [0.01 * error for error in errors]
    # the old test: the last fifth of a cosine barely moves, so it passes
    assert reference.converged(errors, one_percent_spread, steps)[0]
    # the new one does not judge a run that never held its rate for a doubling of steps
    rates = [cosine(peak, total)(step) for step in steps]
    verdict = convergence.judge(steps, errors, rates)
    assert not verdict.converged and verdict.improvement is None
    assert (
        "not tested" in verdict.phrase() and "converged" not in verdict.phrase()
    )
    # the same problem at the recipe's constant rate is still falling fast
    steps, errors = simulated_training(slow, recipe(peak, total), total)
    rates = [recipe(peak, total)(step) for step in steps]
    verdict = convergence.judge(steps, errors, rates)
    assert not verdict.converged and verdict.improvement > 0.2
    assert verdict.phrase().startswith(
        "long run (20,000 steps), still improving by"
    )


def test_the_new_test_passes_a_run_that_has_stopped_improving_at_a_constant_rate():
    total, peak = 20_000, 0.5
    easy = np.linspace(0.05, 1.0, 50)
    steps, errors = simulated_training(easy, recipe(peak, total), total)
    # plus what the network cannot reconstruct
    errors = [error + 0.01 for error in errors]
    rates = [recipe(peak, total)(step) for step in steps]
    verdict = convergence.judge(steps, errors, rates)
    assert verdict.converged and verdict.improvement < convergence.TOLERANCE
    assert verdict.stretch == (8_000, 16_000)
    assert verdict.phrase().startswith("converged: 0.0% better")
    # a tolerance below what it still gains fails it
    assert not convergence.judge(steps, errors, rates, tolerance=-1).converged


def test_the_new_test_reads_only_a_stretch_at_the_peak_rate():
    steps = [100, 200, 400, 800, 1000]
    # the rate fell before a doubling at the peak was complete: nothing to read
    assert convergence.constant_rate_doubling(steps, [1, 1, 0.5, 0.2, 0.1]) == (
        0,
        1,
    )
    assert (
        convergence.constant_rate_doubling(steps, [1, 0.9, 0.5, 0.2, 0.1])
        is None
    )
    assert convergence.constant_rate_doubling(steps, [1, 1, 1, 1, 0.0]) == (
        2,
        3,
    )
    with pytest.raises(ValueError, match="one learning rate per evaluation"):
        convergence.judge(steps, [1, 1, 1, 1, 1], [1, 1])


def test_the_recipe_rate_is_its_keras_schedule():
    import keras

    schedule = convergence.keras_schedule(keras, 3e-3, 1_000)
    for step in [0, 400, 800, 801, 900, 999, 1_000]:
        assert float(schedule(step)) == pytest.approx(
            convergence.recipe_rate(step, 3e-3, 1_000), rel=1e-4, abs=1e-9
        ), step


# Every study that trains a network of studies/families.py, and where its run sits in the stored results.
FAMILY_MEMBERS = {
    "ONE_LAYER": [
        ("01_undercomplete", ["shallow", "32"]),
        ("07_convolutional", ["test_mse", "dense"]),
    ],
    "DEEP_256": [
        ("01_undercomplete", ["deep", "deep_256"]),
        ("06_comparison", ["curves", "deep", "clean MSE"]),
        ("08_codes", ["test_mse", "plain, 30"]),
    ],
}


def stored_run(study, keys):
    results = json.loads((reference.RESULTS / f"{study}.json").read_text())
    run = results
    for key in keys:
        run = run[key]
    return results, run


@pytest.mark.parametrize("family", FAMILY_MEMBERS)
def test_every_study_trains_a_shared_network_on_its_one_recipe(family):
    recipe = getattr(families, family)
    for study, keys in FAMILY_MEMBERS[family]:
        results, run = stored_run(study, keys)
        settings = results["settings"]
        # 54,000 training images in batches of recipe.batch
        assert settings["steps_per_pass"] == 54_000 // recipe.batch, study
        assert settings["total_steps"] == recipe.total_steps, study
        assert settings["constant_steps"] == round(0.8 * recipe.total_steps), (
            study
        )
        assert run["learning_rate"] == recipe.rate, study


@pytest.mark.parametrize("family", FAMILY_MEMBERS)
def test_the_same_network_has_one_long_run_number_in_every_chapter(family):
    """By chapter 6's rule: two runs are apart when their means differ by more than the sum of their spreads."""
    ends = {}
    for study, keys in FAMILY_MEMBERS[family]:
        _, run = stored_run(study, keys)
        ends[study] = (run["mean"][-1], run["std"][-1])
    disagreements = [
        f"{first} ends at {mean_a:.5f} ± {std_a:.5f}, {second} at {mean_b:.5f} ± {std_b:.5f}"
        for (first, (mean_a, std_a)), (
            second,
            (mean_b, std_b),
        ) in itertools.combinations(ends.items(), 2)
        if abs(mean_a - mean_b) > std_a + std_b
    ]
    assert not disagreements, (
        f"{families.__name__}.{family}, the same network on the same recipe, disagrees: "
        + "; ".join(disagreements)
    )


def test_a_shared_networks_rate_is_the_one_its_study_chose_on_validation():
    _, ch7_rates = stored_run("07_convolutional", ["learning_rates"])
    assert families.ONE_LAYER.rate == ch7_rates["dense"]
    _, ch1_rates = stored_run("01_undercomplete", ["learning_rates"])
    assert families.DEEP_256.rate == ch1_rates["deep_256"]
    assert families.ONE_LAYER.rate == ch1_rates["one-layer"]
