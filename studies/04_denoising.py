"""Reference runs for chapter 4: the dense and convolutional denoisers trained to convergence over three seeds,
with the TensorFlow tutorial's convolutional denoiser trained the same way beside ours.

Usage:  python studies/04_denoising.py [--dense-passes N] [--conv-passes N] [--seeds N] [--quick]

The chapter trains briefly; here the same models, on the same split (54,000 training images, the original 10,000
test images), with fresh noise in every batch and the chapter's optimiser settings, train for much longer.
- Dense (784 -> 128 -> 784, ReLU code, sigmoid output): the plain autoencoder, the Gaussian denoiser (sigma 0.2)
  and the masking denoiser (half the pixels deleted), side by side as in the chapter. Adam at 3e-3 in batches of
  270 for the chapter's 400 steps, then a cosine down to 0. Seed s sets `keras.utils.set_random_seed(1000 * s)`
  before building them and gives their noise layers seeds 1000 * s + 0, 1, 2, so seed 0 is the chapter's run.
- Convolutional, all trained on Gaussian noise (sigma 0.2) in batches of 36 with Adam from 5e-3 along a cosine:
  ours (one stride-2 convolution to 14 x 14 x 32, a second convolution, a transposed convolution back up, and the
  noisy image concatenated before the last layer: no bottleneck, a skip connection), the tutorial's (two stride-2
  convolutions to 7 x 7 x 8 = 392 numbers and two transposed convolutions back: a bottleneck, no skip), and the
  tutorial's with the same skip as ours added (the skip's effect with the bottleneck held fixed). Each is trained
  twice per seed: for the chapter's budget (one pass, the cosine reaching 0 at step 1,500) and for `conv_passes`
  passes (the cosine reaching 0 at the end). Seed s sets `keras.utils.set_random_seed(1000 * s)` before building
  ours (then the others) and gives its noise layer seed 7 + 1000 * s, so seed 0's short run is the chapter's.
Every model is evaluated on the chapter's noisy test set (sigma 0.2, seed 1) at log-spaced steps; at the end, the
masked test set of the inpainting section and the salt-and-pepper set of chapter 4 too, with the chapter's
baselines (PCA and filters tuned on 1,000 validation images) computed the same way.
`--quick` is a smoke test. Writes studies/results/04_denoising.json; then run python tools/sync_reference_results.py.
"""

import argparse
import os
import sys
import time

import reference

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # the chapter's backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

TEST_SIGMA = 0.2
DENSE_BATCH, DENSE_RATE, DENSE_LIVE_STEPS = 270, 3e-3, 400  # 2 passes
CONV_BATCH, CONV_RATE, CONV_LIVE_STEPS = 36, 5e-3, 1500  # 1 pass
DENSE_CORRUPTION = {
    "plain AE": ("gaussian", 0.0),
    "dense denoiser": ("gaussian", TEST_SIGMA),
    "masking denoiser": ("masking", 0.5),
}
CONV_MODELS = ["ours: skip, no bottleneck", "tutorial: bottleneck"]
CONV_MODELS += ["tutorial + our skip"]


def corrupt(images, kind, level, seed):
    """The chapter's corruptions (Gaussian noise, masking, salt and pepper)."""
    shape = keras.ops.shape(images)
    if kind == "gaussian":
        noisy = images + level * keras.random.normal(shape, seed=seed)
        return keras.ops.clip(noisy, 0.0, 1.0)
    if kind == "masking":
        dropped = keras.random.uniform(shape, seed=seed) < level
        return keras.ops.where(dropped, 0.0, images)
    draw = keras.random.uniform(shape, seed=seed)
    peppered = keras.ops.where(draw < level / 2, 0.0, images)
    return keras.ops.where(draw > 1 - level / 2, 1.0, peppered)


def corrupted(images, kind, level, seed):
    return keras.ops.convert_to_numpy(corrupt(images, kind, level, seed))


class Corrupt(keras.layers.Layer):
    """The chapter's layer: corrupts while training only, with its own seed."""

    def __init__(self, kind, level, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.level = kind, level
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training or self.level == 0:
            return images
        return corrupt(images, self.kind, self.level, self.seed_generator)


def make_dense_autoencoder(code_size=128):
    return keras.Sequential(
        [
            keras.Sequential(
                [
                    keras.Input(shape=(28, 28)),
                    keras.layers.Flatten(),
                    keras.layers.Dense(code_size, activation="relu"),
                ]
            ),
            keras.Sequential(
                [
                    keras.Input(shape=(code_size,)),
                    keras.layers.Dense(784, activation="sigmoid"),
                    keras.layers.Reshape((28, 28)),
                ]
            ),
        ]
    )


def make_conv_denoiser(channels=32):
    """The chapter's convolutional denoiser."""
    noisy = keras.Input(shape=(None, None, 1))
    features = keras.layers.Conv2D(
        channels, 3, strides=2, padding="same", activation="relu"
    )(noisy)
    features = keras.layers.Conv2D(
        channels, 3, padding="same", activation="relu"
    )(features)
    features = keras.layers.Conv2DTranspose(
        8, 3, strides=2, padding="same", activation="relu"
    )(features)
    features = keras.layers.Concatenate()([features, noisy])
    cleaned = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")
    return keras.Model(noisy, cleaned(features))


def make_tutorial_denoiser(skip=False):
    """The TensorFlow tutorial's Denoise model (Conv2D 16 and 8 with stride 2, Conv2DTranspose 8 and 16, a
    sigmoid Conv2D), optionally with our skip: the noisy image concatenated before the last layer."""
    noisy = keras.Input(shape=(None, None, 1))
    features = noisy
    for channels in [16, 8]:
        features = keras.layers.Conv2D(
            channels, 3, strides=2, padding="same", activation="relu"
        )(features)
    for channels in [8, 16]:
        features = keras.layers.Conv2DTranspose(
            channels, 3, strides=2, padding="same", activation="relu"
        )(features)
    if skip:
        features = keras.layers.Concatenate()([features, noisy])
    cleaned = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")
    return keras.Model(noisy, cleaned(features))


def load_split():
    (x_train_full, _), (x_test, _) = keras.datasets.fashion_mnist.load_data()
    x_train_full = x_train_full.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    return x_train_full[:-6000], x_train_full[-6000:], x_test


def predict(model, images):
    if len(model.input_shape) == 4:
        outputs = model.predict(images[..., None], batch_size=1000, verbose=0)
        return outputs[..., 0]
    return model.predict(images, batch_size=1000, verbose=0)


def quality(clean, restored):
    """MSE per pixel and mean PSNR (dB), as tf.image.psnr computes it for images in [0, 1]."""
    errors = np.mean((clean - np.clip(restored, 0, 1)) ** 2, axis=(1, 2))
    return {
        "MSE": float(errors.mean()),
        "PSNR": float(np.mean(10 * np.log10(1 / errors))),
    }


def schedule(rate, total_steps, hold_steps):
    """`rate` for `hold_steps` steps, then a cosine down to 0 at `total_steps`."""
    return keras.optimizers.schedules.CosineDecay(
        rate,
        decay_steps=total_steps - hold_steps,
        warmup_steps=hold_steps,  # a "warm-up" from rate to rate: constant
        warmup_target=rate if hold_steps else None,
    )


def train(wrapped, x_train, batch_size, rate, steps, hold_steps, evaluate):
    """Train side by side (as the chapter's train_side_by_side does), calling `evaluate` at `steps`."""
    inputs = keras.Input(shape=x_train.shape[1:])
    combined = keras.Model(inputs, [model(inputs) for model in wrapped])
    combined.compile(
        optimizer=keras.optimizers.Adam(schedule(rate, steps[-1], hold_steps)),
        loss=["mse"] * len(wrapped),
        steps_per_execution=reference.STEPS_PER_EXECUTION,
        jit_compile=len(x_train.shape)
        == 4,  # the chapter's XLA for convolutions
    )
    steps_per_epoch = len(x_train) // batch_size
    recorder = reference.make_evaluation_callback(
        keras, set(steps), steps_per_epoch, evaluate
    )
    combined.fit(
        x_train,
        [x_train] * len(wrapped),
        epochs=steps[-1] // steps_per_epoch,
        batch_size=batch_size,
        callbacks=[recorder],
        verbose=0,
    )
    return [recorder.results[step] for step in steps]


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


def baselines(x_train, x_val, x_test, noisy_test, peppered):
    """The chapter's baselines, tuned on 1,000 validation images."""
    val_clean = x_val[:1000]
    val_noisy = corrupted(val_clean, "gaussian", TEST_SIGMA, seed=2)
    pca = PCA(128, random_state=0).fit(x_train[:20000].reshape(-1, 784))

    def pca_projection(images, components):
        scores = pca.transform(images.reshape(-1, 784))[:, :components]
        flat = scores @ pca.components_[:components] + pca.mean_
        return flat.reshape(-1, 28, 28)

    def blur(images, sigma):
        return ndimage.gaussian_filter(images, sigma=(0, sigma, sigma))

    def median(images, size):
        return ndimage.median_filter(images, size=(1, size, size))

    def tuned(method, options):
        errors = {
            option: np.mean((method(val_noisy, option) - val_clean) ** 2)
            for option in options
        }
        return min(errors, key=errors.get)

    settings = {
        "PCA projection": (
            pca_projection,
            tuned(pca_projection, [16, 32, 64, 128]),
        ),
        "Gaussian blur": (blur, tuned(blur, [0.5, 0.7, 1.0, 1.5])),
        "median filter": (median, tuned(median, [2, 3, 5])),
    }
    results = {"noisy input": quality(x_test, noisy_test)}
    for name, (method, option) in settings.items():
        results[name] = {
            **quality(x_test, method(noisy_test, option)),
            "tuned setting": float(option),
        }
    results["salt and pepper: damaged input"] = quality(x_test[:1000], peppered)
    results["salt and pepper: median 3x3"] = quality(
        x_test[:1000], median(peppered, 3)
    )
    return results


def dense_run(seed, x_train, tests, steps):
    keras.utils.set_random_seed(1000 * seed)
    models = {name: make_dense_autoencoder() for name in DENSE_CORRUPTION}
    wrapped = [
        keras.Sequential(
            [Corrupt(*DENSE_CORRUPTION[name], seed=1000 * seed + i), model]
        )
        for i, (name, model) in enumerate(models.items())
    ]
    noisy_test = tests["noisy"]
    curves = train(
        wrapped,
        x_train,
        DENSE_BATCH,
        DENSE_RATE,
        steps,
        DENSE_LIVE_STEPS,
        lambda: [
            quality(tests["clean"], predict(m, noisy_test))
            for m in models.values()
        ],
    )
    return models, curves


def conv_run(seed, x_train, tests, steps):
    keras.utils.set_random_seed(1000 * seed)
    models = {
        CONV_MODELS[0]: make_conv_denoiser(),
        CONV_MODELS[1]: make_tutorial_denoiser(),
        CONV_MODELS[2]: make_tutorial_denoiser(skip=True),
    }
    wrapped = [
        keras.Sequential(
            [Corrupt("gaussian", TEST_SIGMA, seed=7 + 1000 * seed + i), model]
        )
        for i, model in enumerate(models.values())
    ]  # ours gets seed 7 + 1000 * seed, the chapter's 7 for seed 0
    noisy_test = tests["noisy"]
    curves = train(
        wrapped,
        x_train[..., None],
        CONV_BATCH,
        CONV_RATE,
        steps,
        0,
        lambda: [
            quality(tests["clean"], predict(m, noisy_test))
            for m in models.values()
        ],
    )
    return models, curves


def final_measurements(models, tests):
    """At the end of a run: salt and pepper (every model), inpainting (dense models)."""
    results = {}
    for name, model in models.items():
        results[name] = {
            "salt and pepper PSNR": quality(
                tests["clean"][:1000], predict(model, tests["peppered"])
            )["PSNR"]
        }
        if len(model.input_shape) == 3:
            filled = predict(model, tests["masked"])
            errors = (filled - tests["clean"])[tests["missing"]] ** 2
            results[name]["inpainting MSE"] = float(np.mean(errors))
    return results


def collect(curves, names, steps):
    """{name: {measure: summary over seeds}} from per-seed lists of per-step lists of per-model dicts."""
    return {
        name: {
            measure: summarise(
                [[step[i][measure] for step in run] for run in curves], steps
            )
            for measure in ["MSE", "PSNR"]
        }
        for i, name in enumerate(names)
    }


def main(dense_passes, conv_passes, seeds):
    start = time.perf_counter()
    x_train, x_val, x_test = load_split()
    masked = corrupted(x_test, "masking", 0.5, seed=20)
    tests = {
        "clean": x_test,
        "noisy": corrupted(x_test, "gaussian", TEST_SIGMA, seed=1),
        "masked": masked,
        "missing": (masked == 0) & (x_test > 0),
        "peppered": corrupted(x_test[:1000], "salt_and_pepper", 0.2, seed=30),
    }
    base = baselines(x_train, x_val, x_test, tests["noisy"], tests["peppered"])
    dense_steps = reference.log_spaced_steps(
        dense_passes * (len(x_train) // DENSE_BATCH), include=[DENSE_LIVE_STEPS]
    )
    conv_steps = reference.log_spaced_steps(
        conv_passes * (len(x_train) // CONV_BATCH), include=[CONV_LIVE_STEPS]
    )
    budget_steps = reference.log_spaced_steps(CONV_LIVE_STEPS, points=6)

    progress = reference.Progress(3 * seeds)
    dense_curves, conv_curves, budget_curves = [], [], []
    measured = {}
    for seed in range(seeds):
        models, curves = dense_run(seed, x_train, tests, dense_steps)
        dense_curves.append(curves)
        for name, values in final_measurements(models, tests).items():
            measured.setdefault(name, []).append(values)
        progress.finished(f"seed {seed}: dense, {dense_steps[-1]:,} steps")

        models, curves = conv_run(seed, x_train, tests, budget_steps)
        budget_curves.append(curves)
        for name, values in final_measurements(models, tests).items():
            measured.setdefault(name + " (chapter's budget)", []).append(values)
        progress.finished(
            f"seed {seed}: convolutional, {CONV_LIVE_STEPS:,} steps"
        )

        models, curves = conv_run(seed, x_train, tests, conv_steps)
        conv_curves.append(curves)
        for name, values in final_measurements(models, tests).items():
            measured.setdefault(name, []).append(values)
        progress.finished(
            f"seed {seed}: convolutional, {conv_steps[-1]:,} steps"
        )

    dense_names, conv_names = list(DENSE_CORRUPTION), CONV_MODELS
    conv_params = {
        CONV_MODELS[0]: make_conv_denoiser().count_params(),
        CONV_MODELS[1]: make_tutorial_denoiser().count_params(),
        CONV_MODELS[2]: make_tutorial_denoiser(skip=True).count_params(),
    }
    results = {
        "what": "test MSE and PSNR on chapter 4's noisy test set (Gaussian noise 0.2) against optimiser "
        "steps, over seeds, for its dense and convolutional denoisers trained to convergence, beside the "
        "TensorFlow tutorial's convolutional denoiser trained the same way; inpainting and salt-and-pepper "
        "results at the end; the chapter's tuned baselines",
        "settings": {
            "dense": f"batches of {DENSE_BATCH}, Adam at {DENSE_RATE} for the chapter's "
            f"{DENSE_LIVE_STEPS} steps, then a cosine decay to 0 at step {dense_steps[-1]}; "
            "keras.utils.set_random_seed(1000 * seed) before the three models, noise seeds "
            "1000 * seed + 0, 1, 2",
            "convolutional": f"batches of {CONV_BATCH}, Adam from {CONV_RATE} along a cosine to 0 at "
            f"the last step: step {CONV_LIVE_STEPS} (the chapter's budget) or step {conv_steps[-1]}; "
            "XLA; keras.utils.set_random_seed(1000 * seed) before the three models, noise seeds "
            "7 + 1000 * seed + 0, 1, 2",
            "test_sets": "Gaussian sigma 0.2 with seed 1 on the 10,000 test images; masking 0.5 with "
            "seed 20 (error on deleted pixels that were not black); salt and pepper 0.2 with seed 30 "
            "on the first 1,000",
            "seeds": list(range(seeds)),
            "convergence_test": "over the last 20% of the steps the seeds' mean "
            "test MSE moves by less than their largest standard deviation there",
        },
        "parameters": conv_params,
        "dense_steps": dense_steps,
        "conv_steps": conv_steps,
        "budget_steps": budget_steps,
        "dense": collect(dense_curves, dense_names, dense_steps),
        "conv": collect(conv_curves, conv_names, conv_steps),
        "conv_budget": collect(budget_curves, conv_names, budget_steps),
        "final_measurements": measured,
        "baselines": base,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    reference.write_results(__file__, results)
    for part, steps in [("dense", dense_steps), ("conv", conv_steps)]:
        for name, run in results[part].items():
            psnr = run["PSNR"]
            print(
                f"{name:>28}: PSNR {psnr['mean'][0]:.2f} -> {psnr['mean'][-1]:.2f} "
                f"± {psnr['std'][-1]:.2f} dB, MSE {run['MSE']['mean'][-1]:.5f}, "
                f"converged {run['MSE']['converged']}",
                file=sys.stderr,
            )
    for name, run in results["conv_budget"].items():
        print(
            f"{name:>28} at the chapter's budget: PSNR {run['PSNR']['mean'][-1]:.2f}",
            file=sys.stderr,
        )
    print({k: v for k, v in base.items()}, file=sys.stderr)
    for name, values in measured.items():
        print(name, values, file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dense-passes", type=int, default=30)
    parser.add_argument("--conv-passes", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: short runs, one seed",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.dense_passes, arguments.conv_passes, arguments.seeds = 3, 2, 1
    main(arguments.dense_passes, arguments.conv_passes, arguments.seeds)
