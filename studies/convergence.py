"""When a long run may be called converged: a test that a decaying learning rate cannot pass by itself.

The book's first reference runs let the learning rate fall along a cosine to zero and called a run converged when,
over its last fifth, the seeds' mean moved less than their spread. That test passes by construction: in the last
fifth a cosine runs at 16% of its peak rate or less, so any run barely moves there, converged or not.

The recipe and the test that replace it:

- **Recipe** (warm-stable-decay): Adam at the rate chosen on validation, held constant for the first 80% of the
  steps, then a cosine cool-down to 0 over the last 20%. The cool-down gives the final model; the constant
  stretch is what the test reads.
- **Test**: over the last doubling of steps at the constant rate (from step h/2 to step h, where h is the last
  evaluation before the cool-down), the seeds' mean error improved by less than `TOLERANCE` (1%) of its value at h.
  A run without such a doubling (a cosine from the start, say) is not judged converged.
- **Wording**: a run that passes is "converged"; one that does not is a "long run (N steps), still improving by x%
  per doubling", never "converged".
"""

import dataclasses
import math

TOLERANCE = (
    0.01  # at most 1% better over the last doubling of steps at a constant rate
)
COOLDOWN_FRACTION = 0.2  # the recipe's cool-down: the last fifth of the steps


def recipe_rate(
    steps_taken, peak_rate, total_steps, cooldown_fraction=COOLDOWN_FRACTION
):
    """The recipe's learning rate for the next step after `steps_taken` (as Keras counts): constant, then a
    cosine to 0."""
    hold = round(total_steps * (1 - cooldown_fraction))
    if steps_taken <= hold:
        return peak_rate
    progress = min(1.0, (steps_taken - hold) / max(1, total_steps - hold))
    return peak_rate * 0.5 * (1 + math.cos(math.pi * progress))


def keras_schedule(
    keras, peak_rate, total_steps, cooldown_fraction=COOLDOWN_FRACTION
):
    """The same schedule for a Keras optimiser: a "warm-up" from the peak to the peak (constant), then a cosine."""
    hold = round(total_steps * (1 - cooldown_fraction))
    return keras.optimizers.schedules.CosineDecay(
        peak_rate,
        decay_steps=total_steps - hold,
        warmup_steps=hold,
        warmup_target=peak_rate,
    )


@dataclasses.dataclass
class Verdict:
    converged: bool
    # relative improvement over the last doubling at a constant rate; None when there is none to read
    improvement: float | None
    # the doubling read: (first step, last step), or None
    stretch: tuple | None
    total_steps: int

    def phrase(self):
        """What the book may say of the run."""
        if self.improvement is None:
            return (
                f"long run ({self.total_steps:,} steps), not tested: no doubling of steps at a constant "
                "learning rate"
            )
        if self.converged:
            return (
                f"converged: {self.improvement:.1%} better over its last doubling of steps at a constant "
                f"rate ({self.stretch[0]:,} to {self.stretch[1]:,})"
            )
        return (
            f"long run ({self.total_steps:,} steps), still improving by {self.improvement:.1%} per "
            "doubling of steps"
        )


def constant_rate_doubling(steps, rates):
    """Indices (start, end) of the last doubling of evaluation steps during which the rate stayed at its peak.

    `rates[i]` is the learning rate in use up to evaluation `steps[i]`. `end` is the last evaluation at the peak
    rate, `start` the latest evaluation at or before half of `steps[end]` with the rate at the peak all the way
    from it to `end`. Returns None when there is no such pair.
    """
    if len(steps) != len(rates) or not steps:
        raise ValueError("give one learning rate per evaluation step")
    peak = max(rates)
    at_peak = [abs(rate - peak) <= 1e-9 * peak for rate in rates]
    if not any(at_peak):
        return None
    end = max(i for i, flag in enumerate(at_peak) if flag)
    start = end
    while start > 0 and at_peak[start - 1] and steps[start] > steps[end] / 2:
        start -= 1
    if start == end or steps[start] > steps[end] / 2:
        return None
    return start, end


def judge(steps, mean_errors, rates, tolerance=TOLERANCE):
    """The convergence test on the seeds' mean error at evaluation `steps`, trained at learning `rates`."""
    if len(mean_errors) != len(steps):
        raise ValueError("give one error per evaluation step")
    stretch = constant_rate_doubling(steps, rates)
    if stretch is None:
        return Verdict(False, None, None, steps[-1])
    start, end = stretch
    improvement = (mean_errors[start] - mean_errors[end]) / mean_errors[end]
    return Verdict(
        improvement < tolerance,
        improvement,
        (steps[start], steps[end]),
        steps[-1],
    )
