"""Writing a SavedModel from a Keras model and a task's serving functions."""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf


def write_saved_model(path: Path, tracked: list, endpoints: dict) -> None:
    """Exports `endpoints` (name -> `tf.function` with an input signature).

    `tracked` lists the Keras models and layers whose variables and lookup tables the
    functions use. An `ExportArchive` endpoint per function avoids the multi-output
    signature bugs of `model.export` (keras#21258).
    """
    archive = keras.export.ExportArchive()
    for item in tracked:
        archive.track(item)
    for name, fn in endpoints.items():
        archive.add_endpoint(name, fn)
    archive.write_out(str(path), verbose=False)


def endpoint(fn, spec: tf.TensorSpec):
    """`fn` of one input as an exportable `tf.function` with signature `spec`, which
    checks the input's shape first: a loaded signature checks only the dtype, and a
    wrong rank or size would fail deep in the graph with an opaque error rather than
    "Shape of tensor NAME [...] is not compatible with expected shape [...]"."""
    return tf.function(lambda x: fn(tf.ensure_shape(x, spec.shape)), input_signature=[spec])


def at_least_one(x, axes: tuple[int, ...] = (0,)):
    """`x` padded with zeros (`""` for strings) to one entry at least along `axes`.

    TF's Conv2D and the Tree-LSTMs fail on an empty batch, and resizing on an empty
    image: serving runs them on one padding row and slices the results back.

    Example:
    >>> at_least_one(tf.zeros([0, 2])).shape.as_list()
    [1, 2]
    """
    shape = tf.shape(x)
    more = [tf.maximum(1 - shape[a], 0) if a in axes else 0 for a in range(x.shape.rank)]
    return tf.pad(x, [[0, m] for m in more], constant_values=tf.zeros([], x.dtype))


def json_rows(outputs: dict) -> list[dict]:
    """A signature's outputs for a batch (name -> `(batch, ...)` tensor) -> one dict per
    row that `json.dumps` takes: strings decoded as UTF-8, arrays as lists, floats at
    the shortest repr that reads back to the same float32.

    Example:
    >>> json_rows({"label": tf.constant([b"cat", b"dog"]), "p": tf.constant([[0.1, 0.9]] * 2)})
    [{'label': 'cat', 'p': [0.1, 0.9]}, {'label': 'dog', 'p': [0.1, 0.9]}]
    """
    columns = {name: np.asarray(value) for name, value in outputs.items()}
    count = len(next(iter(columns.values()))) if columns else 0
    return [{name: _json(column[i]) for name, column in columns.items()} for i in range(count)]


def _json(value):
    if isinstance(value, np.ndarray):
        return [_json(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.floating):
        return float(str(value))
    return value.item() if isinstance(value, np.generic) else value
