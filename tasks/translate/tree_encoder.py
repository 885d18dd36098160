"""The tree-to-sequence encoder: a BiLSTM over the words, a Tree-LSTM over the parse."""

import keras
import tensorflow as tf

from models import ChildSumTreeLSTM, SequenceEncoder


@keras.saving.register_keras_serializable(package="tasks")
class TreeEncoder(keras.layers.Layer):
    """Encodes a parsed sentence as Eriguchi et al. (2016) do: a bidirectional LSTM
    reads the words in order, its states become the leaves of a Child-Sum Tree-LSTM,
    and the Tree-LSTM builds every phrase bottom-up from them. The decoder attends
    over all node states, words and phrases alike, and starts from the root's.

    Args:
        units: per direction of the BiLSTM; the Tree-LSTM and outputs are `2 * units`.
        dropout: dropout between the BiLSTM and the Tree-LSTM.

    Call arguments:
        embedded: `(batch, nodes, dim)` node embeddings, the words' on leaves; a
            node whose `mask` is False is a phrase (its embedding is not read).
        children: `(batch, nodes, K)` int32 children (`tasks/trees.py` layout).
        mask: `(batch, nodes)` bool, True on the word (leaf) nodes.

    Returns:
        `(node_states (batch, nodes, 2 * units), root_state (batch, 2 * units),
        node_mask (batch, nodes))`, the mask True on the nodes of the trees.

    Example:
    >>> encoder = TreeEncoder(units=4)
    >>> children = tf.constant([[[1, 2], [-1, -1], [-1, -1]]])
    >>> nodes, root, _ = encoder(tf.ones((1, 3, 5)), children, tf.constant([[False, True, True]]))
    >>> tuple(nodes.shape), tuple(root.shape)
    ((1, 3, 8), (1, 8))
    """

    def __init__(self, units: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dropout = dropout
        self.output_dim = 2 * units
        self.words = SequenceEncoder(units, 1, bidirectional=True, name="words")
        self.tree = ChildSumTreeLSTM(2 * units, leaf_inputs_only=True, dropout=dropout,
                                     name="tree")  # fmt: skip

    def build(self, embedded_shape, children_shape=None, mask_shape=None):
        self.words.build(embedded_shape)
        self.tree.build((*embedded_shape[:2], self.output_dim), children_shape)
        self.built = True

    def call(self, embedded, children, mask, training=None):
        # The words in reading order: pre-order numbering keeps leaves in order, so a
        # stable sort that puts leaves first gathers them; padding follows.
        order = tf.argsort(tf.cast(~mask, tf.int32), axis=1, stable=True)  # (B, N)
        words = tf.gather(embedded, order, batch_dims=1)
        in_order = tf.gather(mask, order, batch_dims=1)
        states, _, _ = self.words(words, mask=in_order, training=training)  # (B, N, 2U)
        rank = tf.maximum(tf.cumsum(tf.cast(mask, tf.int32), axis=1) - 1, 0)
        leaves = tf.gather(states, rank, batch_dims=1) * tf.cast(mask, states.dtype)[..., None]
        nodes, root = self.tree(leaves, children, training=training)
        return nodes, root, self.tree.node_mask(children)

    def compute_output_spec(self, embedded, children, mask, training=None):
        batch, nodes = embedded.shape[:2]
        width, dtype = self.output_dim, self.compute_dtype
        return (
            keras.KerasTensor((batch, nodes, width), dtype),
            keras.KerasTensor((batch, width), dtype),
            keras.KerasTensor((batch, nodes), "bool"),
        )

    def get_config(self):
        return {**super().get_config(), "units": self.units, "dropout": self.dropout}
