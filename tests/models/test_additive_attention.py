import keras
import numpy as np
import tensorflow as tf

from models import AdditiveAttention
from tests.models.layer_test import run_layer_test


def _inputs(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(2, 3, 4)).astype("float32")
    value = rng.normal(size=(2, 5, 4)).astype("float32")
    return {"query": query, "value": value}


@keras.saving.register_keras_serializable(package="tests")
class Called(keras.layers.Layer):
    """The attention layer with named inputs, as the layer-test helper calls layers."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = AdditiveAttention()

    def call(self, query, value):
        return self.attention([query, value], return_attention_scores=True)


def test_layer_contract(tmp_path):
    run_layer_test(Called, {}, _inputs(), tmp_path, trainable_weights=1)


def test_same_scores_gradients_and_masking_as_keras():
    inputs = _inputs(seed=1)
    mask = [None, np.array([[True] * 5, [True, True, False, False, False]])]
    ours, theirs = AdditiveAttention(), keras.layers.AdditiveAttention()
    pair = [inputs["query"], inputs["value"]]
    ours(pair), theirs(pair)
    theirs.set_weights(ours.get_weights())
    for layer in (ours, theirs):
        layer.got = layer(pair, mask=mask, return_attention_scores=True)
    for a, b in zip(ours.got, theirs.got, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert np.all(np.asarray(ours.got[1])[1, :, 2:] == 0)  # masked memory gets no weight

    def gradients(layer):
        query = tf.constant(inputs["query"])
        with tf.GradientTape() as tape:
            tape.watch(query)
            loss = tf.reduce_sum(layer([query, inputs["value"]]) ** 2)
        return tape.gradient(loss, [query, *layer.trainable_weights])

    for a, b in zip(gradients(ours), gradients(theirs), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
