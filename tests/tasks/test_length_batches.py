import numpy as np
import tensorflow as tf

from tasks import text


def _batches(lengths, batch_size: int, pool: int, seed: int = 0) -> list[list[int]]:
    order = tf.data.Dataset.range(len(lengths)).shuffle(len(lengths), seed=seed)
    batches = text.length_batches(order, lengths, batch_size, pool)
    got = [b.numpy().tolist() for b in batches]
    assert int(batches.cardinality()) == len(got)
    return got


def test_every_example_once_in_as_many_batches_as_plain_batching():
    lengths = np.random.default_rng(0).integers(1, 30, size=1000)
    for pool in (1, 4, 16):
        got = _batches(lengths, 64, pool)
        assert len(got) == 16  # ceil(1000 / 64)
        assert sorted(i for batch in got for i in batch) == list(range(1000))
        assert sorted(map(len, got))[1:] == [64] * 15  # one short batch, anywhere


def test_batches_of_like_length_pad_much_less():
    lengths = np.random.default_rng(1).integers(1, 30, size=4096)

    def padded(batches):  # padded tokens over real tokens
        return sum(len(b) * lengths[b].max() for b in batches) / lengths.sum()

    plain, pooled = padded(_batches(lengths, 64, 1)), padded(_batches(lengths, 64, 16))
    assert plain > 1.7 and pooled < 1.1, (plain, pooled)


def test_the_order_follows_the_seeded_shuffle():
    lengths = np.arange(500) % 7
    assert _batches(lengths, 32, 8, seed=3) == _batches(lengths, 32, 8, seed=3)
    assert _batches(lengths, 32, 8, seed=3) != _batches(lengths, 32, 8, seed=4)
