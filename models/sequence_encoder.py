"""Stacked LSTM or bidirectional LSTM encoder."""

import keras


@keras.saving.register_keras_serializable(package="models")
class SequenceEncoder(keras.layers.Layer):
    """A stack of LSTM (or bidirectional LSTM) layers over a padded sequence.

    Every LSTM keeps the cuDNN-eligible configuration (default activations, no
    recurrent dropout, no unrolling); dropout is applied between layers only.

    Args:
        units: hidden size of each LSTM direction.
        num_layers: how many LSTM layers are stacked.
        bidirectional: wrap every layer in `keras.layers.Bidirectional`; outputs
            and states are then `2 * units` wide (forward and backward concatenated).
        dropout: dropout rate between stacked layers.

    Call arguments:
        inputs: `(batch, steps, features)` float tensor.
        mask: optional `(batch, steps)` boolean mask, `True` on real steps. The mask
            must be right-padded (all real steps first), as cuDNN requires.
        training: whether dropout is active.

    Returns:
        The encoders' triple `(outputs, summary, mask)` (see `models.encoders`):
        `outputs` is `(batch, steps, output_dim)`, zero on masked steps; `summary`
        the last layer's final `h`, `(batch, output_dim)`, taken at each row's last
        real step; `mask` the `(batch, steps)` mask given (all True without one).

    Example:
    >>> encoder = SequenceEncoder(units=8, num_layers=2, bidirectional=True)
    >>> outputs, summary, mask = encoder(keras.ops.ones((2, 5, 3)))
    >>> tuple(outputs.shape), tuple(summary.shape), tuple(mask.shape)
    ((2, 5, 16), (2, 16), (2, 5))
    """

    def __init__(
        self,
        units: int,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.output_dim = units * (2 if bidirectional else 1)
        self.rnns = []
        for i in range(num_layers):
            lstm = keras.layers.LSTM(
                units, return_sequences=True, return_state=True, name=f"lstm_{i}"
            )
            if bidirectional:
                lstm = keras.layers.Bidirectional(lstm, name=f"bilstm_{i}")
            self.rnns.append(lstm)
        self.drop = keras.layers.Dropout(dropout)
        self.supports_masking = True

    def build(self, input_shape):
        shape = tuple(input_shape)  # (batch, steps, features)
        for rnn in self.rnns:
            rnn.build(shape)
            shape = (*shape[:2], self.output_dim)
        self.built = True

    def call(self, inputs, mask=None, training=None):
        x = inputs  # (batch, steps, features)
        for i, rnn in enumerate(self.rnns):
            if i > 0:
                x = self.drop(x, training=training)
            x, *states = rnn(x, mask=mask, training=training)
        if self.bidirectional:  # states = [h_fwd, c_fwd, h_bwd, c_bwd]
            summary = keras.ops.concatenate([states[0], states[2]], axis=-1)
        else:
            summary = states[0]
        if mask is None:
            mask = keras.ops.ones(keras.ops.shape(inputs)[:2], "bool")
        else:  # Keras leaves the last real output on padded steps.
            x = x * keras.ops.cast(mask, x.dtype)[:, :, None]
        return x, summary, mask  # (batch, steps, out), (batch, out), (batch, steps)

    def compute_mask(self, inputs, mask=None):
        return [mask, None, None]

    def compute_output_spec(self, inputs, mask=None, training=None):
        batch, steps = inputs.shape[:2]
        return (
            keras.KerasTensor((batch, steps, self.output_dim), self.compute_dtype),
            keras.KerasTensor((batch, self.output_dim), self.compute_dtype),
            keras.KerasTensor((batch, steps), "bool"),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
        }
