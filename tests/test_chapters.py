"""Each chapter, as readers, students and instructors meet it.

One execution of each chapter does most of the work: nbval runs the notebook copied alone into an empty folder
(what Colab does), so the same run proves it is standalone, that every claim's check cell passes and that every
solution passes its check (nbval compares those cells' stored output, "✅ ...").
"""

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

import collect_feedback
import sync_prose
from conftest import CHAPTERS, ROOT, chapter_ids
from make_student_notebooks import student_version
from notebooks import copy_alone, execute_standalone

# Wrong answers a student might give, and what the feedback must say (one sentence, never a traceback).
WRONG_ANSWERS = {
    "01_undercomplete": [
        (
            "check_pca_reconstruct",
            "lambda training, images, k: (lambda m, c: (images - m) @ c[:10].T @ c[:10] + m)(training.mean(0), np.linalg.svd(training - training.mean(0), full_matrices=False)[2])",
            "for k = 1",
        ),
        (
            "check_pca_reconstruct",
            "lambda training, images, k: (lambda m, c: ((images - m) @ c[:k].T @ c[:k] + m)[:, ::-1])(training.mean(0), np.linalg.svd(training - training.mean(0), full_matrices=False)[2])",
            "differ from PCA's",
        ),
        (
            "check_parameter_count",
            "lambda latent_dim: None",
            "did you forget `return`?",
        ),
        (
            "check_parameter_count",
            "lambda latent_dim: 1569.0 * latent_dim + 784",
            "expected a whole number",
        ),
        (
            "check_parameter_count",
            "lambda latent_dim: 784 * latent_dim",
            "Count the weights and the biases",
        ),
        (
            "check_per_image_mse",
            "lambda images, reconstructions: np.zeros((5, 28))",
            "shape (5,)",
        ),
        (
            "check_per_image_mse",
            "lambda images, reconstructions: 1 / 0",
            "raised ZeroDivisionError",
        ),
        (
            "check_pca_reconstruct",
            "lambda training, images, k: images[:, :k]",
            "expected reconstructions of shape",
        ),
        (
            "check_pca_reconstruct",
            "lambda training, images, k: images - training.mean(axis=0)",
            "training mean",
        ),
    ],
    "02_tied_weights": [
        (
            "check_tied_forward",
            "lambda images, kernel, b, c: 1 / (1 + np.exp(-(np.maximum(images @ kernel, 0) @ kernel.T)))",
            "both biases",
        ),
        (
            "check_tied_parameter_count",
            "lambda latent_dim: None",
            "did you forget `return`?",
        ),
        (
            "check_tied_parameter_count",
            "lambda latent_dim: 2 * 784 * latent_dim",
            "One kernel",
        ),
        (
            "check_tied_parameter_count",
            "lambda latent_dim: str(latent_dim)",
            "whole number",
        ),
        (
            "check_tied_forward",
            "lambda images, kernel, b, c: images[:, :10]",
            "shape (5, 784)",
        ),
        (
            "check_tied_forward",
            "lambda images, kernel, b, c: images",
            "values differ",
        ),
        (
            "check_deep_tied",
            "lambda hidden, latent: 'model'",
            "expected a Keras model",
        ),
        (
            "check_deep_tied",
            "lambda hidden, latent: TiedAutoencoder(latent)",
            "Tie both layers",
        ),
    ],
    "03_sparse": [
        (
            "check_keep_top_k",
            "lambda codes, k: np.where(codes >= np.sort(codes, axis=1)[:, -k:][:, :1], codes, 0)",
            "write it with keras.ops",
        ),
        (
            "check_keep_top_k",
            "lambda codes, k: keras.ops.where(codes >= keras.ops.top_k(codes, k=k + 1)[0][:, -1:], codes, 0.0)",
            "exactly k = 3",
        ),
        (
            "check_keep_top_k",
            "lambda codes, k: keras.ops.where(codes >= keras.ops.top_k(codes, k=3)[0][:, -1:], codes, 0.0)",
            "exactly k = 1",
        ),
        (
            "check_kl_penalty",
            "lambda target, means: None",
            "did you forget `return`?",
        ),
        (
            "check_kl_penalty",
            "lambda target, means: np.zeros(len(means))",
            "a single number",
        ),
        (
            "check_kl_penalty",
            "lambda target, means: np.sum(target * np.log(target / means))",
            "Both terms",
        ),
        (
            "check_active_fraction",
            "lambda codes, threshold: np.mean(codes > threshold, axis=0)",
            "Which axis",
        ),
        (
            "check_active_fraction",
            "lambda codes, threshold: np.sum(codes > threshold, axis=1)",
            "values differ",
        ),
        (
            "check_keep_top_k",
            "lambda codes, k: codes",
            "exactly k = 3",
        ),
        (
            "check_keep_top_k",
            "lambda codes, k: np.sort(codes, axis=1)[:, -k:]",
            "same shape",
        ),
    ],
    "04_denoising": [
        (
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(images + stddev * rng.normal(size=images.shape[1:]), 0, 1)",
            "the same noise",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(images + stddev * np.sqrt(3) * rng.uniform(-1, 1, size=images.shape), 0, 1)",
            "not Gaussian",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(images + 0.3 * rng.normal(size=images.shape), 0, 1)",
            "should have std 0.1",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(images + stddev * np.random.normal(size=images.shape), 0, 1)",
            "draw from `rng`",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(images + 0.05 + stddev * rng.normal(size=images.shape), 0, 1)",
            "no constant offset",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: (lambda d: np.where(d > 1 - rate / 2, 1.0, np.where(d < rate / 2, 0.0, images)))(rng.uniform(size=images.shape[1:]))",
            "the same damage",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: (lambda d: np.where(d > 1 - rate / 2, 1.0, np.where(d < rate / 2, 0.0, 0.5)))(rng.uniform(size=images.shape))",
            "keep the image's value",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: (lambda d: np.where(d > 0.9, 1.0, np.where(d < 0.1, 0.0, images)))(rng.uniform(size=images.shape))",
            "at rate 0.5",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: None",
            "did you forget `return`?",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: images + stddev * rng.normal(size=images.shape)",
            "outside [0, 1]",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(images + rng.normal(size=images.shape), 0, 1)",
            "should have std 0.1",
        ),
        (
            "check_psnr",
            "lambda clean, restored: 10 * np.log10(1 / np.mean((clean - restored) ** 2))",
            "one PSNR per image",
        ),
        (
            "check_psnr",
            "lambda clean, restored: np.mean((clean - restored) ** 2, axis=(1, 2))",
            "differ from tf.image.psnr",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: np.where(rng.uniform(size=images.shape) < rate, 1.0, images)",
            "equally likely",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: np.where(rng.uniform(size=images.shape) < rate, images / 2, images)",
            "exactly 0 or 1",
        ),
    ],
    "05_stacked": [
        (
            "check_masking_noise",
            "lambda rate: type('NumpyMask', (keras.layers.Layer,), {'call': lambda self, inputs, training=False: np.where(np.random.uniform(size=np.shape(inputs)) < rate, 0.0, inputs) if training else inputs})()",
            "fails inside `fit`",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[-n - 2 :]] and model",
            "for n = 2 expected",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[-n:]] and model",
            "for n = 2 expected",
        ),
        (
            "check_sigmoid_slope",
            "lambda a: None",
            "did you forget `return`?",
        ),
        (
            "check_sigmoid_slope",
            "lambda a: 1 / (1 + np.exp(-a))",
            "σ(a) itself",
        ),
        (
            "check_sigmoid_slope",
            "lambda a: np.exp(-a)",
            "differ from the derivative",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[:n]] and model",
            "from the bottom",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers] and model",
            "expected trainable flags",
        ),
        (
            "check_masking_noise",
            "lambda rate: keras.layers.Dropout(rate)",
            "Dropout scales them",
        ),
        (
            "check_masking_noise",
            "lambda rate: keras.layers.Dropout(1 - rate)",
            "expected 25%",
        ),
    ],
    "06_comparison": [
        (
            "check_pareto_front",
            "lambda costs, errors: ['a', 'b', 'c', 'a']",
            "once",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: [b for b in costs if not any(a != b and costs[a] <= costs[b] and errors[a] <= errors[b] for a in costs)]",
            "neither dominates",
        ),
        (
            "check_clearly_apart",
            "lambda a, b: bool(abs(np.mean(a) - np.mean(b)) > max(np.std(a), np.std(b)))",
            "not clearly apart, but you said True",
        ),
        (
            "check_clearly_apart",
            "lambda a, b: None",
            "did you forget `return`?",
        ),
        (
            "check_clearly_apart",
            "lambda a, b: bool(np.mean(a) != np.mean(b))",
            "not clearly apart",
        ),
        (
            "check_clearly_apart",
            "lambda a, b: [True]",
            "return True or False",
        ),
        (
            "check_rank_variants",
            "lambda means, higher_is_better: sorted(means, key=means.get)",
            "the largest value comes first",
        ),
        (
            "check_rank_variants",
            "lambda means, higher_is_better: sorted(means, key=means.get, reverse=True)",
            "lower is better",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: [min(errors, key=errors.get)]",
            "belong on the front",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: list(costs)",
            "is dominated",
        ),
    ],
}


def cells_tagged(notebook, tag):
    return [
        cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])
    ]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_chapter_passes_nbval_alone_in_an_empty_folder(chapter, tmp_path):
    copy = copy_alone(chapter, tmp_path)
    environment = {
        key: value for key, value in os.environ.items() if key != "PYTHONPATH"
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "--nbval-cell-timeout=900",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-q",
            copy.name,
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    assert sorted(path.name for path in tmp_path.iterdir()) == [chapter.name], (
        "the chapter wrote files"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_chapter_has_three_exercises_with_hidden_solutions_and_checks(chapter):
    notebook = nbformat.read(chapter, as_version=4)
    exercises, solutions = (
        cells_tagged(notebook, "exercise"),
        cells_tagged(notebook, "solution"),
    )
    checks = cells_tagged(notebook, "nbval-check-output")
    assert len(exercises) >= 3 and len(solutions) == len(exercises) == len(
        checks
    )
    assert all("hide-input" in cell.metadata["tags"] for cell in solutions), (
        "solutions must be collapsed"
    )
    assert all("give_feedback(" in cell.source for cell in checks)
    assert all(
        collect_feedback.printed(cell).startswith("✅") for cell in checks
    ), "every stored solution passes its check"
    assert [
        (name, verdict)
        for name, verdict, _ in collect_feedback.feedback(notebook)
    ] == [(f"Exercise {number}", "passed") for number in (1, 2, 3)]
    for heading in ["(warm-up)", "(practice)", "(stretch)"]:
        assert any(
            heading in cell.source
            for cell in notebook.cells
            if cell.cell_type == "markdown"
        )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_stored_outputs_show_no_error_no_warning_and_no_local_path(chapter):
    notebook = nbformat.read(chapter, as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", cell.source[:200]
            assert not (
                output.output_type == "stream" and output.name == "stderr"
            ), output.text[:500]
            assert "/work/" not in json.dumps(
                output
            ) and "/tmp/" not in json.dumps(output)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_prose_is_plain_markdown_showing_the_numbers_the_code_computed(
    chapter,
):
    """Colab and Jupyter render Markdown, not MyST: the prose holds no role or directive, and each number in it is
    the value its code glued (tools/sync_prose.py writes them after each execution)."""
    notebook = nbformat.read(chapter, as_version=4)
    markdown = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    raw = {
        cell.source[:60]: sync_prose.raw_myst(cell.source)
        for cell in markdown
        if sync_prose.raw_myst(cell.source)
    }
    assert not raw, f"Colab would show these as typed: {raw}"
    assert sync_prose.stale_numbers(notebook) == [], (
        "run python tools/sync_prose.py"
    )
    assert (
        sum(len(sync_prose.NUMBER.findall(cell.source)) for cell in markdown)
        >= 20
    )
    for cell in notebook.cells:  # output shown as Markdown: the site renders it as CommonMark, without tables
        for output in cell.get("outputs", []):
            shown = output.get("data", {}).get("text/markdown", "")
            assert not re.search(r"^\s*\|.*\|\s*$", shown, re.M), shown[:200]


COLLAPSED_IN_COLAB = ["shared-helpers", "remove-cell", "reference-results"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_colab_opens_on_the_chapter_not_its_scaffolding(chapter):
    """The helper cell, the claim checks, the stored reference runs and the exercise checks show in Colab as one
    titled line (a form: `cellView: "form"` and `# @title`, as TensorFlow's notebooks do) and with their source
    hidden in JupyterLab; the site hides them by their tags. Only those cells glue values into the text."""
    notebook = nbformat.read(chapter, as_version=4)
    collapsed = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if set(tags) & set(COLLAPSED_IN_COLAB) or "def check_" in cell.source:
            assert cell.metadata.get("cellView") == "form", cell.source[:80]
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), (
                "collapsed in JupyterLab too: " + cell.source[:80]
            )
            assert cell.source.startswith("# @title "), cell.source[:80]
            collapsed += 1
        if "glue(" in cell.source and "shared-helpers" not in tags:
            assert "remove-cell" in tags, (
                "glue in a claim-check cell, not between the paragraphs: "
                + cell.source[:200]
            )
    assert collapsed >= 4


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_chapter_installs_nothing(chapter):
    """Colab's own TensorFlow, Keras and ipywidgets must do: no cell installs or upgrades a package."""
    notebook = nbformat.read(chapter, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for word in [
                "pip install",
                "%pip",
                "!pip",
                "conda install",
                "uv pip",
            ]:
                assert word not in cell.source, cell.source[:200]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_backend_is_chosen_before_keras_is_imported(chapter):
    """KERAS_BACKEND counts only before Keras's first import; the stored outputs ran on the chosen backend."""
    notebook = nbformat.read(chapter, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    chosen = re.search(
        r'os\.environ\.setdefault\("KERAS_BACKEND", "(\w+)"\)', first.source
    )
    assert chosen, "the first code cell must choose KERAS_BACKEND"
    assert chosen.start() < first.source.index("import keras")
    printed = "".join(output.get("text", "") for output in first.outputs)
    assert f", {chosen.group(1)} backend" in printed, printed


def test_ci_runs_every_chapter_on_colabs_versions():
    """Colab ships TensorFlow 2.20, Keras 3.13, ipywidgets 7.7.1: .ci/run runs each chapter on exactly those."""
    pins = (ROOT / ".ci" / "colab-requirements.txt").read_text().splitlines()
    for pin in [
        "tensorflow==2.20.",
        "keras==3.13.",
        "ipywidgets==7.7.1",
        "jax==0.7.",
    ]:
        assert any(line.startswith(pin) for line in pins), pin
    assert "bash .ci/colab-versions" in (ROOT / ".ci" / "run").read_text()
    job = (ROOT / ".ci" / "colab-versions").read_text()
    assert "-r .ci/colab-requirements.txt" in job
    assert 'tests/test_chapters.py -k "nbval_alone"' in job
    assert "pytest tests/test_backend.py" in job
    # the job's -k selects this file's standalone nbval test by name
    assert "test_chapter_passes_nbval_alone_in_an_empty_folder" in globals()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_every_figure_has_alt_text(chapter):
    notebook = nbformat.read(chapter, as_version=4)
    for cell in notebook.cells:
        if any(
            "image/png" in output.get("data", {})
            for output in cell.get("outputs", [])
        ):
            assert (
                cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
            ), cell.source[:200]
    widget_state = json.dumps(notebook.metadata.get("widgets", {}))
    assert widget_state.count("<img ") == widget_state.count(' alt=\\"')


@pytest.mark.parametrize("chapter", CHAPTERS, ids=chapter_ids())
def test_student_version_runs_and_its_checks_give_feedback_without_crashing(
    chapter,
):
    assert chapter.stem in WRONG_ANSWERS, (
        "list wrong answers for this chapter's checks in WRONG_ANSWERS"
    )
    full = nbformat.read(chapter, as_version=4)
    checks_cell = next(
        cell.source
        for cell in full.cells
        if cell.source.startswith("# @title Checks for the exercises")
    )
    probed = [check for check, _, _ in WRONG_ANSWERS[chapter.stem]]
    for check in re.findall(r"^def (check_\w+)\(", checks_cell, re.M):
        assert probed.count(check) >= 2, f"probe {check} with 2 wrong answers"
    student = student_version(full)
    assert not cells_tagged(student, "solution") and not student.metadata.get(
        "widgets"
    )
    assert not cells_tagged(student, "remove-cell"), "claim checks are left"
    assert all(
        cell.metadata.get("cellView") == "form"
        for cell in cells_tagged(student, "shared-helpers")
    ), "the helper cell stays collapsed in Colab"
    assert not any(
        "glue(" in cell.source
        for cell in student.cells
        if "shared-helpers" not in cell.metadata.get("tags", [])
    )
    student_code = "\n".join(cell.source for cell in student.cells)
    for solution in cells_tagged(full, "solution"):
        assert solution.source not in student_code, "a solution is left"
    assert all(
        not cell.get("outputs")
        for cell in student.cells
        if cell.cell_type == "code"
    )

    probes = [
        nbformat.v4.new_code_cell(f'give_feedback("probe", {check}, {answer})')
        for check, answer, _ in WRONG_ANSWERS[chapter.stem]
    ]
    student.cells.extend(probes)
    execute_standalone(student)

    for check in cells_tagged(student, "nbval-check-output"):
        assert collect_feedback.printed(check).startswith(
            "⏳"
        ) and "not solved yet" in collect_feedback.printed(check), (
            collect_feedback.printed(check)
        )
    # what tools/collect_feedback.py would tell the instructor about this untouched copy
    verdicts = [verdict for _, verdict, _ in collect_feedback.feedback(student)]
    assert verdicts == ["not attempted"] * 3
    for probe, (_, _, expected) in zip(probes, WRONG_ANSWERS[chapter.stem]):
        feedback = collect_feedback.printed(probe)
        assert (
            feedback.startswith("❌")
            and expected in feedback
            and "Traceback" not in feedback
        ), feedback
