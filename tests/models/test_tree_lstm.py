"""Both Tree-LSTMs against a plain per-node recursive reference (outputs and gradients)."""

import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from models import ChildSumTreeLSTM, NaryTreeLSTM
from tests.models.layer_test import run_layer_test

UNITS, FEATURES = 5, 3


def _random_tree(rng: random.Random, size: int, arity: int) -> list[list[int]]:
    """Children lists of a random tree with `size` nodes; node 0 is the root and the
    other nodes are numbered in a random order (not pre-order)."""
    order = [0] + rng.sample(range(1, size), size - 1)
    slots = {0: list(range(arity))}
    children = [[-1] * arity for _ in range(size)]
    for node in order[1:]:
        parent = rng.choice([p for p, free in slots.items() if free])
        position = slots[parent].pop(rng.randrange(len(slots[parent])))
        children[parent][position] = node
        slots[node] = list(range(arity))
    return children


CHAIN = [[1], [2], [3], [-1]]  # height 3, one child each
WIDE = [[1, 2, 3, 4, 5, 6], *[[-1] * 6] * 6]  # one node with six children
LEAF = [[-1]]


def _batch(trees: list[list[list[int]]], seed: int = 0):
    """Pads trees into `(features (B, N, F), children (B, N, K))` with junk features."""
    nodes = max(len(t) for t in trees)
    width = max(len(kids) for t in trees for kids in t)
    children = np.full((len(trees), nodes, width), -1, "int32")
    for b, tree in enumerate(trees):
        for n, kids in enumerate(tree):
            children[b, n, : len(kids)] = kids
    features = np.random.default_rng(seed).normal(size=(len(trees), nodes, FEATURES))
    return features.astype("float32"), children


def _reference(layer, features, children):
    """Every node's `h` by plain recursion over one node at a time (Tai et al. 2015)."""
    units = layer.units
    W, b = layer.kernel, layer.bias
    gate = {name: slice(k * units, (k + 1) * units) for k, name in enumerate("iouf")}

    def node(x, kids, n):
        present = [k for k in kids[n] if k >= 0]
        states = {k: node(x, kids, k) for k in present}
        inputs = 0.0 if layer.leaf_inputs_only and present else x[n : n + 1] @ W
        pre = {g: inputs[:, s] + b[s] if not isinstance(inputs, float) else b[s]
               for g, s in gate.items()}  # fmt: skip
        if isinstance(layer, NaryTreeLSTM):
            U = layer.recurrent_kernel  # rows: child position blocks; cols: i o u f_1..f_N
            for pos, k in enumerate(kids[n]):
                if k >= 0:
                    rows = slice(pos * units, (pos + 1) * units)
                    for g in "iou":
                        pre[g] = pre[g] + states[k][0] @ U[rows, gate[g]]
            forgets = {}
            for pos, k in enumerate(kids[n]):
                if k < 0:
                    continue
                f = pre["f"]
                for other, j in enumerate(kids[n]):
                    if j >= 0:
                        cols = slice((3 + pos) * units, (4 + pos) * units)
                        f = f + states[j][0] @ U[other * units : (other + 1) * units, cols]
                forgets[k] = tf.sigmoid(f)
        else:
            h_sum = sum((states[k][0] for k in present), tf.zeros((1, units)))
            for g in "iou":
                pre[g] = pre[g] + h_sum @ layer.recurrent_kernel[:, gate[g]]
            forgets = {k: tf.sigmoid(pre["f"] + states[k][0] @ layer.forget_kernel)
                       for k in present}  # fmt: skip
        c = tf.sigmoid(pre["i"]) * tf.tanh(pre["u"])
        c = c + sum((forgets[k] * states[k][1] for k in present), tf.zeros((1, units)))
        return tf.sigmoid(pre["o"]) * tf.tanh(c), c

    return [
        [node(features[t], children[t], n)[0][0] for n in range(len(children[t]))]
        for t in range(len(children))
    ]


def _layer(kind: str, leaf_inputs_only: bool = False):
    if kind == "nary":
        layer = NaryTreeLSTM(UNITS, arity=3, leaf_inputs_only=leaf_inputs_only)
    else:
        layer = ChildSumTreeLSTM(UNITS, leaf_inputs_only=leaf_inputs_only)
    layer.build((None, None, FEATURES), (None, None, 3))
    # Random biases and larger weights, so every term of the equations shows.
    for weight in layer.weights:
        weight.assign(np.random.default_rng(len(weight.name)).normal(0, 0.5, weight.shape))
    return layer


def _mixed_trees(arity: int) -> list:
    rng = random.Random(arity)
    trees = [_random_tree(rng, size, arity) for size in (2, 5, 9, 14, 23)]
    chain = [kids + [-1] * (arity - 1) for kids in CHAIN]
    return [[[-1] * arity], chain, *trees]


@pytest.mark.parametrize("kind", ["childsum", "nary"])
@pytest.mark.parametrize("leaf_inputs_only", [False, True])
def test_matches_the_recursive_reference_outputs_and_gradients(kind, leaf_inputs_only):
    layer = _layer(kind, leaf_inputs_only)
    trees = _mixed_trees(3)
    if kind == "childsum":
        trees.append(WIDE)
    features, children = _batch(trees)
    features = tf.constant(features)

    @tf.function  # the trained path: traced once, in a graph
    def batched():
        with tf.GradientTape() as tape:
            tape.watch(features)
            nodes, roots = layer(features, children)
            loss = tf.reduce_sum(nodes * tf.sin(tf.range(UNITS, dtype=tf.float32)))
        return nodes, roots, tape.gradient(loss, [features, *layer.trainable_weights])

    with tf.GradientTape() as tape:
        tape.watch(features)
        expected = _reference(layer, features, [[list(k) for k in t] for t in trees])
        loss = sum(tf.reduce_sum(h * tf.sin(tf.range(UNITS, dtype=tf.float32)))
                   for tree in expected for h in tree)  # fmt: skip
    want_grads = tape.gradient(loss, [features, *layer.trainable_weights])
    nodes, roots, grads = batched()
    for t, tree in enumerate(trees):
        np.testing.assert_allclose(nodes[t, : len(tree)], np.stack(expected[t]), atol=1e-5)
        np.testing.assert_array_equal(nodes[t, len(tree) :], 0.0)  # padding nodes
        np.testing.assert_allclose(roots[t], expected[t][0], atol=1e-5)
    for got, want in zip(grads, want_grads, strict=True):
        np.testing.assert_allclose(tf.convert_to_tensor(got), want, atol=1e-4)


@pytest.mark.parametrize("kind", ["childsum", "nary"])
def test_children_narrower_than_arity_and_of_a_width_unknown_when_traced(kind):
    layer = _layer(kind)  # N-ary: arity 3, given at most 2 children
    rng = random.Random(3)
    trees = [_random_tree(rng, size, 2) for size in (3, 8, 13)]
    features, children = _batch(trees)
    features, weights = tf.constant(features), tf.sin(tf.range(UNITS, dtype=tf.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.int32)])
    def batched(children):
        with tf.GradientTape() as tape:
            tape.watch(features)
            nodes, _ = layer(features, children)
            loss = tf.reduce_sum(nodes * weights)
        return nodes, tape.gradient(loss, [features, *layer.trainable_weights])

    with tf.GradientTape() as tape:
        tape.watch(features)
        expected = _reference(layer, features, [[list(k) for k in t] for t in trees])
        loss = sum(tf.reduce_sum(h * weights) for tree in expected for h in tree)
    want = tape.gradient(loss, [features, *layer.trainable_weights])
    nodes, grads = batched(children)
    for t, tree in enumerate(trees):
        np.testing.assert_allclose(nodes[t, : len(tree)], np.stack(expected[t]), atol=1e-5)
    for got, wanted in zip(grads, want, strict=True):
        np.testing.assert_allclose(tf.convert_to_tensor(got), wanted, atol=1e-4)


@pytest.mark.parametrize("kind", ["childsum", "nary"])
def test_padding_and_batch_company_never_change_a_tree(kind):
    layer = _layer(kind)
    tree = _random_tree(random.Random(7), 6, 3)
    features, children = _batch([tree])
    alone, _ = layer(features, children)
    big = _random_tree(random.Random(8), 30, 3)
    batch_features, batch_children = _batch([big, tree], seed=1)
    batch_features[1, : len(tree)] = features[0]  # same tree; junk in its padding nodes
    together, roots = layer(batch_features, batch_children)
    np.testing.assert_allclose(together[1, : len(tree)], alone[0], atol=1e-6)
    np.testing.assert_allclose(roots[1], alone[0, 0], atol=1e-6)


def test_one_step_per_level_of_the_tallest_tree():
    class Counting(ChildSumTreeLSTM):
        calls = []

        def _combine(self, gates, *children):
            self.calls.append(int(tf.shape(gates)[0]))  # eager: once per loop step
            return super()._combine(gates, *children)

    layer = Counting(UNITS)
    chain = [kids + [-1] * 5 for kids in CHAIN]  # 3 inner nodes, height 3
    features, children = _batch([chain, WIDE, LEAF, chain])
    layer(features, children)
    assert layer.calls == [3, 2, 2]  # both chains' and the wide node's level 1, then 2, 3


def test_empty_batch_and_leaf_only_batch():
    layer = _layer("childsum")
    for nodes in (4, 0):
        out = layer(np.zeros((0, nodes, FEATURES), "float32"), np.zeros((0, nodes, 2), "int32"))
        assert out[0].shape == (0, nodes, UNITS) and out[1].shape == (0, UNITS)
    features, children = _batch([LEAF, LEAF])
    nodes, roots = layer(features, children)
    np.testing.assert_allclose(roots, nodes[:, 0])


def test_nary_rejects_nodes_wider_than_its_arity():
    layer = NaryTreeLSTM(UNITS, arity=2)
    features, children = _batch([[[1, 2, 3], [-1] * 3, [-1] * 3, [-1] * 3]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="more children than arity=2"):
        layer(features, children)


@pytest.mark.parametrize(
    "cls, kwargs",
    [(ChildSumTreeLSTM, {"leaf_inputs_only": True}), (NaryTreeLSTM, {"arity": 3, "dropout": 0.2})],
)
def test_layer_contract(tmp_path, cls, kwargs):
    features, children = _batch(_mixed_trees(3)[:3])
    nodes, roots = run_layer_test(
        cls, {"units": UNITS, **kwargs}, {"features": features, "children": children}, tmp_path,
        trainable_weights=4 if cls is ChildSumTreeLSTM else 3,  # kernel, bias, recurrent (forget)
    )  # fmt: skip
    assert nodes.shape == (3, children.shape[1], UNITS) and roots.shape == (3, UNITS)


def test_trains_inside_fit():
    features, children = _batch(_mixed_trees(2))
    feats = keras.Input((None, FEATURES))
    kids = keras.Input((None, 2), dtype="int32")
    _, roots = NaryTreeLSTM(UNITS, arity=2)(feats, kids)
    model = keras.Model([feats, kids], keras.layers.Dense(1)(roots))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    target = (np.arange(len(features)) % 2).astype("float32")[:, None]
    losses = model.fit([features, children], target, epochs=30, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]
