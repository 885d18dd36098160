"""Subword vectors of words: the mean of their hashed character n-grams."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="models")
class CharNgramEmbedding(keras.layers.Layer):
    """A word's vector from its spelling, as fastText builds it (Bojanowski et al. 2017):
    the character n-grams of `<word>` (widths 3 to 5 by default), hashed into `buckets`
    rows of a table, averaged. Added to a word embedding, it gives a word unseen in
    training (5% of the SST test tokens) a vector related to those that share its
    stems and endings. Strings in, so it runs inside a SavedModel (core TF ops only).

    Args:
        buckets: rows of the n-gram table.
        dim: vector width.
        widths: n-gram lengths.

    Call arguments:
        tokens: `(batch, steps)` strings; `""` is padding and gets zeros.

    Returns:
        `(batch, steps, dim)` float vectors.

    Example:
    >>> layer = CharNgramEmbedding(buckets=100, dim=4)
    >>> vectors = layer(tf.constant([["cat", "cats", ""]]))
    >>> tuple(vectors.shape), float(tf.reduce_sum(tf.abs(vectors[0, 2])))
    ((1, 3, 4), 0.0)
    """

    def __init__(self, buckets: int, dim: int, widths: tuple[int, ...] = (3, 4, 5), **kwargs):
        super().__init__(**kwargs)
        self.buckets, self.dim, self.widths = buckets, dim, tuple(widths)

    def build(self, tokens_shape):
        self.table = self.add_weight(shape=(self.buckets, self.dim), initializer="uniform",
                                     name="embeddings")  # fmt: skip
        self.built = True

    def call(self, tokens):
        chars = tf.strings.unicode_split(tf.strings.join(["<", tokens, ">"]), "UTF-8")  # (B, N, C)
        # (padding, "<>", is shorter than any n-gram: it has none, and gets zeros)
        grams = tf.concat([tf.strings.ngrams(chars, w, separator="") for w in self.widths], -1)
        ids = tf.strings.to_hash_bucket_fast(grams, self.buckets)  # (B, N, G)
        table = tf.cast(self.table, self.compute_dtype)
        total = tf.reduce_sum(ids.with_flat_values(tf.gather(table, ids.flat_values)), axis=2)
        count = tf.cast(ids.row_lengths(axis=2), self.compute_dtype)  # (B, N)
        total, count = (x.to_tensor() if isinstance(x, tf.RaggedTensor) else x
                        for x in (total, count))  # fmt: skip
        return total / tf.maximum(count, 1.0)[..., None]  # (B, N, dim)

    def compute_output_shape(self, tokens_shape):
        return (*tokens_shape, self.dim)

    def get_config(self):
        return {**super().get_config(), "buckets": self.buckets, "dim": self.dim,
                "widths": list(self.widths)}  # fmt: skip
