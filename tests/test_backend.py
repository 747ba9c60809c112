"""The settings each chapter's first cell makes before importing Keras train correctly on the installed versions.

JAX 0.7.2, the version Google Colab ships, trains wrongly on a CPU when XLA hands Adam's updates to its XNNPACK
library: a 784 -> 784 layer trained for one pass under `jax.jit` ends at a test loss of 0.239 where the same
training without jit ends at 0.090 (measured on this repository's 2-core machines). The chapters that run on JAX
turn XNNPACK off in their first cell. This test runs those very lines, then trains small models with and without
jit and asserts the same result, so it fails on any version where the chapters' settings do not cure the bug.
.ci/colab-versions runs it on Colab's versions; the README's test command on ours.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def settings_before_keras(chapter):
    """The first code cell's lines from its first `os.environ` to `import keras`: what it sets for Keras."""
    first = next(
        cell
        for cell in nbformat.read(chapter, as_version=4).cells
        if cell.cell_type == "code"
    )
    start = first.source.index("os.environ")
    return (
        "import os\n" + first.source[start : first.source.index("import keras")]
    )


def backend_of(settings):
    return re.search(
        r'os\.environ\.setdefault\("KERAS_BACKEND", "(\w+)"\)', settings
    ).group(1)


JAX_SETTINGS = sorted(
    {
        settings_before_keras(chapter)
        for chapter in CHAPTERS
        if backend_of(settings_before_keras(chapter)) == "jax"
    }
)

TRAINING = """
import json
import keras
import numpy as np

images = np.random.default_rng(0).random((2048, 784)).astype("float32")
losses = {}
for layers in [[784], [256, 784], [256, 30, 256, 784]]:
    for jit in [True, False]:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((784,))]
            + [keras.layers.Dense(units, "relu") for units in layers[:-1]]
            + [keras.layers.Dense(layers[-1], "sigmoid")]
        )
        model.compile(optimizer="adam", loss="mse", jit_compile=jit)
        model.fit(images, images, epochs=1, batch_size=256, verbose=0)
        losses[f"{layers} jit={jit}"] = model.evaluate(images, images, verbose=0)
print(json.dumps({"backend": keras.backend.backend(), "losses": losses}))
"""


def test_every_jax_chapter_makes_the_same_settings():
    """One wording of the workaround, so this test checks what every JAX chapter runs."""
    assert len(JAX_SETTINGS) == 1, JAX_SETTINGS
    assert "--xla_cpu_use_xnnpack=false" in JAX_SETTINGS[0]


@pytest.mark.parametrize("settings", JAX_SETTINGS)
def test_jax_chapters_settings_train_as_without_jit(settings, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(settings + TRAINING)
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ["KERAS_BACKEND", "XLA_FLAGS"]
    }
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["backend"] == "jax"
    losses = answer["losses"]
    for name in {key.split(" jit=")[0] for key in losses}:
        with_jit, without = (
            losses[f"{name} jit=True"],
            losses[f"{name} jit=False"],
        )
        assert abs(with_jit - without) < 1e-4 * without + 1e-6, (
            f"{name}: loss {with_jit:.5f} under jit, {without:.5f} without"
        )
