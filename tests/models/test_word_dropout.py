import numpy as np

from models import WordDropout
from tests.models.layer_test import run_layer_test


def test_layer_contract(tmp_path):
    ids = np.array([[0, 1, 2, 3], [5, 6, 0, 0]], dtype="int32")
    out = run_layer_test(WordDropout, {"rate": 0.5}, {"ids": ids}, tmp_path, trainable_weights=0)
    np.testing.assert_array_equal(out, ids)  # inference: unchanged


def test_training_drops_words_to_unknown_at_the_rate_and_keeps_padding():
    ids = np.tile(np.array([0, 1, 7, 8, 9], dtype="int32"), (2000, 1))
    out = np.asarray(WordDropout(rate=0.25, seed=3)(ids, training=True))
    np.testing.assert_array_equal(out[:, :2], ids[:, :2])  # padding and [UNK] stay
    assert set(np.unique(out[:, 2:])) == {1, 7, 8, 9}
    assert abs((out[:, 2:] == 1).mean() - 0.25) < 0.02
