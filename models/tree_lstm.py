"""What the Child-Sum and N-ary Tree-LSTMs share: the level-by-level schedule."""

import keras
import tensorflow as tf


class TreeLSTM(keras.layers.Layer):
    """Base of the Tree-LSTMs (Tai, Socher & Manning 2015): batching and scheduling.

    A batch of trees is given as node features and, per node, the indices of its
    children. Only the nodes of the trees are computed (padding is dropped first),
    flattened over the batch: every leaf at once, then one step per height, each
    computing all nodes of that height in the whole batch. So the number of
    sequential steps is the height of the tallest tree, never the number of nodes.
    The schedule (heights, the order of the inner nodes, step sizes) is built
    in-graph with core TF ops before the loop, and each step's inputs (its nodes'
    gates and leaf children) are split into `TensorArray`s; only the *frontier*
    (computed inner nodes whose parent is not computed yet) is carried from step
    to step. The layer traces once, exports to a SavedModel and serves.

    Subclasses define the cell with two methods: `_build_cell(units)` makes the
    recurrent weights, and `_combine(gates, child_h, child_c)` maps the input gates
    `(A, 4U)` and the children's states `(A, K, U)` (zero where there is no child)
    of one step's nodes to their `(h, c)`, each `(A, U)`.

    Args:
        units: hidden size.
        leaf_inputs_only: only leaves read their features (internal nodes get the
            bias alone), as for parse trees whose words sit at the leaves.
        dropout: dropout rate on the node features.

    Call arguments:
        features: `(batch, nodes, features)` float node features.
        children: `(batch, nodes, max_children)` int32 indices into the node axis,
            `-1` where there is no child. Node 0 is the root of each tree; the
            children must form a tree (each node has at most one parent, no cycles).
            Padding nodes (no children, nobody's child) are skipped.
        training: whether dropout is active.

    Returns:
        `(node_states, root_states)`: every node's `h`, `(batch, nodes, units)`
        (zeros on padding nodes), and the roots' `h`, `(batch, units)`.
    """

    def __init__(self, units: int, leaf_inputs_only: bool = False, dropout: float = 0.0,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.units = units
        self.leaf_inputs_only = leaf_inputs_only
        self.dropout = dropout
        self.drop = keras.layers.Dropout(dropout)

    def build(self, features_shape, children_shape=None):
        # input gate, output gate, update and forget gate: x W + b -> (nodes, 4 units)
        self.kernel = self.add_weight(
            shape=(features_shape[-1], 4 * self.units), initializer="glorot_uniform",
            name="kernel")  # fmt: skip
        forget_bias = keras.ops.concatenate(
            [keras.ops.zeros(3 * self.units), keras.ops.ones(self.units)])  # fmt: skip
        self.bias = self.add_weight(
            shape=(4 * self.units,), initializer=lambda shape, dtype=None: forget_bias, name="bias"
        )
        self._build_cell(self.units)
        self.built = True

    @staticmethod
    def node_mask(children):
        """`(batch, nodes)` bool: True on node 0 and on every node listed as a child.

        Example:
        >>> TreeLSTM.node_mask(tf.constant([[[1, 2], [-1, -1], [-1, -1], [-1, -1]]]))
        <tf.Tensor: shape=(1, 4), dtype=bool, numpy=array([[ True,  True,  True, False]])>
        """
        children = tf.convert_to_tensor(children)
        listed = tf.where(children >= 0)  # (V, 3): tree, node, position
        targets = tf.stack([listed[:, 0], tf.cast(tf.gather_nd(children, listed), tf.int64)], 1)
        counts = tf.scatter_nd(
            targets, tf.ones_like(targets[:, 0]), tf.shape(children, tf.int64)[:2]
        )
        return (counts > 0) | (tf.range(tf.shape(children)[1]) == 0)[None, :]

    def call(self, features, children, training=None):
        dtype, units = self.compute_dtype, self.units
        # Only the nodes of the trees are computed, flattened over the batch: padding
        # (often most of a batch of mixed sizes) costs nothing.
        real = tf.where(self.node_mask(children))  # (M, 2): tree, node
        total = tf.shape(real)[0]
        number = tf.scatter_nd(real, tf.range(total), tf.shape(children, tf.int64)[:2])
        kids = tf.gather_nd(children, real)  # (M, K)
        width = tf.shape(kids)[1]
        owner = tf.tile(real[:, :1], [1, width])
        kids = tf.where(kids >= 0, tf.gather_nd(number, tf.stack(
            [owner, tf.cast(tf.maximum(kids, 0), tf.int64)], -1)), -1)  # fmt: skip
        has_kids = kids >= 0  # (M, K)
        is_leaf = ~tf.reduce_any(has_kids, axis=1)  # (M,)
        x = tf.gather_nd(self.drop(tf.cast(features, dtype), training=training), real)  # (M, D)
        if self.leaf_inputs_only:
            x = x * tf.cast(is_leaf, dtype)[:, None]
        # Input projections of every node in one matmul.
        gates = tf.matmul(x, tf.cast(self.kernel, dtype)) + tf.cast(self.bias, dtype)  # (M, 4U)
        leaf_h, leaf_c = self._leaf(gates)  # (M, U); used on leaves only
        leaf_hc = tf.concat([leaf_h, leaf_c], -1)  # (M, 2U): h and c travel together

        # The schedule: inner nodes sorted by height; step s computes height s + 1.
        height = _heights(kids, total)  # (M,)
        inner = tf.cast(tf.where(~is_leaf)[:, 0], tf.int32)
        order = tf.gather(inner, tf.argsort(tf.gather(height, inner), stable=True))  # (I,)
        steps = tf.reduce_max(tf.concat([height, [0]], 0))
        sizes = tf.math.bincount(tf.gather(height, order) - 1, minlength=steps, maxlength=steps)
        ends = tf.cumsum(sizes)
        parent = tf.tensor_scatter_nd_update(
            tf.fill([total], -1),
            tf.boolean_mask(kids, has_kids)[:, None],
            tf.boolean_mask(tf.tile(tf.range(total)[:, None], [1, width]), has_kids),
        )
        parent_height = tf.gather(height, tf.maximum(parent, 0))
        # Per step, what comes from outside the loop: gates and leaf children. Split
        # into TensorArrays, so that gradients stay per step (gathering from a big
        # captured tensor inside the loop would accumulate a dense gradient per step).
        child = tf.gather(kids, order)  # (I, K)
        leaf_child = tf.gather(is_leaf, tf.maximum(child, 0)) & (child >= 0)
        on_leaf = tf.cast(leaf_child, dtype)[..., None]
        per_step = [
            # (one empty step more: a TensorArray cannot be split into zero parts)
            tf.TensorArray(dtype, size=steps + 1, infer_shape=False).split(
                value, tf.concat([sizes, [0]], 0)
            )
            for value in (
                tf.gather(gates, order),
                tf.gather(leaf_hc, tf.maximum(child, 0)) * on_leaf,
            )
        ]

        def step(s, front, front_ids, out_h):
            # front: [h, c] of the frontier (computed inner nodes whose parent is not),
            # (P, 2U); row 0 is a zero sentinel that missing and leaf children read.
            first, last = ends[s] - sizes[s], ends[s]
            ids, kid = order[first:last], child[first:last]  # (A,) nodes of this step, (A, K)
            slot = tf.tensor_scatter_nd_update(
                tf.zeros([total], tf.int32), front_ids[1:, None], tf.range(1, tf.size(front_ids))
            )
            at = tf.gather(slot, tf.maximum(kid, 0))  # 0 for leaves and missing children
            gates_s, leaves = (ta.read(s) for ta in per_step)
            child_h, child_c = tf.split(leaves + tf.gather(front, at), 2, axis=-1)  # (A, K, U)
            h, c = self._combine(gates_s, child_h, child_c)  # (A, U)
            stays = (front_ids < 0) | (tf.gather(parent_height, tf.maximum(front_ids, 0)) != s + 1)
            joins = tf.gather(parent, ids) >= 0  # roots never join
            new = tf.boolean_mask(tf.concat([h, c], -1), joins)
            front = tf.concat([tf.boolean_mask(front, stays), new], 0)
            front_ids = tf.concat(
                [tf.boolean_mask(front_ids, stays), tf.boolean_mask(ids, joins)], 0
            )
            return s + 1, front, front_ids, out_h.write(s + 1, h)

        out_h = tf.TensorArray(
            dtype, size=steps + 1, infer_shape=False, element_shape=[None, units]
        )
        start = (tf.constant(0), tf.zeros([1, 2 * units], dtype), tf.constant([-1]),
                 out_h.write(0, tf.zeros([0, units], dtype)))  # fmt: skip
        invariants = (tf.TensorShape([]), tf.TensorShape([None, 2 * units]),
                      tf.TensorShape([None]), tf.TensorShape(None))  # fmt: skip
        *_, out_h = tf.while_loop(lambda s, *_: s < steps, step, start, shape_invariants=invariants)
        states = tf.tensor_scatter_nd_update(leaf_h, order[:, None], out_h.concat())  # (M, U)
        roots = tf.gather(states, tf.reshape(number[:, :1], [-1]))  # (B, U); B = 0 works too
        shape = tf.concat([tf.shape(children, tf.int64)[:2], [units]], 0)
        return tf.scatter_nd(real, states, shape), roots  # padding nodes get zeros

    def _leaf(self, gates):
        """A node without children: `c = i * u`, `h = o * tanh(c)`."""
        i, o, u, _ = tf.split(gates, 4, axis=-1)
        c = tf.sigmoid(i) * tf.tanh(u)
        return tf.sigmoid(o) * tf.tanh(c), c

    def compute_output_shape(self, features_shape, children_shape=None):
        batch, nodes = features_shape[0], features_shape[1]
        return (batch, nodes, self.units), (batch, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "leaf_inputs_only": self.leaf_inputs_only,
            "dropout": self.dropout,
        }


def _heights(kids, nodes):
    """`(M,)` height of every node (leaves 0) of the flattened forest `kids` `(M, K)`."""
    has_kids = kids >= 0
    safe = tf.maximum(kids, 0)

    def deeper(height, _):
        below = tf.reduce_max(tf.where(has_kids, tf.gather(height, safe) + 1, 0), axis=1)
        return below, tf.reduce_any(below != height)

    height, _ = tf.while_loop(
        lambda _, changed: changed, deeper,
        (tf.zeros(tf.shape(kids)[:1], tf.int32), tf.constant(True)),
        maximum_iterations=nodes + 1,
    )  # fmt: skip
    return height
