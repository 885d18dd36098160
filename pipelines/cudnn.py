"""Which recurrent layers of a model can run on cuDNN, and why not where they cannot.

cuDNN's LSTM and GRU kernels need the default activations (tanh, sigmoid), no
recurrent dropout, no unrolling, a bias (and `reset_after=True` for a GRU), and masks
that are strictly right-padded with no fully masked row (tensorflow#36139). Keras
falls back to its generic loop, silently, when a layer misses one; this report says
so at the start of training. `Bidirectional` builds its backward layer from the
forward one's config, so both are checked.
"""

import keras
import numpy as np


def layer_problems(layer) -> list[str]:
    """What keeps one LSTM or GRU layer off cuDNN (empty when it is eligible).

    Example:
    >>> layer_problems(keras.layers.LSTM(4))
    []
    >>> layer_problems(keras.layers.LSTM(4, recurrent_dropout=0.2, unroll=True))
    ['recurrent_dropout=0.2', 'unroll=True']
    """
    problems = []
    if layer.activation is not keras.activations.tanh:
        problems.append(f"activation={layer.activation.__name__}")
    if layer.recurrent_activation is not keras.activations.sigmoid:
        problems.append(f"recurrent_activation={layer.recurrent_activation.__name__}")
    if layer.recurrent_dropout:
        problems.append(f"recurrent_dropout={layer.recurrent_dropout}")
    if layer.unroll:
        problems.append("unroll=True")
    if not layer.use_bias:
        problems.append("use_bias=False")
    if isinstance(layer, keras.layers.GRU) and not layer.reset_after:
        problems.append("reset_after=False")
    if layer.use_cudnn is False:
        problems.append("use_cudnn=False")
    return problems


def recurrent_layers(model: keras.Model) -> list:
    """Every LSTM and GRU inside `model`, nested layers and `Bidirectional` included."""
    # `_flatten_layers` is Keras's own recursive walk; there is no public one.
    layers = model._flatten_layers(include_self=False, recursive=True)
    rnns = [layer for layer in layers if isinstance(layer, keras.layers.LSTM | keras.layers.GRU)]
    return sorted(rnns, key=_name)


def _name(layer) -> str:
    return layer.path or layer.name  # `path` (outer/inner) is set when built in a model


def padding_problems(inputs) -> list[str]:
    """Integer (token id) inputs whose padding (0) is not strictly at the right end.

    A row of ids must be its tokens, then zeros; a row of zeros only breaks cuDNN.

    Example:
    >>> padding_problems({"source": np.array([[5, 6, 0], [7, 0, 0]])})
    []
    >>> padding_problems({"source": np.array([[0, 6, 0], [0, 0, 0]])})
    ['source: 1 row(s) not right-padded', 'source: 1 row(s) fully padded']
    """
    items = inputs.items() if isinstance(inputs, dict) else enumerate(keras.tree.flatten(inputs))
    problems = []
    for name, value in items:
        ids = np.asarray(value)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            continue
        real = ids != 0  # (batch, steps)
        lengths = real.sum(axis=1)
        right_padded = real == (np.arange(ids.shape[1])[None, :] < lengths[:, None])
        if (bad := int((~right_padded.all(axis=1)).sum())) > 0:
            problems.append(f"{name}: {bad} row(s) not right-padded")
        if (empty := int((lengths == 0).sum())) > 0:
            problems.append(f"{name}: {empty} row(s) fully padded")
    return problems


def report(model: keras.Model, inputs=None, gpu: bool | None = None) -> list[str]:
    """Lines saying, per recurrent layer, whether its configuration is cuDNN-eligible.

    `inputs` (a training batch's inputs) has its token-id padding checked as well.

    Example:
    >>> inp = keras.Input((None, 3))
    >>> lstm = keras.layers.LSTM(4, unroll=True, name="lstm")
    >>> out = keras.layers.Bidirectional(lstm, name="bi")(inp)
    >>> print("\\n".join(report(keras.Model(inp, out), gpu=False)))
    cuDNN eligibility (no GPU here, so the generic kernel runs; on a GPU eligible layers use it):
      bi/backward_lstm: NOT eligible: unroll=True
      bi/forward_lstm: NOT eligible: unroll=True
    """
    if gpu is None:
        import tensorflow as tf

        gpu = bool(tf.config.list_logical_devices("GPU"))
    where = "on this GPU" if gpu else "no GPU here, so the generic kernel runs; on a GPU"
    lines = [f"cuDNN eligibility ({where} eligible layers use it):"]
    layers = recurrent_layers(model)
    for layer in layers:
        problems = layer_problems(layer)
        verdict = "NOT eligible: " + ", ".join(problems) if problems else "eligible"
        lines.append(f"  {_name(layer)}: {verdict}")
    if not layers:
        lines.append("  (no LSTM or GRU layers)")
    if inputs is not None:
        padding = padding_problems(inputs)
        verdict = "; ".join(padding) if padding else "right-padded, no empty rows"
        lines.append(f"  masks (token ids of the first training batch): {verdict}")
    return lines
