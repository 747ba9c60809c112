"""Reference runs for chapter 6: every variant of the comparison, each at its own tuned rate, on the long-run recipe.

Usage:  python studies/06_comparison.py [--passes N] [--seeds N] [--tuning-passes N] [--quick]

The chapter trains each variant for 4 passes (1,800 optimiser steps, batches of 120) at its rate. Here the same
networks, on the same split (54,000 training images, the original 10,000 test images), first have their rates
chosen: seed 0 of each variant at each rate of RATES_TRIED for `--tuning-passes` passes on the recipe, the rate
with the lowest validation MSE winning (on noisy validation images for the denoisers, whose job that is). The deep
network's rate is its family's (studies/families.py: DEEP_256, the same network as chapter 1's, which tuned it).
Then each variant trains three seeds side by side on the recipe of studies/convergence.py (constant rate for 80%
of the steps, a cosine cool-down over the rest), 20 passes in all, and the test MSE on clean and on noisy test
images is recorded at log-spaced steps. The constant stretch covers step 1,800, where the chapter's live run stops,
so the curves there are what the chapter's own run should reproduce; the convergence test reads the last doubling
of steps at the constant rate. The stacked network spends its first 900 steps on pretraining (450 for the outer
layers, 450 for the inner ones, as the chapter does) at its rate, then fine-tunes on the recipe for the remaining
steps, and is recorded from the first evaluation of its fine-tuning on. At the end the chapter's full set of
metrics is measured on each network: MSE, PSNR and SSIM on clean and on noisy test images, and the linear probe
over three draws of 1,000 labelled training images; PCA, the baseline, is measured the same way. `--quick` is a
smoke test of the whole script. Writes studies/results/06_comparison.json; then run
python tools/sync_reference_results.py.
"""

import argparse
import hashlib
import sys
import time

import convergence
import families
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
BATCH_SIZE = (
    families.DEEP_256.batch
)  # 450 equal steps per pass over 54,000 images
NOISE = 0.2
LABELS_PER_CLASS, LABEL_DRAWS = 100, 3
SPARSITY_TARGET, KL_WEIGHT, L1_WEIGHT = 0.05, 3 / 392, 5e-4
SSIM_IMAGES = 2000
LIVE_PASSES = 4  # the chapter's EPOCHS
PRETRAINING_PASSES = 2  # the stacked network's: outer layers, then inner ones
RATES_TRIED = [1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2]
TUNING_PASSES = 4
# Four passes favour high rates, which can be unstable over a long run at a constant rate (0.032 was, for the
# shallow network, in a first run of this study): of the rates within RATE_MARGIN of the lowest validation
# error, the lowest is chosen.
RATE_MARGIN = 0.01
FAMILY_RATES = {"deep": families.DEEP_256}  # tuned by the family's own study
DENOISERS = [
    "denoising dense",
    "denoising conv",
]  # tuned on noisy validation images


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
    return (
        x_train_full[:-6000],
        y_train_full[:-6000],
        x_train_full[-6000:],
        x_test,
        y_test,
    )


def add_noise(images, seed):
    rng = np.random.default_rng(seed)
    noisy = images + NOISE * rng.normal(size=images.shape)
    return np.clip(noisy, 0, 1).astype("float32")


def predict(model, images):
    return keras.ops.convert_to_numpy(model(images))


def train(models, images, passes, rate, recipe=True, record=None):
    """Train `models` side by side (as the chapter's train_side_by_side does) for `passes` at `rate`: on the
    recipe (constant, then a cosine cool-down) or, with recipe=False, at the constant rate throughout.

    `record` = (steps, evaluate, offset): evaluate() after each of `steps`, counted from `offset`.
    Returns {step: evaluate()}.
    """
    steps_per_pass = len(images) // BATCH_SIZE
    total = passes * steps_per_pass
    inputs = keras.Input(shape=images.shape[1:])
    combined = keras.Model(inputs, [model(inputs) for model in models])
    schedule = (
        convergence.keras_schedule(keras, rate, total) if recipe else rate
    )
    combined.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=["mse"] * len(models),
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    callbacks = []
    if record:
        steps, evaluate, offset = record
        recorder = reference.make_evaluation_callback(
            keras,
            {step - offset for step in steps if step > offset},
            steps_per_pass,
            evaluate,
        )
        callbacks = [recorder]
    combined.fit(
        images,
        [images] * len(models),
        epochs=passes,
        batch_size=BATCH_SIZE,
        callbacks=callbacks,
        verbose=0,
    )
    if record:
        return {step + offset: r for step, r in recorder.results.items()}
    return {}


def pretrain(networks, images, rate):
    """The chapter's pretrain_and_fine_tune, before the fine-tuning: one pass for the outer layers, one for the
    inner ones, at the constant rate."""
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
    train(outer, images, 1, rate, recipe=False)
    for enc, dec in layers:
        hidden = predict(keras.Sequential([enc[0], enc[1]]), images)
        inner = keras.Sequential([keras.Input((HIDDEN_SIZE,)), enc[2], dec[0]])
        train([inner], hidden, 1, rate, recipe=False)


def tune_rates(x_train, x_val, x_val_noisy, passes, progress):
    """Seed 0 of each variant at every rate tried, on the recipe over `passes`: validation MSE, and the lowest
    rate within RATE_MARGIN of the best."""
    validation, chosen = {}, {}
    for variant, build in VARIANTS.items():
        if variant in FAMILY_RATES:
            chosen[variant] = FAMILY_RATES[variant].rate
            continue
        inputs = x_val_noisy if variant in DENOISERS else x_val
        validation[variant] = {}
        for rate in RATES_TRIED:
            keras.utils.set_random_seed(0)
            network = build()
            if variant == "stacked":
                pretrain([network], x_train, rate)
                train([network], x_train, passes - PRETRAINING_PASSES, rate)
            else:
                train([network], x_train, passes, rate)
            error = float(np.mean((x_val - predict(network, inputs)) ** 2))
            validation[variant][str(rate)] = error
        best = min(validation[variant].values())
        chosen[variant] = min(  # the lowest rate within 1% of the best
            rate
            for rate in RATES_TRIED
            if validation[variant][str(rate)] <= (1 + RATE_MARGIN) * best
        )
        tried = ", ".join(
            f"{r}: {e:.5f}" for r, e in validation[variant].items()
        )
        progress.finished(f"{variant}: rate {chosen[variant]} ({tried})")
    return validation, chosen


def mean_ssim(clean, restored):
    as_channels = [
        np.moveaxis(images, 0, -1)[None] for images in (clean, restored)
    ]
    return float(tf.image.ssim(*as_channels, max_val=1.0)[0])


def main(passes, seeds, tuning_passes):
    start = time.perf_counter()
    x_train, y_train, x_val, x_test, y_test = load_split()
    x_test_noisy = add_noise(x_test, 1)  # the chapter's noisy test images
    x_val_noisy = add_noise(x_val, 2)
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
    hold = round(total * (1 - convergence.COOLDOWN_FRACTION))
    steps = families.evaluation_steps(total, include=[live])
    # the stacked network fine-tunes on the recipe over the steps after its pretraining
    stacked_steps = [
        pretraining + step
        for step in families.evaluation_steps(
            total - pretraining, include=[live - pretraining]
        )
    ]

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

    tuned = [v for v in VARIANTS if v not in FAMILY_RATES]
    progress = reference.Progress(len(tuned) + len(VARIANTS))
    tuning, rates = tune_rates(
        x_train, x_val, x_val_noisy, tuning_passes, progress
    )
    curves, final, seconds = {}, {}, {}
    for variant, build in VARIANTS.items():
        rate = rates[variant]
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
            kept_steps = stacked_steps
            pretrain(networks, x_train, rate)
            recorded = train(
                networks,
                x_train,
                passes - PRETRAINING_PASSES,
                rate,
                record=(kept_steps, evaluate, pretraining),
            )
            rates_at = [
                convergence.recipe_rate(
                    step - pretraining - 1, rate, total - pretraining
                )
                for step in kept_steps
            ]
        else:
            kept_steps = steps
            recorded = train(
                networks, x_train, passes, rate, record=(steps, evaluate, 0)
            )
            rates_at = None
        seconds[variant] = (time.perf_counter() - started) / seeds
        kept = sorted(recorded)
        assert kept == kept_steps, (variant, kept, kept_steps)
        curves[variant] = {"steps": kept}
        for i, name in enumerate(["clean MSE", "noisy MSE"]):
            per_seed = [
                [recorded[step][s][i] for step in kept] for s in range(seeds)
            ]
            summary = families.summarise(per_seed, kept, rate, total)
            if rates_at is not None:  # its recipe starts after pretraining
                verdict = convergence.judge(kept, summary["mean"], rates_at)
                summary.update(
                    converged=verdict.converged,
                    improvement_over_last_doubling=verdict.improvement,
                    doubling_read=list(verdict.stretch)
                    if verdict.stretch
                    else None,
                    verdict=verdict.phrase(),
                )
            curves[variant][name] = summary
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
            f"{variant}: {seeds} networks at {rate}, {seconds[variant]:.0f} s each"
        )

    results = {
        "what": "chapter 6's variants, each at its rate chosen on validation, trained on the "
        "long-run recipe over seeds: test MSE on clean and noisy test images against optimiser "
        "steps (mean, std, each seed, the convergence test's verdict), and the chapter's "
        "metrics for each final network",
        "settings": {
            "optimizer": f"Adam in batches of {BATCH_SIZE}, at each variant's rate, constant "
            f"for {hold} steps, then a cosine to 0 at {total} steps ({passes} passes); the "
            f"stacked network pretrains for {pretraining} steps at its rate, then fine-tunes "
            f"on the same recipe over the remaining {total - pretraining} steps",
            "batch_size": BATCH_SIZE,
            "steps_per_pass": steps_per_pass,
            "passes": passes,
            "total_steps": total,
            "constant_steps": hold,
            "live_steps": live,
            "pretraining_steps": pretraining,
            "seeds": list(range(seeds)),
            "label_draws": LABEL_DRAWS,
            "rates_tried": RATES_TRIED,
            "tuning": f"seed 0 of each variant at each rate, {tuning_passes} passes on the "
            "same recipe; validation MSE at the end (noisy validation inputs for the "
            f"denoisers); the lowest rate within {RATE_MARGIN:.0%} of the lowest validation MSE "
            "wins; the deep network takes its family's rate, tuned by "
            f"{families.DEEP_256.tuned_by}",
            "tuning_passes": tuning_passes,
            "convergence_test": "studies/convergence.py: at the constant rate, the seeds' mean test MSE "
            f"improved by less than {convergence.TOLERANCE:.0%} over the last doubling of steps",
        },
        "tuning_validation_mse": tuning,
        "learning_rates": rates,
        "curves": curves,
        "final": final,
        "PCA": pca_final,
        "training_seconds_per_network": seconds,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    results["provenance"]["uses"] = {  # code outside this file that it ran
        str(PENALTIES.relative_to(reference.ROOT)): hashlib.sha256(
            PENALTIES.read_bytes()
        ).hexdigest(),
        **families.uses(),
    }
    reference.write_results(__file__, results)
    print(f"rates {rates}", file=sys.stderr)
    for variant in VARIANTS:
        clean = curves[variant]["clean MSE"]
        probe = np.mean([m["probe accuracy"] for m in final[variant]])
        print(
            f"{variant:>16}: clean {clean['mean'][-1]:.5f} ± {clean['std'][-1]:.5f} "
            f"(PCA {pca_final['clean MSE']:.5f}), noisy "
            f"{curves[variant]['noisy MSE']['mean'][-1]:.5f}, probe {probe:.3f}, "
            f"{clean['verdict']}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=families.DEEP_256.passes)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tuning-passes", type=int, default=TUNING_PASSES)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: 6 passes, 2 seeds, 3 tuning passes",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.passes, arguments.seeds, arguments.tuning_passes = 6, 2, 3
    main(arguments.passes, arguments.seeds, arguments.tuning_passes)
