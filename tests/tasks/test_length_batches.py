import numpy as np
import tensorflow as tf

from tasks import text


def _key(lengths):  # index -> its length
    lengths = tf.constant(lengths)
    return lambda i: tf.gather(lengths, i)


def _batches(lengths, batch_size: int, pool: int, seed: int = 0) -> list[list[int]]:
    order = tf.data.Dataset.range(len(lengths)).shuffle(len(lengths), seed=seed)
    batches = text.length_batches(order, _key(lengths), batch_size, pool)
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


def test_the_batches_order_follows_their_seed_whatever_the_global_seed():
    lengths = np.arange(500) % 7

    def batches(seed: int) -> list[list[int]]:  # the order in: 0, 1, 2, ...
        pooled = text.length_batches(tf.data.Dataset.range(500), _key(lengths), 32, 8, seed)
        return [b.numpy().tolist() for b in pooled]

    first = batches(seed=3)
    tf.random.set_seed(1234)  # as another test or a training run may have set it
    assert batches(seed=3) == first
    assert batches(seed=4) != first
    shortest = [min(lengths[b]) for b in first[:8]]  # the first pool's batches
    assert shortest != sorted(shortest)  # not shortest first
