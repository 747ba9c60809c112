"""Benchmark: the fastest this machine multiplies the matrices of one training step, and how close training gets.

Usage:  python benchmarks/gemm_ceiling.py     (about 3 minutes on 2 CPU cores)

A dense layer's training step is three matrix products: the forward pass X W, and in the backward pass the
gradients for its input (dY Wᵀ) and for its weights (Xᵀ dY). For each dense network of
`benchmarks/training_speed.py`, at the same batch size, this times those products alone, with nothing else of
training (no activations, loss, optimiser or data), as one compiled JAX function (with the chapters' XLA flag)
and with NumPy (OpenBLAS), and a large square product for comparison. That is the ceiling a training step can
reach on this machine. In the same run, `training_speed.py`'s worker times the whole training of each network
(JAX, the chapters' settings, two seeds), so the two figures come from one machine: together they say how much
of the machine the training leaves unused, and how much of that is the products' own shapes. Writes
benchmarks/gemm_ceiling.md and .json (committed). Not part of the tests: timings belong in a benchmark.
"""

import json
import os
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import training_speed  # noqa: E402
from training_speed import NETWORKS, peak_gflops  # noqa: E402

OUT = HERE / "gemm_ceiling"
SQUARE = 2048  # the comparison: one large square product
CHAPTERS_XLA_FLAG = "--xla_cpu_use_xnnpack=false"  # as the JAX chapters set it


def step_shapes(spec):
    """(rows, inner, columns) of each product in one training step of the network(s) of `spec`."""
    groups = (
        spec["layers"]
        if isinstance(spec["layers"][0], list)
        else [spec["layers"]]
    )
    batch, shapes = spec["batch"], []
    for hidden in groups:
        sizes = [784, *hidden, 784]
        for a, b in zip(sizes, sizes[1:]):
            shapes += [(batch, a, b), (batch, b, a), (a, batch, b)]
    return shapes


def seconds_per_call(call, minimum_seconds=2.0):
    """Median seconds of `call()` over repetitions filling at least `minimum_seconds`, after a warm-up."""
    call()
    times = []
    started = time.perf_counter()
    while time.perf_counter() - started < minimum_seconds or len(times) < 5:
        before = time.perf_counter()
        call()
        times.append(time.perf_counter() - before)
    times.sort()
    return times[len(times) // 2]


def worker(library):
    """GFLOP/s of each network's step products and of the square product, printed as JSON."""
    import numpy as np

    rng = np.random.default_rng(0)
    cases = {
        name: step_shapes(spec)
        for name, spec in NETWORKS.items()
        if not spec.get("conv")
    }
    cases[f"square {SQUARE} x {SQUARE}"] = [(SQUARE, SQUARE, SQUARE)]
    results = {}
    for name, shapes in cases.items():
        pairs = [
            (
                rng.random((m, k), dtype=np.float32),
                rng.random((k, n), dtype=np.float32),
            )
            for m, k, n in shapes
        ]
        flops = sum(2 * m * k * n for m, k, n in shapes)
        if library == "jax":
            import jax

            on_device = [tuple(map(jax.device_put, pair)) for pair in pairs]
            products = jax.jit(lambda ps: [a @ b for a, b in ps])

            def call():
                jax.block_until_ready(products(on_device))

        else:

            def call():
                for a, b in pairs:
                    a @ b

        results[name] = flops / seconds_per_call(call) / 1e9
    print(json.dumps(results))


def measure(library):
    output = subprocess.run(
        [sys.executable, __file__, "--worker", library],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def training_gflops(seeds=(1, 2)):
    """{network: (lowest, highest)} GFLOP/s of the whole training, JAX at the chapters' settings, per seed."""
    ranges = {}
    for name, spec in NETWORKS.items():
        if spec.get("conv"):
            continue
        measured = []
        for seed in seeds:
            print(f"timing the training of {name}, seed {seed} ...", flush=True)
            result = training_speed.measure(
                {
                    "network": name,
                    "seed": seed,
                    "batch_factor": 1,
                    "jit_compile": "auto",
                    "steps_per_execution": 50,
                    "passes": 2,
                    "tf_threads": None,
                    "backend_asked": "jax",
                    "change": "baseline",
                }
            )
            if result:
                measured.append(result["gflops"])
        if measured:
            ranges[name] = (min(measured), max(measured))
    return ranges


def main():
    # every JAX process this starts (products and training) runs as the chapters do
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " " + CHAPTERS_XLA_FLAG
    )
    peak, how = peak_gflops()
    measured = {}
    for library in ["jax", "numpy"]:
        print(f"timing the products with {library} ...", flush=True)
        measured[library] = measure(library)
    training = training_gflops()
    OUT.with_suffix(".json").write_text(
        json.dumps(
            {
                "peak_gflops": peak,
                "peak_how": how,
                "products_gflops": measured,
                "training_gflops": training,
            },
            indent=2,
        )
    )
    lines = [
        "# The products of a training step, alone",
        "",
        "Written by `python benchmarks/gemm_ceiling.py`. GFLOP/s of the three matrix products of every dense layer",
        "in one training step (X W, dY Wᵀ, Xᵀ dY) at the batch size of `training_speed.py`, timed alone: JAX compiled",
        f"(with the chapters' `{CHAPTERS_XLA_FLAG}`) and NumPy. Training GFLOP/s: the whole training of the same",
        "network in the same run (JAX, the chapters' settings and XLA flag, seeds 1 and 2, same FLOP count as",
        "`training_speed.md`).",
        "",
        f"Machine peak: {peak:.0f} GFLOP/s = {how}.",
        "",
        "| products of | JAX GFLOP/s (% of peak) | NumPy GFLOP/s (% of peak) | training, JAX GFLOP/s | training / JAX products |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, jax_gflops in measured["jax"].items():
        numpy_gflops = measured["numpy"][name]
        low, high = training.get(name, (None, None))
        trained = f"{low:.0f}-{high:.0f}" if low else "—"
        share = (
            f"{100 * low / jax_gflops:.0f}-{100 * high / jax_gflops:.0f}%"
            if low
            else "—"
        )
        lines.append(
            f"| {name} | {jax_gflops:.0f} ({100 * jax_gflops / peak:.0f}%) | {numpy_gflops:.0f} "
            f"({100 * numpy_gflops / peak:.0f}%) | {trained} | {share} |"
        )
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2])
    else:
        main()
