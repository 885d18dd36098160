"""Child-Sum Tree-LSTM: any number of unordered children."""

import keras
import tensorflow as tf

from models.tree_lstm import TreeLSTM, flat


@keras.saving.register_keras_serializable(package="models")
class ChildSumTreeLSTM(TreeLSTM):
    """Child-Sum Tree-LSTM (Tai et al. 2015, eq. 2-7), batched over whole levels.

    The input, output and update gates read the sum of the children's `h`; each
    child gets its own forget gate `f_k = sigmoid(W_f x + U_f h_k + b_f)`, and
    `c = i * u + sum_k f_k * c_k`, `h = o * tanh(c)`. Suits dependency trees and
    any tree whose children have no fixed order or count. Inputs, outputs and the
    schedule are those of `TreeLSTM`.

    Example:
    >>> layer = ChildSumTreeLSTM(units=4)
    >>> children = tf.constant([[[1, 2, 3], [-1, -1, -1], [-1, -1, -1], [-1, -1, -1]]])
    >>> nodes, roots = layer(tf.ones((1, 4, 3)), children)
    >>> tuple(nodes.shape), tuple(roots.shape)
    ((1, 4, 4), (1, 4))
    """

    def _build_cell(self, units: int) -> None:
        self.recurrent_kernel = self.add_weight(
            shape=(units, 3 * units), initializer="orthogonal", name="recurrent_kernel"
        )
        self.forget_kernel = self.add_weight(
            shape=(units, units), initializer="orthogonal", name="forget_kernel"
        )

    def _recurrent(self, child_h):
        # child_h (A, K, U), zero where there is no child
        dtype = child_h.dtype
        iou = tf.matmul(tf.reduce_sum(child_h, axis=1), tf.cast(self.recurrent_kernel, dtype))
        forget = tf.einsum("aku,uv->akv", child_h, tf.cast(self.forget_kernel, dtype))  # h_k U_f
        return tf.concat([iou, flat(forget)], -1)
