# @title Shared helpers: figures, exercise feedback and the code-size explorer
# This cell is the same in every chapter, so each runs alone (in Colab).
# Its one source is tools/shared_cells/helpers.py; tools/sync_shared_cells.py
# copies it into every chapter, and the tests fail when a copy drifts.
import base64
import io
import re
import signal

import IPython.display
import ipywidgets as widgets
import keras
import matplotlib.pyplot as plt
import numpy as np

try:
    # stores a computed value so the book's text can quote it
    from myst_nb import glue
except ImportError:  # Colab or plain Jupyter: show the value instead

    def glue(name, variable, display=True):
        if display:
            IPython.display.display(variable)


plt.rcParams.update(
    {
        "figure.dpi": 100,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "image.cmap": "gray",
    }
)


def draw_image_rows(rows, row_labels, title):
    """Draw rows of 28x28 images, one row per array in `rows`; return it."""
    n_cols = len(rows[0])
    fig, axes = plt.subplots(
        len(rows),
        n_cols,
        figsize=(1.1 * n_cols, 1.25 * len(rows) + 0.4),
        squeeze=False,
    )
    for axes_row, images, label in zip(axes, rows, row_labels):
        for ax, image in zip(axes_row, images):
            ax.imshow(np.reshape(image, (28, 28)), vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        axes_row[0].set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_image_rows(rows, row_labels, title):
    """Show rows of 28x28 images, e.g. originals above their reconstructions."""
    draw_image_rows(rows, row_labels, title)
    plt.show()


def image_rows_png(rows, row_labels, title):
    """The same grid as PNG bytes, for a widget panel."""
    fig = draw_image_rows(rows, row_labels, title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    plt.close(fig)
    return buffer.getvalue()


def reconstruction_mse(model, images):
    """Mean squared error per pixel between images and their reconstructions."""
    reconstructions = keras.ops.convert_to_numpy(model(images))
    return float(np.mean((images - reconstructions) ** 2))


def train_side_by_side(
    models,
    images,
    epochs,
    batch_size,
    learning_rate=1e-3,
    cosine_decay=False,
    jit_compile="auto",
    targets=None,
    loss="mse",
):
    """Train models that share no weights in one pass over `images`.

    They become the outputs of one Keras model. Each output's loss reaches only
    its own model's weights and Adam keeps statistics per weight, so each model
    learns exactly as it would alone, with one training loop instead of many.
    Losses that layers add (sparsity penalties) count too, each for its model.
    The targets are the images themselves unless `targets` (e.g. labels, with
    a matching `loss`) are given. With `cosine_decay` the learning rate falls
    to 0 along a cosine; `jit_compile=True` asks for XLA ("auto": GPUs only).
    """
    inputs = keras.Input(shape=images.shape[1:])
    combined = keras.Model(inputs, [model(inputs) for model in models])
    if cosine_decay:
        steps = epochs * int(np.ceil(len(images) / batch_size))
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, steps
        )
    combined.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=[loss] * len(models),
        jit_compile=jit_compile,
        steps_per_execution=50,
    )
    combined.fit(
        images,
        [images if targets is None else targets] * len(models),
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
    )


def loss_gradients(loss_of_outputs, model, inputs, variables):
    """Gradients of `loss_of_outputs(model(inputs))` for `variables` (NumPy).

    Keras has no backend-neutral gradient call, so this asks the backend:
    JAX differentiates a function of the weights (`stateless_call` runs the
    model with the weight values it is given), TensorFlow records a tape.
    """
    if keras.backend.backend() == "jax":
        import jax

        fixed = [v.value for v in model.non_trainable_variables]

        def loss(weights):
            outputs, _ = model.stateless_call(weights, fixed, inputs)
            return loss_of_outputs(outputs)

        weights = [v.value for v in model.trainable_variables]
        gradients = jax.jit(jax.grad(loss))(weights)  # compiled: one XLA call
        by_variable = dict(zip(map(id, model.trainable_variables), gradients))
        return [np.asarray(by_variable[id(v)]) for v in variables]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = loss_of_outputs(model(inputs))
    return [np.asarray(g) for g in tape.gradient(loss, variables)]


class Feedback(Exception):
    """Raised by a check to tell the student, in one sentence, what is wrong."""


class NotSolvedYet(Exception):
    """Raised by a check when an exercise still holds its `...` placeholder."""


class StudentCodeFailed(Exception):
    """The student's own code raised, ran too long or tried to stop Python."""


SECONDS_PER_CALL = 20  # a student's function that runs longer is stopped
LONGEST_MESSAGE = 200  # characters of feedback, one line


def one_line(text):
    """`text` as one short line: no terminal colour codes, no line breaks."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(text))
    text = " ".join(text.split())
    if len(text) > LONGEST_MESSAGE:
        text = text[: LONGEST_MESSAGE - 1] + "…"
    return text


# not an Exception: student code cannot catch it
class _OutOfTime(BaseException):
    """Raised by the alarm when a student's function runs too long."""


def _out_of_time(signal_number, frame):
    raise _OutOfTime


def answer_of(function, *args):
    """Call a student's function, within a time limit; return what it returned.

    A body still `...` means not solved yet. Whatever the student's code does
    wrong (raise, return None, loop for ever, call sys.exit) becomes one line.
    """
    timed = hasattr(signal, "setitimer")  # Linux and macOS, Colab included
    if timed:
        try:
            previous = signal.signal(signal.SIGALRM, _out_of_time)
        except ValueError:  # not Python's main thread: no alarm there
            timed = False
        else:
            signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_CALL)
    try:
        result = function(*args)
    except _OutOfTime:
        raise StudentCodeFailed(
            f"your code ran for more than {SECONDS_PER_CALL} s and was "
            "stopped: is there a loop that never ends?"
        ) from None
    except KeyboardInterrupt:
        raise StudentCodeFailed("your code was interrupted.") from None
    except SystemExit:
        raise StudentCodeFailed(
            "your code called exit(); return a value instead."
        ) from None
    except Exception as error:
        raise StudentCodeFailed(
            f"your code raised {type(error).__name__}: {error}"
        ) from None
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if result is Ellipsis:
        raise NotSolvedYet
    if result is None:
        raise Feedback("your function returned None: did you forget `return`?")
    return result


NOT_SOLVED = (
    "not solved yet. Replace the `...` with your code and run the cell again."
)


def verdict(check, answer):
    """What `check` says of `answer`: ("✅", "❌" or "⏳", one line why).

    The graders call this too, so a verdict never depends on printed text.
    """
    try:
        if answer is None or answer is Ellipsis:
            raise NotSolvedYet
        message = check(answer)
    except NotSolvedYet:
        return "⏳", NOT_SOLVED
    except (Feedback, StudentCodeFailed) as problem:
        return "❌", one_line(problem)
    except (KeyboardInterrupt, SystemExit):  # outside the student's function
        return "❌", "the check was interrupted; run the cell again."
    except Exception as error:  # in the check's own code, not the student's
        return "❌", one_line(
            "the check could not use your answer "
            f"({type(error).__name__}: {error}); check its type and shape."
        )
    return "✅", one_line(message)


def give_feedback(exercise, check, answer):
    """Run `check(answer)`; print one line of feedback: ✅, ❌ or ⏳."""
    symbol, message = verdict(check, answer)
    print(one_line(f"{symbol} {exercise}: {message}"))


def panel_html(png_bytes, alt_text, caption):
    """An image with alt text and a caption, as HTML for a widget."""
    data = base64.b64encode(png_bytes).decode("ascii")
    return (
        f'<figure style="margin:0">'
        f'<img src="data:image/png;base64,{data}" alt="{alt_text}" '
        f'style="max-width:100%"><figcaption>{caption}</figcaption></figure>'
    )


def panel_slider(panels, label="Code size"):
    """A slider that switches between precomputed panels: one per code size,
    noise level or variant.

    `panels` maps each slider value to (png_bytes, alt_text, caption). With
    ipywidgets 8 the switch happens in the browser (jslink), so it also works
    on the website, where no kernel runs;
    with ipywidgets 7 (Colab) a Python callback switches the panels.
    """
    sizes = list(panels)
    slider = widgets.SelectionSlider(
        options=[(str(size), size) for size in sizes],
        value=sizes[0],
        description=label,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="32em"),
    )
    views = [widgets.HTML(panel_html(*panels[size])) for size in sizes]
    if hasattr(widgets, "Stack"):  # ipywidgets >= 8
        shown = widgets.Stack(views, selected_index=0)
        widgets.jslink((slider, "index"), (shown, "selected_index"))
    else:  # ipywidgets 7
        shown = widgets.Box([views[0]])
        slider.observe(
            lambda change: setattr(shown, "children", [views[change["new"]]]),
            names="index",
        )
    return widgets.VBox([slider, shown])
