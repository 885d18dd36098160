import keras
import numpy as np
import pytest
import tensorflow as tf

from models import ImageEncoder, TimeFolded


def _cnn():
    frame = keras.Input((8, 8, 3))
    grid, pooled = ImageEncoder(filters=(4, 8))(frame)
    both = keras.layers.Concatenate()([keras.layers.Flatten()(grid), pooled])
    return keras.Model(frame, keras.layers.Dense(5)(both))


def _wrapped(wrapper, name="per_frame"):
    clips = keras.Input((6, 8, 8, 3))
    return keras.Model(clips, wrapper(_cnn(), name=name)(clips))


def test_same_outputs_and_gradients_as_time_distributed():
    keras.utils.set_random_seed(0)
    distributed = _wrapped(keras.layers.TimeDistributed)
    folded = _wrapped(TimeFolded)
    folded.set_weights(distributed.get_weights())
    clips = tf.constant(np.random.RandomState(0).uniform(0, 255, (3, 6, 8, 8, 3)), "float32")

    def outputs_and_gradients(model):
        with tf.GradientTape() as tape:
            out = model(clips, training=True)  # (3, 6, 5)
            loss = tf.reduce_sum(out * tf.range(5, dtype="float32"))
        return out, tape.gradient(loss, model.trainable_variables)

    (want, want_grads), (got, got_grads) = map(outputs_and_gradients, (distributed, folded))
    assert got.shape == (3, 6, 5)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert len(got_grads) == len(want_grads) == 6
    for a, b in zip(got_grads, want_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_config_and_keras_round_trip(tmp_path):
    folded = _wrapped(TimeFolded)
    layer = folded.get_layer("per_frame")
    assert TimeFolded.from_config(layer.get_config()).get_config() == layer.get_config()
    folded.save(tmp_path / "folded.keras")
    restored = keras.saving.load_model(tmp_path / "folded.keras", safe_mode=True)
    assert isinstance(restored.get_layer("per_frame"), TimeFolded)
    clips = np.random.RandomState(1).uniform(0, 255, (2, 6, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(restored(clips), folded(clips))


@pytest.mark.parametrize("batch", [0, 1, 4])
def test_any_time_length_and_batch(batch):
    layer = TimeFolded(keras.layers.Dense(4))
    call = tf.function(layer, input_signature=[tf.TensorSpec([None, None, 3])])
    for steps in (1, 7):
        x = np.arange(batch * steps * 3, dtype="float32").reshape(batch, steps, 3)
        got = call(x)
        assert got.shape == (batch, steps, 4)
        if batch:
            np.testing.assert_allclose(got[:, -1], layer.layer(x[:, -1]), rtol=1e-6)


def test_mask_reaches_the_layer_folded():
    class Masked(keras.layers.Layer):
        def call(self, x, mask=None):  # (n, 2), (n,) -> x where the mask is set, else 0
            return x * keras.ops.cast(mask, x.dtype)[:, None]

    mask = np.array([[True, False, True], [False, True, True]])
    got = TimeFolded(Masked())(np.ones((2, 3, 2), "float32"), mask=mask)
    np.testing.assert_array_equal(got[..., 0], mask.astype("float32"))


def test_mixed_precision_computes_in_bfloat16_with_float32_weights():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        layer = TimeFolded(keras.layers.Dense(4))
        out = layer(np.ones((2, 3, 5), "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
    assert out.dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in layer.weights)


def test_the_layer_is_called_once_on_every_step_of_the_batch():
    class Counted(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.batches = []

        def call(self, x):  # (n, 2) -> (n, 2)
            self.batches.append(tuple(x.shape))
            return x

    folded, distributed = Counted(), Counted()
    x = np.ones((4, 5, 2), "float32")
    TimeFolded(folded)(x)
    keras.layers.TimeDistributed(distributed)(x)
    assert folded.batches == [(20, 2)]  # Keras' own calls it per step
    assert distributed.batches == [(4, 2)] * 5
