"""Reference runs for chapter 6: every variant of the comparison trained to convergence over three seeds.

Usage:  python studies/06_comparison.py [--passes N] [--seeds N] [--quick]

The chapter trains each variant for 6 passes (1,200 optimiser steps). Here the same networks, on the same split
(54,000 training images, the original 10,000 test images), with the same optimiser (Adam, learning rate 3e-3,
batches of 270, fifty steps per call) for their first 1,200 steps, train for many more, and the test MSE on clean
and on noisy test images is recorded at log-spaced steps. After step 1,200, where the chapter's live run stops,
the learning rate falls along a cosine to zero, so the curves up to step 1,200 are what the chapter's own run
should reproduce and their ends are the converged networks. The stacked network spends its first 400 steps on
pretraining (200 for the outer layers, 200 for the inner ones, as the chapter does) and is recorded from the
first evaluation of its fine-tuning on. At the end the chapter's full set of metrics is measured on each network:
MSE, PSNR and SSIM on clean and on noisy test images, and the linear probe over three draws of 1,000 labelled
training images; PCA, the baseline, is measured the same way. `--quick` is a smoke test of the whole script.
Writes studies/results/06_comparison.json; then run python tools/sync_reference_results.py.
"""

import argparse
import hashlib
import sys
import time

import reference

reference.choose_backend()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402  (tf.image's PSNR and SSIM, as in the chapter)
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

# The chapter's protocol (its "Setup" cell): the same names and values.
CODE_SIZE, HIDDEN_SIZE = 30, 256
BATCH_SIZE = 270  # 200 equal steps per pass over 54,000 images
LEARNING_RATE = 3e-3
NOISE = 0.2
LABELS_PER_CLASS, LABEL_DRAWS = 100, 3
SPARSITY_TARGET, KL_WEIGHT, L1_WEIGHT = 0.05, 3 / 392, 5e-4
SSIM_IMAGES = 2000
LIVE_PASSES = 6  # the chapter's EPOCHS
PRETRAINING_PASSES = 2  # the stacked network's: outer layers, then inner ones


# Chapter 3's penalty layers, from their one source (the chapters hold copies of it).
PENALTIES = reference.ROOT / "tools" / "shared_cells" / "sparsity_penalties.py"
_penalties = {"keras": keras}
exec(PENALTIES.read_text(), _penalties)
L1ActivityPenalty = _penalties["L1ActivityPenalty"]
KLSparsityPenalty = _penalties["KLSparsityPenalty"]


def dense_encoder(hidden=(), activation=None, penalty=None):
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            *[keras.layers.Dense(size, activation="relu") for size in hidden],
            keras.layers.Dense(CODE_SIZE, activation=activation),
            *([penalty] if penalty else []),
        ],
        name="encoder",
    )


def dense_decoder(hidden=()):
    return keras.Sequential(
        [
            keras.Input(shape=(CODE_SIZE,)),
            *[keras.layers.Dense(size, activation="relu") for size in hidden],
            keras.layers.Dense(784, activation="sigmoid"),
            keras.layers.Reshape((28, 28)),
        ],
        name="decoder",
    )


def conv_encoder():
    down = dict(strides=2, padding="same")
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(16, 3, activation="relu", **down),
            keras.layers.Conv2D(32, 3, activation="relu", **down),
            keras.layers.Flatten(),
            keras.layers.Dense(CODE_SIZE),
        ],
        name="encoder",
    )


class TiedAutoencoder(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = dense_encoder()
        self.decoder_bias = self.add_weight(
            shape=(784,), initializer="zeros", name="decoder_bias"
        )
        self.reshape = keras.layers.Reshape((28, 28))

    def call(self, images):
        kernel = self.encoder.layers[-1].kernel
        pixels = keras.ops.matmul(
            self.encoder(images), keras.ops.transpose(kernel)
        )
        return self.reshape(keras.ops.sigmoid(pixels + self.decoder_bias))


def autoencoder(encoder, decoder, noisy_training=False):
    noise = []
    if noisy_training:  # Gaussian noise, clipped to [0, 1] as the test noise is
        noise = [
            keras.layers.GaussianNoise(NOISE),
            keras.layers.ReLU(max_value=1.0),
        ]
    return keras.Sequential(
        [keras.Input(shape=(28, 28)), *noise, encoder, decoder]
    )


DEEP = [HIDDEN_SIZE]
VARIANTS = {
    "shallow": lambda: autoencoder(dense_encoder(), dense_decoder()),
    "deep": lambda: autoencoder(dense_encoder(DEEP), dense_decoder(DEEP)),
    "tied": TiedAutoencoder,
    "sigmoid code": lambda: autoencoder(
        dense_encoder(activation="sigmoid"), dense_decoder()
    ),
    "sparse L1": lambda: autoencoder(
        dense_encoder(
            activation="sigmoid", penalty=L1ActivityPenalty(L1_WEIGHT)
        ),
        dense_decoder(),
    ),
    "sparse KL": lambda: autoencoder(
        dense_encoder(
            activation="sigmoid",
            penalty=KLSparsityPenalty(SPARSITY_TARGET, KL_WEIGHT),
        ),
        dense_decoder(),
    ),
    "denoising dense": lambda: autoencoder(
        dense_encoder(DEEP), dense_decoder(DEEP), noisy_training=True
    ),
    "denoising conv": lambda: autoencoder(
        conv_encoder(), dense_decoder(DEEP), noisy_training=True
    ),
    "stacked": lambda: autoencoder(dense_encoder(DEEP), dense_decoder(DEEP)),
}


def load_split():
    (x_train_full, y_train_full), (x_test, y_test) = (
        keras.datasets.fashion_mnist.load_data()
    )
    x_train_full = x_train_full.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    return x_train_full[:-6000], y_train_full[:-6000], x_test, y_test


def predict(model, images):
    return keras.ops.convert_to_numpy(model(images))


def learning_rate(total_steps, hold_steps):
    """The chapter's constant 3e-3 for `hold_steps`, then a cosine down to 0 at `total_steps`."""
    if total_steps <= hold_steps:
        return LEARNING_RATE
    return keras.optimizers.schedules.CosineDecay(
        LEARNING_RATE,
        decay_steps=total_steps - hold_steps,
        warmup_steps=hold_steps,  # a "warm-up" from 3e-3 to 3e-3: constant
        warmup_target=LEARNING_RATE,
    )


def train(models, images, total_steps, hold_steps, record=None):
    """Train `models` side by side (as the chapter's train_side_by_side does).

    `record` = (steps, evaluate, offset): evaluate() after each of `steps`, counted from `offset`.
    Returns {step: evaluate()}.
    """
    inputs = keras.Input(shape=images.shape[1:])
    combined = keras.Model(inputs, [model(inputs) for model in models])
    combined.compile(
        optimizer=keras.optimizers.Adam(learning_rate(total_steps, hold_steps)),
        loss=["mse"] * len(models),
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    steps_per_epoch = len(images) // BATCH_SIZE
    assert total_steps % steps_per_epoch == 0, "whole passes only"
    callbacks = []
    if record:
        steps, evaluate, offset = record
        recorder = reference.make_evaluation_callback(
            keras,
            {step - offset for step in steps if step > offset},
            steps_per_epoch,
            evaluate,
        )
        callbacks = [recorder]
    combined.fit(
        images,
        [images] * len(models),
        epochs=total_steps // steps_per_epoch,
        batch_size=BATCH_SIZE,
        callbacks=callbacks,
        verbose=0,
    )
    if record:
        return {step + offset: r for step, r in recorder.results.items()}
    return {}


def mean_ssim(clean, restored):
    as_channels = [
        np.moveaxis(images, 0, -1)[None] for images in (clean, restored)
    ]
    return float(tf.image.ssim(*as_channels, max_val=1.0)[0])


def main(passes, seeds):
    start = time.perf_counter()
    x_train, y_train, x_test, y_test = load_split()
    rng = np.random.default_rng(1)  # the chapter's noisy test images
    x_test_noisy = np.clip(
        x_test + NOISE * rng.normal(size=x_test.shape), 0, 1
    ).astype("float32")
    draws = []  # the chapter's label draws: 100 training images per class
    for draw in range(LABEL_DRAWS):
        rng = np.random.default_rng(draw)
        draws.append(
            np.concatenate(
                [
                    rng.choice(
                        np.flatnonzero(y_train == label),
                        LABELS_PER_CLASS,
                        False,
                    )
                    for label in range(10)
                ]
            )
        )
    steps_per_pass = len(x_train) // BATCH_SIZE
    total = passes * steps_per_pass
    live = LIVE_PASSES * steps_per_pass
    pretraining = PRETRAINING_PASSES * steps_per_pass
    steps = reference.log_spaced_steps(total, include=[live])

    def scores(clean, restored, prefix):
        restored = np.clip(restored, 0.0, 1.0)
        psnr = tf.image.psnr(clean[..., None], restored[..., None], 1.0)
        return {
            f"{prefix} MSE": float(np.mean((clean - restored) ** 2)),
            f"{prefix} PSNR": float(np.mean(psnr)),
            f"{prefix} SSIM": mean_ssim(
                clean[:SSIM_IMAGES], restored[:SSIM_IMAGES]
            ),
        }

    def measure(reconstruct, encode):
        accuracies = []
        test_codes = encode(x_test)
        for labelled in draws:
            probe = make_pipeline(
                StandardScaler(), LogisticRegression(max_iter=2000)
            )
            probe.fit(encode(x_train[labelled]), y_train[labelled])
            accuracies.append(float(probe.score(test_codes, y_test)))
        clean_errors = np.sum(
            (x_test - np.clip(reconstruct(x_test), 0, 1)) ** 2, axis=(1, 2)
        )
        return {
            **scores(x_test, reconstruct(x_test), "clean"),
            **scores(x_test, reconstruct(x_test_noisy), "noisy"),
            "probe accuracy": accuracies,  # one per label draw
            "squared error per image": float(clean_errors.mean()),
        }, clean_errors

    pca = PCA(CODE_SIZE, random_state=0).fit(x_train.reshape(-1, 784))

    def pca_reconstruct(images):
        codes = pca.transform(images.reshape(-1, 784))
        return pca.inverse_transform(codes).reshape(images.shape)

    pca_final, pca_errors = measure(
        pca_reconstruct, lambda images: pca.transform(images.reshape(-1, 784))
    )

    progress = reference.Progress(len(VARIANTS))
    curves, final, seconds = {}, {}, {}
    for variant, build in VARIANTS.items():
        networks = []
        for seed in range(seeds):
            keras.utils.set_random_seed(seed)
            networks.append(build())

        def evaluate(networks=networks):
            return [
                (
                    float(np.mean((x_test - predict(n, x_test)) ** 2)),
                    float(np.mean((x_test - predict(n, x_test_noisy)) ** 2)),
                )
                for n in networks
            ]

        started = time.perf_counter()
        if variant == "stacked":  # the chapter's pretrain_and_fine_tune
            record = (steps, evaluate, pretraining)
            layers = [
                (n.get_layer("encoder").layers, n.get_layer("decoder").layers)
                for n in networks
            ]
            outer = [
                keras.Sequential(
                    [keras.Input((28, 28)), enc[0], enc[1], dec[1], dec[2]]
                )
                for enc, dec in layers
            ]
            train(outer, x_train, steps_per_pass, steps_per_pass)
            for enc, dec in layers:
                hidden = predict(keras.Sequential([enc[0], enc[1]]), x_train)
                inner = keras.Sequential(
                    [keras.Input((HIDDEN_SIZE,)), enc[2], dec[0]]
                )
                train([inner], hidden, steps_per_pass, steps_per_pass)
            recorded = train(
                networks,
                x_train,
                total - pretraining,
                live - pretraining,
                record,
            )
        else:
            recorded = train(
                networks, x_train, total, live, (steps, evaluate, 0)
            )
        seconds[variant] = (time.perf_counter() - started) / seeds
        kept = sorted(recorded)
        curves[variant] = {"steps": kept}
        for i, name in enumerate(["clean MSE", "noisy MSE"]):
            per_seed = [
                [recorded[step][s][i] for step in kept] for s in range(seeds)
            ]
            mean, std = reference.mean_and_std(per_seed)
            held, movement, spread = reference.converged(mean, std, kept)
            curves[variant][name] = {
                "mean": mean,
                "std": std,
                "seeds": per_seed,
                "converged": held,
                "last_fifth_movement": movement,
                "last_fifth_spread": spread,
            }
        final[variant] = []
        for n in networks:
            metrics, errors = measure(
                lambda images, n=n: predict(n, images),
                lambda images, n=n: predict(n.get_layer("encoder"), images),
            )
            metrics["beats PCA on share of images"] = float(
                np.mean(errors < pca_errors)
            )
            final[variant].append(metrics)
        progress.finished(
            f"{variant}: {seeds} networks, {seconds[variant]:.0f} s each"
        )

    results = {
        "what": "chapter 6's variants trained to convergence over seeds: test MSE on "
        "clean and noisy test images against optimiser steps (mean, std, each seed), "
        "and the chapter's metrics for each final network",
        "settings": {
            "optimizer": f"Adam, learning rate {LEARNING_RATE} for {live} steps "
            "(the chapter's), then a cosine decay to 0 at the last step",
            "batch_size": BATCH_SIZE,
            "steps_per_pass": steps_per_pass,
            "passes": passes,
            "total_steps": total,
            "live_steps": live,
            "pretraining_steps": pretraining,
            "seeds": list(range(seeds)),
            "label_draws": LABEL_DRAWS,
            "convergence_test": "over the last 20% of the steps the seeds' mean "
            "test MSE moves by less than their largest standard deviation there",
        },
        "steps": steps,
        "curves": curves,
        "final": final,
        "PCA": pca_final,
        "training_seconds_per_network": seconds,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    results["provenance"]["uses"] = {  # code outside studies/ that it ran
        str(PENALTIES.relative_to(reference.ROOT)): hashlib.sha256(
            PENALTIES.read_bytes()
        ).hexdigest()
    }
    reference.write_results(__file__, results)
    for variant in VARIANTS:
        clean = curves[variant]["clean MSE"]
        probe = np.mean([m["probe accuracy"] for m in final[variant]])
        print(
            f"{variant:>16}: clean {clean['mean'][-1]:.5f} ± {clean['std'][-1]:.5f} "
            f"(PCA {pca_final['clean MSE']:.5f}), noisy "
            f"{curves[variant]['noisy MSE']['mean'][-1]:.5f}, probe {probe:.3f}, "
            f"converged {clean['converged']}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke test: 8 passes, 2 seeds"
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.passes, arguments.seeds = LIVE_PASSES + 2, 2
    main(arguments.passes, arguments.seeds)
