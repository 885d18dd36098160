"""One shared check for every layer: config round-trip, `.keras` round-trip, shapes."""

import keras
import numpy as np


def run_layer_test(layer_cls, init_kwargs: dict, inputs: dict, tmp_path):
    """Builds `layer_cls(**init_kwargs)`, calls it on `inputs` (call argument -> array).

    Checks that `get_config` round-trips, that `compute_output_shape` matches the
    output, and that a functional model around the layer gives identical outputs
    after a `.keras` save and load. Returns the layer's outputs on `inputs`.
    """
    layer = layer_cls(**init_kwargs)
    clone = layer_cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()

    symbolic = {
        name: keras.Input(value.shape[1:], dtype=value.dtype.name, name=name)
        for name, value in inputs.items()
    }
    outputs = layer(**symbolic)
    model = keras.Model(symbolic, outputs)
    expected = keras.tree.map_structure(keras.ops.convert_to_numpy, model(inputs))

    shapes = layer.compute_output_shape(*(value.shape for value in inputs.values()))
    shapes = [shapes] if isinstance(shapes[0], int) else list(shapes)
    for out, shape in zip(keras.tree.flatten(expected), shapes, strict=True):
        assert out.shape == tuple(shape)

    path = tmp_path / "layer.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    got = keras.tree.map_structure(keras.ops.convert_to_numpy, restored(inputs))
    for a, b in zip(keras.tree.flatten(expected), keras.tree.flatten(got), strict=True):
        np.testing.assert_array_equal(a, b)
    return expected
