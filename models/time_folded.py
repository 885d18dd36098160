"""A layer applied to every step of a sequence in one call, time folded into the batch."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="models")
class TimeFolded(keras.layers.TimeDistributed):
    """Keras' `TimeDistributed`, computed by folding the time axis into the batch:
    `(batch, time, ...)` is reshaped to `(batch * time, ...)`, the wrapped layer is
    called once, and its output is reshaped back to `(batch, time, ...)`.

    Keras 3's `TimeDistributed` calls the layer once per step when the time axis is
    static (a Python loop, then a stack): classify's per-frame CNN ran as 16
    convolutions over 64 frames instead of one over 1,024, and its training step
    (forward, backward, Adam) took 42.9 ms against 35.5 ms folded (README, "Speed").
    Outputs, weights (in the same order) and config are `TimeDistributed`'s; a
    weights file names them by the class, so one written by a `TimeDistributed`
    model does not load into this one (a whole `.keras` model keeps its own class
    and loads). The wrapped layer must treat the rows of its batch independently
    (no batch statistics across steps that `TimeDistributed` would keep apart).

    Args:
        layer: the `keras.layers.Layer` applied to each step.

    Call arguments:
        inputs: `(batch, time, ...)`.
        mask: optional `(batch, time)` bool, passed on (folded) to a layer that
            takes a mask.

    Returns:
        `(batch, time, ...)`: the layer's output for each step.

    Example:
    >>> layer = TimeFolded(keras.layers.Dense(4))
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)
    """

    def call(self, inputs, training=None, mask=None):
        shape = ops.shape(inputs)  # (batch, time, ...)
        kwargs = {}
        if self.layer._call_has_training_arg:
            kwargs["training"] = training
        if self.layer._call_has_mask_arg and mask is not None:
            kwargs["mask"] = ops.reshape(mask, (-1,))  # (batch * time,)
        folded = ops.reshape(inputs, (-1, *shape[2:]))  # (batch * time, ...)
        outputs = self.layer.call(folded, **kwargs)  # (batch * time, ...)
        return ops.reshape(outputs, (shape[0], shape[1], *ops.shape(outputs)[1:]))
