"""Word dropout: whole tokens read as unknown, in training."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="models")
class WordDropout(keras.layers.Layer):
    """In training, each token id above `unknown` becomes `unknown` with chance `rate`
    (Iyyer et al. 2015; Kim et al.): the model learns to read a sentence whose rare or
    unseen words are `[UNK]`, as test sentences are. Padding (0) and `[UNK]` (1) stay.

    Args:
        rate: the chance a token is dropped.
        unknown: the id of `[UNK]`.
        seed: of the random draws.

    Call arguments:
        ids: `(batch, steps)` int token ids.

    Returns:
        The ids, some replaced by `unknown` when training.

    Example:
    >>> layer = WordDropout(rate=1.0)
    >>> keras.ops.convert_to_numpy(layer(keras.ops.array([[0, 1, 5]]), training=True)).tolist()
    [[0, 1, 1]]
    """

    def __init__(self, rate: float, unknown: int = 1, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.unknown, self.seed = rate, unknown, seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, ids, training=None):
        if not training or self.rate <= 0:
            return ids
        drop = keras.random.uniform(ops.shape(ids), seed=self.generator) < self.rate
        return ops.where(drop & (ids > self.unknown), ops.full_like(ids, self.unknown), ids)

    def compute_output_shape(self, ids_shape):
        return ids_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "unknown": self.unknown,
                "seed": self.seed}  # fmt: skip
