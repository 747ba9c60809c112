"""Reference runs for chapter 1: its autoencoders trained on the book's long-run recipe over three seeds.

Usage:  python studies/01_undercomplete.py [--passes N] [--seeds N] [--quick]

The chapter trains for 2-3 passes (900-1,350 optimiser steps) with Adam in batches of 120, each network at its
long-run rate (below), so its runs are the first steps of these curves. Here the same
models, on the same split (54,000 training images, the original 10,000 test images), train on the recipe of
studies/convergence.py with the batch size, rate and length that studies/families.py gives each network: Adam at
the rate chosen on validation, constant for the first 80% of the steps, then a cosine cool-down. The test MSE is
recorded at log-spaced steps, and the convergence test of studies/convergence.py is applied to each curve:
- the one-layer autoencoders 784 -> k -> 784 (ReLU code, sigmoid output) for every code size of the chapter's
  sweep and its first model (k = 28), trained side by side as the chapter does, at the one-layer family's rate
  (1e-3, the chapter's, so the chapter's live runs are the first steps of these curves);
- the deep 784-256-30-256-784 network of "Depth beats PCA", and Hinton & Salakhutdinov's 784-1000-500-250-30
  shape (mirrored decoder), with the same activations, each at the rate of `RATES_TRIED` with the lowest
  validation error after `TUNING_PASSES` passes (seed 0, the same recipe);
- PCA's test MSE at each code size, the baseline, computed the way the chapter computes it (its reconstructions
  clipped to [0, 1], the networks' output range, as in every chapter: it only helps PCA).
It also keeps the final models' reconstructions of the eight test images the chapter's code-size explorer shows,
and their final training and validation MSE. `--quick` is a smoke test of the whole script.
Writes studies/results/01_undercomplete.json; then run python tools/sync_reference_results.py.
"""

import argparse
import base64
import sys
import time
import zlib

import convergence
import families
import reference

reference.choose_backend()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

# the sweep's code sizes and the first model's 28
CODE_SIZES = [2, 4, 8, 16, 28, 32, 64, 128]
DEEP_SHAPES = {"deep_256": [256, 30], "deep_hinton": [1000, 500, 250, 30]}
# where the chapter's live runs stop (1, 2 and 3 passes)
LIVE_STEPS = [450, 900, 1350]
# as in the chapter: 450 equal steps per pass over 54,000 images
BATCH_SIZE = families.ONE_LAYER.batch
assert families.DEEP_256.batch == BATCH_SIZE
RATES_TRIED = [5e-4, 1e-3, 2e-3, 4e-3, 8e-3]  # for the deep networks
TUNING_PASSES = 10
EXPLORER_IMAGES = 8  # the code-size explorer shows x_test[:8]


def load_split():
    (x_train_full, _), (x_test, _) = keras.datasets.fashion_mnist.load_data()
    x_train_full = x_train_full.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    return x_train_full[:-6000], x_train_full[-6000:], x_test


def shallow_autoencoder(latent_dim):
    return keras.Sequential(
        [
            keras.layers.Flatten(),
            keras.layers.Dense(latent_dim, activation="relu"),
            keras.layers.Dense(784, activation="sigmoid"),
            keras.layers.Reshape((28, 28)),
        ]
    )


def deep_autoencoder(widths):
    *hidden, code = widths
    layers = [keras.layers.Flatten()]
    layers += [keras.layers.Dense(width, activation="relu") for width in hidden]
    layers += [keras.layers.Dense(code)]  # the code: linear, as in the chapter
    layers += [
        keras.layers.Dense(width, activation="relu")
        for width in reversed(hidden)
    ]
    layers += [
        keras.layers.Dense(784, activation="sigmoid"),
        keras.layers.Reshape((28, 28)),
    ]
    return keras.Sequential(layers)


def test_mse(model, images):
    reconstructions = keras.ops.convert_to_numpy(model(images))
    return float(np.mean((images - reconstructions) ** 2))


def train_and_record(models, x_train, x_test, passes, rate, steps=()):
    """Train `models` side by side (as the chapter's train_side_by_side does) on the recipe at `rate`,
    recording each one's test MSE at `steps`."""
    inputs = keras.Input(shape=(28, 28))
    combined = keras.Model(inputs, [model(inputs) for model in models])
    steps_per_epoch = len(x_train) // BATCH_SIZE
    schedule = convergence.keras_schedule(keras, rate, passes * steps_per_epoch)
    combined.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=["mse"] * len(models),
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    recorder = reference.make_evaluation_callback(
        keras,
        set(steps),
        steps_per_epoch,
        lambda: [test_mse(model, x_test) for model in models],
    )
    combined.fit(
        x_train,
        [x_train] * len(models),
        epochs=passes,
        batch_size=BATCH_SIZE,
        callbacks=[recorder],
        verbose=0,
    )
    return [
        [recorder.results[step][i] for step in steps]
        for i in range(len(models))
    ]


def image_bytes(images):
    """Images in [0, 1] as zlib-compressed 8-bit pixels in base64: small enough to store in a notebook."""
    pixels = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)
    return base64.b64encode(zlib.compress(pixels.tobytes(), 9)).decode()


def evaluation_steps(passes, steps_per_epoch):
    total = passes * steps_per_epoch
    return families.evaluation_steps(
        total, include=[step for step in LIVE_STEPS if step <= total]
    )


def tune_deep_rates(x_train, x_val, passes, progress):
    """Both deep networks from seed 0 at every rate tried, side by side: validation MSE at the end, best rate."""
    validation = {name: {} for name in DEEP_SHAPES}
    for rate in RATES_TRIED:
        keras.utils.set_random_seed(0)
        deep = [deep_autoencoder(widths) for widths in DEEP_SHAPES.values()]
        train_and_record(deep, x_train, x_val, passes, rate)
        for name, model in zip(DEEP_SHAPES, deep):
            validation[name][str(rate)] = test_mse(model, x_val)
        progress.finished(f"deep networks at rate {rate}")
    chosen = {
        name: min(RATES_TRIED, key=lambda rate: validation[name][str(rate)])
        for name in DEEP_SHAPES
    }
    return validation, chosen


def main(passes, seeds, tuning_passes):
    start = time.perf_counter()
    x_train, x_val, x_test = load_split()
    steps_per_epoch = len(x_train) // BATCH_SIZE
    total = passes * steps_per_epoch
    steps = evaluation_steps(passes, steps_per_epoch)

    x_train_flat, x_test_flat = (
        x_train.reshape(-1, 784),
        x_test.reshape(-1, 784),
    )
    pca = PCA(n_components=max(CODE_SIZES), svd_solver="covariance_eigh").fit(
        x_train_flat
    )
    codes = pca.transform(x_test_flat)
    pca_mse = {  # reconstructions clipped to [0, 1] like the networks' (only helps PCA)
        k: float(
            np.mean(
                (
                    x_test_flat
                    - (codes[:, :k] @ pca.components_[:k] + pca.mean_).clip(
                        0, 1
                    )
                )
                ** 2
            )
        )
        for k in [*CODE_SIZES, 30]  # 30: the deep networks' code
    }

    progress = reference.Progress(len(RATES_TRIED) + 3 * seeds)
    tuning, deep_rates = tune_deep_rates(
        x_train, x_val, tuning_passes, progress
    )
    print(f"deep networks' rates: {deep_rates}", file=sys.stderr, flush=True)
    shallow_rate = families.ONE_LAYER.rate
    sweep_curves = {k: [] for k in CODE_SIZES}
    deep_curves = {name: [] for name in DEEP_SHAPES}
    final = {
        name: {"train_mse": [], "val_mse": []}
        for name in [*map(str, CODE_SIZES), *DEEP_SHAPES]
    }
    explorer = {}
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        shallow = [shallow_autoencoder(k) for k in CODE_SIZES]
        for k, curve in zip(
            CODE_SIZES,
            train_and_record(
                shallow, x_train, x_test, passes, shallow_rate, steps
            ),
        ):
            sweep_curves[k].append(curve)
        for k, model in zip(CODE_SIZES, shallow):
            final[str(k)]["train_mse"].append(test_mse(model, x_train))
            final[str(k)]["val_mse"].append(test_mse(model, x_val))
            if seed == 0:
                explorer[str(k)] = image_bytes(
                    keras.ops.convert_to_numpy(model(x_test[:EXPLORER_IMAGES]))
                )
        progress.finished(f"seed {seed}: {len(shallow)} one-layer autoencoders")

        for name, widths in DEEP_SHAPES.items():
            keras.utils.set_random_seed(seed)
            model = deep_autoencoder(widths)
            [curve] = train_and_record(
                [model], x_train, x_test, passes, deep_rates[name], steps
            )
            deep_curves[name].append(curve)
            final[name]["train_mse"].append(test_mse(model, x_train))
            final[name]["val_mse"].append(test_mse(model, x_val))
            progress.finished(f"seed {seed}: {name}")

    hold = round(total * (1 - convergence.COOLDOWN_FRACTION))
    results = {
        "what": "test MSE per pixel against optimiser steps, over seeds "
        "(mean, std, each seed), for chapter 1's models trained on the long-run recipe",
        "settings": {
            "optimizer": f"Adam in batches of {BATCH_SIZE}, at each network's rate, constant "
            f"for {hold} steps, then a cosine to 0 at {total} steps ({passes} passes)",
            "batch_size": BATCH_SIZE,
            "steps_per_pass": steps_per_epoch,
            "passes": passes,
            "total_steps": total,
            "constant_steps": hold,
            "seeds": list(range(seeds)),
            "one_layer_rate": "the one-layer family's rate from studies/families.py, "
            f"tuned by {families.ONE_LAYER.tuned_by}",
            "rates_tried": RATES_TRIED,
            "tuning": f"seed 0, both deep networks, {tuning_passes} passes on the same "
            "recipe; validation MSE at the end",
            "convergence_test": "studies/convergence.py: at the constant rate, the seeds' mean test MSE "
            f"improved by less than {convergence.TOLERANCE:.0%} over the last doubling of steps "
            f"(to step {hold})",
        },
        "tuning_validation_mse": tuning,
        "learning_rates": {"one-layer": shallow_rate, **deep_rates},
        "steps": steps,
        "pca_test_mse": {str(k): v for k, v in pca_mse.items()},
        "shallow": {
            str(k): families.summarise(curves, steps, shallow_rate, total)
            for k, curves in sweep_curves.items()
        },
        "deep": {
            name: {
                "widths": DEEP_SHAPES[name],
                **families.summarise(curves, steps, deep_rates[name], total),
            }
            for name, curves in deep_curves.items()
        },
        "final_train_val_mse": final,
        "explorer_reconstructions_seed_0": explorer,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    results["provenance"]["uses"] = families.uses()
    reference.write_results(__file__, results)
    print(f"deep rates {deep_rates}; validation {tuning}", file=sys.stderr)
    for k in CODE_SIZES:
        s = results["shallow"][str(k)]
        print(
            f"k={k:3d}: AE {s['mean'][-1]:.5f} ± {s['std'][-1]:.5f}  "
            f"PCA {pca_mse[k]:.5f}  ratio {s['mean'][-1] / pca_mse[k]:.3f}  "
            f"{s['verdict']}",
            file=sys.stderr,
        )
    for name, d in results["deep"].items():
        print(
            f"{name}: {d['mean'][-1]:.5f} ± {d['std'][-1]:.5f}  "
            f"ratio to PCA-30 {d['mean'][-1] / pca_mse[30]:.3f}  "
            f"{d['verdict']}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=families.ONE_LAYER.passes)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tuning-passes", type=int, default=TUNING_PASSES)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: four passes, two seeds",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.passes, arguments.seeds, arguments.tuning_passes = 4, 2, 1
    assert arguments.passes == families.DEEP_256.passes or arguments.quick
    main(arguments.passes, arguments.seeds, arguments.tuning_passes)
