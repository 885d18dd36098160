"""The Tree-LSTM's training step against a Keras `LSTM` and against one tree at a time.

On one batch of generated ListOps trees (64 trees, hidden 128), a full training step
(forward, backward, Adam update) of: the level-batched `NaryTreeLSTM` over the gold
binary trees; a Keras `LSTM` over the same tokens in reading order (the flattened
tree); and per-tree processing, the same Tree-LSTM given one tree at a time, its
gradients summed over the 64 trees before the one update. Targets (issue 5): the
batched Tree-LSTM takes no longer than the LSTM, and at least 20x less than per-tree.
Both for trees of any length and for expressions of at most 100 tokens.
"""

import keras
import tensorflow as tf

from benchmarks.report import Row
from benchmarks.timing import seconds
from models import NaryTreeLSTM
from tasks import trees
from tasks.classify import listops

VOCABULARY = [*listops.OPERATORS, listops.END, *map(str, listops.DIGITS)]


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


def _per_tree_step(model: keras.Model, expressions: list[str], labels):
    """A training step that computes gradients one tree at a time (each parsed alone,
    so without padding), sums them, and applies one update."""
    singles = [_parse([x])[:2] for x in expressions]
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    spec = [tf.TensorSpec([1, None], tf.int32), tf.TensorSpec([1, None, 2], tf.int32),
            tf.TensorSpec([1], tf.int32)]  # fmt: skip

    @tf.function(input_signature=spec)
    def gradients(tokens, children, label):
        with tf.GradientTape() as tape:
            loss = loss_fn(label, model([tokens, children], training=True))
        return [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]

    def step():
        total = None
        for (tokens, children), label in zip(singles, labels, strict=True):
            grads = gradients(tokens, children, label[None])
            total = grads if total is None else [a + b for a, b in zip(total, grads, strict=True)]
        model.optimizer.apply(total, model.trainable_variables)

    return step


def _case(name: str, size: int, units: int, max_length: int | None, repeats: int) -> list[Row]:
    examples = listops.generate(size, seed=5, max_length=max_length)
    expressions = [x for _, x in examples]
    labels = tf.constant([y for y, _ in examples], tf.int32)
    tokens, children, words = _parse(expressions)
    tree, lstm = _tree_model(units), _lstm_model(units)
    batched = seconds(lambda: tree.train_on_batch([tokens, children], labels), repeats)
    sequential = seconds(lambda: lstm.train_on_batch(words, labels), repeats)
    one_by_one = seconds(_per_tree_step(_tree_model(units), expressions, labels), 1)
    n_words = float(tf.reduce_sum(tf.cast(words != 0, tf.float32)))
    n_nodes = float(tf.reduce_sum(tf.cast(NaryTreeLSTM.node_mask(children), tf.float32)))
    case = f"ListOps {name}, {size} trees, hidden {units}"
    return [
        Row("tree_lstm", f"{case}: Tree-LSTM vs LSTM",
            {"tree step s": batched, "LSTM step s": sequential,
             "tree/LSTM time": batched / sequential, "tree tokens/s": n_words / batched,
             "tree nodes/s": n_nodes / batched, "LSTM tokens/s": n_words / sequential},
            "tree/LSTM time <= 1", batched <= sequential),
        Row("tree_lstm", f"{case}: batched vs per-tree",
            {"per-tree step s": one_by_one, "speed-up": one_by_one / batched,
             "per-tree tokens/s": n_words / one_by_one},
            "speed-up >= 20", one_by_one >= 20 * batched),
    ]  # fmt: skip


def run(quick: bool = False) -> list[Row]:
    """Rows for all lengths and for expressions of at most 100 tokens."""
    size, units, repeats = (8, 16, 1) if quick else (64, 128, 5)
    return [row for name, limit in (("all lengths", None), ("<= 100 tokens", 100))
            for row in _case(name, size, units, limit, repeats)]  # fmt: skip
