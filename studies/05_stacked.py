"""Reference runs for chapter 5: does greedy pretraining help where it was reported to help, a deep sigmoid
network trained with plain SGD from few labels? And the chapter's own comparison, trained longer.

Usage:  python studies/05_stacked.py [--steps N] [--seeds N] [--quick]

Erhan et al. (2010) tested pretraining on deep sigmoid networks trained with stochastic gradient descent. Here:
- **Deep, SGD.** 784 -> five hidden sigmoid layers of 256 -> softmax, trained on labels with plain SGD (no momentum)
  in batches of 27, from three starting points: random weights (Glorot, Keras's default), the weights of a stack
  of autoencoders pretrained greedily with the chapter's recipe (one autoencoder per layer, each trained for one
  pass over the 54,000 unlabelled training images with Adam at 1e-2 in batches of 128), and, for reference, ReLU
  units with He initialisation from random weights, all with 1,000 labels (the chapter's balanced draw, 100 per
  class). SGD's learning rate is tuned for each starting point: its three rates in LEARNING_RATES train side by side
  (with plain SGD, weighting a model's loss by c is exactly training it with c times the learning rate), the
  rate with the best mean validation accuracy is kept, and each seed's test accuracy is read at its best
  validation step (early stopping, as Erhan et al. did; validation: the 6,000 images the chapters leave out).
- **The chapter's network, longer.** 784-128-32-10 with sigmoid units, Adam at 3e-3, 1,000 labels in batches of 25
  (the chapter's): random weights against the fine-tuned stack of the chapter's recipe, for 4,000 updates, ten
  times the chapter's 400.
- **The slow one, longer.** The random sigmoid network is still improving after the sweep's updates, so it is
  trained again, at its tuned rate, for four times as many, all seeds side by side.
Seed s pretrains after `keras.utils.set_random_seed(s)` and builds the classifiers after
`keras.utils.set_random_seed(100 + s)`, as the chapter does.
`--quick` is a smoke test. Writes studies/results/05_stacked.json; then run python tools/sync_reference_results.py.
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

DEEP_SIZES = [256] * 5
CHAPTER_SIZES = [128, 32]
CONTENDERS = [
    "sigmoid, random init",
    "sigmoid, pretrained",
    "ReLU, random init",
]
# SGD's learning rates, three per starting point around its best in a short
# trial (2,000 steps, rates 0.03 to 1): random sigmoid was best at the top,
# 1; pretrained at 0.3; ReLU at 0.03, and it diverged at 0.3
LEARNING_RATES = {
    CONTENDERS[0]: [0.3, 1.0, 3.0],
    CONTENDERS[1]: [0.1, 0.3, 1.0],
    CONTENDERS[2]: [0.01, 0.03, 0.1],
}
BASE_RATE = 0.1  # the optimiser's; a model's loss is weighted by rate / 0.1
CHAPTER_RATE = 3e-3  # Adam, the chapter's
CHAPTER_UPDATES = 400  # the chapter's run with 1,000 labels
CHAPTER_TOTAL = 4000  # ten times as many here
LABELS = 1000  # the chapter's balanced draw
LONG_FACTOR = 4  # the random sigmoid network, continued: 4 times the updates
DEEP_BATCH = 27  # 1,000 updates per pass over 27 copies of the 1,000
CHAPTER_BATCH = 25  # the chapter's


def load_split():
    (x_full, y_full), (x_test, y_test) = (
        keras.datasets.fashion_mnist.load_data()
    )
    x_full = x_full.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    return (
        (x_full[:-6000], y_full[:-6000]),
        (x_full[-6000:], y_full[-6000:]),
        (x_test, y_test),
    )


def labelled_subset(y_train, count, seed=0):
    """The chapter's draw: `count` indices, the same number from each class."""
    if count == len(y_train):
        return np.arange(len(y_train))
    rng = np.random.default_rng(seed)
    per_class = [
        rng.choice(np.flatnonzero(y_train == label), count // 10, replace=False)
        for label in range(10)
    ]
    return np.concatenate(per_class)


def pretrain_stack(images, sizes, seed):
    """The chapter's greedy recipe: one sigmoid autoencoder per layer, each on the codes below."""
    keras.utils.set_random_seed(seed)
    encoders, inputs = [], images
    for size in sizes:
        encoder = keras.layers.Dense(size, activation="sigmoid")
        decoder = keras.layers.Dense(inputs.shape[1], activation="sigmoid")
        autoencoder = keras.Sequential(
            [keras.Input(shape=inputs.shape[1:]), encoder, decoder]
        )
        autoencoder.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        autoencoder.fit(inputs, inputs, epochs=1, batch_size=128, verbose=0)
        encoders.append(encoder)
        inputs = keras.ops.convert_to_numpy(encoder(inputs))
    return [encoder.get_weights() for encoder in encoders]


def classifier(
    sizes, activation="sigmoid", initializer="glorot_uniform", weights=None
):
    layers = [
        keras.layers.Dense(s, activation, kernel_initializer=initializer)
        for s in sizes
    ]
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            *layers,
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    for layer, values in zip(layers, weights or []):
        layer.set_weights(values)
    return model


def make_contenders(sizes, stack, seed, with_relu):
    keras.utils.set_random_seed(
        100 + seed
    )  # the chapter's: the new layers' weights
    contenders = {
        CONTENDERS[0]: classifier(sizes),
        CONTENDERS[1]: classifier(sizes, weights=stack),
    }
    if with_relu:
        contenders[CONTENDERS[2]] = classifier(sizes, "relu", "he_normal")
    return contenders


def accuracy(model, images, labels):
    probabilities = keras.ops.convert_to_numpy(
        model.predict(images, batch_size=2000, verbose=0)
    )
    return float(np.mean(probabilities.argmax(axis=1) == labels))


def train(
    models, loss_weights, optimizer, images, labels, batch, steps, evaluate
):
    """Train side by side, one loss per model, calling `evaluate` at `steps`.

    Few labelled images are repeated, so that a pass is a whole number of calls (fifty updates each)."""
    inputs = keras.Input(shape=(784,))
    combined = keras.Model(inputs, [model(inputs) for model in models])
    combined.compile(
        optimizer=optimizer,
        loss=["sparse_categorical_crossentropy"] * len(models),
        loss_weights=loss_weights,
        steps_per_execution=reference.STEPS_PER_EXECUTION,
    )
    repeats = 1
    while (len(images) * repeats) % (batch * reference.STEPS_PER_EXECUTION):
        repeats += 1
    chosen = np.tile(np.arange(len(images)), repeats)
    steps_per_pass = len(chosen) // batch
    if steps[-1] % steps_per_pass:
        raise ValueError(
            f"{steps[-1]} steps are not whole passes of {steps_per_pass}"
        )
    recorder = reference.make_evaluation_callback(
        keras, set(steps), steps_per_pass, evaluate
    )
    combined.fit(
        images[chosen],
        [labels[chosen]] * len(models),
        epochs=steps[-1] // steps_per_pass,
        batch_size=batch,
        callbacks=[recorder],
        verbose=0,
    )
    return [recorder.results[step] for step in steps]


def main(total_steps, seeds):
    start = time.perf_counter()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_split()
    steps = reference.log_spaced_steps(total_steps, points=20)
    chapter_steps = reference.log_spaced_steps(
        CHAPTER_TOTAL, points=12, include=[CHAPTER_UPDATES]
    )
    labelled = labelled_subset(y_train, LABELS)
    progress = reference.Progress(seeds * 3 + 1)
    stacks, chapter_stacks = {}, {}
    for seed in range(seeds):
        stacks[seed] = pretrain_stack(x_train, DEEP_SIZES, seed)
        chapter_stacks[seed] = pretrain_stack(x_train, CHAPTER_SIZES, seed)
        progress.finished(f"seed {seed}: greedy pretraining, 5 + 2 layers")

    records = {}  # (contender, rate) -> per seed: per step: (train, val, test)
    for seed in range(seeds):
        keys, models = [], []
        for i in range(3):  # the same starting weights at every rate
            contenders = make_contenders(DEEP_SIZES, stacks[seed], seed, True)
            for name, model in contenders.items():
                keys.append((name, LEARNING_RATES[name][i]))
                models.append(model)
        results = train(
            models,
            [rate / BASE_RATE for _, rate in keys],
            keras.optimizers.SGD(BASE_RATE),
            x_train[labelled],
            y_train[labelled],
            DEEP_BATCH,
            steps,
            lambda models=models: [
                (
                    accuracy(m, x_train[labelled], y_train[labelled]),
                    accuracy(m, x_val, y_val),
                    accuracy(m, x_test, y_test),
                )
                for m in models
            ],
        )
        for i, key in enumerate(keys):
            records.setdefault(key, []).append([step[i] for step in results])
        progress.finished(f"seed {seed}: deep SGD, {LABELS:,} labels")
    deep = summarise_deep(records, steps)

    # the random sigmoid network is still improving at the end: continue it
    slow = CONTENDERS[0]
    models = [
        make_contenders(DEEP_SIZES, stacks[seed], seed, False)[slow]
        for seed in range(seeds)
    ]
    long_steps = reference.log_spaced_steps(
        LONG_FACTOR * total_steps, points=20
    )
    results = train(
        models,
        None,
        keras.optimizers.SGD(deep[slow]["rate"]),
        x_train[labelled],
        y_train[labelled],
        DEEP_BATCH,
        long_steps,
        lambda models=models: [
            (
                accuracy(m, x_train[labelled], y_train[labelled]),
                accuracy(m, x_val, y_val),
                accuracy(m, x_test, y_test),
            )
            for m in models
        ],
    )
    runs = [[step[i] for step in results] for i in range(seeds)]
    picks = [int(np.argmax([v for _, v, _ in run])) for run in runs]
    extended = {
        "rate": deep[slow]["rate"],
        "test_at_best_val": [float(run[i][2]) for run, i in zip(runs, picks)],
        "best_val_step": [long_steps[i] for i in picks],
        "train": summarise(
            [[t for t, _, _ in run] for run in runs], long_steps
        ),
        "test": summarise([[x for _, _, x in run] for run in runs], long_steps),
    }
    progress.finished(f"{slow}, {long_steps[-1]:,} updates, all seeds")

    chapter = {}
    for seed in range(seeds):
        contenders = make_contenders(
            CHAPTER_SIZES, chapter_stacks[seed], seed, False
        )
        results = train(
            list(contenders.values()),
            None,
            keras.optimizers.Adam(CHAPTER_RATE),
            x_train[labelled],
            y_train[labelled],
            CHAPTER_BATCH,
            chapter_steps,
            lambda contenders=contenders: [
                accuracy(m, x_test, y_test) for m in contenders.values()
            ],
        )
        for i, name in enumerate(contenders):
            chapter.setdefault(name, []).append([step[i] for step in results])
        progress.finished(f"seed {seed}: the chapter's network, 1,000 labels")

    results = {
        "what": "test accuracy of deep sigmoid networks trained with SGD from random and from greedily "
        "pretrained weights (and of ReLU networks from random weights), with 1,000 labels; "
        "the chapter's 784-128-32-10 network trained longer with Adam",
        "settings": {
            "deep": f"784 -> {len(DEEP_SIZES)} x {DEEP_SIZES[0]} -> 10; plain SGD in batches of {DEEP_BATCH}, "
            f"learning rate tuned over {LEARNING_RATES} by mean best validation accuracy; test accuracy "
            "read at each seed's best validation step; training accuracy on the 1,000 labelled images",
            "pretraining": "greedy, one sigmoid autoencoder per layer, one pass over the 54,000 "
            "training images each, Adam 1e-2, batches of 128 (the chapter's recipe)",
            "chapter": f"784-128-32-10 sigmoid, Adam {CHAPTER_RATE}, batches of {CHAPTER_BATCH}, 1,000 labels; "
            f"the chapter trains {CHAPTER_UPDATES} updates",
            "labels": "balanced draws, np.random.default_rng(0), 100 images per class for 1,000",
            "validation": "the last 6,000 training images, which the chapters leave out",
            "seeds": list(range(seeds)),
            "seed_rule": "keras.utils.set_random_seed(seed) before pretraining, "
            "keras.utils.set_random_seed(100 + seed) before the classifiers",
            "convergence_test": "over the last 20% of the steps the seeds' mean test accuracy "
            "moves by less than their largest standard deviation there (the chapter's network)",
        },
        "steps": steps,
        "chapter_steps": chapter_steps,
        "learning_rates": LEARNING_RATES,
        "deep": deep,
        "long_steps": long_steps,
        "deep_random_longer": extended,
        "chapter": {
            name: summarise(curves, chapter_steps)
            for name, curves in chapter.items()
        },
    }
    results["provenance"] = reference.provenance(
        __file__, time.perf_counter() - start, keras
    )
    reference.write_results(__file__, results)
    for name, run in deep.items():
        print(
            f"{name:>22}: rate {run['rate']}, test at best validation "
            f"{100 * np.mean(run['test_at_best_val']):.1f} ± {100 * np.std(run['test_at_best_val'], ddof=1):.1f}, "
            f"final train {100 * run['train']['mean'][-1]:.1f}, test {100 * run['test']['mean'][-1]:.1f}",
            file=sys.stderr,
        )
    print(
        f"{slow} for {long_steps[-1]:,} updates: test at best validation "
        f"{100 * np.mean(extended['test_at_best_val']):.1f}, final train "
        f"{100 * extended['train']['mean'][-1]:.1f}",
        file=sys.stderr,
    )
    for name, run in results["chapter"].items():
        i = chapter_steps.index(CHAPTER_UPDATES)
        print(
            f"chapter {name}: {run['mean'][i]:.3f} -> {run['mean'][-1]:.3f}",
            file=sys.stderr,
        )


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


def summarise_deep(records, steps):
    """Per contender: the rate with the best mean validation accuracy, and its curves and early-stopped test."""
    by_name = {}
    for name in CONTENDERS:
        best_val = {
            rate: np.mean(
                [max(v for _, v, _ in run) for run in records[name, rate]]
            )
            for rate in LEARNING_RATES[name]
        }
        rate = max(best_val, key=best_val.get)
        runs = records[name, rate]
        picks = [int(np.argmax([v for _, v, _ in run])) for run in runs]
        by_name[name] = {
            "rate": rate,
            "best_validation_by_rate": {
                str(r): float(v) for r, v in best_val.items()
            },
            "test_at_best_val": [
                float(run[i][2]) for run, i in zip(runs, picks)
            ],
            "best_val_step": [steps[i] for i in picks],
            "train": summarise([[t for t, _, _ in run] for run in runs], steps),
            "validation": summarise(
                [[v for _, v, _ in run] for run in runs], steps
            ),
            "test": summarise([[s for _, _, s in run] for run in runs], steps),
        }
    return by_name


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: 2,000 steps, two seeds",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.steps, arguments.seeds = 2000, 2
    main(arguments.steps, arguments.seeds)
