import numpy as np
import tensorflow as tf

from models import CharNgramEmbedding
from tests.models.layer_test import run_layer_test


def test_layer_contract(tmp_path):
    tokens = tf.constant([["cat", "cats", ""], ["dog", "", ""]])
    out = run_layer_test(CharNgramEmbedding, {"buckets": 50, "dim": 4}, {"tokens": tokens},
                         tmp_path, trainable_weights=1)  # fmt: skip
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out[0, 2], 0.0)  # padding has no n-grams


def test_a_word_is_the_mean_of_its_hashed_ngrams():
    layer = CharNgramEmbedding(buckets=1000, dim=3)
    vectors = np.asarray(layer(tf.constant([["cat", "cats"]])))
    grams = ["<ca", "cat", "at>", "<cat", "cat>", "<cat>"]  # widths 3, 4, 5 of "<cat>"
    rows = tf.strings.to_hash_bucket_fast(grams, 1000).numpy()
    table = layer.table.numpy()
    np.testing.assert_allclose(vectors[0, 0], table[rows].mean(axis=0), rtol=1e-6)
    assert not np.allclose(vectors[0, 0], vectors[0, 1])  # "cats" shares some, not all
