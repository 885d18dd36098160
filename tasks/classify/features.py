"""Price features computed inside the model, so training and serving share them."""

import keras
from keras import ops

FEATURES = ("return", "gap", "range", "body", "volume_change")


@keras.saving.register_keras_serializable(package="tasks")
class OHLCVFeatures(keras.layers.Layer):
    """Raw OHLCV days -> per-day features that use that day and the one before only.

    For day t: log return `log(close_t / close_{t-1})`, overnight gap
    `log(open_t / close_{t-1})`, range `log(high_t / low_t)`, body
    `log(close_t / open_t)` and volume change `log((volume_t + 1) / (volume_{t-1} + 1))`.
    The first day has no day before it and gives no features.

    Call arguments:
        inputs: `(batch, days, 5)` float prices and volume, columns open, high, low,
            close, volume; prices must be positive.

    Returns:
        `(batch, days - 1, 5)` features, in the order of `FEATURES`.

    Example:
    >>> day = [10.0, 11.0, 9.0, 10.0, 100.0]
    >>> OHLCVFeatures()(keras.ops.convert_to_tensor([[day, day]])).shape
    TensorShape([1, 1, 5])
    """

    def call(self, inputs):
        logs = ops.log(ops.concatenate([inputs[..., :4], inputs[..., 4:] + 1.0], axis=-1))
        o, h, low, c, v = (logs[..., i] for i in range(5))  # each (batch, days)
        features = [
            c[:, 1:] - c[:, :-1],
            o[:, 1:] - c[:, :-1],
            h[:, 1:] - low[:, 1:],
            c[:, 1:] - o[:, 1:],
            v[:, 1:] - v[:, :-1],
        ]
        return ops.stack(features, axis=-1)

    def compute_output_shape(self, input_shape):
        days = None if input_shape[1] is None else input_shape[1] - 1
        return (input_shape[0], days, len(FEATURES))
