"""The per-step baseline encoder: a sequence seen through its middle step alone."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="models")
class MiddleStep(keras.layers.Layer):
    """Summarises a sequence by its middle real step: no order, no memory.

    A baseline for the sequence encoders: a classifier on top sees one frame of a
    clip (or one day of a window, one token of a sentence), so what it gets right
    needs no sequence model. It has no weights, and its outputs are its inputs.

    Call arguments:
        inputs: `(batch, steps, features)` float tensor.
        mask: optional `(batch, steps)` bool, True on real steps (right-padded).

    Returns:
        The encoders' triple (see `models.encoders`): `inputs`, the middle real
        step `(batch, features)` (step `(length - 1) // 2`), and the mask (all True
        without one).

    Example:
    >>> steps = keras.ops.reshape(keras.ops.arange(10.0), (2, 5, 1))
    >>> _, middle, _ = MiddleStep()(steps, mask=keras.ops.arange(5)[None, :] < [[5], [2]])
    >>> keras.ops.convert_to_numpy(middle)[:, 0].tolist()
    [2.0, 5.0]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        self.output_dim = input_shape[-1]
        self.built = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], "bool")
        middle = (ops.sum(ops.cast(mask, "int32"), axis=1) - 1) // 2  # (batch,)
        picked = ops.take_along_axis(inputs, ops.maximum(middle, 0)[:, None, None], axis=1)
        return inputs, picked[:, 0], mask

    def compute_mask(self, inputs, mask=None):
        return [mask, None, None]

    def compute_output_spec(self, inputs, mask=None):
        batch, steps, width = inputs.shape
        return (
            keras.KerasTensor(inputs.shape, inputs.dtype),
            keras.KerasTensor((batch, width), inputs.dtype),
            keras.KerasTensor((batch, steps), "bool"),
        )
