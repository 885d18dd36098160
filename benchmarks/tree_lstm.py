"""The Tree-LSTM's training step against a Keras `LSTM` and against one tree at a time.

On one batch of generated ListOps trees (64 trees, hidden 128), a full training step
(forward, backward, Adam update) of: the level-batched `NaryTreeLSTM` over the gold
binary trees; a Keras `LSTM` over the same tokens in reading order (the flattened
tree); and per-tree processing, two ways, each with its gradients summed over the
64 trees before the one update. Node by node, as the TF1-era and treelstm.pytorch
Tree-LSTMs do it: one compiled call per tree, a `tf.while_loop` over its nodes in
post-order, each step computing one node from its children's states (the same cell
and weights). Level-batched: the same `NaryTreeLSTM` given one tree at a time.
Targets (issue 5): the batched Tree-LSTM takes no longer than the LSTM, and at least
20x less than per-tree processing, node by node (the issue's "one tree or one node
at a time"). Both for trees of any length and for expressions of at most 100 tokens.

With `DGL_PYTHON` set, one more row times the batched Tree-LSTM people use in the
PyTorch world on the same trees: DGL's `tree_lstm` example (`benchmarks/
dgl_tree_lstm.py`), the same full training step with Adam, run by that interpreter.
DGL cannot share this environment: its last release on PyPI (2.1) needs PyTorch 2.2,
built against NumPy 1, and TensorFlow 2.21 needs NumPy 2. So `DGL_PYTHON` names a
Python that has `dgl`, `torch` and NumPy 1 (README, "Benchmarks"); without it the
row is left out.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from benchmarks import dgl_tree_lstm
from benchmarks.report import Row
from benchmarks.timing import seconds
from models import NaryTreeLSTM
from tasks import trees
from tasks.classify import listops

VOCABULARY = [*listops.OPERATORS, listops.END, *map(str, listops.DIGITS)]
NODE_BY_NODE, LEVEL_BATCHED = "per-tree (node by node)", "per-tree (level-batched)"


def _parse(expressions: list[str]):
    """-> node tokens (B, nodes), children (B, nodes, 2), words in order (B, words)."""
    parsed = trees.parse(tf.constant(expressions), labelled=False, arity=2)
    lookup = keras.layers.StringLookup(vocabulary=VOCABULARY, mask_token="")
    ids = [tf.cast(lookup(parsed[k]), tf.int32) for k in ("tokens", "leaves")]
    return ids[0], parsed["children"], ids[1]


def _tree_model(units: int) -> keras.Model:
    tokens = keras.Input((None,), dtype="int32")
    children = keras.Input((None, 2), dtype="int32")
    embedded = keras.layers.Embedding(len(VOCABULARY) + 2, units)(tokens)
    _, root = NaryTreeLSTM(units, arity=2, leaf_inputs_only=True)(embedded, children)
    return _compiled(keras.Model([tokens, children], keras.layers.Dense(10)(root)))


def _lstm_model(units: int) -> keras.Model:
    words = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(len(VOCABULARY) + 2, units, mask_zero=True)(words)
    return _compiled(keras.Model(words, keras.layers.Dense(10)(keras.layers.LSTM(units)(embedded))))


def _compiled(model: keras.Model) -> keras.Model:
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.Adam(1e-3), loss)
    return model


def post_order(children: np.ndarray) -> np.ndarray:
    """`(N,)` the nodes of one tree, children `(N, K)` (root 0), children first.

    Example:
    >>> post_order(np.array([[1, 4], [2, 3], [-1, -1], [-1, -1], [-1, -1]])).tolist()
    [2, 3, 1, 4, 0]
    """
    order, stack = [], [(0, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        else:
            stack.append((node, True))
            stack += [(int(k), False) for k in reversed(children[node]) if k >= 0]
    return np.array(order, np.int32)


def node_by_node(model: keras.Model):
    """The tree model's logits for one tree, computed one node at a time.

    Returns `logits(tokens (N,), children (N, 2), order (N,)) -> (1, 10)`: the nodes'
    input gates in one matmul, then a `tf.while_loop` over the nodes in `order`
    (children first) whose step gathers the node's children's [h, c] from a
    `TensorArray` (a missing child reads the zero row `N`), computes the node with
    the layer's own cell and writes it; then the root's `h` through the classifier.
    """
    embedding, tree, dense = (next(x for x in model.layers if isinstance(x, kind))
                              for kind in (keras.layers.Embedding, NaryTreeLSTM,
                                           keras.layers.Dense))  # fmt: skip
    units = tree.units

    def logits(tokens, children, order):
        total = tf.shape(tokens)[0]
        is_leaf = tf.reduce_all(children < 0, axis=1)
        x = embedding(tokens) * tf.cast(is_leaf, tf.float32)[:, None]  # leaf inputs only
        gates = tree._spread(tf.matmul(x, tree.kernel) + tree.bias, 2)  # (N, 5U)
        children = tf.where(children >= 0, children, total)  # (N, 2); N: the zero row
        states = tf.TensorArray(tf.float32, size=total + 1, element_shape=[2 * units])
        states = states.write(total, tf.zeros([2 * units]))

        def step(i, states):
            node = order[i]
            kid = states.gather(children[node])[None]  # (1, 2, 2U)
            h, c, _ = tree._combine(gates[node][None], kid[..., :units], kid[..., units:])
            return i + 1, states.write(node, tf.concat([h, c], -1)[0])

        _, states = tf.while_loop(lambda i, _: i < total, step, (tf.constant(0), states))
        return dense(states.read(0)[None, :units])

    return logits


def _per_tree_step(model: keras.Model, expressions: list[str], labels, node_wise: bool):
    """A training step that computes gradients one tree at a time (each parsed alone,
    so without padding), sums them, and applies one update. Each tree is one call of
    one compiled function: the model itself, or `node_by_node`."""
    singles = [_parse([x])[:2] for x in expressions]
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if node_wise:
        logits = node_by_node(model)
        singles = [(t[0], c[0], post_order(c[0].numpy())) for t, c in singles]
        spec = [tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, 2], tf.int32),
                tf.TensorSpec([None], tf.int32)]  # fmt: skip
    else:

        def logits(tokens, children):
            return model([tokens, children], training=True)

        spec = [tf.TensorSpec([1, None], tf.int32), tf.TensorSpec([1, None, 2], tf.int32)]

    @tf.function(input_signature=[*spec, tf.TensorSpec([1], tf.int32)])
    def gradients(*tree_and_label):
        with tf.GradientTape() as tape:
            loss = loss_fn(tree_and_label[-1], logits(*tree_and_label[:-1]))
        return [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]

    def step():
        total = None
        for tree, label in zip(singles, labels, strict=True):
            grads = gradients(*tree, label[None])
            total = grads if total is None else [a + b for a, b in zip(total, grads, strict=True)]
        model.optimizer.apply(total, model.trainable_variables)

    return step


def _case(name: str, size: int, units: int, max_length: int | None, repeats: int,
          per_tree_repeats: int) -> list[Row]:  # fmt: skip
    examples = listops.generate(size, seed=5, max_length=max_length)
    expressions = [x for _, x in examples]
    labels = tf.constant([y for y, _ in examples], tf.int32)
    tokens, children, words = _parse(expressions)
    tree, lstm = _tree_model(units), _lstm_model(units)

    def tree_step():
        return tree.train_on_batch([tokens, children], labels)

    def lstm_step():
        return lstm.train_on_batch(words, labels)

    batched = sequential = float("inf")
    for _ in range(2):  # interleaved: a disturbance of the machine hits both alike
        batched = min(batched, seconds(tree_step, repeats))
        sequential = min(sequential, seconds(lstm_step, repeats))
    per_tree = {way: seconds(_per_tree_step(_tree_model(units), expressions, labels, nodes),
                             per_tree_repeats)
                for way, nodes in ((NODE_BY_NODE, True), (LEVEL_BATCHED, False))}  # fmt: skip
    case = f"ListOps {name}, {size} trees, hidden {units}"
    peers = _dgl_rows(case, tokens, children, labels, units, repeats, batched)
    n_words = float(tf.reduce_sum(tf.cast(words != 0, tf.float32)))
    n_nodes = float(tf.reduce_sum(tf.cast(NaryTreeLSTM.node_mask(children), tf.float32)))
    versus = {}
    for way, time in per_tree.items():
        versus |= {f"{way} step s": time, f"x vs {way}": time / batched,
                   f"{way} tokens/s": n_words / time}  # fmt: skip
    return [
        Row("tree_lstm", f"{case}: Tree-LSTM vs LSTM",
            {"tree step s": batched, "LSTM step s": sequential,
             "tree/LSTM time": batched / sequential, "tree tokens/s": n_words / batched,
             "tree nodes/s": n_nodes / batched, "LSTM tokens/s": n_words / sequential},
            "tree/LSTM time <= 1", batched <= sequential),
        Row("tree_lstm", f"{case}: batched vs per-tree", versus,
            f"x vs {NODE_BY_NODE} >= 20", per_tree[NODE_BY_NODE] >= 20 * batched,
            note=f"target against {NODE_BY_NODE}, the issue's per-tree processing; "
                 f"{LEVEL_BATCHED} is this layer given one tree at a time"),
        *peers,
    ]  # fmt: skip


def _dgl_rows(case: str, tokens, children, labels, units: int, repeats: int,
              batched: float) -> list[Row]:  # fmt: skip
    """The DGL row (see the module docstring), or none without `DGL_PYTHON`."""
    python = os.environ.get("DGL_PYTHON")
    if not python:
        return []
    counts = NaryTreeLSTM.node_mask(children).numpy().sum(axis=1)
    with tempfile.TemporaryDirectory() as tmp:
        trees = Path(tmp) / "trees.npz"
        np.savez(trees, tokens=tokens.numpy(), children=children.numpy(), counts=counts,
                 labels=labels.numpy())  # fmt: skip
        command = [python, "-m", dgl_tree_lstm.__name__, str(trees), str(units),
                   str(len(VOCABULARY) + 2), str(repeats)]  # fmt: skip
        root = Path(dgl_tree_lstm.__file__).parents[1]  # the project: `benchmarks` imports
        out = subprocess.run(command, capture_output=True, text=True, cwd=root)
    if out.returncode:
        raise RuntimeError(f"DGL_PYTHON={python}: {' '.join(command[1:])} failed:\n"
                           f"{out.stderr[-2000:]}")  # fmt: skip
    peer = json.loads(out.stdout.splitlines()[-1])
    return [Row("tree_lstm", f"{case}: Tree-LSTM vs DGL's tree_lstm",
                {"DGL step s": peer["seconds"], "x vs DGL": peer["seconds"] / batched},
                "x vs DGL >= 1", peer["seconds"] >= batched, note=peer["versions"])]  # fmt: skip


def run(quick: bool = False) -> list[Row]:
    """Rows for all lengths and for expressions of at most 100 tokens."""
    size, units, repeats, per_tree_repeats = (8, 16, 1, 1) if quick else (64, 128, 5, 2)
    return [row for name, limit in (("all lengths", None), ("<= 100 tokens", 100))
            for row in _case(name, size, units, limit, repeats, per_tree_repeats)]  # fmt: skip
