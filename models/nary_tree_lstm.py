"""N-ary Tree-LSTM: ordered children, at most N, a weight matrix per position."""

import keras
import tensorflow as tf

from models.tree_lstm import TreeLSTM


@keras.saving.register_keras_serializable(package="models")
class NaryTreeLSTM(TreeLSTM):
    """N-ary Tree-LSTM (Tai et al. 2015, eq. 9-14), batched over whole levels.

    Children are ordered (position `l` of `children[b, n]` is the `l`-th child) and
    every position has its own recurrent matrices: the gates read `sum_l U_l h_l`,
    and the forget gate of child `k` reads `sum_l U_kl h_l`, so a node can weigh
    its left child against its right one. With `arity=2` this is the Binary
    Tree-LSTM of constituency trees. Missing children count as zero states.
    Inputs, outputs and the schedule are those of `TreeLSTM`; `children` may be
    narrower than `arity`, never wider.

    Args:
        arity: N, the most children a node may have.
        (and those of `TreeLSTM`)

    Example:
    >>> layer = NaryTreeLSTM(units=4, arity=2)
    >>> children = tf.constant([[[1, 2], [-1, -1], [-1, -1]]])  # a root, two leaves
    >>> nodes, roots = layer(tf.ones((1, 3, 3)), children)
    >>> tuple(nodes.shape), tuple(roots.shape)
    ((1, 3, 4), (1, 4))
    """

    def __init__(self, units: int, arity: int = 2, **kwargs):
        super().__init__(units, **kwargs)
        self.arity = arity

    def _build_cell(self, units: int) -> None:
        # [h_1 .. h_N] (N * U) -> i, o, u and the N forget gates ((3 + N) * U)
        self.recurrent_kernel = self.add_weight(
            shape=(self.arity * units, (3 + self.arity) * units),
            initializer="orthogonal",
            name="recurrent_kernel",
        )

    def call(self, features, children, training=None):
        tf.debugging.assert_less_equal(
            tf.shape(children)[2], self.arity,
            message=f"{self.name}: a node has more children than arity={self.arity}",
        )  # fmt: skip
        return super().call(features, children, training=training)

    def _recurrent(self, child_h):
        # child_h (A, K, U) with K <= N, zero where there is no child
        units, arity = self.units, self.arity
        narrower = child_h.shape[1] != arity  # (static when traced: nothing more if K == N)
        if narrower:  # zero states in the missing positions, and no forget gates
            present = tf.shape(child_h)[1]
            child_h = tf.pad(child_h, [[0, 0], [0, arity - present], [0, 0]])
        mixed = tf.matmul(
            tf.reshape(child_h, [-1, arity * units]),
            tf.cast(self.recurrent_kernel, child_h.dtype),
        )  # (A, (3 + N) U): [h_1 .. h_N] U
        return mixed[:, : (3 + present) * units] if narrower else mixed  # (A, (3 + K) U)

    def get_config(self):
        return {**super().get_config(), "arity": self.arity}
