"""FLOPs of a training step, counted from the sizes of the layers a batch goes through.

The model runs once eagerly on the batch while every layer call is recorded with its
input and output shapes; the matrix products of the layers that do them (`Dense`,
LSTM and GRU, convolutions, attention) are counted from those shapes, two FLOPs per
multiply-add, over the padded shapes the hardware runs. Elementwise work (gates,
activations, normalisation) and layers of other kinds count zero. A training step is
three forward passes' worth (the backward pass does two products for each one).
"""

import contextlib
import math

import keras
from keras import tree

TRAIN_FACTOR = 3


def train_step_flops(model: keras.Model, inputs) -> float:
    """FLOPs of one training step of `model` on the batch `inputs`.

    Example:
    >>> model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(2)])
    >>> train_step_flops(model, keras.ops.zeros((8, 5, 3)))  # 3 * (8*5*2*(3+4)*16 + 8*2*4*2)
    27264.0
    """
    return TRAIN_FACTOR * forward_flops(model, inputs)


def forward_flops(model: keras.Model, inputs) -> float:
    """FLOPs of one inference pass of `model` on `inputs` (see the module docstring)."""
    calls = []
    with _recording(calls):
        model(inputs, training=False)
    return float(sum(layer_flops(*call) for call in calls))


@contextlib.contextmanager
def _recording(calls: list):
    """Records `(layer, input shapes, output shapes)` of every layer call inside."""
    original = keras.Layer.__call__

    def recorded(layer, *args, **kwargs):
        outputs = original(layer, *args, **kwargs)
        calls.append((layer, _shapes(args[0] if args else None), _shapes(outputs)))
        return outputs

    keras.Layer.__call__ = recorded
    try:
        yield
    finally:
        keras.Layer.__call__ = original


def _shapes(structure):
    return tree.map_structure(lambda x: tuple(x.shape) if hasattr(x, "shape") else None,
                              structure)  # fmt: skip


def layer_flops(layer, inputs, outputs) -> int:
    """Multiply-add FLOPs of one call of `layer` from its input and output shapes.

    Example:
    >>> layer_flops(keras.layers.Dense(10), (4, 7, 3), (4, 7, 10))  # 2 * 28 rows * 3 * 10
    1680
    """
    layers = keras.layers
    if isinstance(layer, layers.LSTM | layers.GRU):
        batch, steps, features = inputs[0] if isinstance(inputs, list) else inputs
        gates = 4 if isinstance(layer, layers.LSTM) else 3
        return 2 * batch * steps * (features + layer.units) * gates * layer.units
    if isinstance(layer, layers.Dense):
        return 2 * math.prod(inputs[:-1]) * inputs[-1] * layer.units
    if isinstance(layer, layers.DepthwiseConv2D):
        return 2 * math.prod(outputs) * math.prod(layer.kernel_size)
    if isinstance(layer, layers.Conv1D | layers.Conv2D | layers.Conv3D):
        per_output = math.prod(layer.kernel_size) * inputs[-1] // layer.groups
        return 2 * math.prod(outputs) * per_output
    if isinstance(layer, layers.AdditiveAttention | layers.Attention):
        query, value = inputs[0], inputs[1]  # (batch, T, dim), (batch, S, dim_v)
        batch, steps, dim = query
        return 2 * batch * steps * value[1] * (dim + value[2])  # scores, then context
    return 0
