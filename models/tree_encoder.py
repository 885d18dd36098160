"""A Tree-LSTM encoder of parse trees, optionally fed by a BiLSTM over the words."""

import keras
import tensorflow as tf

from models.child_sum_tree_lstm import ChildSumTreeLSTM
from models.nary_tree_lstm import NaryTreeLSTM
from models.sequence_encoder import SequenceEncoder

CELLS = {"nary": NaryTreeLSTM, "childsum": ChildSumTreeLSTM}
ARITY = {"nary": 2, "childsum": None}  # the most children a node may have (None: any)


@keras.saving.register_keras_serializable(package="models")
class TreeEncoder(keras.layers.Layer):
    """Encodes parsed sentences bottom-up with a Tree-LSTM (Tai, Socher & Manning 2015).

    The words sit at the leaves. With `reader_layers=0` a leaf reads its word's
    embedding, as Tai et al. do; with `reader_layers > 0` a bidirectional LSTM first
    reads the words in order and its states become the leaves, as in the
    tree-to-sequence encoder of Eriguchi et al. (2016), so that every leaf knows its
    context. The Tree-LSTM then builds every phrase from its children, level by level.
    Every node's state is an output (a decoder can attend over words and phrases
    alike) and the root's summarises the sentence.

    Args:
        units: hidden size of the Tree-LSTM and of each direction of the reader.
        cell: `"nary"` (ordered children, at most two: binary constituency trees)
            or `"childsum"` (any number of unordered children: dependency-shaped
            trees). `ARITY[cell]` tells how many children a node may have.
        reader_layers: BiLSTM layers that read the words before the tree.
        dropout: dropout on the Tree-LSTM's leaf inputs and between reader layers.

    Call arguments:
        embedded: `(batch, nodes, dim)` node embeddings, the words' on leaves; a
            node where `words` is False is a phrase (its embedding is not read).
        children: `(batch, nodes, K)` int32 children, `-1` for none; node 0 is the
            root, and nodes are numbered in pre-order (`tasks/trees.py`), which keeps
            the leaves in reading order.
        words: `(batch, nodes)` bool, True on the word (leaf) nodes.

    Returns:
        `(node_states (batch, nodes, units), root_state (batch, units),
        node_mask (batch, nodes))`, the mask True on the nodes of the trees.

    Example:
    >>> encoder = TreeEncoder(units=4, cell="childsum", reader_layers=1)
    >>> children = tf.constant([[[1, 2], [-1, -1], [-1, -1]]])
    >>> nodes, root, _ = encoder(tf.ones((1, 3, 5)), children, tf.constant([[False, True, True]]))
    >>> tuple(nodes.shape), tuple(root.shape)
    ((1, 3, 4), (1, 4))
    """

    def __init__(self, units: int, cell: str = "nary", reader_layers: int = 0,
                 dropout: float = 0.0, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"tree cell must be one of {tuple(CELLS)}, got {cell!r}")
        self.units = units
        self.cell = cell
        self.reader_layers = reader_layers
        self.dropout = dropout
        self.output_dim = units
        self.reader = None
        if reader_layers:
            self.reader = SequenceEncoder(units, reader_layers, bidirectional=True,
                                          dropout=dropout, name="reader")  # fmt: skip
        arity = {"arity": ARITY[cell]} if ARITY[cell] else {}
        self.tree = CELLS[cell](units, leaf_inputs_only=True, dropout=dropout, name="tree",
                                **arity)  # fmt: skip

    def build(self, embedded_shape, children_shape=None, words_shape=None):
        width = embedded_shape[-1]
        if self.reader is not None:
            self.reader.build(embedded_shape)
            width = self.reader.output_dim
        self.tree.build((*embedded_shape[:2], width), children_shape)
        self.built = True

    def call(self, embedded, children, words, training=None):
        leaves = embedded  # (B, N, dim)
        if self.reader is not None:
            # The words in reading order: a stable sort that puts leaves first
            # gathers them (pre-order keeps leaves in order); padding follows.
            order = tf.argsort(tf.cast(~words, tf.int32), axis=1, stable=True)  # (B, N)
            in_order = tf.gather(embedded, order, batch_dims=1)
            real = tf.gather(words, order, batch_dims=1)
            states, _, _ = self.reader(in_order, mask=real, training=training)  # (B, N, 2U)
            rank = tf.maximum(tf.cumsum(tf.cast(words, tf.int32), axis=1) - 1, 0)
            leaves = tf.gather(states, rank, batch_dims=1) * tf.cast(words, states.dtype)[..., None]
        nodes, root = self.tree(leaves, children, training=training)
        return nodes, root, self.tree.node_mask(children)

    def compute_output_spec(self, embedded, children, words, training=None):
        batch, nodes = embedded.shape[:2]
        width, dtype = self.output_dim, self.compute_dtype
        return (
            keras.KerasTensor((batch, nodes, width), dtype),
            keras.KerasTensor((batch, width), dtype),
            keras.KerasTensor((batch, nodes), "bool"),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "cell": self.cell,
            "reader_layers": self.reader_layers,
            "dropout": self.dropout,
        }
