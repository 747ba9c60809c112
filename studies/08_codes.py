"""Reference runs for chapter 8: what a code is good for, measured on long runs over three seeds.

Usage:  python studies/08_codes.py [--passes N] [--one-class-passes N] [--seeds N] [--quick]

The chapter trains for 4 passes (1,800 optimiser steps) with Adam in batches of 120, each model at its long-run
rate (below). Here the same models, on the same split (54,000 training images, the original 10,000 test images), train on the recipe of
studies/convergence.py (a rate constant for 80% of the steps, then a cosine cool-down), for the length that
studies/families.py gives the 784-256-30-256-784 network:
- the plain autoencoders 784-256-k-256-784 (linear code, MSE) with codes of 2 and 30 numbers, at that network's
  rate (the chapter's, so the chapter's run is the first steps of these curves);
- the variational autoencoder of the same shape with 30 latent numbers (binary cross-entropy plus the KL term, as
  one loss per pixel), and its control: the plain autoencoder with a code of 30 trained on binary cross-entropy
  alone, each at the rate of `RATES_TRIED` with the lowest validation loss after `TUNING_PASSES` passes (seed 0);
  their test MSE is recorded at log-spaced steps, with the 30-number code's precision@10, and the convergence test
  of studies/convergence.py is applied to each curve;
- what each code is good for, measured at the end as the chapter measures it live:
  * separation: 5-nearest-neighbour accuracy (5-fold cross-validation) in t-SNE maps of 5,000 test images from the
    autoencoder's codes, PCA's 30 components and the raw pixels, and in the 2-number code itself and PCA's 2;
  * search: precision@10 per class for 1,000 test queries among the 54,000 training images;
  * interpolation and generation: how far midpoints and decoded random codes fall from the nearest training image,
    how far random codes fall from the nearest training code, and what a classifier trained here on the training
    images makes of decoded random codes (its confidence and how many classes it sees), beside test images and
    blurred test images (what the measure misses);
  * inputs no class covers: the share of noise, inverted, rotated and blank images flagged at the 99th percentile
    of the validation images' reconstruction errors;
- one-class anomaly detection, the literature's protocol: for each class, autoencoders with codes of 4, 16 and 64
  trained on that class's training images only (a cosine from the start, as the chapter's), and PCA with as many
  components; all 10,000 test images scored by reconstruction error; AUROC per class (other classes are the
  anomalies).
`--quick` is a short smoke test of the whole script. Writes studies/results/08_codes.json; then run
python tools/sync_reference_results.py.
"""

import argparse
import sys
import time

import convergence
import families
import reference

reference.choose_backend()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors  # noqa: E402

LIVE_STEPS = 1800  # the chapter's 4 passes
BATCH_SIZE = families.DEEP_256.batch
RATES_TRIED = [5e-4, 1e-3, 2e-3, 4e-3, 8e-3]  # for the cross-entropy models
TUNING_PASSES = 10
CLASSIFIER_PASSES = 3
CONFIDENT = 0.9  # a classifier's top probability counted as confident
BLUR = 1.0  # standard deviation in pixels of the blurred test images
CODE_SIZE = 30
ONE_CLASS_CODES = [4, 16, 64]
MAP_IMAGES = 5000  # t-SNE on the first 5,000 test images
QUERIES = 1000  # search: the first 1,000 test images
SAMPLES = 1000  # random codes decoded
PAIRS = 200  # interpolation: test pairs from different classes
FLAG_PERCENTILE = 99


def load_split():
    (x_train_full, y_train_full), (x_test, y_test) = (
        keras.datasets.fashion_mnist.load_data()
    )
    x_train_full = x_train_full.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    return (
        (x_train_full[:-6000], y_train_full[:-6000]),
        x_train_full[-6000:],
        (x_test, y_test),
    )


def make_autoencoder(code_size):
    encoder = keras.Sequential(
        [
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(code_size),
        ]
    )
    decoder = keras.Sequential(
        [
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(784, activation="sigmoid"),
            keras.layers.Reshape((28, 28)),
        ]
    )
    return keras.Sequential([encoder, decoder]), encoder, decoder


class GaussianCode(keras.layers.Layer):
    """Means and log-variances in; a sample while training (the mean otherwise) out; adds the KL term per pixel."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seeds = keras.random.SeedGenerator(0)

    def call(self, statistics, training=False):
        mean, log_var = keras.ops.split(statistics, 2, axis=-1)
        kl = -0.5 * keras.ops.sum(
            1 + log_var - keras.ops.square(mean) - keras.ops.exp(log_var),
            axis=-1,
        )
        self.add_loss(keras.ops.mean(kl) / 784)
        if not training:
            return mean
        noise = keras.random.normal(keras.ops.shape(mean), seed=self.seeds)
        return mean + keras.ops.exp(0.5 * log_var) * noise


def make_vae(code_size):
    encoder = keras.Sequential(
        [
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(2 * code_size),
            GaussianCode(),
        ]
    )
    _, _, decoder = make_autoencoder(code_size)
    return keras.Sequential([encoder, decoder]), encoder, decoder


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def encode(encoder, images):
    return numpy(encoder.predict(images, batch_size=2000, verbose=0))


def decode(decoder, codes):
    return numpy(decoder.predict(codes, batch_size=2000, verbose=0))


def test_mse(model, images):
    return float(np.mean((images - numpy(model(images))) ** 2))


def recipe(rate, passes):
    """The long-run recipe at `rate` over `passes` passes of the 54,000 training images."""
    return convergence.keras_schedule(
        keras, rate, passes * (54_000 // BATCH_SIZE)
    )


def cosine_from_start(total_steps):
    """The one-class detectors' schedule, as in the chapter: 1e-3 falling along a cosine to 0."""
    return keras.optimizers.schedules.CosineDecay(1e-3, total_steps)


def train(model, images, loss, passes, schedule, steps=(), evaluate=None):
    """Adam on `schedule` for `passes` passes; `evaluate()` after each of `steps` when given."""
    steps_per_pass = int(np.ceil(len(images) / BATCH_SIZE))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=loss,
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    callbacks = []
    if evaluate is not None:
        recorder = reference.make_evaluation_callback(
            keras, set(steps), steps_per_pass, evaluate
        )
        callbacks = [recorder]
    targets = [images] * len(loss) if isinstance(loss, list) else images
    model.fit(
        images,
        targets,
        epochs=passes,
        batch_size=BATCH_SIZE,
        callbacks=callbacks,
        verbose=0,
    )
    if evaluate is not None:
        return [recorder.results[step] for step in steps]
    return None


def cross_entropy_models():
    """The variational autoencoder and its control, a plain one trained on the same reconstruction loss."""
    return {
        "variational, 30": make_vae(CODE_SIZE),
        "plain, 30, cross-entropy": make_autoencoder(CODE_SIZE),
    }


def validation_loss(model, images):
    """The loss the model was trained on (cross-entropy per pixel, plus the KL term for the variational one), on
    `images`, with the codes' means (no sampling)."""
    return float(model.evaluate(images, images, batch_size=2000, verbose=0))


def tune_cross_entropy_rates(x_train, x_val, passes, progress):
    """Both cross-entropy models from seed 0 at every rate tried: validation loss at the end, and the best rate."""
    validation = {name: {} for name in cross_entropy_models()}
    for rate in RATES_TRIED:
        for name in validation:
            keras.utils.set_random_seed(0)
            model = cross_entropy_models()[name][0]
            train(
                model,
                x_train,
                "binary_crossentropy",
                passes,
                recipe(rate, passes),
            )
            validation[name][str(rate)] = validation_loss(model, x_val)
        progress.finished(f"cross-entropy models at rate {rate}")
    chosen = {
        name: min(RATES_TRIED, key=lambda rate: values[str(rate)])
        for name, values in validation.items()
    }
    return validation, chosen


def make_classifier():
    """A small convolutional classifier: the judge of decoded random codes."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def classifier_view(classifier, images):
    """What the classifier makes of `images`: mean top probability, share above CONFIDENT, and how many classes it
    sees (classes given at least 5% of the images, and the exponential of the entropy of the predicted classes)."""
    probabilities = numpy(
        classifier.predict(images, batch_size=2000, verbose=0)
    )
    top = probabilities.max(axis=1)
    shares = np.bincount(probabilities.argmax(axis=1), minlength=10) / len(
        images
    )
    nonzero = shares[shares > 0]
    return {
        "mean_confidence": float(top.mean()),
        "confident_share": float(np.mean(top > CONFIDENT)),
        "classes_with_5_percent": int(np.sum(shares >= 0.05)),
        "effective_classes": float(np.exp(-np.sum(nonzero * np.log(nonzero)))),
        "class_shares": shares.tolist(),
    }


def precision_at_10(database, database_labels, queries, query_labels):
    """Per class: the share of each query's 10 nearest database items (Euclidean) of its class."""
    search = NearestNeighbors(n_neighbors=10).fit(database)
    _, neighbours = search.kneighbors(queries)
    hits = (database_labels[neighbours] == query_labels[:, None]).mean(axis=1)
    return [float(hits[query_labels == c].mean()) for c in range(10)]


def map_accuracy(points, labels):
    """5-nearest-neighbour accuracy, 5-fold cross-validated: how well classes separate."""
    return float(
        cross_val_score(KNeighborsClassifier(5), points, labels, cv=5).mean()
    )


def tsne(points, seed):
    return TSNE(2, init="pca", random_state=seed).fit_transform(points)


def nearest_mse(images, training_flat):
    """Each image's MSE per pixel to its nearest training image."""
    search = NearestNeighbors(n_neighbors=1).fit(training_flat)
    distances, _ = search.kneighbors(images.reshape(len(images), -1))
    return distances[:, 0] ** 2 / 784


def nearest_code_distance(codes, training_codes):
    search = NearestNeighbors(n_neighbors=1).fit(training_codes)
    return search.kneighbors(codes)[0][:, 0]


def out_of_class_inputs(x_test):
    draw = np.random.default_rng(0)
    garments = x_test[:1000]
    return {
        "uniform noise": draw.uniform(0, 1, garments.shape).astype("float32"),
        "inverted garments": 1 - garments,
        "rotated garments": np.rot90(garments, axes=(1, 2)).copy(),
        "blank images": np.zeros_like(garments),
    }


def per_image_error(model, images):
    return np.mean(
        (images - numpy(model.predict(images, verbose=0))) ** 2, axis=(1, 2)
    )


def one_class_aurocs(x_train, y_train, x_test, y_test, passes, seed):
    """{code size: [AUROC for each normal class]} for autoencoders, and PCA's (seed-free)."""
    aurocs = {str(k): [] for k in ONE_CLASS_CODES}
    pca_aurocs = {str(k): [] for k in ONE_CLASS_CODES}
    test_flat = x_test.reshape(len(x_test), -1)
    for normal in range(10):
        images = x_train[y_train == normal]
        anomalous = y_test != normal
        keras.utils.set_random_seed(seed)
        models = [make_autoencoder(k)[0] for k in ONE_CLASS_CODES]
        inputs = keras.Input(shape=(28, 28))
        side_by_side = keras.Model(inputs, [model(inputs) for model in models])
        steps_per_pass = int(np.ceil(len(images) / BATCH_SIZE))
        train(
            side_by_side,
            images,
            ["mse"] * len(models),
            passes,
            cosine_from_start(passes * steps_per_pass),
        )
        for k, model in zip(ONE_CLASS_CODES, models):
            scores = per_image_error(model, x_test)
            aurocs[str(k)].append(float(roc_auc_score(anomalous, scores)))
        for k in ONE_CLASS_CODES:
            if seed == 0:
                pca = PCA(k, svd_solver="covariance_eigh").fit(
                    images.reshape(len(images), -1)
                )
                rebuilt = pca.inverse_transform(pca.transform(test_flat))
                pca_scores = np.mean(
                    (test_flat - rebuilt.clip(0, 1)) ** 2, axis=1
                )
                pca_aurocs[str(k)].append(
                    float(roc_auc_score(anomalous, pca_scores))
                )
    return aurocs, pca_aurocs


def main(passes, one_class_passes, seeds):
    start = time.perf_counter()
    (x_train, y_train), x_val, (x_test, y_test) = load_split()
    steps_per_pass = len(x_train) // BATCH_SIZE
    total = passes * steps_per_pass
    steps = families.evaluation_steps(total, include=[LIVE_STEPS])
    train_flat = x_train.reshape(len(x_train), -1)
    test_flat = x_test.reshape(len(x_test), -1)
    queries, query_labels = test_flat[:QUERIES], y_test[:QUERIES]
    map_labels = y_test[:MAP_IMAGES]
    pca = PCA(CODE_SIZE, svd_solver="covariance_eigh").fit(train_flat)
    pca_2 = PCA(2, svd_solver="covariance_eigh").fit(train_flat)
    draw = np.random.default_rng(0)
    first, second = draw.integers(0, len(x_test), (2, 4 * PAIRS))
    pairs = [(a, b) for a, b in zip(first, second) if y_test[a] != y_test[b]][
        :PAIRS
    ]
    pairs = np.array(pairs)
    pixel_midpoints = 0.5 * (x_test[pairs[:, 0]] + x_test[pairs[:, 1]])

    fixed = {  # what does not depend on a seed's training
        "precision_at_10": {
            "raw pixels": precision_at_10(
                train_flat, y_train, queries, query_labels
            ),
            "PCA, 30": precision_at_10(
                pca.transform(train_flat),
                y_train,
                pca.transform(queries),
                query_labels,
            ),
        },
        "map_accuracy_code_2": {
            "PCA, 2": map_accuracy(
                pca_2.transform(test_flat[:MAP_IMAGES]), map_labels
            )
        },
        "midpoint_nearest_mse": {
            "pixels": float(nearest_mse(pixel_midpoints, train_flat).mean())
        },
        "test_nearest_mse": float(
            nearest_mse(x_test[:SAMPLES], train_flat).mean()
        ),
        "pca_test_mse": float(
            np.mean(
                (
                    test_flat
                    - pca.inverse_transform(pca.transform(test_flat)).clip(0, 1)
                )
                ** 2
            )
        ),
    }
    per_seed = []
    curves = {
        "plain, 30": [],
        "plain, 2": [],
        "variational, 30": [],
        "plain, 30, cross-entropy": [],
    }
    precision_curves = []
    progress = reference.Progress(len(RATES_TRIED) + 1 + 2 * seeds)
    tuning, rates = tune_cross_entropy_rates(
        x_train, x_val, TUNING_PASSES, progress
    )
    rates["plain, 30"] = rates["plain, 2"] = families.DEEP_256.rate
    print(f"rates: {rates}", file=sys.stderr, flush=True)
    # the judge of decoded random codes, trained once on the training images
    keras.utils.set_random_seed(0)
    classifier = make_classifier()
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    classifier.fit(
        x_train,
        y_train,
        epochs=CLASSIFIER_PASSES,
        batch_size=BATCH_SIZE,
        verbose=0,
    )
    fixed["classifier_test_accuracy"] = float(
        classifier.evaluate(x_test, y_test, batch_size=2000, verbose=0)[1]
    )
    fixed["classifier_view"] = {
        "test garments": classifier_view(classifier, x_test[:SAMPLES]),
        "blurred test garments": classifier_view(
            classifier,
            gaussian_filter(x_test[:SAMPLES], sigma=(0, BLUR, BLUR)),
        ),
    }
    progress.finished("the classifier")
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        plain, encoder, decoder = make_autoencoder(CODE_SIZE)
        plain_2, encoder_2, _ = make_autoencoder(2)
        variational, vae_encoder, vae_decoder = make_vae(CODE_SIZE)
        plain_ce, encoder_ce, decoder_ce = make_autoencoder(CODE_SIZE)

        def evaluate_plain():
            codes = encode(encoder, x_train)
            precision = precision_at_10(
                codes, y_train, encode(encoder, x_test[:QUERIES]), query_labels
            )
            return (
                test_mse(plain, x_test),
                test_mse(plain_2, x_test),
                float(np.mean(precision)),
            )

        # the two plain autoencoders side by side, as in the chapter
        inputs = keras.Input(shape=(28, 28))
        both = keras.Model(inputs, [plain(inputs), plain_2(inputs)])
        recorded = train_both(
            both, x_train, passes, rates["plain, 30"], steps, evaluate_plain
        )
        curves["plain, 30"].append([r[0] for r in recorded])
        curves["plain, 2"].append([r[1] for r in recorded])
        precision_curves.append([r[2] for r in recorded])
        for name, model in [
            ("variational, 30", variational),
            ("plain, 30, cross-entropy", plain_ce),
        ]:
            curves[name].append(
                train(
                    model,
                    x_train,
                    "binary_crossentropy",
                    passes,
                    recipe(rates[name], passes),
                    steps=steps,
                    evaluate=lambda model=model: test_mse(model, x_test),
                )
            )
        progress.finished(
            f"seed {seed}: the plain and variational autoencoders, and the control"
        )

        training_codes = encode(encoder, x_train)
        test_codes = encode(encoder, x_test)
        vae_training_codes = encode(vae_encoder, x_train)
        vae_test_codes = encode(vae_encoder, x_test)
        ce_training_codes = encode(encoder_ce, x_train)
        codes_2 = encode(encoder_2, x_test[:MAP_IMAGES])
        result = {
            "map_accuracy": {
                "autoencoder, 30": map_accuracy(
                    tsne(test_codes[:MAP_IMAGES], seed), map_labels
                ),
                "PCA, 30": map_accuracy(
                    tsne(pca.transform(test_flat[:MAP_IMAGES]), seed),
                    map_labels,
                ),
                "raw pixels": map_accuracy(
                    tsne(test_flat[:MAP_IMAGES], seed), map_labels
                ),
            },
            "map_accuracy_code_2": {
                "autoencoder, 2": map_accuracy(codes_2, map_labels)
            },
            "code_accuracy": {  # 5-NN in the 30 numbers themselves, no map
                "autoencoder, 30": map_accuracy(
                    test_codes[:MAP_IMAGES], map_labels
                ),
                "variational, 30": map_accuracy(
                    vae_test_codes[:MAP_IMAGES], map_labels
                ),
            },
            "precision_at_10": {
                "autoencoder, 30": precision_at_10(
                    training_codes, y_train, test_codes[:QUERIES], query_labels
                ),
            },
        }
        # interpolation midpoints in code space, decoded
        midpoint = {}
        for name, (codes, dec) in {
            "plain": (test_codes, decoder),
            "variational": (vae_test_codes, vae_decoder),
        }.items():
            middle = decode(
                dec, 0.5 * (codes[pairs[:, 0]] + codes[pairs[:, 1]])
            )
            midpoint[name] = float(nearest_mse(middle, train_flat).mean())
        result["midpoint_nearest_mse"] = midpoint
        # random codes: how far from the training codes, and what they decode to
        scale = np.median(
            nearest_code_distance(test_codes[:SAMPLES], training_codes)
        )
        vae_scale = np.median(
            nearest_code_distance(vae_test_codes[:SAMPLES], vae_training_codes)
        )
        low, high = training_codes.min(0), training_codes.max(0)
        sampled = {
            "plain, uniform in the box": (
                draw.uniform(low, high, (SAMPLES, CODE_SIZE)),
                training_codes,
                scale,
                decoder,
            ),
            "plain, fitted Gaussian": (
                draw.multivariate_normal(
                    training_codes.mean(0), np.cov(training_codes.T), SAMPLES
                ),
                training_codes,
                scale,
                decoder,
            ),
            "variational, standard normal": (
                draw.normal(size=(SAMPLES, CODE_SIZE)),
                vae_training_codes,
                vae_scale,
                vae_decoder,
            ),
            "plain, cross-entropy, fitted Gaussian": (
                draw.multivariate_normal(
                    ce_training_codes.mean(0),
                    np.cov(ce_training_codes.T),
                    SAMPLES,
                ),
                ce_training_codes,
                np.median(
                    nearest_code_distance(
                        encode(encoder_ce, x_test[:SAMPLES]), ce_training_codes
                    )
                ),
                decoder_ce,
            ),
        }
        result["sample_code_distance"] = {}
        result["sample_nearest_mse"] = {}
        result["sample_classifier_view"] = {}
        for name, (codes, reference_codes, unit, dec) in sampled.items():
            images = decode(dec, codes.astype("float32"))
            result["sample_classifier_view"][name] = classifier_view(
                classifier, images
            )
            result["sample_code_distance"][name] = float(
                np.median(nearest_code_distance(codes, reference_codes)) / unit
            )
            result["sample_nearest_mse"][name] = float(
                nearest_mse(images, train_flat).mean()
            )
        # code numbers the variational encoder uses: the others stay near N(0, 1)
        result["variational_active_numbers"] = int(
            np.sum(vae_training_codes.var(axis=0) > 0.01)
        )
        result["reconstruction_nearest_mse"] = {
            "plain": float(
                nearest_mse(numpy(plain(x_test[:SAMPLES])), train_flat).mean()
            ),
            "variational": float(
                nearest_mse(
                    numpy(variational(x_test[:SAMPLES])), train_flat
                ).mean()
            ),
        }
        # inputs no class covers, at the 99th percentile of validation errors
        threshold = np.percentile(
            per_image_error(plain, x_val), FLAG_PERCENTILE
        )
        result["flagged_share"] = {
            name: float(np.mean(per_image_error(plain, images) > threshold))
            for name, images in {
                "test garments": x_test,
                **out_of_class_inputs(x_test),
            }.items()
        }
        aurocs, pca_aurocs = one_class_aurocs(
            x_train, y_train, x_test, y_test, one_class_passes, seed
        )
        result["one_class_auroc"] = aurocs
        if seed == 0:
            fixed["one_class_auroc_pca"] = pca_aurocs
        per_seed.append(result)
        progress.finished(
            f"seed {seed}: maps, search, samples, one-class detectors"
        )

    hold = round(total * (1 - convergence.COOLDOWN_FRACTION))
    results = {
        "what": "chapter 8's codes trained on the long-run recipe over seeds: test MSE against "
        "optimiser steps, and what each code is good for at the end",
        "settings": {
            "optimizer": f"Adam in batches of {BATCH_SIZE} at each model's rate, constant for "
            f"{hold} steps, then a cosine to 0 at {total} steps ({passes} passes); "
            "one-class models: 1e-3 along a cosine from the start, as in the chapter",
            "batch_size": BATCH_SIZE,
            "steps_per_pass": steps_per_pass,
            "passes": passes,
            "total_steps": total,
            "constant_steps": hold,
            "plain_rate": "the 784-256-30-256-784 network's rate from studies/families.py, "
            f"tuned by {families.DEEP_256.tuned_by}",
            "rates_tried": RATES_TRIED,
            "tuning": f"seed 0, the variational autoencoder and its cross-entropy control, "
            f"{TUNING_PASSES} passes on the same recipe; validation loss (the one trained on) "
            "at the end",
            "classifier": f"{CLASSIFIER_PASSES} passes, seed 0, Adam 1e-3; confident: top "
            f"probability above {CONFIDENT}; blurred test garments: Gaussian blur of {BLUR} "
            "pixel",
            "one_class_passes": one_class_passes,
            "seeds": list(range(seeds)),
            "map_images": MAP_IMAGES,
            "queries": QUERIES,
            "samples": SAMPLES,
            "pairs": PAIRS,
            "flag_percentile": FLAG_PERCENTILE,
            "convergence_test": "studies/convergence.py: at the constant rate, the seeds' mean test MSE "
            f"improved by less than {convergence.TOLERANCE:.0%} over the last doubling of steps "
            f"(to step {hold})",
        },
        "tuning_validation_loss": tuning,
        "learning_rates": rates,
        "steps": steps,
        "test_mse": {
            name: families.summarise(seed_curves, steps, rates[name], total)
            for name, seed_curves in curves.items()
        },
        "precision_curve": reference.mean_and_std(precision_curves)[0],
        "fixed": fixed,
        "per_seed": per_seed,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    results["provenance"]["uses"] = families.uses()
    reference.write_results(__file__, results)
    for name, run in results["test_mse"].items():
        print(
            f"{name}: {run['mean'][-1]:.5f} ± {run['std'][-1]:.5f} at rate "
            f"{run['learning_rate']}; {run['verdict']}",
            file=sys.stderr,
        )
    print(f"classifier: {fixed['classifier_view']}", file=sys.stderr)
    for name in per_seed[0]["sample_classifier_view"]:
        views = [seed["sample_classifier_view"][name] for seed in per_seed]
        print(
            f"{name}: confidence {[v['mean_confidence'] for v in views]}, "
            f"classes {[v['effective_classes'] for v in views]}",
            file=sys.stderr,
        )


def train_both(both, x_train, passes, rate, steps, evaluate):
    """The two plain autoencoders side by side, as in the chapter, on the recipe at `rate`."""
    both.compile(
        optimizer=keras.optimizers.Adam(recipe(rate, passes)),
        loss=["mse", "mse"],
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    recorder = reference.make_evaluation_callback(
        keras, set(steps), len(x_train) // BATCH_SIZE, evaluate
    )
    both.fit(
        x_train,
        [x_train, x_train],
        epochs=passes,
        batch_size=BATCH_SIZE,
        callbacks=[recorder],
        verbose=0,
    )
    return [recorder.results[step] for step in steps]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=families.DEEP_256.passes)
    parser.add_argument("--one-class-passes", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke test")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.passes, arguments.one_class_passes, arguments.seeds = 5, 2, 2
        MAP_IMAGES, TUNING_PASSES, CLASSIFIER_PASSES = 1000, 1, 1
    main(arguments.passes, arguments.one_class_passes, arguments.seeds)
