"""Wrong answers a student might give to each exercise, and what its check must say (one line, ❌, never a
traceback). tests/test_chapters.py runs every one against the student version of its chapter, and requires at least
six per check: a parameter ignored, off by one, the wrong axis, transposed, the wrong sign or a constant offset, the
same randomness for every image, NumPy where keras.ops is required, the right answer with the wrong type, as each
exercise allows. Each entry: (check, the answer as a Python expression, a phrase the feedback must contain)."""

PROBES_PER_CHECK = 6  # at least; the instructors' page says so in words

# the official solutions' building blocks, reused by the wrong answers
PCA = "(lambda m: (m, np.linalg.svd(training - m, full_matrices=False)[2]))(training.mean(0))"
NUMPY_LAYER = "lambda rate: type('Mask', (keras.layers.Layer,), {{'call': lambda self, inputs, training=False: {}}})()"

# chapter 7: a one-channel transposed convolution ("valid") as one expression, its kernel and value replaceable
SCATTER = (
    "sum(np.pad({value} * {kernel}, ((i * stride, (image.shape[0] - 1 - i) * stride), "
    "(j * stride, (image.shape[0] - 1 - j) * stride))) for i in range(image.shape[0]) for j in range(image.shape[0]))"
)
CORRECT_SCATTER = SCATTER.format(value="image[i, j]", kernel="kernel")
SIZES = "lambda size, kernel, stride, padding: "

# chapter 8: precision@k as one expression; the distances, the k and the mean replaceable
PRECISION = "lambda c, cl, q, ql, k: {mean}(cl[np.argsort({distance}, axis=1)[:, :{k}]] == {labels})"
EUCLIDEAN = "((q[:, None] - c[None]) ** 2).sum(-1)"


def precision_probe(**change):
    """The right precision@k expression with one part replaced by a wrong one."""
    parts = {"mean": "np.mean", "distance": EUCLIDEAN, "k": "k"}
    return PRECISION.format(**{"labels": "ql[:, None]", **parts, **change})


MIX = "lambda code_a, code_b, weights: "
PAIRS = "lambda normal, anomalous: "

WRONG_ANSWERS = {
    "01_undercomplete": [
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
            "check_parameter_count",
            "lambda latent_dim: 2 * 784 * latent_dim",
            "Count the weights and the biases",
        ),
        (
            "check_parameter_count",
            "lambda latent_dim: 1569 * latent_dim + 783",
            "Count the weights and the biases",
        ),
        (
            "check_parameter_count",
            "lambda latent_dim: 1569 * latent_dim",
            "Count the weights and the biases",
        ),
        (
            "check_parameter_count",
            "lambda latent_dim: 50992",
            "for a code of 1",
        ),
        (
            "check_parameter_count",
            "lambda latent_dim: str(1569 * latent_dim + 784)",
            "expected a whole number",
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
            "check_per_image_mse",
            "lambda images, reconstructions: np.mean((images - reconstructions) ** 2, axis=0)",
            "Average over the two pixel axes",
        ),
        (
            "check_per_image_mse",
            "lambda images, reconstructions: np.mean((images - reconstructions) ** 2)",
            "shape (5,)",
        ),
        (
            "check_per_image_mse",
            "lambda images, reconstructions: np.sum((images - reconstructions) ** 2, axis=(1, 2))",
            "the values are not",
        ),
        (
            "check_per_image_mse",
            "lambda images, reconstructions: np.mean(np.abs(images - reconstructions), axis=(1, 2))",
            "not their square",
        ),
        (
            "check_per_image_mse",
            "lambda images, reconstructions: np.sqrt(np.mean((images - reconstructions) ** 2, axis=(1, 2)))",
            "take no root",
        ),
        (
            "check_per_image_mse",
            "lambda images, reconstructions: np.mean(images - reconstructions, axis=(1, 2))",
            "the values are not",
        ),
        (
            "check_pca_reconstruct",
            f"lambda training, images, k: (lambda m, c: (images - m) @ c[:10].T @ c[:10] + m)(*{PCA})",
            "below PCA's",
        ),
        (
            "check_pca_reconstruct",
            f"lambda training, images, k: (lambda m, c: ((images - m) @ c[:k].T @ c[:k] + m)[:, ::-1])(*{PCA})",
            "differ from PCA's",
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
        (
            "check_pca_reconstruct",
            f"lambda training, images, k: (lambda m, c: (images - m) @ c[:k].T @ c[:k])(*{PCA})",
            "added back",
        ),
        (
            "check_pca_reconstruct",
            f"lambda training, images, k: (lambda m, c: (images - m) @ c[: k + 1].T @ c[: k + 1] + m)(*{PCA})",
            "below PCA's",
        ),
        (
            "check_pca_reconstruct",
            f"lambda training, images, k: (lambda m, c: (images - m) @ c[-k:].T @ c[-k:] + m)(*{PCA})",
            "differ from PCA's",
        ),
        (
            "check_pca_reconstruct",
            "lambda training, images, k: (lambda m, c: (images - m) @ c[:k].T @ c[:k] + m)(images.mean(0), np.linalg.svd(images - images.mean(0), full_matrices=False)[2])",
            "training images only",
        ),
        (
            "check_pca_reconstruct",
            "lambda training, images, k: images",
            "below PCA's",
        ),
    ],
    "02_tied_weights": [
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
            "check_tied_parameter_count",
            "lambda latent_dim: 785 * latent_dim",
            "One kernel",
        ),
        (
            "check_tied_parameter_count",
            "lambda latent_dim: 785 * latent_dim + 783",
            "One kernel",
        ),
        (
            "check_tied_parameter_count",
            "lambda latent_dim: 2 * 784 * latent_dim + latent_dim + 784",
            "One kernel",
        ),
        (
            "check_tied_parameter_count",
            "lambda latent_dim: float(785 * latent_dim + 784)",
            "whole number",
        ),
        (
            "check_tied_parameter_count",
            "lambda latent_dim: 785 * 64 + 784",
            "for a code of 1",
        ),
        (
            "check_tied_forward",
            "lambda images, kernel, b, c: 1 / (1 + np.exp(-(np.maximum(images @ kernel, 0) @ kernel.T)))",
            "both biases",
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
            "check_tied_forward",
            "lambda images, kernel, b, c: np.maximum(images @ kernel + b, 0) @ kernel.T + c",
            "sigmoid after the decoder",
        ),
        (
            "check_tied_forward",
            "lambda images, kernel, b, c: 1 / (1 + np.exp(-((images @ kernel + b) @ kernel.T + c)))",
            "relu after the encoder",
        ),
        (
            "check_tied_forward",
            "lambda images, kernel, b, c: 1 / (1 + np.exp(-(np.maximum(images @ kernel + b, 0) @ kernel + c)))",
            "raised ValueError",
        ),
        (
            "check_tied_forward",
            "lambda images, kernel, b, c: 1 / (1 + np.exp(-(np.maximum(images @ kernel + b, 0) @ kernel.T - c)))",
            "both biases",
        ),
        (
            "check_tied_forward",
            "lambda images, kernel, b, c: 1 / (1 + np.exp(-(np.maximum(images @ kernel + b, 0) @ kernel.T + c)))[:1]",
            "shape (5, 784)",
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
        (
            "check_deep_tied",
            "lambda hidden, latent: None",
            "did you forget `return`?",
        ),
        (
            "check_deep_tied",
            "lambda hidden, latent: TiedAutoencoder",
            "expected a Keras model, got type",
        ),
        (
            "check_deep_tied",
            "lambda hidden, latent: TiedAutoencoder(16)",
            "784-64-16 autoencoder has",
        ),
        (
            "check_deep_tied",
            "lambda hidden, latent: keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(784, activation='sigmoid'), keras.layers.Reshape((28, 28))])",
            "Tie both layers",
        ),
        (
            "check_deep_tied",
            "lambda hidden, latent: keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(hidden, activation='relu'), keras.layers.Dense(latent, activation='relu'), keras.layers.Dense(hidden, activation='relu'), keras.layers.Dense(784, activation='sigmoid'), keras.layers.Reshape((28, 28))])",
            "Tie both layers",
        ),
        (
            "check_deep_tied",
            "lambda hidden, latent: keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(784)])",
            "came out as (2, 784)",
        ),
    ],
    "03_sparse": [
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
            "check_kl_penalty",
            "lambda target, means: -np.sum(target * np.log(target / means) + (1 - target) * np.log((1 - target) / (1 - means)))",
            "sign is flipped",
        ),
        (
            "check_kl_penalty",
            "lambda target, means: np.mean(target * np.log(target / means) + (1 - target) * np.log((1 - target) / (1 - means)))",
            "do not average",
        ),
        (
            "check_kl_penalty",
            "lambda target, means: np.sum(means * np.log(means / target) + (1 - means) * np.log((1 - means) / (1 - target)))",
            "for ρ = 0.05",
        ),
        (
            "check_kl_penalty",
            "lambda target, means: np.sum(0.05 * np.log(0.05 / means) + 0.95 * np.log(0.95 / (1 - means)))",
            "for ρ = 0.2",
        ),
        (
            "check_kl_penalty",
            "lambda target, means: np.sum(target * np.log2(target / means) + (1 - target) * np.log2((1 - target) / (1 - means)))",
            "for ρ = 0.05",
        ),
        (
            "check_kl_penalty",
            "lambda target, means: target * np.log(target / means) + (1 - target) * np.log((1 - target) / (1 - means))",
            "a single number",
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
            "check_active_fraction",
            "lambda codes, threshold: np.mean(codes > 0.1, axis=1)",
            "for threshold 0.25",
        ),
        (
            "check_active_fraction",
            "lambda codes, threshold: 100 * np.mean(codes > threshold, axis=1)",
            "not a percentage",
        ),
        (
            "check_active_fraction",
            "lambda codes, threshold: np.mean(codes < threshold, axis=1)",
            "values differ",
        ),
        (
            "check_active_fraction",
            "lambda codes, threshold: np.mean(codes, axis=1)",
            "values differ",
        ),
        (
            "check_active_fraction",
            "lambda codes, threshold: codes > threshold",
            "one number per image",
        ),
        (
            "check_active_fraction",
            "lambda codes, threshold: np.sum(codes > threshold, axis=1) / (codes.shape[1] - 1)",
            "values differ",
        ),
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
        ("check_keep_top_k", "lambda codes, k: codes", "exactly k = 3"),
        (
            "check_keep_top_k",
            "lambda codes, k: np.sort(codes, axis=1)[:, -k:]",
            "same shape",
        ),
        (
            "check_keep_top_k",
            "lambda codes, k: keras.ops.where(-codes >= keras.ops.top_k(-codes, k=k)[0][:, -1:], codes, 0.0)",
            "the k largest values",
        ),
        (
            "check_keep_top_k",
            "lambda codes, k: keras.ops.where(abs(codes) >= keras.ops.top_k(abs(codes), k=k)[0][:, -1:], codes, 0.0)",
            "the k largest values",
        ),
        (
            "check_keep_top_k",
            "lambda codes, k: keras.ops.cast(codes >= keras.ops.top_k(codes, k=k)[0][:, -1:], 'float32')",
            "unchanged",
        ),
        (
            "check_keep_top_k",
            "lambda codes, k: keras.ops.transpose(keras.ops.where(keras.ops.transpose(codes) >= keras.ops.top_k(keras.ops.transpose(codes), k=k)[0][:, -1:], keras.ops.transpose(codes), 0.0))",
            "exactly k = 3",
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
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(images + stddev * rng.normal(size=images.shape[:1] + (1, 1)), 0, 1)",
            "all pixels of an image got the same noise",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(images + stddev * rng.normal(size=images.shape), 0, 1)[:, :27]",
            "expected shape",
        ),
        (
            "check_add_noise",
            "lambda images, stddev, rng: np.clip(np.add(images, stddev * rng.normal(size=images.shape), out=images), 0, 1)",
            "changed its input",
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
            "check_psnr",
            "lambda clean, restored: 10 * np.log10(np.mean((clean - restored) ** 2, axis=(1, 2)))",
            "differ from tf.image.psnr",
        ),
        (
            "check_psnr",
            "lambda clean, restored: 10 * np.log(1 / np.mean((clean - restored) ** 2, axis=(1, 2)))",
            "differ from tf.image.psnr",
        ),
        (
            "check_psnr",
            "lambda clean, restored: 10 * np.log10(255**2 / np.mean((clean - restored) ** 2, axis=(1, 2)))",
            "differ from tf.image.psnr",
        ),
        (
            "check_psnr",
            "lambda clean, restored: 10 * np.log10(1 / np.mean((clean - restored) ** 2, axis=(0, 1)))",
            "shape (6,), got (28,)",
        ),
        (
            "check_psnr",
            "lambda clean, restored: np.log10(1 / np.mean((clean - restored) ** 2, axis=(1, 2)))",
            "differ from tf.image.psnr",
        ),
        (
            "check_psnr",
            "lambda clean, restored: 10 * np.log10(1 / np.mean((clean - 0.5) ** 2, axis=(1, 2)))",
            "differ from tf.image.psnr",
        ),
        (
            "check_psnr",
            "lambda clean, restored: None",
            "did you forget `return`?",
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
            "check_salt_and_pepper",
            "lambda images, rate, rng: np.where(rng.uniform(size=images.shape) < rate, 1.0, images)",
            "equally likely",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: np.where(rng.uniform(size=images.shape) < rate, images / 2, images)",
            "exactly 0 or 1",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: (lambda d: np.where(d > 1 - rate / 2, 1.0, np.where(d < rate / 2, 0.0, images)))(np.random.uniform(size=images.shape))",
            "draw from `rng`",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: (lambda d: np.where(d > 1 - rate / 4, 1.0, np.where(d < rate / 4, 0.0, images)))(rng.uniform(size=images.shape))",
            "at rate 0.2",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: (lambda d: np.where(d > 1 - rate / 2, 1.0, np.where(d < rate / 2, 0.0, images)))(rng.uniform(size=images.shape[:1] + (1, 1)) + 0 * images)",
            "of each image's pixels",
        ),
        (
            "check_salt_and_pepper",
            "lambda images, rate, rng: None",
            "did you forget `return`?",
        ),
    ],
    "05_stacked": [
        ("check_sigmoid_slope", "lambda a: None", "did you forget `return`?"),
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
            "check_sigmoid_slope",
            "lambda a: -(1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a)))",
            "differ from the derivative",
        ),
        (
            "check_sigmoid_slope",
            "lambda a: (1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a))) + 0.01",
            "differ from the derivative",
        ),
        (
            "check_sigmoid_slope",
            "lambda a: np.mean((1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a))))",
            "one slope per input",
        ),
        (
            "check_sigmoid_slope",
            "lambda a: 1 - np.tanh(a) ** 2",
            "differ from the derivative",
        ),
        (
            "check_sigmoid_slope",
            "lambda a: np.ravel((1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a))))",
            "shape (3, 4)",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[-n - 2 :]] and None or model",
            "n = 2 expected",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[-n:]] and None or model",
            "n = 2 expected",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[:n]] and None or model",
            "from the bottom",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers] and None or model",
            "expected trainable flags",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[:-1][-n:]] and None or model",
            "n = 0 expected",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[3 - n : 3]] and None or model",
            "4 hidden layers and n = 1",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: [setattr(layer, 'trainable', True) for layer in model.layers[-n - 1 : -1]]",
            "return the model",
        ),
        (
            "check_unfreeze_top",
            "lambda model, n: keras.models.clone_model(model)",
            "return the model you were given",
        ),
        (
            "check_masking_noise",
            NUMPY_LAYER.format(
                "np.where(np.random.uniform(size=np.shape(inputs)) < rate, 0.0, inputs) if training else inputs"
            ),
            "fails inside `fit`",
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
        (
            "check_masking_noise",
            NUMPY_LAYER.format(
                "keras.ops.where(keras.random.uniform(keras.ops.shape(inputs)) < rate, 0.0, inputs)"
            ),
            "outside training",
        ),
        (
            "check_masking_noise",
            NUMPY_LAYER.format(
                "keras.ops.where(keras.random.uniform(keras.ops.shape(inputs), seed=1) < rate, 0.0, inputs) if training else inputs"
            ),
            "the same mask",
        ),
        (
            "check_masking_noise",
            NUMPY_LAYER.format(
                "keras.ops.where(keras.random.uniform(keras.ops.shape(inputs)) < 0.5, 0.0, inputs) if training else inputs"
            ),
            "expected 25%",
        ),
        (
            "check_masking_noise",
            NUMPY_LAYER.format(
                "keras.ops.where(keras.random.uniform(keras.ops.shape(inputs)) < rate, 1.0, inputs) if training else inputs"
            ),
            "of the inputs are 0",
        ),
        (
            "check_masking_noise",
            "lambda rate: None",
            "did you forget `return`?",
        ),
    ],
    "06_comparison": [
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
        ("check_clearly_apart", "lambda a, b: [True]", "return True or False"),
        (
            "check_clearly_apart",
            "lambda a, b: bool(np.mean(a) - np.mean(b) > np.std(a) + np.std(b))",
            "clearly apart, but you said False",
        ),
        (
            "check_clearly_apart",
            "lambda a, b: int(abs(np.mean(a) - np.mean(b)) > np.std(a) + np.std(b))",
            "return True or False, not int",
        ),
        (
            "check_clearly_apart",
            "lambda a, b: bool(abs(np.mean(a) - np.mean(b)) > np.std(a))",
            "not clearly apart, but you said True",
        ),
        (
            "check_clearly_apart",
            "lambda a, b: bool(abs(np.mean(a) - np.mean(b)) > 0.01)",
            "clearly apart, but you said False",
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
            "check_rank_variants",
            "lambda means, higher_is_better: sorted(means.values())",
            "every variant's name",
        ),
        (
            "check_rank_variants",
            "lambda means, higher_is_better: sorted(means, key=means.get)[:-1]",
            "every variant's name",
        ),
        (
            "check_rank_variants",
            "lambda means, higher_is_better: sorted(means)",
            "expected ['deep', 'shallow', 'tied', 'PCA']",
        ),
        (
            "check_rank_variants",
            "lambda means, higher_is_better: sorted(means, key=means.get, reverse=not higher_is_better)",
            "lower is better",
        ),
        (
            "check_rank_variants",
            "lambda means, higher_is_better: list(means)",
            "expected ['deep', 'shallow', 'tied', 'PCA']",
        ),
        (
            "check_rank_variants",
            "lambda means, higher_is_better: ', '.join(sorted(means, key=means.get, reverse=higher_is_better))",
            "every variant's name",
        ),
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
            "check_pareto_front",
            "lambda costs, errors: [min(errors, key=errors.get)]",
            "belong on the front",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: list(costs)",
            "is dominated",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: [min(costs, key=costs.get)]",
            "belong on the front",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: set(b for b in costs if not any(costs[a] <= costs[b] and errors[a] <= errors[b] and (costs[a] < costs[b] or errors[a] < errors[b]) for a in costs))",
            "return a list of names, not a set",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: [b for b in costs if not any(costs[a] < costs[b] and errors[a] < errors[b] for a in costs)]",
            "e is dominated",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: [b for b in costs if not any(costs[a] <= costs[b] or errors[a] < errors[b] for a in costs if a != b)]",
            "belong on the front",
        ),
        (
            "check_pareto_front",
            "lambda costs, errors: [b for b in costs if not any(costs[a] <= costs[b] and errors[a] <= errors[b] and (costs[a] < costs[b] or errors[a] < errors[b]) for a in costs)][1:]",
            "belong on the front",
        ),
    ],
    "07_convolutional": [
        (
            "check_output_size",
            SIZES + "None",
            "did you forget `return`?",
        ),
        (
            "check_output_size",
            SIZES + "(size - 1) * stride + kernel",
            "with 'same'",
        ),
        (
            "check_output_size",
            SIZES + "size * stride",
            "with 'valid'",
        ),
        (
            "check_output_size",
            SIZES + "(size - kernel) // stride + 1",
            "Keras gives",
        ),
        (
            "check_output_size",
            SIZES
            + "float(size * stride if padding == 'same' else size * stride + max(kernel - stride, 0))",
            "expected a whole number",
        ),
        (
            "check_output_size",
            SIZES
            + "size * stride if padding == 'same' else (size - 1) * stride + kernel",
            "with 'valid'",
        ),
        (
            "check_output_size",
            SIZES
            + "size * stride if padding == 'same' else (size - 1) * stride + kernel - 1",
            "with 'valid'",
        ),
        (
            "check_output_size",
            SIZES
            + "size * kernel if padding == 'same' else (size - 1) * kernel + stride",
            "with 'same'",
        ),
        (
            "check_output_size",
            SIZES + "True",
            "expected a whole number",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: None",
            "did you forget `return`?",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: "
            + SCATTER.format(value="image[i, j]", kernel="kernel[::-1, ::-1]"),
            "do not flip the kernel",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: "
            + SCATTER.format(value="image[i, j]", kernel="kernel.T"),
            "differ from Keras's",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: "
            + SCATTER.format(value="1.0", kernel="kernel"),
            "differ from Keras's",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: (lambda stride: "
            + CORRECT_SCATTER
            + ")(1)",
            "expected shape",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: ("
            + CORRECT_SCATTER
            + ")[: image.shape[0] * stride, : image.shape[0] * stride]",
            "expected shape",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: np.max(["
            + CORRECT_SCATTER.replace("sum(", "", 1)[:-1]
            + "], axis=0)",
            "differ from Keras's",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: (lambda out: (image.fill(0), out)[1])("
            + CORRECT_SCATTER
            + ")",
            "changed its input",
        ),
        (
            "check_transposed_conv",
            "lambda image, kernel, stride: (" + CORRECT_SCATTER + ") + 0.1",
            "differ from Keras's",
        ),
        (
            "check_transposed_layer",
            "lambda images, kernel, stride, padding: None",
            "did you forget `return`?",
        ),
        (
            "check_transposed_layer",
            "lambda images, kernel, stride, padding: keras_transposed_layer(images, kernel, stride, 'valid')",
            "expected shape",
        ),
        (
            "check_transposed_layer",
            "lambda images, kernel, stride, padding: (lambda full, m: full[:, :m, :m] if padding == 'same' else full)(keras_transposed_layer(images, kernel, stride, 'valid'), images.shape[1] * stride)",
            "differ from Keras's",
        ),
        (
            "check_transposed_layer",
            "lambda images, kernel, stride, padding: keras_transposed_layer(images[..., :1], kernel[..., :1], stride, padding)",
            "differ from Keras's",
        ),
        (
            "check_transposed_layer",
            "lambda images, kernel, stride, padding: keras_transposed_layer(images, kernel[::-1, ::-1], stride, padding)",
            "differ from Keras's",
        ),
        (
            "check_transposed_layer",
            "lambda images, kernel, stride, padding: keras_transposed_layer(images, kernel, stride, padding)[0]",
            "expected shape",
        ),
        (
            "check_transposed_layer",
            "lambda images, kernel, stride, padding: keras_transposed_layer(images, kernel, stride, padding) + 0.1",
            "differ from Keras's",
        ),
        (
            "check_transposed_layer",
            "lambda images, kernel, stride, padding: keras_transposed_layer(images, kernel.transpose(0, 1, 3, 2), stride, padding)",
            "your code raised",
        ),
    ],
    "08_codes": [
        ("check_interpolate", MIX + "None", "did you forget `return`?"),
        (
            "check_interpolate",
            MIX + "np.outer(weights, code_a) + np.outer(1 - weights, code_b)",
            "swapped",
        ),
        (
            "check_interpolate",
            MIX + "np.tile(0.5 * (code_a + code_b), (len(weights), 1))",
            "your row differs",
        ),
        (
            "check_interpolate",
            MIX
            + "(np.outer(1 - weights, code_a) + np.outer(weights, code_b)).T",
            "of shape",
        ),
        (
            "check_interpolate",
            MIX + "(1 - weights[0]) * code_a + weights[0] * code_b",
            "of shape",
        ),
        (
            "check_interpolate",
            MIX
            + "np.outer(1 - weights, code_a) + np.outer(weights, code_b) + 0.01",
            "your row differs",
        ),
        (
            "check_interpolate",
            MIX
            + "(code_a.fill(0), np.outer(1 - weights, code_a) + np.outer(weights, code_b))[1]",
            "changed its inputs",
        ),
        ("check_interpolate", MIX + "'rows'", "expected one row per weight"),
        ("check_auroc", PAIRS + "None", "did you forget `return`?"),
        (
            "check_auroc",
            PAIRS
            + "float(np.mean(normal[:, None] > anomalous[None, :]) + 0.5 * np.mean(normal[:, None] == anomalous[None, :]))",
            "reversed",
        ),
        (
            "check_auroc",
            PAIRS + "float(np.mean(anomalous[:, None] > normal[None, :]))",
            "Ties count one half",
        ),
        (
            "check_auroc",
            PAIRS + "float(np.mean(anomalous[:, None] >= normal[None, :]))",
            "Ties count one half",
        ),
        (
            "check_auroc",
            PAIRS + "anomalous.mean() > normal.mean()",
            "expected one number",
        ),
        (
            "check_auroc",
            PAIRS + "anomalous[:, None] > normal[None, :]",
            "expected one number",
        ),
        (
            "check_auroc",
            PAIRS
            + "float(np.sum(anomalous[:, None] > normal[None, :]) + 0.5 * np.sum(anomalous[:, None] == normal[None, :]))",
            "scikit-learn gives",
        ),
        (
            "check_auroc",
            PAIRS
            + "float(np.mean([a > n for a, n in zip(anomalous, normal)]))",
            "scikit-learn gives",
        ),
        (
            "check_precision_at_k",
            "lambda c, cl, q, ql, k: None",
            "did you forget `return`?",
        ),
        *[
            ("check_precision_at_k", precision_probe(**change), phrase)
            for change, phrase in [
                ({"k": "10"}, "by Euclidean distance"),
                ({"k": "k + 1"}, "by Euclidean distance"),
                ({"distance": "-" + EUCLIDEAN}, "by Euclidean distance"),
                ({"distance": "-(q @ c.T)"}, "by Euclidean distance"),
                ({"labels": "ql[0]"}, "by Euclidean distance"),
                (
                    {"mean": "(lambda h: np.mean(h, axis=1))"},
                    "expected one number",
                ),
            ]
        ],
        (
            "check_precision_at_k",
            "lambda c, cl, q, ql, k: True",
            "expected one number",
        ),
    ],
}
