"""Reference runs for chapter 1: its autoencoders trained to convergence over three seeds.

Usage:  python studies/01_undercomplete.py [--passes N] [--deep-passes N] [--seeds N] [--quick]

The chapter trains for 2-3 passes (900-1,350 optimiser steps). Here the same models, on the same split (54,000
training images, the original 10,000 test images), with the same optimiser (Adam, learning rate 1e-3, batches of
120, fifty steps per call) for its first 1,350 steps, train for many more steps, and the test MSE is recorded at
log-spaced steps. After step 1,350, where the chapter's longest live run stops, the learning rate falls along a
cosine to zero (annealing, which converges in far fewer steps than a constant rate); so the curves up to 1,350
steps are what the chapter's own runs should reproduce, and their ends are the converged models:
- the one-layer autoencoders 784 -> k -> 784 (ReLU code, sigmoid output) for every code size of the chapter's
  sweep and its first model (k = 28), trained side by side as the chapter does;
- the deep 784-256-30-256-784 network of "Depth beats PCA", and Hinton & Salakhutdinov's 784-1000-500-250-30
  shape (mirrored decoder), with the same activations;
- PCA's test MSE at each code size, the baseline, computed the way the chapter computes it (its reconstructions
  clipped to [0, 1], the networks' output range, as in every chapter: it only helps PCA).
It also keeps the converged models' reconstructions of the eight test images the chapter's code-size explorer
shows, and their final training and validation MSE. `--quick` is a two-pass smoke test of the whole script.
Writes studies/results/01_undercomplete.json; then run python tools/sync_reference_results.py.
"""

import argparse
import base64
import sys
import time
import zlib

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
# the chapter's constant learning rate up to here
HOLD_STEPS = max(LIVE_STEPS)
# as in the chapter: 450 equal steps per pass over 54,000 images
BATCH_SIZE = 120
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


def learning_rate(total_steps):
    """Adam's default 1e-3, constant for HOLD_STEPS as in the chapter, then a cosine down to 0."""
    return keras.optimizers.schedules.CosineDecay(
        1e-3,
        decay_steps=total_steps - HOLD_STEPS,
        warmup_steps=HOLD_STEPS,  # a "warm-up" from 1e-3 to 1e-3: constant
        warmup_target=1e-3,
    )


def train_and_record(models, x_train, x_test, passes, steps):
    """Train `models` side by side (as the chapter's train_side_by_side does), recording each one's test MSE."""
    inputs = keras.Input(shape=(28, 28))
    combined = keras.Model(inputs, [model(inputs) for model in models])
    combined.compile(
        optimizer=keras.optimizers.Adam(learning_rate(steps[-1])),
        loss=["mse"] * len(models),
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    steps_per_epoch = len(x_train) // BATCH_SIZE
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


def summarise(curves, steps):
    mean, std = reference.mean_and_std(curves)
    held, movement, spread = reference.converged(mean, std, steps)
    return {
        "mean": mean,
        "std": std,
        "seeds": curves,
        "converged": held,
        "last_fifth_movement": movement,
        "last_fifth_spread": spread,
    }


def evaluation_steps(passes, steps_per_epoch):
    total = passes * steps_per_epoch
    return reference.log_spaced_steps(
        total, include=[step for step in LIVE_STEPS if step <= total]
    )


def main(passes, deep_passes, seeds):
    start = time.perf_counter()
    x_train, x_val, x_test = load_split()
    steps_per_epoch = len(x_train) // BATCH_SIZE
    steps = evaluation_steps(passes, steps_per_epoch)
    deep_steps = evaluation_steps(deep_passes, steps_per_epoch)

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

    progress = reference.Progress(2 * seeds)
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
            train_and_record(shallow, x_train, x_test, passes, steps),
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

        keras.utils.set_random_seed(seed)
        deep = [deep_autoencoder(widths) for widths in DEEP_SHAPES.values()]
        for name, curve in zip(
            DEEP_SHAPES,
            train_and_record(deep, x_train, x_test, deep_passes, deep_steps),
        ):
            deep_curves[name].append(curve)
        for name, model in zip(DEEP_SHAPES, deep):
            final[name]["train_mse"].append(test_mse(model, x_train))
            final[name]["val_mse"].append(test_mse(model, x_val))
        progress.finished(f"seed {seed}: the deep autoencoders")

    results = {
        "what": "test MSE per pixel against optimiser steps, over seeds "
        "(mean, std, each seed), for chapter 1's models trained to convergence",
        "settings": {
            "optimizer": f"Adam, learning rate 1e-3 for {HOLD_STEPS} steps "
            "(the chapter's), then a cosine decay to 0 at the last step",
            "batch_size": BATCH_SIZE,
            "steps_per_pass": steps_per_epoch,
            "passes": {"one-layer": passes, "deep": deep_passes},
            "seeds": list(range(seeds)),
            "convergence_test": "over the last 20% of the steps the seeds' mean "
            "test MSE moves by less than their largest standard deviation there",
        },
        "steps": {"one-layer": steps, "deep": deep_steps},
        "pca_test_mse": {str(k): v for k, v in pca_mse.items()},
        "shallow": {
            str(k): summarise(curves, steps)
            for k, curves in sweep_curves.items()
        },
        "deep": {
            name: {"widths": DEEP_SHAPES[name], **summarise(curves, deep_steps)}
            for name, curves in deep_curves.items()
        },
        "final_train_val_mse": final,
        "explorer_reconstructions_seed_0": explorer,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    reference.write_results(__file__, results)
    for k in CODE_SIZES:
        s = results["shallow"][str(k)]
        print(
            f"k={k:3d}: AE {s['mean'][-1]:.5f} ± {s['std'][-1]:.5f}  "
            f"PCA {pca_mse[k]:.5f}  ratio {s['mean'][-1] / pca_mse[k]:.3f}  "
            f"converged {s['converged']}",
            file=sys.stderr,
        )
    for name, d in results["deep"].items():
        print(
            f"{name}: {d['mean'][-1]:.5f} ± {d['std'][-1]:.5f}  "
            f"ratio to PCA-30 {d['mean'][-1] / pca_mse[30]:.3f}  "
            f"converged {d['converged']}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=30, help="one-layer")
    parser.add_argument("--deep-passes", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: two passes, two seeds",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.passes, arguments.deep_passes, arguments.seeds = 4, 4, 2
    main(arguments.passes, arguments.deep_passes, arguments.seeds)
