"""What the Child-Sum and N-ary Tree-LSTMs share: the level-by-level schedule, the cell."""

import abc

import keras
import tensorflow as tf


class TreeLSTM(keras.layers.Layer, metaclass=abc.ABCMeta):
    """Base of the Tree-LSTMs (Tai, Socher & Manning 2015): batching and scheduling.

    A batch of trees is given as node features and, per node, the indices of its
    children. Only the nodes of the trees are computed (padding is dropped first),
    flattened over the batch: every leaf at once, then one step per height, each
    computing all nodes of that height in the whole batch. So the number of
    sequential steps is the height of the tallest tree, never the number of nodes.
    The schedule is built in-graph with core TF ops before the loop: node heights
    (by pointer doubling), then the nodes renumbered by height, so that each step
    reads its gates and writes its states as one contiguous block of rows. The
    states live in one buffer that the steps update in place, and the backward
    pass is written out (see `_propagate`), so a step costs the same few ops
    forward and backward whatever the size of the batch. The layer traces once,
    exports to a SavedModel and serves.

    The cell's nonlinear part is shared and lives here, with its backward pass.
    Subclasses define the rest with the two abstract methods `_build_cell` and
    `_recurrent`; `_combine` is then one step of the cell.

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
        owner = tf.tile(real[:, :1], [1, tf.shape(kids)[1]])
        kids = tf.where(kids >= 0, tf.gather_nd(number, tf.stack(
            [owner, tf.cast(tf.maximum(kids, 0), tf.int64)], -1)), -1)  # fmt: skip

        # The schedule. Rows: the I inner nodes sorted by height, so that step s
        # computes the block of rows of height s + 1, then the L leaves.
        height = _heights(kids)  # (M,)
        steps = tf.reduce_max(tf.concat([height, [0]], 0))
        per_height = tf.math.bincount(height, minlength=steps + 1, maxlength=steps + 1)
        inner = total - per_height[0]
        node = tf.argsort(tf.where(height > 0, height, steps + 1), stable=True)  # (M,)
        row = tf.scatter_nd(node[:, None], tf.range(total), [total])  # (M,): its inverse
        child = tf.gather(kids, node[:inner])  # (I, K) children of the inner rows
        child = tf.where(child >= 0, tf.gather(row, tf.maximum(child, 0)), total)  # M: none
        place = tf.gather(real, node)  # (M, 2): tree, node of each row

        # Input projections in one matmul: of the leaves alone if only they read, and
        # then without the forget gate, which leaves do not have.
        features = self.drop(tf.cast(features, dtype), training=training)
        kernel, bias = tf.cast(self.kernel, dtype), tf.cast(self.bias, dtype)
        width = kids.shape[1] if kids.shape[1] is not None else tf.shape(kids)[1]  # K
        if self.leaf_inputs_only:  # (the inner nodes' gates are the bias alone)
            x = tf.gather_nd(features, place[inner:])  # (L, D)
            leaf_gates = tf.matmul(x, kernel[:, : 3 * units]) + bias[: 3 * units]  # (L, 3U)
            inner_gates = self._spread(bias[None], width)  # (1, (3 + K) U): shared
        else:
            gates = tf.nn.bias_add(tf.matmul(tf.gather_nd(features, place), kernel), bias)
            inner_gates, leaf_gates = tf.split(gates, [inner, total - inner])  # (., 4U)
            inner_gates = self._spread(inner_gates, width)  # (I, (3 + K) U)
        start = tf.concat(self._leaf(leaf_gates), -1)  # (L, 2U): [h, c] of the leaves
        states = self._propagate(start, inner_gates, child, per_height[1:])  # (M, U): h
        roots = tf.gather(states, tf.gather(row, tf.reshape(number[:, :1], [-1])))  # (B, U)
        shape = tf.concat([tf.shape(children, tf.int64)[:2], [units]], 0)
        return tf.scatter_nd(place, states, shape), roots  # padding nodes get zeros

    def _propagate(self, start, gates, child, sizes):
        """The inner nodes' states, one step per height, with a written-out backward.

        Args:
            start: `(L, 2U)` [h, c] of the leaves, rows `I .. M - 1`.
            gates: `(I, (3 + K) U)` the inner nodes' input gates (`_spread`), rows
                `0 .. I - 1`; or `(1, (3 + K) U)`, shared, if only leaves read inputs.
            child: `(I, K)` the rows of their children, `M` where there is none.
            sizes: `(steps,)` how many inner rows each step computes, in row order.

        Returns:
            `(M, U)`: `h` of every row.

        All states live in one `(M + 1, 2U)` buffer of [h, c] rows (row `M` stays
        zero: what a missing child reads). Forward, a step gathers its children's
        rows, combines them and writes its own rows in place (the buffers are made
        here and have no other reader), and its gates' activations likewise.
        Backward, all the cell's local derivatives are computed at once from those
        (`_slopes`), so that a step, in reverse order, takes its rows of the
        buffer's gradient, turns them into its children's (`_unwind`, and the
        transpose of `_recurrent`) and adds those to the children's rows, in place
        too. What flows to the gates and the weights needs no loop: with every
        node's gradient known, it is one `_unwind` over all inner nodes and one
        large matmul for the weights. So a step is a few dozen small ops.
        """
        units, dtype = self.units, start.dtype
        inner, leaves, steps = tf.shape(child)[0], tf.shape(start)[0], tf.size(sizes)

        def per_step():  # (A, K) children and (A,) rows of each step
            # (made anew for the backward pass: a SavedModel cannot keep an array
            # from the forward pass for the custom gradient it saves)
            each = _per_step(sizes)
            return each(child), each(tf.range(inner))

        @tf.custom_gradient
        def propagate(start, gates):
            child_at, rows_at = per_step()

            def step(s, states, acts):
                rows = rows_at.read(s)  # (A,)
                kid_h, kid_c = tf.split(tf.gather(states, child_at.read(s)), 2, axis=-1)
                own = gates if self.leaf_inputs_only else tf.gather(gates, rows)
                h, c, act = self._combine(own, kid_h, kid_c)
                states = tf.raw_ops.InplaceUpdate(x=states, i=rows, v=tf.concat([h, c], -1))
                return s + 1, states, tf.raw_ops.InplaceUpdate(x=acts, i=rows, v=act)

            # (every inner row of the buffers is written before it is read)
            empty = tf.raw_ops.Empty(shape=[inner, 2 * units], dtype=dtype)
            buffer = tf.concat([empty, start, tf.zeros([1, 2 * units], dtype)], 0)
            acts = tf.raw_ops.Empty(shape=[inner, tf.shape(gates)[1]], dtype=dtype)
            start_at = (tf.constant(0), buffer, acts)
            _, states, acts = tf.while_loop(lambda s, *_: s < steps, step, start_at)

            def backward(d_h, variables=()):
                kid_h, kid_c = tf.split(tf.gather(states, child), 2, axis=-1)  # (I, K, U)
                slopes = self._slopes(acts, kid_c, states[:inner, units:])  # (I, (4 + 2K) U)
                child_at, rows_at = per_step()

                def back(s, d):
                    rows = rows_at.read(s)  # (A,)
                    d_hc = tf.split(tf.gather(d, rows), 2, axis=-1)  # (A, U)
                    d_pre, d_kid_c = self._unwind(tf.gather(slopes, rows), *d_hc)
                    d_kid_h = self._recurrent_transposed(d_pre, d_kid_c)
                    d_kid = tf.reshape(tf.concat([d_kid_h, d_kid_c], -1), [-1, 2 * units])
                    into = tf.reshape(child_at.read(s), [-1])  # (A K,)
                    return s - 1, tf.raw_ops.InplaceAdd(x=d, i=into, v=d_kid)

                d = tf.pad(d_h, [[0, 1], [0, units]])  # (M + 1, 2U), fresh like `buffer`
                _, d = tf.while_loop(lambda s, _: s >= 0, back, (steps - 1, d))
                d_inner, d_start, _ = tf.split(d, [inner, leaves, 1])
                d_pre, _ = self._unwind(slopes, *tf.split(d_inner, 2, axis=-1))
                with tf.GradientTape(watch_accessed_variables=False) as tape:
                    tape.watch(variables)
                    mixed = self._recurrent(kid_h)
                d_weights = tape.gradient(
                    mixed, variables, output_gradients=d_pre,
                    unconnected_gradients=tf.UnconnectedGradients.ZERO,
                )  # fmt: skip
                if self.leaf_inputs_only:
                    d_pre = tf.reduce_sum(d_pre, axis=0, keepdims=True)
                return (d_start, d_pre), d_weights

            return states[:-1, :units], backward

        return propagate(start, gates)

    @abc.abstractmethod
    def _build_cell(self, units: int) -> None:
        """Makes the recurrent weights."""

    @abc.abstractmethod
    def _recurrent(self, child_h):
        """Maps the children's `h` `(A, K, U)` (zero where there is no child) of one
        step's nodes, linearly, to what they add to the gates before the
        nonlinearity: `(A, (3 + K) U)`, the input, output and update gates' `3U`,
        then a forget gate's `U` per child."""

    def _spread(self, gates, width):
        """`(A, 4U) -> (A, (3 + K) U)`: input gates laid out as `_recurrent`'s output,
        the forget gate's once for each of `width` (K) children."""
        iou, forget = tf.split(gates, [3 * self.units, self.units], axis=-1)
        return tf.concat([iou, tf.tile(forget, [1, width])], -1)

    def _combine(self, gates, child_h, child_c):
        """One step (Tai et al. 2015): from the nodes' input gates `(A, (3 + K) U)`
        (`_spread`) and their children's states `(A, K, U)`, their `h` and `c`
        `(A, U)`, and the gates' activations `(A, (3 + K) U)`: `i, o, u`, then a
        forget gate per child (what the backward pass reads)."""
        units = self.units
        io, u, forget = tf.split(gates + self._recurrent(child_h), [2 * units, units, -1], -1)
        io, u, forget = tf.sigmoid(io), tf.tanh(u), tf.sigmoid(forget)
        i, o = tf.split(io, 2, axis=-1)
        c = i * u + tf.reduce_sum(per_child(forget, units) * child_c, axis=1)
        return o * tf.tanh(c), c, tf.concat([io, u, forget], -1)

    def _slopes(self, act, child_c, c):
        """The cell's local derivatives, which the backward pass multiplies by.

        From the nodes' gate activations `(A, (3 + K) U)`, their children's `c`
        `(A, K, U)` and their own `(A, U)`: `(A, (4 + 2K) U)`, in blocks: `dc/dh`
        (through `tanh`); the input, output and update gates' slopes (per unit of
        `dc`, `dh`, `dc`), the forget gates' slopes, and the forget gates, which
        carry `dc` to the children's `c` (all per unit of `dc`). See `_unwind`.
        """
        units = self.units
        i, o, u, forget = tf.split(act, [units, units, units, -1], axis=-1)  # forget (A, K U)
        tanh_c = tf.tanh(c)
        slopes = [u * i * (1 - i), tanh_c * o * (1 - o), i * (1 - u * u)]
        slopes += [flat(child_c) * forget * (1 - forget), forget]
        return tf.concat([o * (1 - tanh_c * tanh_c), *slopes], -1)

    def _unwind(self, slopes, d_h, d_c):
        """The gradient through the cell, from its `_slopes` and that of its `h` and
        `c` (each `(A, U)`): to the gates' pre-activations `(A, (3 + K) U)` (what the
        input gates and `_recurrent`'s output get) and to the children's `c`
        `(A, K, U)`."""
        units = self.units
        to_c, slopes = tf.split(slopes, [units, -1], axis=-1)  # (A, (3 + 2K) U)
        kids = (_blocks(slopes, units) - 3) // 2
        d_c = d_c + d_h * to_c  # all that reaches c
        d = tf.concat([d_c, d_h, tf.tile(d_c, [1, 1 + 2 * kids])], -1) * slopes
        d_pre, d_child_c = tf.split(d, [(3 + kids) * units, kids * units], axis=-1)
        return d_pre, per_child(d_child_c, units)

    def _recurrent_transposed(self, d_pre, children):
        """The gradient `(A, K, U)` to the children's `h` from that of `_recurrent`'s
        output `d_pre` `(A, (3 + K) U)`: the transposed map. It is linear, so any
        point will do: zeros shaped like `children` `(A, K, U)`."""
        point = tf.zeros_like(children)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(point)
            mixed = self._recurrent(point)  # (pruned: the transpose does not read it)
        return tape.gradient(mixed, point, output_gradients=d_pre)

    def _leaf(self, gates):
        """A node without children: `c = i * u`, `h = o * tanh(c)`, from its input,
        output and update gates `(A, 3U)` (or `(A, 4U)`: the forget gate unused)."""
        units = self.units
        i, o, u, _ = tf.split(gates, [units, units, units, -1], axis=-1)
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


def _heights(kids):
    """`(M,)` height of every node (leaves 0) of the flattened forest `kids` `(M, K)`.

    Pointer doubling, so O(log height) rounds: `above` is each node's ancestor
    `2^r` levels up (or its root), `up` the distance to it, and `height` the
    deepest descendant found so far, within `2^r` levels; each round passes
    `height + up` to `above` and doubles the pointers.

    Example:
    >>> _heights(tf.constant([[1, 2], [3, -1], [-1, -1], [-1, -1]])).numpy()
    array([2, 1, 0, 0], dtype=int32)
    """
    total = tf.shape(kids)[0]
    has_kids = kids >= 0
    node = tf.range(total)
    parent = tf.tensor_scatter_nd_update(
        node, tf.boolean_mask(kids, has_kids)[:, None],
        tf.boolean_mask(tf.tile(node[:, None], [1, tf.shape(kids)[1]]), has_kids),
    )  # fmt: skip
    start = (parent, tf.cast(parent != node, tf.int32), tf.zeros_like(node), tf.constant(True))

    def double(above, up, height, _):
        reach = tf.math.unsorted_segment_max(height + up, above, total)
        deeper = tf.maximum(height, reach)
        higher = tf.gather(above, above)
        changed = tf.reduce_any(higher != above) | tf.reduce_any(deeper != height)
        return higher, up + tf.gather(up, above), deeper, changed

    *_, height, _ = tf.while_loop(lambda *state: state[-1], double, start)
    return height


def per_child(x, units: int):
    """`(A, K U) -> (A, K, U)` (with a static `K` when it is known: fewer ops)."""
    width = x.shape[-1]
    return tf.reshape(x, [-1, width // units, units] if width else [tf.shape(x)[0], -1, units])


def flat(x):
    """`(A, K, U) -> (A, K U)` (with static sizes when they are known: fewer ops)."""
    inner = x.shape[1:].num_elements()
    return tf.reshape(x, [-1, inner] if inner else [tf.shape(x)[0], -1])


def _blocks(x, units: int):
    """How many `U`-wide blocks the last axis of `x` holds (a number when static)."""
    width = x.shape[-1]
    return width // units if width is not None else tf.shape(x)[-1] // units


def _per_step(sizes):
    """`split(value)`: a `TensorArray` of `value`'s consecutive blocks of `sizes` `(S,)`
    rows, one per step (and an empty one more: an array cannot have zero parts)."""
    lengths = tf.concat([sizes, [0]], 0)

    def split(value):
        block = tf.TensorShape([None]).concatenate(value.shape[1:])  # static but for rows
        array = tf.TensorArray(value.dtype, tf.size(lengths), element_shape=block)
        return array.split(value, lengths)

    return split
