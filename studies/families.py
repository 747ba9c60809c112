"""One long-run recipe per network that several chapters train, so that each network has one long-run number.

Chapter 1's 784-32-784 network comes back in chapter 7, and its 784-256-30-256-784 network in chapter 8 (and, with
its own protocol still, in chapter 6). Trained on different recipes, the same network ended at different errors in
different chapters, none of them converged. Here each such network gets one recipe, the one of
studies/convergence.py (Adam at a rate chosen on validation, constant, then a cosine cool-down over the last fifth),
with one batch size and one length. A study that trains the network uses its recipe from here, and
tests/test_studies.py checks that the stored results of every study that trains it agree within their spread.
"""

import dataclasses

import convergence
import reference


@dataclasses.dataclass(frozen=True)
class Recipe:
    network: str
    batch: int
    rate: (
        float  # the rate chosen on validation by the study named in `tuned_by`
    )
    passes: int  # over the 54,000 training images
    tuned_by: str

    @property
    def total_steps(self):
        return self.passes * (54_000 // self.batch)

    def keras_schedule(self, keras):
        return convergence.keras_schedule(keras, self.rate, self.total_steps)


ONE_LAYER = Recipe(
    network="784-k-784: one Dense layer of k ReLU units, a sigmoid output",
    batch=120,
    rate=1e-3,
    passes=20,
    tuned_by="studies/07_convolutional.py (k = 32, rates 5e-4 to 8e-3)",
)
DEEP_256 = Recipe(
    network="784-256-30-256-784: ReLU hidden layers, a linear code of 30, "
    "a sigmoid output",
    batch=120,
    rate=4e-3,
    passes=20,
    tuned_by="studies/01_undercomplete.py (rates 5e-4 to 8e-3, 10 passes)",
)


def summarise(curves, steps, rate, total_steps):
    """Seeds' curves of an error trained on the recipe: mean, spread and the convergence test's verdict."""
    mean, std = reference.mean_and_std(curves)
    rates = [
        convergence.recipe_rate(step - 1, rate, total_steps) for step in steps
    ]
    verdict = convergence.judge(steps, mean, rates)
    return {
        "mean": mean,
        "std": std,
        "seeds": curves,
        "learning_rate": rate,
        "converged": verdict.converged,
        "improvement_over_last_doubling": verdict.improvement,
        "doubling_read": list(verdict.stretch) if verdict.stretch else None,
        "verdict": verdict.phrase(),
    }


def evaluation_steps(total_steps, include=()):
    """Log-spaced evaluation steps that include the last step at the constant rate and half of it (the test's
    doubling), and `include` (where a chapter's live runs stop)."""
    first = reference.STEPS_PER_EXECUTION  # Keras reports once per call
    hold = round(total_steps * (1 - convergence.COOLDOWN_FRACTION))
    hold, half = hold // first * first, (hold // 2) // first * first
    return reference.log_spaced_steps(
        total_steps, include=[*include, hold, half]
    )


def uses():
    """The files besides reference.py whose code a study's results depend on, with their hashes: for provenance."""
    import hashlib
    import pathlib

    files = [pathlib.Path(convergence.__file__), pathlib.Path(__file__)]
    return {
        str(path.relative_to(reference.ROOT)): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
        for path in files
    }
