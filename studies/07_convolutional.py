"""Reference runs for chapter 7: dense against convolutional autoencoders, each family at a learning rate chosen on
validation, over three seeds, and the TensorFlow tutorial's convolutional autoencoder trained as published.

Usage:  python studies/07_convolutional.py [--passes N] [--seeds N] [--quick]

Same split as every chapter (54,000 training images, 6,000 validation images, the original 10,000 test images),
TensorFlow backend with XLA and fifty steps per call, as in the chapter. Four parts:
- **Learning rates, chosen on validation.** Each family's first model (chapter 1's dense autoencoder; the
  chapter's convolutional one with transposed convolutions) trained from seed 0 with Adam in batches of 120 at each
  rate of `RATES_TRIED`, on the recipe of studies/convergence.py (constant, then a cosine cool-down over the last
  fifth) for as many passes as the long runs; the rate with the lowest validation MSE at the end is the family's.
- **A real bottleneck: 32 numbers**, seeds 0, 1, 2. Chapter 1's dense autoencoder (784 -> 32 -> 784, ReLU code,
  sigmoid output, 50,992 parameters) against the chapter's convolutional autoencoder with the same code size and
  about as many parameters (28 x 28 -> 14 x 14 x 8 -> 7 x 7 x 16 -> 32 numbers and back), once with transposed
  convolutions on the way up and once with upsampling followed by a convolution; and, at about twice the
  parameters, the convolutional network with twice the filters (16 and 32) against a dense one with a hidden layer
  of 64 on each side of the code. Each at its family's rate, on the recipe: constant for 80% of `passes` passes, a
  cosine to 0 over the rest. Test MSE at log-spaced steps, the convergence test of studies/convergence.py on it,
  and at the end SSIM on 1,000 test images, the MSE on test images shifted by two pixels, the reconstructions'
  checkerboard energy, the code units that no test image switches on, and the training seconds. Seed s calls
  `keras.utils.set_random_seed(s)` before building each model, so seed 0 is the chapter's run.
- **Other code sizes** (seed 0): the dense and the transposed-convolution autoencoders with codes of 8, 16 and 64,
  on the same recipe and rates over `SWEEP_PASSES` passes, for the chapter's code-size explorer.
- **The anchor.** The TensorFlow tutorial's autoencoder (Conv2D 16 and 8 with stride 2 to a 7 x 7 x 8 code,
  Conv2DTranspose 8 and 16, a sigmoid Conv2D; 3,217 parameters) trained as published: a denoiser, on all 60,000
  training images with Gaussian noise of standard deviation 0.2 added (clipped to [0, 1]) and the clean images as
  targets, 10 passes in batches of 32, Adam at 1e-3. Against ours at the same code shape (32 filters and two
  convolutions at 14 x 14 on each side of the code, a linear code, one transposed convolution with a 4 x 4 kernel
  and stride 2 straight to the pixels) on the same task and data, with the book's short recipe: 5 passes in
  batches of 60, Adam from 3e-3 along a cosine to 0. Both scored on the tutorial's task: the MSE between the
  denoised noisy test images and the clean ones, after every pass, with the training seconds (evaluations
  excluded); and, for seed 0, the seconds of one pass of each at the same batch size (60).
`--quick` is a smoke test. Writes studies/results/07_convolutional.json; then run python tools/sync_reference_results.py.
"""

import argparse
import base64
import hashlib
import os
import pathlib
import sys
import time
import zlib

import convergence
import reference

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # the chapter's backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

CODE_SIZE = 32
BATCH = 120
RATES_TRIED = [5e-4, 1e-3, 2e-3, 4e-3, 8e-3]
# each family's rate is tuned on its first model and used for all of it
FAMILIES = {
    "dense": ["dense", "dense, 64 hidden"],
    "conv": ["conv, transposed", "conv, upsampling", "conv, wider"],
}
# where the chapter's live runs stop: one and two passes
LIVE_STEPS = [450, 900]
BOTTLENECK_MODELS = [
    "dense",
    "dense, 64 hidden",
    "conv, transposed",
    "conv, upsampling",
    "conv, wider",
]
NOISE = 0.2  # the tutorial's noise_factor
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
EQUAL_BATCH = 60  # the anchor's networks timed at one batch size
SHIFT = 2  # pixels, down and right
EXPLORER_IMAGES = 8  # the code-size explorer shows x_test[:8]
SWEEP_CODE_SIZES = [8, 16, 64]
SWEEP_PASSES = 5


def load_split():
    """The book's split, and all 60,000 training images (the tutorial's training set)."""
    (x_train_full, _), (x_test, _) = keras.datasets.fashion_mnist.load_data()
    x_train_full = x_train_full.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    return x_train_full[:-6000], x_train_full[-6000:], x_test, x_train_full


def noisy(images, seed):
    """The tutorial's corruption: Gaussian noise of standard deviation NOISE, clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=images.shape).astype("float32")
    return np.clip(images + NOISE * noise, 0.0, 1.0)


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


def fit(model, inputs, targets, batch, rate, total_steps, evaluate, steps=None):
    """Train with Adam in batches of `batch` for `total_steps` steps; `rate` is a number (constant) or a schedule."""
    model.compile(
        optimizer=keras.optimizers.Adam(rate),
        loss="mse",
        steps_per_execution=reference.STEPS_PER_EXECUTION,
        jit_compile=True,
    )
    steps_per_epoch = -(-len(inputs) // batch)
    clock = TrainingClock(steps_per_epoch, evaluate, steps)
    model.fit(
        inputs[..., None],
        targets[..., None],
        epochs=total_steps // steps_per_epoch,
        batch_size=batch,
        callbacks=[clock],
        verbose=0,
    )
    return clock


def fit_recipe(
    model, x_train, rate, total_steps, evaluate=lambda: None, steps=None
):
    """The recipe of studies/convergence.py: `rate` constant, then a cosine cool-down over the last fifth."""
    schedule = convergence.keras_schedule(keras, rate, total_steps)
    return fit(
        model, x_train, x_train, BATCH, schedule, total_steps, evaluate, steps
    )


def image_bytes(images):
    """Images in [0, 1] as zlib-compressed 8-bit pixels in base64: small enough to store in a notebook."""
    pixels = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)
    return base64.b64encode(zlib.compress(pixels.tobytes(), 9)).decode()


def dead_code_units(model, images):
    """Code units (the ReLU layer of CODE_SIZE units) that no image in `images` switches on."""
    layers = [
        layer
        for layer in all_layers(model)
        if isinstance(layer, keras.layers.Dense) and layer.units == CODE_SIZE
    ]
    encoder = keras.Model(model.inputs, layers[0].output)
    codes = encoder.predict(images[..., None], batch_size=1000, verbose=0)
    return int(np.sum(codes.max(axis=0) <= 0))


def all_layers(model):
    """Every layer of a Sequential model, looking inside nested ones."""
    for layer in model.layers:
        if isinstance(layer, keras.Sequential):
            yield from all_layers(layer)
        else:
            yield layer


MAKERS = {
    "dense": make_dense_autoencoder,
    "conv, transposed": make_conv_autoencoder,
    "dense, 64 hidden": lambda code_size=CODE_SIZE: make_dense_autoencoder(
        code_size, hidden=(64,)
    ),
    "conv, upsampling": lambda code_size=CODE_SIZE: make_conv_autoencoder(
        code_size, upsampling="resize"
    ),
    "conv, wider": lambda code_size=CODE_SIZE: make_conv_autoencoder(
        code_size, channels=(16, 32)
    ),
}


def family_of(name):
    return next(family for family, names in FAMILIES.items() if name in names)


def tune_rates(x_train, x_val, passes, progress):
    """Each family's first model from seed 0 at every rate tried: validation MSE at the end, and the best rate."""
    total = passes * (len(x_train) // BATCH)
    validation, chosen = {}, {}
    for family, names in FAMILIES.items():
        validation[family] = {}
        for rate in RATES_TRIED:
            keras.utils.set_random_seed(0)
            model = MAKERS[names[0]]()
            fit_recipe(model, x_train, rate, total)
            validation[family][str(rate)] = test_mse(model, x_val)
            progress.finished(f"{names[0]} at {rate}")
        chosen[family] = min(
            RATES_TRIED, key=lambda r: validation[family][str(r)]
        )
    return validation, chosen


def code_size_sweep(x_train, x_test, passes, rates, explorer, progress):
    """Seed 0 only: the dense and the transposed-convolution autoencoders at the explorer's other code sizes."""
    total = passes * (len(x_train) // BATCH)
    sweep = {}
    for code_size in SWEEP_CODE_SIZES:
        for name in ["dense", "conv, transposed"]:
            keras.utils.set_random_seed(0)
            model = MAKERS[name](code_size)
            fit_recipe(model, x_train, rates[family_of(name)], total)
            sweep.setdefault(str(code_size), {})[name] = test_mse(model, x_test)
            explorer.setdefault(str(code_size), {})[name] = image_bytes(
                reconstruct(model, x_test[:EXPLORER_IMAGES])
            )
        progress.finished(f"code size {code_size}")
    return sweep


def summarise(curves, steps, rate, total):
    mean, std = reference.mean_and_std(curves)
    rates = [convergence.recipe_rate(step - 1, rate, total) for step in steps]
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


def equal_batch_seconds(x_images):
    """Seconds of one pass over `x_images` at batch EQUAL_BATCH for each anchor network, after a warm-up."""
    seconds = {}
    for name in ANCHOR:
        keras.utils.set_random_seed(0)
        model = (
            make_tutorial_autoencoder()
            if name.startswith("tutorial")
            else make_anchor_autoencoder()
        )
        per_pass = len(x_images) // EQUAL_BATCH
        warm_up = x_images[: 4 * reference.STEPS_PER_EXECUTION * EQUAL_BATCH]
        fit(
            model,
            warm_up,
            warm_up,
            EQUAL_BATCH,
            1e-3,
            len(warm_up) // EQUAL_BATCH,
            lambda: None,
            set(),
        )
        clock = fit(
            model,
            x_images,
            x_images,
            EQUAL_BATCH,
            1e-3,
            per_pass,
            lambda: None,
            set(),
        )
        seconds[name] = round(clock.seconds, 1)
    return seconds


def main(passes, seeds, anchor_scale, sweep_passes, tuning_passes):
    start = time.perf_counter()
    x_train, x_val, x_test, x_all = load_split()
    steps_per_pass = len(x_train) // BATCH
    total = passes * steps_per_pass
    hold = round(total * (1 - convergence.COOLDOWN_FRACTION))
    steps = reference.log_spaced_steps(
        total, include=LIVE_STEPS + [hold, hold // 2]
    )
    x_shifted = shifted(x_test)
    quality_images = x_test[:1000]
    progress = reference.Progress(
        len(FAMILIES) * len(RATES_TRIED)
        + seeds * (len(BOTTLENECK_MODELS) + len(ANCHOR))
        + len(SWEEP_CODE_SIZES)
        + 1
    )
    tuning, rates = tune_rates(x_train, x_val, tuning_passes, progress)
    curves = {name: [] for name in BOTTLENECK_MODELS}
    final = {name: [] for name in BOTTLENECK_MODELS}
    explorer = {}
    # the anchor's task: the tutorial's noisy training images, and noisy test images with a fixed noise
    x_all_noisy, x_test_noisy = noisy(x_all, seed=1), noisy(x_test, seed=2)
    anchor = {name: {"test_mse": [], "seconds": []} for name in ANCHOR}
    for seed in range(seeds):
        for name in BOTTLENECK_MODELS:
            keras.utils.set_random_seed(seed)
            model = MAKERS[name]()
            clock = fit_recipe(
                model,
                x_train,
                rates[family_of(name)],
                total,
                lambda: test_mse(model, x_test),
                set(steps),
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
                    "dead code units": dead_code_units(model, quality_images),
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
            per_pass = -(-len(x_all) // batch)
            anchor_total = (
                max(1, round(recipe["passes"] * anchor_scale)) * per_pass
            )
            rate = recipe["rate"]
            if recipe["cosine"]:
                rate = keras.optimizers.schedules.CosineDecay(
                    rate, anchor_total
                )
            clock = fit(
                model,
                x_all_noisy,
                x_all,
                batch,
                rate,
                anchor_total,
                lambda: float(
                    np.mean((x_test - reconstruct(model, x_test_noisy)) ** 2)
                ),
            )
            order = sorted(clock.results)
            anchor[name]["test_mse"].append([clock.results[s] for s in order])
            anchor[name]["seconds"].append(
                [round(clock.times[s], 1) for s in order]
            )
            anchor[name]["parameters"] = model.count_params()
            progress.finished(f"seed {seed}: {name}")

    sweep = code_size_sweep(
        x_train, x_test, sweep_passes, rates, explorer, progress
    )
    equal_batch = equal_batch_seconds(x_all)
    progress.finished("the anchor's networks timed at one batch size")
    results = {
        "what": "chapter 7's autoencoders, each family at a learning rate chosen on validation, over seeds, and "
        "the TensorFlow tutorial's convolutional autoencoder trained as published beside ours",
        "settings": {
            "bottleneck": f"code of {CODE_SIZE} numbers; Adam in batches of {BATCH} at each family's rate, "
            f"constant for {hold} steps, then a cosine to 0 at {total} steps ({passes} passes)",
            "rates_tried": RATES_TRIED,
            "tuning": f"seed 0, each family's first model, {tuning_passes} passes on the same recipe; "
            "validation MSE at the end",
            "families": FAMILIES,
            "total_steps": total,
            "constant_steps": hold,
            "anchor": {
                name: dict(
                    recipe,
                    passes=max(1, round(recipe["passes"] * anchor_scale)),
                )
                for name, recipe in ANCHOR.items()
            },
            "anchor_task": f"denoising, as the tutorial trains: Gaussian noise of standard deviation {NOISE} "
            "added to all 60,000 training images and clipped to [0, 1], clean targets; scored by the MSE "
            "between the denoised noisy test images and the clean ones",
            "equal_batch": EQUAL_BATCH,
            "steps_per_pass": steps_per_pass,
            "seeds": list(range(seeds)),
            "shift_pixels": SHIFT,
            "sweep": f"seed 0 only, code sizes {SWEEP_CODE_SIZES}, {sweep_passes} passes on the same recipe",
            "quality_images": "SSIM, checkerboard energy and dead code units on the first 1,000 test images",
            "convergence_test": "studies/convergence.py: at the constant rate, the seeds' mean test MSE improved "
            f"by less than {convergence.TOLERANCE:.0%} from step {hold // 2} to step {hold}",
        },
        "tuning_validation_mse": tuning,
        "learning_rates": rates,
        "steps": steps,
        "test_mse": {
            name: summarise(c, steps, rates[family_of(name)], total)
            for name, c in curves.items()
        },
        "final": final,
        "original_checkerboard_energy": checkerboard_energy(quality_images),
        "anchor": anchor,
        "anchor_noisy_input_mse": float(np.mean((x_test - x_test_noisy) ** 2)),
        "anchor_equal_batch_seconds": equal_batch,
        "sweep_test_mse_seed_0": sweep,
        "explorer_reconstructions_seed_0": explorer,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    # the convergence test and the recipe's schedule come from a file beside this one
    convergence_file = pathlib.Path(convergence.__file__)
    results["provenance"]["uses"] = {
        str(convergence_file.relative_to(reference.ROOT)): hashlib.sha256(
            convergence_file.read_bytes()
        ).hexdigest()
    }
    reference.write_results(__file__, results)
    print(f"rates: {rates}; validation: {tuning}", file=sys.stderr)
    for name, run in results["test_mse"].items():
        print(
            f"{name}: {run['mean'][-1]:.5f} ± {run['std'][-1]:.5f}; {run['verdict']}; "
            f"dead code units {[f['dead code units'] for f in final[name]]}",
            file=sys.stderr,
        )
    for name, run in anchor.items():
        print(
            f"{name}: {[r[-1] for r in run['test_mse']]} in {[s[-1] for s in run['seconds']]} s",
            file=sys.stderr,
        )
    print(f"equal batch: {equal_batch}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: a fraction of the training",
    )
    arguments = parser.parse_args()
    scale, sweep_passes, tuning_passes = 1.0, SWEEP_PASSES, arguments.passes
    if arguments.quick:
        arguments.passes, arguments.seeds = 5, 2
        scale, sweep_passes, tuning_passes = 0.1, 1, 1
    main(arguments.passes, arguments.seeds, scale, sweep_passes, tuning_passes)
