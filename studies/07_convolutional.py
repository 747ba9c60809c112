"""Reference runs for chapter 7: convolutional autoencoders trained to convergence over three seeds, against the
dense autoencoder of chapter 1 and the TensorFlow tutorial's convolutional autoencoder.

Usage:  python studies/07_convolutional.py [--passes N] [--seeds N] [--quick]

Same split as every chapter (54,000 training images, the original 10,000 test images), TensorFlow backend with
XLA and fifty steps per call, as in the chapter. Two parts, each over seeds 0, 1, 2:
- **A real bottleneck: 32 numbers.** Chapter 1's dense autoencoder (784 -> 32 -> 784, ReLU code, sigmoid
  output, 50,992 parameters) against the chapter's convolutional autoencoder with the same code size and about
  as many parameters (28 x 28 -> 14 x 14 x 8 -> 7 x 7 x 16 -> 32 numbers -> 7 x 7 x 16 -> 14 x 14 x 8 ->
  28 x 28), once with transposed convolutions on the way up and once with upsampling followed by a convolution;
  and, at about twice the parameters, the same convolutional network with twice the filters (16 and 32) against
  a dense one with a hidden layer of 64 on each side of the code (784-64-32-64-784). All five: Adam at 3e-3 in
  batches of 120, constant for the chapter's 900 steps (two passes), then a cosine down to 0 after `passes`
  passes. Test MSE at log-spaced steps; at the end, SSIM on 1,000 test images, the MSE
  on test images shifted by two pixels, the reconstructions' checkerboard energy, and the training seconds.
  Seed s calls `keras.utils.set_random_seed(s)` before building each model, so seed 0 is the chapter's run.
- **The anchor.** The TensorFlow tutorial's autoencoder (Conv2D 16 and 8 with stride 2 to a 7 x 7 x 8 code,
  Conv2DTranspose 8 and 16, a sigmoid Conv2D; 3,217 parameters), trained as published: 10 passes, batches of
  32, Adam at 1e-3. Against ours at the same code shape: 32 filters and two
  convolutions at 14 x 14 on each side of the code, a linear code (no code channel can die), and one transposed
  convolution with a 4 x 4 kernel and stride 2 straight to the pixels, so that no layer with many filters works
  on 28 x 28. Trained with the book's recipe: 5 passes, batches of 60, Adam from 3e-3
  along a cosine to 0. Both with the same XLA settings, so that the difference comes from the network and the
  recipe, not from how TensorFlow runs it. Test MSE and training seconds (evaluations excluded) after every
  pass.
`--quick` is a smoke test. Writes studies/results/07_convolutional.json; then run python tools/sync_reference_results.py.
"""

import argparse
import base64
import os
import sys
import time
import zlib

import reference

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # the chapter's backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

CODE_SIZE = 32
BATCH, RATE = 120, 3e-3
# where the chapter's live runs stop: one and two passes
LIVE_STEPS = [450, 900]
# chapter 1's; a dense one with as many parameters as the wider convolutional one; ours with transposed
# convolutions or upsampling, about as many parameters as chapter 1's; and ours with twice the filters
BOTTLENECK_MODELS = [
    "dense",
    "dense, 64 hidden",
    "conv, transposed",
    "conv, upsampling",
    "conv, wider",
]
ANCHOR = {
    "tutorial, as published": {
        "passes": 10,
        "batch": 32,
        "rate": 1e-3,
        "cosine": False,
    },
    "ours, 7 x 7 x 8 code": {
        "passes": 5,
        "batch": 60,
        "rate": 3e-3,
        "cosine": True,
    },
}
SHIFT = 2  # pixels, down and right
EXPLORER_IMAGES = 8  # the code-size explorer shows x_test[:8]
# the explorer's other code sizes (seed 0, fewer passes)
SWEEP_CODE_SIZES = [8, 16, 64]
SWEEP_PASSES = 4


def load_split():
    (x_train_full, _), (x_test, _) = keras.datasets.fashion_mnist.load_data()
    x_train_full = x_train_full.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    return x_train_full[:-6000], x_train_full[-6000:], x_test


def make_dense_autoencoder(code_size=CODE_SIZE, hidden=()):
    """Chapter 1's, with optional hidden layers (mirrored in the decoder)."""
    layers = [keras.Input(shape=(28, 28, 1)), keras.layers.Flatten()]
    layers += [keras.layers.Dense(width, activation="relu") for width in hidden]
    layers += [keras.layers.Dense(code_size, activation="relu")]
    layers += [
        keras.layers.Dense(width, activation="relu")
        for width in reversed(hidden)
    ]
    layers += [
        keras.layers.Dense(784, activation="sigmoid"),
        keras.layers.Reshape((28, 28, 1)),
    ]
    return keras.Sequential(layers)


def make_conv_autoencoder(
    code_size=CODE_SIZE, channels=(8, 16), upsampling="transposed"
):
    """The chapter's: two stride-2 convolutions, a dense code, and back up."""
    first, second = channels
    encoder = [
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(
            first, 3, strides=2, padding="same", activation="relu"
        ),
        keras.layers.Conv2D(
            second, 3, strides=2, padding="same", activation="relu"
        ),
        keras.layers.Flatten(),
        keras.layers.Dense(code_size, activation="relu"),
    ]
    decoder = [
        keras.layers.Dense(7 * 7 * second, activation="relu"),
        keras.layers.Reshape((7, 7, second)),
    ]
    for width in [first, 1]:
        activation = "relu" if width > 1 else "sigmoid"
        if upsampling == "transposed":
            decoder.append(
                keras.layers.Conv2DTranspose(
                    width, 3, strides=2, padding="same", activation=activation
                )
            )
        else:
            decoder += [
                keras.layers.UpSampling2D(2),
                keras.layers.Conv2D(
                    width, 3, padding="same", activation=activation
                ),
            ]
    return keras.Sequential(encoder + decoder)


def make_tutorial_autoencoder():
    """The TensorFlow tutorial's convolutional autoencoder (its `Denoise` model)."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(
                16, 3, strides=2, padding="same", activation="relu"
            ),
            keras.layers.Conv2D(
                8, 3, strides=2, padding="same", activation="relu"
            ),
            keras.layers.Conv2DTranspose(
                8, 3, strides=2, padding="same", activation="relu"
            ),
            keras.layers.Conv2DTranspose(
                16, 3, strides=2, padding="same", activation="relu"
            ),
            keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
        ]
    )


def make_anchor_autoencoder(channels=32):
    """Ours at the tutorial's code shape (7 x 7 x 8): the work at 14 x 14, a linear code, one step to pixels."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(
                channels, 3, strides=2, padding="same", activation="relu"
            ),
            keras.layers.Conv2D(channels, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(8, 3, strides=2, padding="same"),
            keras.layers.Conv2DTranspose(
                channels, 3, strides=2, padding="same", activation="relu"
            ),
            keras.layers.Conv2D(channels, 3, padding="same", activation="relu"),
            keras.layers.Conv2DTranspose(
                1, 4, strides=2, padding="same", activation="sigmoid"
            ),
        ]
    )


def reconstruct(model, images):
    return model.predict(images[..., None], batch_size=1000, verbose=0)[..., 0]


def test_mse(model, images):
    return float(np.mean((images - reconstruct(model, images)) ** 2))


def checkerboard_energy(images):
    """The share of each image's spectrum (without its mean) at periods 2 and 4 along either axis, averaged:
    where a stride-2 decoder's uneven overlaps put their checkerboard."""
    spectrum = (
        np.abs(np.fft.fft2(images - images.mean(axis=(1, 2), keepdims=True)))
        ** 2
    )
    size = images.shape[-1]
    grid = np.zeros((size, size), dtype=bool)
    for frequency in [size // 4, size // 2, 3 * size // 4]:
        grid[frequency, :] = grid[:, frequency] = True
    return float(
        np.mean(spectrum[:, grid].sum(axis=1) / spectrum.sum(axis=(1, 2)))
    )


def shifted(images, pixels=SHIFT):
    """Garments moved `pixels` down and right, the uncovered border black (the chapter's)."""
    moved = np.zeros_like(images)
    moved[:, pixels:, pixels:] = images[:, :-pixels, :-pixels]
    return moved


def schedule(rate, total_steps, hold_steps):
    """`rate` for `hold_steps` steps, then a cosine down to 0 at `total_steps`."""
    return keras.optimizers.schedules.CosineDecay(
        rate,
        decay_steps=total_steps - hold_steps,
        warmup_steps=hold_steps,  # a "warm-up" from rate to rate: constant
        warmup_target=rate if hold_steps else None,
    )


class TrainingClock(keras.callbacks.Callback):
    """Training seconds, evaluations excluded, and `evaluate()` after each step in `steps` or each pass."""

    def __init__(self, steps_per_epoch, evaluate, steps=None):
        super().__init__()
        self.steps_per_epoch, self.evaluate, self.steps = (
            steps_per_epoch,
            evaluate,
            steps,
        )
        self.seconds, self.results, self.times, self.epoch = 0.0, {}, {}, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.started = epoch, time.perf_counter()

    def record(self, step):
        self.seconds += time.perf_counter() - self.started
        self.model  # noqa: B018
        self.results[step], self.times[step] = self.evaluate(), self.seconds
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self.epoch * self.steps_per_epoch + batch + 1
        if self.steps is not None and step in self.steps:
            self.record(step)

    def on_epoch_end(self, epoch, logs=None):
        if self.steps is None:
            self.record((epoch + 1) * self.steps_per_epoch)
        else:
            self.seconds += time.perf_counter() - self.started


def fit(
    model,
    x_train,
    batch,
    rate,
    total_steps,
    evaluate,
    steps=None,
    hold_steps=None,
):
    """Train with Adam at `rate`, constant (hold_steps None) or held, then along a cosine to 0 at total_steps."""
    if hold_steps is not None:
        rate = schedule(rate, total_steps, hold_steps)
    model.compile(
        optimizer=keras.optimizers.Adam(rate),
        loss="mse",
        steps_per_execution=reference.STEPS_PER_EXECUTION,
        jit_compile=True,
    )
    steps_per_epoch = -(-len(x_train) // batch)
    clock = TrainingClock(steps_per_epoch, evaluate, steps)
    model.fit(
        x_train[..., None],
        x_train[..., None],
        epochs=total_steps // steps_per_epoch,
        batch_size=batch,
        callbacks=[clock],
        verbose=0,
    )
    return clock


def image_bytes(images):
    """Images in [0, 1] as zlib-compressed 8-bit pixels in base64: small enough to store in a notebook."""
    pixels = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)
    return base64.b64encode(zlib.compress(pixels.tobytes(), 9)).decode()


def code_size_sweep(x_train, x_test, passes, explorer, progress):
    """Seed 0 only: the dense and the transposed-convolution autoencoders at the explorer's other code sizes,
    trained for `passes` passes (cosine to 0 at the end), for the code-size explorer and its test MSE."""
    total = passes * (len(x_train) // BATCH)
    sweep = {}
    for code_size in SWEEP_CODE_SIZES:
        for name, maker in [
            ("dense", make_dense_autoencoder),
            ("conv, transposed", make_conv_autoencoder),
        ]:
            keras.utils.set_random_seed(0)
            model = maker(code_size)
            fit(
                model,
                x_train,
                BATCH,
                RATE,
                total,
                lambda: None,
                set(),
                min(LIVE_STEPS),
            )
            sweep.setdefault(str(code_size), {})[name] = test_mse(model, x_test)
            explorer.setdefault(str(code_size), {})[name] = image_bytes(
                reconstruct(model, x_test[:EXPLORER_IMAGES])
            )
        progress.finished(f"code size {code_size}")
    return sweep


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


def main(passes, seeds, anchor_scale, sweep_passes):
    start = time.perf_counter()
    x_train, _, x_test = load_split()
    steps_per_pass = len(x_train) // BATCH
    total = passes * steps_per_pass
    steps = reference.log_spaced_steps(total, include=LIVE_STEPS)
    x_shifted = shifted(x_test)
    quality_images = x_test[:1000]
    progress = reference.Progress(
        seeds * (len(BOTTLENECK_MODELS) + len(ANCHOR)) + len(SWEEP_CODE_SIZES)
    )
    curves = {name: [] for name in BOTTLENECK_MODELS}
    final = {name: [] for name in BOTTLENECK_MODELS}
    anchor = {name: {"test_mse": [], "seconds": []} for name in ANCHOR}
    explorer = {}
    makers = {
        "dense": make_dense_autoencoder,
        "conv, transposed": make_conv_autoencoder,
        "dense, 64 hidden": lambda: make_dense_autoencoder(hidden=(64,)),
        "conv, upsampling": lambda: make_conv_autoencoder(upsampling="resize"),
        "conv, wider": lambda: make_conv_autoencoder(channels=(16, 32)),
    }
    for seed in range(seeds):
        for name in BOTTLENECK_MODELS:
            keras.utils.set_random_seed(seed)
            model = makers[name]()
            clock = fit(
                model,
                x_train,
                BATCH,
                RATE,
                total,
                lambda: test_mse(model, x_test),
                set(steps),
                max(LIVE_STEPS),
            )
            curves[name].append([clock.results[step] for step in steps])
            outputs = reconstruct(model, quality_images)
            ssim = tf.image.ssim(
                quality_images[..., None],
                np.clip(outputs, 0, 1)[..., None],
                max_val=1.0,
            )
            final[name].append(
                {
                    "parameters": model.count_params(),
                    "training seconds": round(clock.seconds, 1),
                    "SSIM": float(np.mean(ssim)),
                    "shifted MSE": test_mse(model, x_shifted),
                    "checkerboard energy": checkerboard_energy(outputs),
                }
            )
            if seed == 0:
                explorer.setdefault(str(CODE_SIZE), {})[name] = image_bytes(
                    reconstruct(model, x_test[:EXPLORER_IMAGES])
                )
            progress.finished(f"seed {seed}: {name}")
        for name, recipe in ANCHOR.items():
            keras.utils.set_random_seed(seed)
            model = (
                make_tutorial_autoencoder()
                if name.startswith("tutorial")
                else make_anchor_autoencoder()
            )
            batch = recipe["batch"]
            per_pass = -(-len(x_train) // batch)
            passes_here = max(1, round(recipe["passes"] * anchor_scale))
            clock = fit(
                model,
                x_train,
                batch,
                recipe["rate"],
                passes_here * per_pass,
                lambda: test_mse(model, x_test),
                hold_steps=0 if recipe["cosine"] else None,
            )
            order = sorted(clock.results)
            anchor[name]["test_mse"].append([clock.results[s] for s in order])
            anchor[name]["seconds"].append(
                [round(clock.times[s], 1) for s in order]
            )
            anchor[name]["parameters"] = model.count_params()
            progress.finished(f"seed {seed}: {name}")

    sweep = code_size_sweep(x_train, x_test, sweep_passes, explorer, progress)
    results = {
        "what": "chapter 7's autoencoders trained to convergence over seeds, and the TensorFlow tutorial's "
        "convolutional autoencoder as published beside ours",
        "settings": {
            "bottleneck": f"code of {CODE_SIZE} numbers; Adam {RATE} in batches of {BATCH}, constant for "
            f"{max(LIVE_STEPS)} steps (the chapter's), then a cosine to 0 after {passes} passes",
            "anchor": {
                name: dict(
                    recipe,
                    passes=max(1, round(recipe["passes"] * anchor_scale)),
                )
                for name, recipe in ANCHOR.items()
            },
            "steps_per_pass": steps_per_pass,
            "seeds": list(range(seeds)),
            "shift_pixels": SHIFT,
            "sweep": f"seed 0 only, code sizes {SWEEP_CODE_SIZES}, {sweep_passes} passes, constant "
            f"for {min(LIVE_STEPS)} steps then a cosine to 0",
            "quality_images": "SSIM and checkerboard energy on the first 1,000 test images",
            "convergence_test": "over the last 20% of the steps the seeds' mean test MSE moves by less than "
            "their largest standard deviation there",
        },
        "steps": steps,
        "test_mse": {name: summarise(c, steps) for name, c in curves.items()},
        "final": final,
        "original_checkerboard_energy": checkerboard_energy(quality_images),
        "anchor": anchor,
        "sweep_test_mse_seed_0": sweep,
        "explorer_reconstructions_seed_0": explorer,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    reference.write_results(__file__, results)
    for name, run in results["test_mse"].items():
        print(
            f"{name}: {run['mean'][-1]:.5f} ± {run['std'][-1]:.5f} converged {run['converged']}",
            file=sys.stderr,
        )
    for name, run in anchor.items():
        print(
            f"{name}: {[r[-1] for r in run['test_mse']]} in {[s[-1] for s in run['seconds']]} s",
            file=sys.stderr,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: a fraction of the training",
    )
    arguments = parser.parse_args()
    scale, sweep_passes = 1.0, SWEEP_PASSES
    if arguments.quick:
        arguments.passes, arguments.seeds, scale, sweep_passes = 3, 2, 0.1, 2
    main(arguments.passes, arguments.seeds, scale, sweep_passes)
