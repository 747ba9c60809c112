"""Reference runs for chapter 2: tied and untied autoencoders trained to convergence over three seeds.

Usage:  python studies/02_tied_weights.py [--passes N] [--seeds N] [--quick]

The chapter's code-size sweep trains a tied and an untied autoencoder (784 -> k -> 784, ReLU code, sigmoid output)
at each code size for 3 passes (1,350 optimiser steps). Here the same models, on the same split (54,000 training
images, 6,000 validation images, the original 10,000 test images), with the same optimiser (Adam, learning rate
1e-3, batches of 120, fifty steps per call) for their first 1,350 steps, train for many more, side by side as the
chapter trains them. After step 1,350 the learning rate falls along a cosine to zero, so the curves up to there are
what the chapter's run should reproduce, and their ends are the converged models. Two questions, kept apart:
- capacity: the converged test MSE of tied against untied at each code size, with PCA's (a tied *linear*
  autoencoder's best) beside them, computed as the chapter computes it (reconstructions clipped to [0, 1]);
- speed of optimisation: the validation MSE is measured every 50 steps, and for each code size the study records
  how many steps each seed of each model takes to reach targets set from the converged errors (1.5, 1.2 and 1.1
  times the higher of the two models' converged validation MSE), the folklore's meaning of "trains faster".
Seed 0 trains exactly as the chapter's sweep does (same seed, same models in the same order, same batches), and
its converged reconstructions of the eight images the chapter's explorer shows are kept. `--quick` is a smoke test.
Writes studies/results/02_tied_weights.json; then run python tools/sync_reference_results.py.
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

# the chapter's sweep (its explorer shows EXPLORER_SIZES)
CODE_SIZES = [2, 8, 16, 32, 64, 128]
EXPLORER_SIZES = [2, 8, 32, 128]
EXPLORER_IMAGES = 8  # the explorer shows x_test[:8]
LIVE_STEPS = [450, 900, 1350]  # the chapter's sweep stops at 1,350 (3 passes)
HOLD_STEPS = max(LIVE_STEPS)  # the chapter's constant learning rate up to here
BATCH_SIZE = 120  # 450 equal steps per pass over 54,000 images
TARGET_FACTORS = [1.5, 1.2, 1.1]  # of the higher converged validation MSE


class DenseTransposed(keras.layers.Layer):
    """The chapter's tied decoder: multiplies by the transpose of a kernel it is handed; owns its bias."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.bias = self.add_weight(
            shape=(self.units,), initializer="zeros", name="bias"
        )

    def call(self, inputs, kernel):
        outputs = (
            keras.ops.matmul(inputs, keras.ops.transpose(kernel)) + self.bias
        )
        return self.activation(outputs)


class TiedAutoencoder(keras.Model):
    """The chapter's tied model: 784 -> latent_dim -> 784 with the encoder's kernel transposed."""

    def __init__(self, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.flatten = keras.layers.Flatten()
        self.encoder = keras.layers.Dense(
            latent_dim, activation="relu", name="encoder"
        )
        self.decoder = DenseTransposed(
            784, activation="sigmoid", name="decoder"
        )
        self.reshape = keras.layers.Reshape((28, 28))

    def call(self, images):
        codes = self.encoder(self.flatten(images))
        return self.reshape(self.decoder(codes, self.encoder.kernel))


def make_untied_autoencoder(latent_dim):
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(latent_dim, activation="relu", name="encoder"),
            keras.layers.Dense(784, activation="sigmoid", name="decoder"),
            keras.layers.Reshape((28, 28)),
        ]
    )


def make_sweep():
    """The chapter's sweep, in its order: for each code size the untied model, then the tied one."""
    models = {}
    for latent_dim in CODE_SIZES:
        models["untied", latent_dim] = make_untied_autoencoder(latent_dim)
        models["tied", latent_dim] = TiedAutoencoder(latent_dim)
    return models


def load_split():
    (x_train_full, _), (x_test, _) = keras.datasets.fashion_mnist.load_data()
    x_train_full = x_train_full.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    return x_train_full[:-6000], x_train_full[-6000:], x_test


def mse(model, images):
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


def train_and_record(models, x_train, x_val, x_test, passes, log_steps):
    """Train side by side; validation MSE every call (50 steps), test MSE at `log_steps`."""
    steps_per_epoch = len(x_train) // BATCH_SIZE
    total = passes * steps_per_epoch
    every_call = list(range(reference.STEPS_PER_EXECUTION, total + 1, 50))
    inputs = keras.Input(shape=(28, 28))
    combined = keras.Model(inputs, [model(inputs) for model in models])
    combined.compile(
        optimizer=keras.optimizers.Adam(learning_rate(total)),
        loss=["mse"] * len(models),
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    validation, test = (
        reference.make_evaluation_callback(
            keras,
            set(steps),
            steps_per_epoch,
            lambda images=images: [mse(model, images) for model in models],
        )
        for steps, images in [(every_call, x_val), (log_steps, x_test)]
    )
    combined.fit(
        x_train,
        [x_train] * len(models),
        epochs=passes,
        batch_size=BATCH_SIZE,
        callbacks=[validation, test],
        verbose=0,
    )
    return every_call, [
        (
            [validation.results[step][i] for step in every_call],
            [test.results[step][i] for step in log_steps],
        )
        for i in range(len(models))
    ]


def steps_to_reach(curve, steps, target):
    """The first evaluated step at which `curve` is at or below `target` (None: never)."""
    for step, value in zip(steps, curve):
        if value <= target:
            return step
    return None


def image_bytes(images):
    """Images in [0, 1] as zlib-compressed 8-bit pixels in base64: small enough to store in a notebook."""
    pixels = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)
    return base64.b64encode(zlib.compress(pixels.tobytes(), 9)).decode()


def pca_test_mse(x_train, x_test):
    """PCA's test MSE at each code size, reconstructions clipped to [0, 1] like the networks' (only helps PCA)."""
    train_flat, test_flat = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
    pca = PCA(n_components=max(CODE_SIZES), svd_solver="covariance_eigh")
    codes = pca.fit(train_flat).transform(test_flat)
    return {
        str(k): float(
            np.mean(
                (
                    test_flat
                    - (codes[:, :k] @ pca.components_[:k] + pca.mean_).clip(
                        0, 1
                    )
                )
                ** 2
            )
        )
        for k in CODE_SIZES
    }


def main(passes, seeds):
    start = time.perf_counter()
    x_train, x_val, x_test = load_split()
    steps_per_epoch = len(x_train) // BATCH_SIZE
    total = passes * steps_per_epoch
    log_steps = reference.log_spaced_steps(
        total, include=[step for step in LIVE_STEPS if step <= total]
    )
    progress = reference.Progress(seeds)
    val_curves, test_curves, explorer = {}, {}, {}
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        models = make_sweep()
        every_call, curves = train_and_record(
            list(models.values()), x_train, x_val, x_test, passes, log_steps
        )
        for key, (val_curve, test_curve) in zip(models, curves):
            name = f"{key[0]}_{key[1]}"
            val_curves.setdefault(name, []).append(val_curve)
            test_curves.setdefault(name, []).append(test_curve)
            if seed == 0 and key[1] in EXPLORER_SIZES:
                explorer[name] = image_bytes(
                    keras.ops.convert_to_numpy(
                        models[key](x_test[:EXPLORER_IMAGES])
                    )
                )
        progress.finished(f"seed {seed}: {len(models)} autoencoders")

    at_log = [every_call.index(step) for step in log_steps]
    runs = {}
    for name, logged in test_curves.items():
        mean, std = reference.mean_and_std(logged)
        held, movement, spread = reference.converged(mean, std, log_steps)
        val_mean, val_std = reference.mean_and_std(
            [[curve[i] for i in at_log] for curve in val_curves[name]]
        )
        runs[name] = {
            "mean": mean,
            "std": std,
            "seeds": logged,
            "val_mean": val_mean,
            "val_std": val_std,
            "converged": held,
            "last_fifth_movement": movement,
            "last_fifth_spread": spread,
        }

    steps_to_target = {}
    for k in CODE_SIZES:
        worse = max(
            runs[f"{m}_{k}"]["val_mean"][-1] for m in ["tied", "untied"]
        )
        steps_to_target[str(k)] = [
            {
                "factor": factor,
                "target_val_mse": factor * worse,
                **{
                    m: [
                        steps_to_reach(curve, every_call, factor * worse)
                        for curve in val_curves[f"{m}_{k}"]
                    ]
                    for m in ["untied", "tied"]
                },
            }
            for factor in TARGET_FACTORS
        ]

    results = {
        "what": "test MSE per pixel against optimiser steps, over seeds (mean, std, each "
        "seed; validation MSE mean and std too), for chapter 2's tied and untied "
        "autoencoders trained to convergence; steps to reach validation targets",
        "settings": {
            "optimizer": f"Adam, learning rate 1e-3 for {HOLD_STEPS} steps "
            "(the chapter's), then a cosine decay to 0 at the last step",
            "batch_size": BATCH_SIZE,
            "steps_per_pass": steps_per_epoch,
            "passes": passes,
            "seeds": list(range(seeds)),
            "code_sizes": CODE_SIZES,
            "convergence_test": "over the last 20% of the steps the seeds' mean "
            "test MSE moves by less than their largest standard deviation there",
            "steps_to_target": "validation MSE measured every 50 steps; a target is "
            "a factor times the higher of the two models' converged mean validation MSE",
        },
        "steps": log_steps,
        "pca_test_mse": pca_test_mse(x_train, x_test),
        "runs": runs,
        "steps_to_target": steps_to_target,
        "explorer_reconstructions_seed_0": explorer,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    reference.write_results(__file__, results)
    for k in CODE_SIZES:
        tied, untied = runs[f"tied_{k}"], runs[f"untied_{k}"]
        pca = results["pca_test_mse"][str(k)]
        print(
            f"k={k:3d}: untied {untied['mean'][-1]:.5f} ± {untied['std'][-1]:.5f} "
            f"tied {tied['mean'][-1]:.5f} ± {tied['std'][-1]:.5f} PCA {pca:.5f} "
            f"tied/untied {tied['mean'][-1] / untied['mean'][-1]:.3f} "
            f"converged {untied['converged']} {tied['converged']}",
            file=sys.stderr,
        )
        for row in steps_to_target[str(k)]:
            print(
                f"    to {row['factor']}x: untied {row['untied']} tied {row['tied']}",
                file=sys.stderr,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: four passes, two seeds",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.passes, arguments.seeds = 4, 2
    main(arguments.passes, arguments.seeds)
