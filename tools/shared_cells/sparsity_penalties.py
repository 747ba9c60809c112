@keras.saving.register_keras_serializable(package="autoencoders_by_example")
class L1ActivityPenalty(keras.layers.Layer):
    # Adds weight * (mean over the batch of sum_j |z_j|) to the loss.

    def __init__(self, weight, **kwargs):
        super().__init__(**kwargs)
        self.weight = weight

    def call(self, codes):
        per_image = keras.ops.sum(keras.ops.abs(codes), axis=-1)
        self.add_loss(self.weight * keras.ops.mean(per_image))
        return codes

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="autoencoders_by_example")
class KLSparsityPenalty(keras.layers.Layer):
    # Adds weight * sum_j KL(target || mean activation of unit j) to the loss.

    def __init__(self, target, weight, **kwargs):
        super().__init__(**kwargs)
        self.target = target
        self.weight = weight

    def call(self, codes):
        rho = self.target
        rho_hat = keras.ops.mean(codes, axis=0)  # one average per unit
        rho_hat = keras.ops.clip(rho_hat, 1e-6, 1 - 1e-6)  # log stays finite
        kl = rho * keras.ops.log(rho / rho_hat) + (1 - rho) * keras.ops.log(
            (1 - rho) / (1 - rho_hat)
        )
        self.add_loss(self.weight * keras.ops.sum(kl))
        return codes

    def get_config(self):
        config = {"target": self.target, "weight": self.weight}
        return {**super().get_config(), **config}
