"""One shared check for every layer: config and `.keras` round trips, output specs,
weight counts and mixed precision."""

import keras
import numpy as np


def run_layer_test(layer_cls, init_kwargs: dict, inputs: dict, tmp_path, *,
                   trainable_weights: int, float32_outputs: tuple[int, ...] = ()):  # fmt: skip
    """Builds `layer_cls(**init_kwargs)`, calls it on `inputs` (call argument -> array).

    Checks that `get_config` round-trips; that `compute_output_spec` gives the
    output's shapes; that the layer has `trainable_weights` trainable weights; that a
    functional model around the layer gives identical outputs after a `.keras` save
    and load; and mixed precision, as `--mixed-precision` runs it on a CPU: built
    under the `mixed_bfloat16` policy with the same weights, the layer keeps float32
    variables, computes in bfloat16 (float outputs are bfloat16, but those listed in
    `float32_outputs`, by position) and gives the float32 outputs to bfloat16's
    precision. Returns the layer's outputs on `inputs`.
    """
    layer = layer_cls(**init_kwargs)
    clone = layer_cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()

    symbolic = _symbolic(inputs)
    outputs = layer(**symbolic)
    model = keras.Model(symbolic, outputs)
    expected = keras.tree.map_structure(keras.ops.convert_to_numpy, model(inputs))
    assert len(layer.trainable_weights) == trainable_weights, len(layer.trainable_weights)

    specs = layer.compute_output_spec(
        **{name: keras.KerasTensor(value.shape, value.dtype.name) for name, value in inputs.items()}
    )
    for out, spec in zip(keras.tree.flatten(expected), keras.tree.flatten(specs), strict=True):
        assert out.shape == tuple(spec.shape), (out.shape, spec.shape)

    path = tmp_path / "layer.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    got = keras.tree.map_structure(keras.ops.convert_to_numpy, restored(inputs))
    for a, b in zip(keras.tree.flatten(expected), keras.tree.flatten(got), strict=True):
        np.testing.assert_array_equal(a, b)

    _check_mixed_precision(layer_cls, init_kwargs, inputs, model, expected, float32_outputs)
    return expected


def _symbolic(inputs: dict) -> dict:
    return {name: keras.Input(value.shape[1:], dtype=value.dtype.name, name=name)
            for name, value in inputs.items()}  # fmt: skip


def _check_mixed_precision(layer_cls, init_kwargs, inputs, model, expected, float32_outputs):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = layer_cls(**init_kwargs)
        symbolic = _symbolic(inputs)
        mixed_model = keras.Model(symbolic, mixed(**symbolic))
    finally:
        keras.config.set_dtype_policy(previous)
    mixed_model.set_weights(model.get_weights())
    assert all(w.dtype == "float32" for w in mixed.weights if "float" in w.dtype)
    got = keras.tree.flatten(mixed_model(inputs))
    for i, (out, want) in enumerate(zip(got, keras.tree.flatten(expected), strict=True)):
        dtype = keras.backend.standardize_dtype(out.dtype)
        if "float" not in dtype:
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), want)
            continue
        assert dtype == ("float32" if i in float32_outputs else "bfloat16"), (i, dtype)
        out = keras.ops.convert_to_numpy(keras.ops.cast(out, "float32"))
        scale = max(float(np.abs(want).max()), 1.0)
        np.testing.assert_allclose(out, want, atol=0.05 * scale)
