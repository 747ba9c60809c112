"""Benchmark: how fast the chapters' networks train on this machine, under the settings that could matter.

Usage:  python benchmarks/training_speed.py [--quick] [--network TEXT] [--change TEXT]
        (every setting: about 25 minutes on 2 CPU cores; --quick: 1 minute; --network, --change: only the networks
        and settings whose names contain TEXT, merged into the existing report)
        python benchmarks/training_speed.py --rewrite     (the .md again from the .json)

For each network the chapters train (the same layers, batch size and optimiser as in the chapter), it measures
seconds per pass over the 54,000 training images after a warm-up pass, and the test MSE those passes reach, under:
the Keras backend (TensorFlow or JAX; it must be chosen before Keras is imported, so every setting runs in a
fresh process), `steps_per_execution`, batch size (with the learning rate scaled by the square root of the batch
ratio), XLA for TensorFlow (`jit_compile`; JAX always compiles with XLA) and TensorFlow's thread pools. Two seeds
of each network's baseline give the spread that "equal results" is judged by.

Throughput is the layers' floating-point operations per second: a dense or convolution layer costs 2 FLOPs per
multiply-add in the forward pass and twice that again in the backward pass (gradients for inputs and weights),
so 6 x multiply-adds per image per pass. The machine's theoretical FP32 peak is cores x clock x FLOPs per cycle
per core (two 256-bit FMA units with AVX2: 2 x 8 lanes x 2 = 32); the clock is the base (TSC) clock from
/proc/cpuinfo, so turbo can exceed it. Writes benchmarks/training_speed.md and .json (committed).
Not part of the tests: timings belong in a benchmark.
"""

import json
import math
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "training_speed"

# The chapters' main trainings: layers, batch size and learning rate as in the chapter.
NETWORKS = {
    "shallow 784-28-784 (ch 1)": {"layers": [28], "batch": 128, "lr": 1e-3},
    "sweep: 7 one-layer networks side by side (ch 1)": {
        "layers": [[2], [4], [8], [16], [32], [64], [128]],
        "batch": 128,
        "lr": 1e-3,
    },
    "one layer 784-256-784 (ch 3)": {
        "layers": [256],
        "batch": 256,
        "lr": 3e-3,
    },
    "deep 784-256-30-256-784 (ch 1, 5, 6)": {
        "layers": [256, 30, 256],
        "batch": 256,
        "lr": 3e-3,
    },
    "conv denoiser 32-32-8 channels (ch 4)": {
        "conv": True,
        "batch": 32,
        "lr": 5e-3,
    },
}


def build(spec):
    """The network(s) of `spec`, and the multiply-adds of one image's forward pass."""
    import keras

    if spec.get("conv"):
        noisy = keras.Input(shape=(28, 28, 1))
        features = keras.layers.Conv2D(
            32, 3, strides=2, padding="same", activation="relu"
        )(noisy)
        features = keras.layers.Conv2D(
            32, 3, padding="same", activation="relu"
        )(features)
        features = keras.layers.Conv2DTranspose(
            8, 3, strides=2, padding="same", activation="relu"
        )(features)
        features = keras.layers.Concatenate()([features, noisy])
        cleaned = keras.layers.Conv2D(
            1, 3, padding="same", activation="sigmoid"
        )(features)
        # multiply-adds: output positions x kernel area x input channels x output channels
        macs = (
            14 * 14 * 9 * 1 * 32
            + 14 * 14 * 9 * 32 * 32
            + 28 * 28 * 9 * 32 * 8
            + 28 * 28 * 9 * 9 * 1
        )
        return [keras.Model(noisy, cleaned)], macs
    groups = (
        spec["layers"]
        if isinstance(spec["layers"][0], list)
        else [spec["layers"]]
    )
    models, macs = [], 0
    for hidden in groups:
        layers = [keras.Input(shape=(784,))]
        sizes = [784, *hidden, 784]
        for size in hidden:
            layers.append(keras.layers.Dense(size, activation="relu"))
        layers.append(keras.layers.Dense(784, activation="sigmoid"))
        macs += sum(a * b for a, b in zip(sizes, sizes[1:]))
        models.append(keras.Sequential(layers))
    return models, macs


def worker(settings):
    """One setting, in this fresh process: train, time and score; print one JSON line."""
    import keras
    import numpy as np

    if settings.get("tf_threads"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(
            settings["tf_threads"]
        )
        tf.config.threading.set_inter_op_parallelism_threads(1)
    spec = NETWORKS[settings["network"]]
    (x_train, _), (x_test, _) = keras.datasets.fashion_mnist.load_data()
    x_train = x_train[:-6000].astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    shape = (-1, 28, 28, 1) if spec.get("conv") else (-1, 784)
    x_train, x_test = x_train.reshape(shape), x_test.reshape(shape)

    keras.utils.set_random_seed(settings["seed"])
    models, macs = build(spec)
    inputs = keras.Input(shape=x_train.shape[1:])
    combined = keras.Model(inputs, [model(inputs) for model in models])
    batch = spec["batch"] * settings["batch_factor"]
    learning_rate = spec["lr"] * math.sqrt(settings["batch_factor"])
    combined.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=["mse"] * len(models),
        jit_compile=settings["jit_compile"],
        steps_per_execution=settings["steps_per_execution"],
    )
    targets = [x_train] * len(models)
    # warm-up: tracing, compiling
    combined.fit(x_train, targets, epochs=1, batch_size=batch, verbose=0)
    started = time.perf_counter()
    combined.fit(
        x_train, targets, epochs=settings["passes"], batch_size=batch, verbose=0
    )
    seconds = (time.perf_counter() - started) / settings["passes"]
    mse = [
        float(
            np.mean((x_test - keras.ops.convert_to_numpy(model(x_test))) ** 2)
        )
        for model in models
    ]
    flops = 6 * macs * len(x_train) / seconds
    print(
        "RESULT "
        + json.dumps(
            {
                **settings,
                "backend": keras.backend.backend(),
                "keras": keras.__version__,
                "seconds_per_pass": seconds,
                "test_mse": float(np.mean(mse)),
                "gflops": flops / 1e9,
            }
        )
    )


def peak_gflops():
    """Theoretical FP32 peak: cores x base clock x 32 FLOPs per cycle (AVX2, two FMA units), and how it was found."""
    cpuinfo = pathlib.Path("/proc/cpuinfo").read_text()
    flags = set(re.search(r"^flags\s*:(.*)$", cpuinfo, re.M).group(1).split())
    mhz = re.search(r"^bogomips\s*:\s*([\d.]+)$", cpuinfo, re.M)
    # bogomips = 2 x TSC clock on x86
    clock_ghz = float(mhz.group(1)) / 2 / 1000 if mhz else float("nan")
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    # two FMA units, 2 FLOPs per FMA
    per_cycle = 2 * lanes * (2 if "fma" in flags else 1)
    cores = os.cpu_count()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    return cores * clock_ghz * per_cycle, (
        f"{cores} cores x {clock_ghz:.3f} GHz (base clock: bogomips / 2) x {per_cycle} FP32 FLOPs per cycle "
        f"({'AVX-512' if lanes == 16 else 'AVX2' if lanes == 8 else 'SSE'}, 2 FMA units) on "
        f"{model.group(1) if model else platform.processor()}"
    )


def settings_to_run(quick):
    """Each network's baseline per backend (2 seeds) and a 4x batch; for the two main networks, one change at a time."""
    runs = []
    networks = list(NETWORKS)[3:4] if quick else list(NETWORKS)
    full_grid = [
        "deep 784-256-30-256-784 (ch 1, 5, 6)",
        "sweep: 7 one-layer networks side by side (ch 1)",
    ]
    for network in networks:
        base = {
            "network": network,
            "seed": 1,
            "batch_factor": 1,
            "jit_compile": "auto",
            "steps_per_execution": 50,
            "passes": 2,
            "tf_threads": None,
        }
        changes = [({}, "baseline")]
        if not quick:
            changes += [
                ({"seed": 2}, "baseline, seed 2"),
                ({"batch_factor": 4}, "batch x4, lr x2"),
            ]
        if network in full_grid and not quick:
            changes += [
                ({"seed": 3}, "baseline, seed 3"),
                ({"seed": 4}, "baseline, seed 4"),
                ({"steps_per_execution": 1}, "steps_per_execution 1"),
                ({"steps_per_execution": 500}, "steps_per_execution 500"),
            ]
        # a pass takes about 40 s: one timed pass, fewer settings
        if "conv" in network:
            base["passes"] = 1
            changes = [c for c in changes if c[1] != "batch x4, lr x2"]
        for backend in ["tensorflow", "jax"]:
            for change, name in changes:
                runs.append(
                    {**base, **change, "backend_asked": backend, "change": name}
                )
        if not quick and (network in full_grid or "conv" in network):
            runs.append(
                {
                    **base,
                    "backend_asked": "tensorflow",
                    "jit_compile": True,
                    "change": "XLA on",
                }
            )
        if not quick and network in full_grid:
            runs.append(
                {
                    **base,
                    "backend_asked": "tensorflow",
                    "tf_threads": 2,
                    "change": "2 intra-op threads",
                }
            )
    return runs


def key(result):
    return result["network"], result["backend_asked"], result["change"]


def spread(values):
    return (
        f"{min(values):.5f}-{max(values):.5f}"
        if len(values) > 1
        else f"{values[0]:.5f}"
    )


def write_report(results):
    """benchmarks/training_speed.json (every result) and .md (a summary per network, then every result)."""
    order = {
        key(settings): n for n, settings in enumerate(settings_to_run(False))
    }
    results = sorted(results, key=lambda r: order.get(key(r), len(order)))
    peak, how = peak_gflops()
    OUT.with_suffix(".json").write_text(
        json.dumps(
            {"peak_gflops": peak, "peak_how": how, "results": results}, indent=2
        )
        + "\n"
    )

    def baselines(network, backend):
        return [
            r
            for r in results
            if r["network"] == network
            and r["backend"] == backend
            and r["change"].startswith("baseline")
        ]

    lines = [
        "# Training speed",
        "",
        "Written by `python benchmarks/training_speed.py`. Seconds per pass over the 54,000 training images, "
        "timed after a warm-up pass (tracing and compiling), and the test MSE after the warm-up pass and the "
        "timed passes, for each chapter's network under each setting, every setting in a fresh process. "
        "Baselines are the chapters' settings: `steps_per_execution=50`, the chapter's batch size and "
        "learning rate, no XLA for TensorFlow (Keras's default on a CPU; JAX always compiles with XLA).",
        "",
        f"Machine peak: {peak:.0f} GFLOP/s = {how}. Throughput counts 6 FLOPs per multiply-add of the layers "
        "(forward, and the two products of the backward pass).",
        "",
        "## Summary: the backend, at the chapters' own settings",
        "",
        "| network | TensorFlow s/pass | JAX s/pass | JAX speed-up | JAX GFLOP/s (% of peak) "
        "| test MSE, TensorFlow seeds | test MSE, JAX seeds |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for network in dict.fromkeys(r["network"] for r in results):
        tf_runs, jax_runs = (
            baselines(network, "tensorflow"),
            baselines(network, "jax"),
        )
        if not tf_runs or not jax_runs:
            continue
        tf_s = [r["seconds_per_pass"] for r in tf_runs]
        jax_s = [r["seconds_per_pass"] for r in jax_runs]
        jax_gflops = [r["gflops"] for r in jax_runs]
        lines.append(
            f"| {network} | {min(tf_s):.2f}-{max(tf_s):.2f} | {min(jax_s):.2f}-{max(jax_s):.2f} "
            f"| {min(tf_s) / max(jax_s):.1f}-{max(tf_s) / min(jax_s):.1f}x "
            f"| {min(jax_gflops):.0f}-{max(jax_gflops):.0f} ({100 * min(jax_gflops) / peak:.0f}-"
            f"{100 * max(jax_gflops) / peak:.0f}%) "
            f"| {spread([r['test_mse'] for r in tf_runs])} ({len(tf_runs)}) "
            f"| {spread([r['test_mse'] for r in jax_runs])} ({len(jax_runs)}) |"
        )
    lines += [
        "",
        "## Every setting",
        "",
        "| network | backend | setting | passes | s/pass | GFLOP/s | % of peak | test MSE | speed-up over TF baseline |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for result in results:
        base = next(
            (
                r["seconds_per_pass"]
                for r in results
                if r["network"] == result["network"]
                and r["backend"] == "tensorflow"
                and r["change"] == "baseline"
            ),
            float("nan"),
        )
        lines.append(
            f"| {result['network']} | {result['backend']} | {result['change']} | {result['passes']} + 1 "
            f"| {result['seconds_per_pass']:.2f} | {result['gflops']:.0f} | {100 * result['gflops'] / peak:.0f}% "
            f"| {result['test_mse']:.5f} | {base / result['seconds_per_pass']:.2f}x |"
        )
    if any(r.get("from_log") for r in results):
        lines += [
            "",
            "Rows from a run interrupted before it wrote its JSON were read back from its log, at the precision "
            "it printed (`from_log` in the JSON).",
        ]
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n")


def measure(settings):
    """Run one setting in a fresh process (the backend is fixed at Keras's import); its result, or None."""
    env = {
        **os.environ,
        "KERAS_BACKEND": settings["backend_asked"],
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    finished = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(settings)],
        env=env,
        capture_output=True,
        text=True,
    )
    for line in finished.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    print(f"FAILED {settings}\n{finished.stderr[-2000:]}", file=sys.stderr)
    return None


def main(quick=False, only=None, change=None):
    runs = [
        settings
        for settings in settings_to_run(quick)
        if (only is None or only in settings["network"])
        and (change is None or change in settings["change"])
    ]
    kept = {}  # with a filter, the other settings' earlier results stay
    if (only or change) and OUT.with_suffix(".json").exists():
        earlier = json.loads(OUT.with_suffix(".json").read_text())["results"]
        kept = {key(r): r for r in earlier}
    print(f"{len(runs)} settings, each in a fresh process", flush=True)
    for number, settings in enumerate(runs, 1):
        started = time.perf_counter()
        result = measure(settings)
        if result is None:
            continue
        kept[key(result)] = result
        print(
            f"[{number}/{len(runs)}] {result['network']} | {result['backend']} | {result['change']}: "
            f"{result['seconds_per_pass']:.2f} s/pass, {result['gflops']:.0f} GFLOP/s, "
            f"test MSE {result['test_mse']:.5f}  ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        # after every run: an interrupted benchmark keeps what it measured
        write_report(list(kept.values()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(json.loads(sys.argv[2]))
    # the .md again from the .json, nothing measured
    elif sys.argv[1:2] == ["--rewrite"]:
        write_report(
            json.loads(OUT.with_suffix(".json").read_text())["results"]
        )
    else:

        def option(name):
            return (
                sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None
            )

        main(
            quick="--quick" in sys.argv,
            only=option("--network"),
            change=option("--change"),
        )
