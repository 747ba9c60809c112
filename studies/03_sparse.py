"""Reference runs for chapter 3: the plain, L1 and KL autoencoders trained to convergence over three seeds,
and an overcomplete code under chapter 1's pure-noise copy test.

Usage:  python studies/03_sparse.py [--passes N] [--seeds N] [--quick]

The chapter trains its models for 3 passes (600 optimiser steps). Here the same models (784 -> code -> 784, sigmoid
code, sigmoid output; no penalty, the L1 penalty or the KL penalty, from their one source), on the same split
(54,000 training images, the original 10,000 test images), with the same optimiser (Adam, learning rate 3e-3,
batches of 270, fifty steps per call) for their first 600 steps, train for many more, side by side as the chapter
trains them. After step 600 the learning rate falls along a cosine to zero, so the curves up to there are what the
chapter's run should reproduce and their ends are the converged models. Seed s builds each model after
`keras.utils.set_random_seed(code_size + 1000 * s)`, so seed 0 is the chapter's own run.
- The chapter's eight models (plain and KL at codes of 32, 64 and 256, L1 at 256): test MSE at log-spaced steps;
  at the end, for the 256-unit codes, the chapter's sparsity measurements and the linear probe (standardised
  logistic regression, 1,000 labelled images, the chapter's three label draws), with raw pixels and PCA beside them.
- The promise that a penalty lets a code be wider than the image: plain, L1 and KL codes of 1,024 units, trained
  the same way, and their MSE on the 2,000 uniform-noise images of chapter 1's copy test (a model that knows only
  garments cannot beat the best constant guess, 1/12; one that copies can), recorded at the same steps.
`--quick` is a smoke test. Writes studies/results/03_sparse.json; then run python tools/sync_reference_results.py.
"""

import argparse
import hashlib
import sys
import time

import os

import reference

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # the chapter's backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

# The chapter's settings (its "Choosing the weights" cell): the same names and values.
CODE_SIZE = 256
SPARSITY_TARGET, KL_WEIGHT, L1_WEIGHT = 0.05, 3 / 392, 5e-4
ACTIVE = 0.1
BATCH_SIZE, LEARNING_RATE = 270, 3e-3  # 200 equal steps per pass
LIVE_PASSES = 3
WIDE = 1024  # the overcomplete code of the copy test
CHAPTER_MODELS = [(32, "plain"), (32, "KL"), (64, "plain"), (64, "KL")]
CHAPTER_MODELS += [(256, "plain"), (256, "L1"), (256, "KL")]
WIDE_MODELS = [(WIDE, "plain"), (WIDE, "L1"), (WIDE, "KL")]

PENALTIES = reference.ROOT / "tools" / "shared_cells" / "sparsity_penalties.py"
_penalties = {"keras": keras}
exec(PENALTIES.read_text(), _penalties)
L1ActivityPenalty = _penalties["L1ActivityPenalty"]
KLSparsityPenalty = _penalties["KLSparsityPenalty"]


def make_penalty(kind):
    if kind == "L1":
        return L1ActivityPenalty(L1_WEIGHT)
    if kind == "KL":
        return KLSparsityPenalty(SPARSITY_TARGET, KL_WEIGHT)
    return None


def make_autoencoder(code_size, penalty=None):
    """The chapter's model: an encoder (sigmoid code, optionally penalised) and a decoder."""
    encoder_layers = [
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(code_size, activation="sigmoid"),
    ]
    if penalty is not None:
        encoder_layers.append(penalty)
    decoder = keras.Sequential(
        [
            keras.Input(shape=(code_size,)),
            keras.layers.Dense(784, activation="sigmoid"),
            keras.layers.Reshape((28, 28)),
        ],
        name="decoder",
    )
    encoder = keras.Sequential(encoder_layers, name="encoder")
    return keras.Sequential([encoder, decoder])


def build(models_wanted, seed):
    """The chapter's order: the seed is set before each model, so all kinds of one size start alike."""
    models = {}
    for code_size, kind in models_wanted:
        keras.utils.set_random_seed(code_size + 1000 * seed)
        models[f"{kind}_{code_size}"] = make_autoencoder(
            code_size, make_penalty(kind)
        )
    return models


def load_split():
    (x_train_full, y_train_full), (x_test, y_test) = (
        keras.datasets.fashion_mnist.load_data()
    )
    x_train_full = x_train_full.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    return x_train_full[:-6000], y_train_full[:-6000], x_test, y_test


def mse(model, images):
    reconstructions = keras.ops.convert_to_numpy(model(images))
    return float(np.mean((images - reconstructions) ** 2))


def learning_rate(total_steps, hold_steps):
    """The chapter's 3e-3, constant for its steps, then a cosine down to 0."""
    return keras.optimizers.schedules.CosineDecay(
        LEARNING_RATE,
        decay_steps=total_steps - hold_steps,
        warmup_steps=hold_steps,  # a "warm-up" from 3e-3 to 3e-3: constant
        warmup_target=LEARNING_RATE,
    )


def train_and_record(models, x_train, evaluate, passes, steps, hold_steps):
    """Train side by side (as the chapter's train_side_by_side does), calling `evaluate` at `steps`."""
    inputs = keras.Input(shape=(28, 28))
    combined = keras.Model(inputs, [model(inputs) for model in models])
    combined.compile(
        optimizer=keras.optimizers.Adam(learning_rate(steps[-1], hold_steps)),
        loss=["mse"] * len(models),
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    steps_per_epoch = len(x_train) // BATCH_SIZE
    recorder = reference.make_evaluation_callback(
        keras, set(steps), steps_per_epoch, evaluate
    )
    combined.fit(
        x_train,
        [x_train] * len(models),
        epochs=passes,
        batch_size=BATCH_SIZE,
        callbacks=[recorder],
        verbose=0,
    )
    return [recorder.results[step] for step in steps]


def encode(model, images):
    return keras.ops.convert_to_numpy(model.get_layer("encoder")(images))


def sparsity_report(codes):
    """The chapter's measurements of a code, plus each unit's share of activation from its top tenth of images."""
    ordered = np.sort(codes, axis=0)[::-1]
    top_tenth = ordered[: len(codes) // 10].sum(axis=0) / ordered.sum(axis=0)
    return {
        "mean activation": float(codes.mean()),
        "active per image": float(np.mean(codes > ACTIVE)),
        "dead units": float(np.mean(codes.max(axis=0) <= ACTIVE)),
        "top tenth share (median unit)": float(np.median(top_tenth)),
    }


def probe_accuracy(train_features, train_labels, test_features, test_labels):
    """The chapter's probe: standardised features, logistic regression (newton-cg)."""
    classifier = LogisticRegression(solver="newton-cg", max_iter=1000)
    probe = make_pipeline(StandardScaler(), classifier)
    probe.fit(train_features, train_labels)
    return float(probe.score(test_features, test_labels))


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


def main(passes, seeds):
    start = time.perf_counter()
    x_train, y_train, x_test, y_test = load_split()
    noise = np.random.default_rng(0).uniform(size=(2000, 28, 28))
    noise = noise.astype("float32")  # chapter 1's copy test
    steps_per_epoch = len(x_train) // BATCH_SIZE
    hold_steps = LIVE_PASSES * steps_per_epoch
    total = passes * steps_per_epoch
    steps = reference.log_spaced_steps(total, include=[hold_steps])
    label_sets = [  # the chapter's three draws of 1,000 labelled images
        np.random.default_rng(draw).choice(len(x_train), 1000, replace=False)
        for draw in range(3)
    ]
    flat_train, flat_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
    pca = PCA(CODE_SIZE, random_state=0).fit(flat_train)
    baselines = {
        "raw pixels": [
            probe_accuracy(flat_train[s], y_train[s], flat_test, y_test)
            for s in label_sets
        ],
        "PCA": [
            probe_accuracy(
                pca.transform(flat_train[s]),
                y_train[s],
                pca.transform(flat_test),
                y_test,
            )
            for s in label_sets
        ],
    }

    progress = reference.Progress(2 * seeds)
    test_curves, noise_curves, wide_test_curves = {}, {}, {}
    measured = {}
    for seed in range(seeds):
        models = build(CHAPTER_MODELS, seed)
        results = train_and_record(
            list(models.values()),
            x_train,
            lambda models=models: [mse(m, x_test) for m in models.values()],
            passes,
            steps,
            hold_steps,
        )
        for i, name in enumerate(models):
            test_curves.setdefault(name, []).append([r[i] for r in results])
        for kind in ["plain", "L1", "KL"]:
            model = models[f"{kind}_{CODE_SIZE}"]
            codes = encode(model, x_test)
            report = sparsity_report(codes)
            report["probe accuracy"] = [
                probe_accuracy(
                    encode(model, x_train[s]), y_train[s], codes, y_test
                )
                for s in label_sets
            ]
            measured.setdefault(kind, []).append(report)
        progress.finished(f"seed {seed}: the chapter's {len(models)} models")

        wide = build(WIDE_MODELS, seed)
        results = train_and_record(
            list(wide.values()),
            x_train,
            lambda wide=wide: [
                (mse(m, x_test), mse(m, noise)) for m in wide.values()
            ],
            passes,
            steps,
            hold_steps,
        )
        for i, name in enumerate(wide):
            wide_test_curves.setdefault(name, []).append(
                [r[i][0] for r in results]
            )
            noise_curves.setdefault(name, []).append([r[i][1] for r in results])
        progress.finished(f"seed {seed}: the codes of {WIDE}")

    results = {
        "what": "test MSE per pixel against optimiser steps, over seeds, for chapter 3's "
        "models trained to convergence; their sparsity and linear-probe accuracy at the end; "
        f"codes of {WIDE} units under chapter 1's pure-noise copy test",
        "settings": {
            "optimizer": f"Adam, learning rate 3e-3 for {hold_steps} steps "
            "(the chapter's), then a cosine decay to 0 at the last step",
            "batch_size": BATCH_SIZE,
            "steps_per_pass": steps_per_epoch,
            "passes": passes,
            "seeds": list(range(seeds)),
            "seed_rule": "keras.utils.set_random_seed(code_size + 1000 * seed) "
            "before each model; seed 0 is the chapter's run",
            "penalties": {
                "KL": {"target": SPARSITY_TARGET, "weight": KL_WEIGHT},
                "L1": {"weight": L1_WEIGHT},
            },
            "active_threshold": ACTIVE,
            "convergence_test": "over the last 20% of the steps the seeds' mean "
            "test MSE moves by less than their largest standard deviation there",
            "noise_images": "2,000 images of uniform noise, "
            "np.random.default_rng(0).uniform(size=(2000, 28, 28))",
        },
        "steps": steps,
        "runs": {
            name: summarise(curves, steps)
            for name, curves in test_curves.items()
        },
        "wide_test": {
            name: summarise(curves, steps)
            for name, curves in wide_test_curves.items()
        },
        "wide_noise": {
            name: summarise(curves, steps)
            for name, curves in noise_curves.items()
        },
        "final_measurements": measured,
        "probe_baselines": baselines,
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
    for name, run in results["runs"].items():
        print(
            f"{name:>10}: {run['mean'][steps.index(hold_steps)]:.5f} -> "
            f"{run['mean'][-1]:.5f} ± {run['std'][-1]:.5f} converged {run['converged']}",
            file=sys.stderr,
        )
    for kind, reports in measured.items():
        print(kind, reports, file=sys.stderr)
    print(baselines, file=sys.stderr)
    for name, run in results["wide_noise"].items():
        clean = results["wide_test"][name]
        print(
            f"{name:>10}: noise {run['mean'][steps.index(hold_steps)]:.4f} -> "
            f"{run['mean'][-1]:.4f} ± {run['std'][-1]:.4f} (1/12 = {1 / 12:.4f}); "
            f"clean {clean['mean'][-1]:.5f}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: five passes, two seeds",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.passes, arguments.seeds = 5, 2
    main(arguments.passes, arguments.seeds)
