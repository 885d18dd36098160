"""The cross-entropy every task trains with: Keras' at no smoothing, the smoothed target
otherwise, on logits (decoders) and on probabilities (classify), per token or per node."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tasks.text import SmoothedCrossentropy


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("shape", [(4,), (4, 3)])  # roots; tokens or tree nodes
def test_it_is_keras_at_no_smoothing_and_weights_like_keras(from_logits, shape):
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.normal(size=(*shape, 5)), tf.float32)
    pred = logits if from_logits else tf.nn.softmax(logits)
    labels = tf.constant(rng.integers(0, 5, size=shape))
    weights = tf.constant(rng.integers(0, 2, size=shape), tf.float32)  # padding, unlabelled
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    ours = SmoothedCrossentropy(0.0, from_logits=from_logits)
    np.testing.assert_allclose(ours(labels, pred, weights), keras_loss(labels, pred, weights),
                               rtol=1e-5)  # fmt: skip


@pytest.mark.parametrize("from_logits", [True, False])
def test_smoothing_spreads_the_target_over_the_classes(from_logits):
    probabilities = np.array([[0.7, 0.2, 0.1]])
    pred = tf.math.log(probabilities) if from_logits else tf.constant(probabilities)
    loss = SmoothedCrossentropy(0.3, from_logits=from_logits)(tf.constant([0]), pred)
    target = np.array([0.7 + 0.1, 0.1, 0.1])  # 1 - 0.3 on the label, 0.3 / 3 on each class
    np.testing.assert_allclose(loss, -(target * np.log(probabilities)).sum(), rtol=1e-5)
    restored = SmoothedCrossentropy.from_config(SmoothedCrossentropy(0.3, False).get_config())
    assert (restored.smoothing, restored.from_logits) == (0.3, False)
