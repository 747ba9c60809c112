"""Benchmark: our latent-64 training recipe against the TensorFlow tutorial's, on this machine.

Usage:  python benchmarks/latent64_recipe.py

The TensorFlow autoencoder tutorial trains Dense(64, relu) -> Dense(784, sigmoid) with Adam and MSE for
10 epochs at batch 32 on all 60,000 training images; it reaches a test MSE of about 0.0089. Our recipe trains the
same network (Chapter 1's `Autoencoder(64)`) on the 54,000 images left after carving out the validation set,
with the same batch size and base learning rate, plus two changes: a learning rate that decays to zero along a
cosine (a better final fit in the same epochs), and `steps_per_execution=100` (less Python overhead per step).
Larger batches and learning rates were tried on validation data and fit worse. The floor: test MSE <= 0.0089 in
less training wall time than the tutorial's recipe, both timed here.
"""

import json
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402

TARGET_MSE = 0.0089
OUR_RECIPE = {
    "batch_size": 32,
    "learning_rate": 1e-3,
    "epochs": 10,
    "steps_per_execution": 100,
    "cosine_decay": True,
}


def make_model():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(784, activation="sigmoid"),
            keras.layers.Reshape((28, 28)),
        ]
    )


def test_mse(model, images):
    return float(
        np.mean(
            (
                images
                - keras.ops.convert_to_numpy(
                    model.predict(images, verbose=0, batch_size=1000)
                )
            )
            ** 2
        )
    )


def train(
    images,
    validation,
    batch_size,
    epochs,
    learning_rate=1e-3,
    steps_per_execution=1,
    cosine_decay=False,
):
    keras.utils.set_random_seed(0)
    model = make_model()
    if cosine_decay:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, epochs * -(-len(images) // batch_size)
        )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="mse",
        steps_per_execution=steps_per_execution,
    )
    started = time.perf_counter()
    history = model.fit(
        images,
        images,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        validation_data=(validation, validation),
        verbose=0,
    )
    return model, time.perf_counter() - started, history.history["val_loss"]


def main():
    (x_train_full, _), (x_test, _) = keras.datasets.fashion_mnist.load_data()
    x_train_full, x_test = (
        x_train_full.astype("float32") / 255.0,
        x_test.astype("float32") / 255.0,
    )
    x_train, x_val = x_train_full[:-6000], x_train_full[-6000:]

    # The tutorial validates on the test set; we keep its recipe as published.
    tutorial, tutorial_seconds, _ = train(
        x_train_full, x_test, batch_size=32, epochs=10
    )
    ours, our_seconds, our_val = train(x_train, x_val, **OUR_RECIPE)
    report = {
        "tutorial": {
            "test_mse": test_mse(tutorial, x_test),
            "train_seconds": round(tutorial_seconds, 1),
        },
        "ours": {
            "test_mse": test_mse(ours, x_test),
            "train_seconds": round(our_seconds, 1),
            "recipe": OUR_RECIPE,
            "validation_mse_per_epoch": [round(v, 5) for v in our_val],
        },
        "target_test_mse": TARGET_MSE,
    }
    report["floor_met"] = (
        report["ours"]["test_mse"] <= TARGET_MSE
        and report["ours"]["train_seconds"]
        < report["tutorial"]["train_seconds"]
    )
    print(json.dumps(report, indent=2))
    path = pathlib.Path(__file__).with_name("latent64_report.json")
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
