"""Reference runs for chapter 8: what a code is good for, measured on converged models over three seeds.

Usage:  python studies/08_codes.py [--passes N] [--one-class-passes N] [--seeds N] [--quick]

The chapter trains for 4 passes (1,800 optimiser steps). Here the same models, on the same split (54,000 training
images, the original 10,000 test images), with the same optimiser (Adam, learning rate 1e-3, batches of 120) for
those steps, train for many more, with the learning rate falling along a cosine to zero after step 1,800:
- the plain autoencoders 784-256-k-256-784 (linear code, MSE) with codes of 2 and 30 numbers, and a variational
  autoencoder of the same shape with 30 latent numbers (binary cross-entropy plus the KL term, as one loss per
  pixel); their test MSE is recorded at log-spaced steps, with the 30-number code's precision@10;
- what each code is good for, measured at the end as the chapter measures it live:
  * separation: 5-nearest-neighbour accuracy (5-fold cross-validation) in t-SNE maps of 5,000 test images from the
    autoencoder's codes, PCA's 30 components and the raw pixels, and in the 2-number code itself and PCA's 2;
  * search: precision@10 per class for 1,000 test queries among the 54,000 training images;
  * interpolation and generation: how far midpoints and decoded random codes fall from the nearest training image,
    and how far random codes fall from the nearest training code;
  * inputs no class covers: the share of noise, inverted, rotated and blank images flagged at the 99th percentile
    of the validation images' reconstruction errors;
- one-class anomaly detection, the literature's protocol: for each class, autoencoders with codes of 4, 16 and 64
  trained on that class's training images only, and PCA with as many components; all 10,000 test images scored by
  reconstruction error; AUROC per class (other classes are the anomalies).
`--quick` is a short smoke test of the whole script. Writes studies/results/08_codes.json; then run
python tools/sync_reference_results.py.
"""

import argparse
import time

import reference

reference.choose_backend()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors  # noqa: E402

LIVE_STEPS = 1800  # the chapter's 4 passes
BATCH_SIZE = 120
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


def learning_rate(total_steps, hold):
    return keras.optimizers.schedules.CosineDecay(
        1e-3,
        decay_steps=max(total_steps - hold, 1),
        warmup_steps=hold,
        warmup_target=1e-3,
    )


def train(model, images, loss, passes, hold, steps=(), evaluate=None):
    steps_per_pass = int(np.ceil(len(images) / BATCH_SIZE))
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate(passes * steps_per_pass, hold)
        ),
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
        train(side_by_side, images, ["mse"] * len(models), passes, hold=0)
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
    steps = reference.log_spaced_steps(
        passes * steps_per_pass, include=[LIVE_STEPS]
    )
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
    curves = {"plain, 30": [], "plain, 2": [], "variational, 30": []}
    precision_curves = []
    progress = reference.Progress(2 * seeds)
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        plain, encoder, decoder = make_autoencoder(CODE_SIZE)
        plain_2, encoder_2, _ = make_autoencoder(2)
        variational, vae_encoder, vae_decoder = make_vae(CODE_SIZE)

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
        recorded = train_both(both, x_train, passes, steps, evaluate_plain)
        curves["plain, 30"].append([r[0] for r in recorded])
        curves["plain, 2"].append([r[1] for r in recorded])
        precision_curves.append([r[2] for r in recorded])
        vae_curve = train(
            variational,
            x_train,
            "binary_crossentropy",
            passes,
            hold=LIVE_STEPS,
            steps=steps,
            evaluate=lambda: test_mse(variational, x_test),
        )
        curves["variational, 30"].append(vae_curve)
        progress.finished(
            f"seed {seed}: the plain and variational autoencoders"
        )

        training_codes = encode(encoder, x_train)
        test_codes = encode(encoder, x_test)
        vae_training_codes = encode(vae_encoder, x_train)
        vae_test_codes = encode(vae_encoder, x_test)
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
        }
        result["sample_code_distance"] = {}
        result["sample_nearest_mse"] = {}
        for name, (codes, reference_codes, unit, dec) in sampled.items():
            result["sample_code_distance"][name] = float(
                np.median(nearest_code_distance(codes, reference_codes)) / unit
            )
            result["sample_nearest_mse"][name] = float(
                nearest_mse(
                    decode(dec, codes.astype("float32")), train_flat
                ).mean()
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

    results = {
        "what": "chapter 8's codes trained to convergence over seeds: test MSE against "
        "optimiser steps, and what each code is good for at the end",
        "settings": {
            "optimizer": f"Adam, learning rate 1e-3 for {LIVE_STEPS} steps (the chapter's), "
            "then a cosine decay to 0 at the last step; one-class models: cosine from the start",
            "batch_size": BATCH_SIZE,
            "steps_per_pass": steps_per_pass,
            "passes": passes,
            "one_class_passes": one_class_passes,
            "seeds": list(range(seeds)),
            "map_images": MAP_IMAGES,
            "queries": QUERIES,
            "samples": SAMPLES,
            "pairs": PAIRS,
            "flag_percentile": FLAG_PERCENTILE,
            "convergence_test": "over the last 20% of the steps the seeds' mean "
            "test MSE moves by less than their largest standard deviation there",
        },
        "steps": steps,
        "test_mse": {
            name: summarise(seed_curves, steps)
            for name, seed_curves in curves.items()
        },
        "precision_curve": reference.mean_and_std(precision_curves)[0],
        "fixed": fixed,
        "per_seed": per_seed,
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    reference.write_results(__file__, results)


def train_both(both, x_train, passes, steps, evaluate):
    both.compile(
        optimizer=keras.optimizers.Adam(learning_rate(steps[-1], LIVE_STEPS)),
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=30)
    parser.add_argument("--one-class-passes", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke test")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.passes, arguments.one_class_passes, arguments.seeds = 5, 2, 2
        MAP_IMAGES = 1000
    main(arguments.passes, arguments.one_class_passes, arguments.seeds)
