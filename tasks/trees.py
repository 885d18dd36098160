"""Bracketed trees parsed inside the graph: the same code in tf.data and in a SavedModel.

Two notations: ListOps' unlabelled binary bracketing, `( ( [MAX 2 ) 9 )`, where every
`( ... )` is a node and every other token a leaf; and the labelled PTB bracketing of
the Stanford Sentiment Treebank and of parse trees, `(3 (2 It) (4 works))`, where the
token after `(` is the node's label and a pre-terminal `(2 It)` is the leaf `It`.
Nodes are numbered in pre-order, so node 0 is the root, and `children` holds, per
node, its children's numbers in order (`-1` padding): the structure the Tree-LSTMs
of `models/` read. Parsing is vectorised over the batch with core TF ops (sort,
searchsorted and scatter over token positions), without a Python loop per tree.
"""

import re

import numpy as np
import tensorflow as tf

from common.errors import DataError

ERRORS = (
    "",
    "empty tree",
    "unbalanced brackets",
    "more than one tree (text outside the outer brackets)",
    "empty brackets ()",
    "a node without a label",
    "a node with more children than the model takes",
    "too many tokens (a tree may have 20,000; a batch's rows, 2,000,000 padded in all)",
)
MAX_TOKENS = 20000  # a tree's
MAX_CELLS = 2_000_000  # a batch's rows x its longest row's tokens: what parsing allocates


def _shift(x, by: int, fill):
    """`x[:, i - by]` (right shift for `by > 0`, left for `by < 0`), `fill` outside."""
    pad = tf.fill([tf.shape(x)[0], abs(by)], tf.constant(fill, x.dtype))
    if by > 0:
        return tf.concat([pad, x], 1)[:, : tf.shape(x)[1]]
    return tf.concat([x, pad], 1)[:, -by:]


def _compact(keep, *rows):
    """Keeps the `keep` entries of each `(B, L)` row tensor, left-aligned, padded with
    `""` (strings) or -1 (numbers)."""
    return [tf.ragged.boolean_mask(r, keep).to_tensor(default_value="" if r.dtype == tf.string
                                                      else -1) for r in rows]  # fmt: skip


def parse(strings, labelled: bool, arity: int | None = None,
          max_tokens: int = MAX_TOKENS) -> dict:  # fmt: skip
    """Parses a `(batch,)` string tensor of bracketed trees.

    Returns a dict of tensors:
      `tokens` (B, N) string: each node's word; `""` on inner nodes and padding.
      `labels` (B, N) string: each node's label (labelled notation), else `""`.
      `children` (B, N, K) int32: child node numbers in order, `-1` for none;
        `K = arity` when given (a wider node is an error), else the widest node.
      `leaves` (B, L) string: the words in reading order (the flattened sentence).
      `error` (B,) int32: an index into `ERRORS`, 0 when the tree is fine. A row
        with an error holds one empty leaf, so a batch always runs.

    Example:
    >>> out = parse(tf.constant(["( ( [MAX 2 ) 9 )", "(4 (2 very) (4 good))"][:1]), False)
    >>> out["tokens"].numpy().tolist(), out["children"].numpy().tolist()
    ([[b'', b'', b'[MAX', b'2', b'9']], [[[1, 4], [2, 3], [-1, -1], [-1, -1], [-1, -1]]])
    >>> parse(tf.constant(["(4 (2 very) (4 good))"]), True)["labels"].numpy().tolist()
    [[b'4', b'2', b'4']]
    """
    strings = tf.convert_to_tensor(strings, tf.string)
    split = tf.strings.split(tf.strings.regex_replace(strings, r"([()])", r" \1 "))
    # Each row pads to the longest, so a batch's work is its rows times that: one long
    # tree among many short ones would cost that many long ones. Rows over the share
    # of MAX_CELLS that the batch size leaves are refused (emptied before padding).
    rows = tf.cast(tf.maximum(tf.shape(strings)[0], 1), tf.int64)
    limit = tf.minimum(tf.constant(max_tokens, tf.int64), tf.maximum(MAX_CELLS // rows, 1))
    too_long = split.row_lengths() > limit
    error = tf.where(too_long, 7, 0)
    # (the kept rows gathered whole: ragged masks go through dense (rows x longest) ones)
    kept = tf.gather(split, tf.where(~too_long)[:, 0]).flat_values
    lengths = tf.where(too_long, tf.zeros_like(split.row_lengths()), split.row_lengths())
    split = tf.RaggedTensor.from_row_lengths(kept, lengths)
    t = split.to_tensor(default_value="")  # (B, L) tokens
    real = t != ""
    is_open = t == "("
    labels = tf.fill(tf.shape(t), "")
    if labelled:  # the token after "(" is the node's label: move it onto the "("
        is_label = _shift(is_open, 1, False) & real
        bad = is_label & ((t == "(") | (t == ")"))
        error = _first_error(error, tf.reduce_any(bad, 1), 5)
        labels = tf.where(is_open, _shift(t, -1, ""), "")
        t, labels = _compact(real & ~is_label, t, labels)
    # A bracket around one word, "( w )", is that word (a pre-terminal).
    is_open, is_close = t == "(", t == ")"
    is_word = (t != "") & ~is_open & ~is_close
    wrapped = is_open & _shift(is_word, -1, False) & _shift(is_close, -2, False)
    labels = tf.where(_shift(wrapped, 1, False), _shift(labels, 1, ""), labels)
    t, labels = _compact((t != "") & ~wrapped & ~_shift(wrapped, 2, False), t, labels)

    is_open, is_close = t == "(", t == ")"
    real = t != ""
    is_node = real & ~is_close
    step = tf.cast(is_open, tf.int32) - tf.cast(is_close, tf.int32)
    after = tf.cumsum(step, axis=1)  # depth after each token
    before = after - step  # depth before it: a node's parent sits at this depth
    count = tf.reduce_sum(tf.cast(real, tf.int32), 1)
    last = tf.reduce_sum(step, 1)  # the depth after the last token
    error = _first_error(error, count == 0, 1)
    error = _first_error(error, tf.reduce_any(real & (after < 0), 1) | (last != 0), 2)
    tops = tf.reduce_sum(tf.cast(is_node & (before == 0), tf.int32), 1)
    error = _first_error(error, tops > 1, 3)
    error = _first_error(error, tf.reduce_any(is_open & _shift(is_close, -1, False), 1), 4)

    # Parent of a node at position i: the last "(" before i whose depth after it is
    # depth-before(i). Keys depth * span + position sort the "(" by depth, then
    # position; one searchsorted per node finds it.
    length = tf.shape(t)[1]
    span = tf.cast(length + 1, tf.int64)
    position = tf.range(length, dtype=tf.int64)[None, :]
    keys = tf.where(is_open, tf.cast(after, tf.int64) * span + position, tf.int64.max)
    keys = tf.sort(keys, axis=1)
    query = tf.cast(before, tf.int64) * span + position
    at = tf.searchsorted(keys, query, side="left") - 1
    found = tf.gather(keys, tf.maximum(at, 0), batch_dims=1)
    has_parent = is_node & (before > 0) & (at >= 0) & (found // span == tf.cast(before, tf.int64))
    number = tf.cumsum(tf.cast(is_node, tf.int32), axis=1) - 1  # node number of each token
    parent_pos = tf.cast(found % span, tf.int32)
    parent = tf.where(has_parent, tf.gather(number, tf.minimum(parent_pos, length - 1),
                                            batch_dims=1), -1)  # fmt: skip
    tokens, labels, parent = _compact(is_node, tf.where(is_open, "", t), labels, parent)
    leaves = _compact(real & ~is_open & ~is_close, t)[0]

    children, error = _children(parent, arity, error)
    broken = error > 0
    return {
        "tokens": _widen(tf.where(broken[:, None], "", tokens), ""),
        "labels": _widen(tf.where(broken[:, None], "", labels), ""),
        "children": _widen(tf.where(broken[:, None, None], -1, children), -1),
        "leaves": _widen(tf.where(broken[:, None], "", leaves), ""),
        "error": error,
    }


def _widen(x, fill):
    """`x` padded with `fill` to one column at least (a batch of empty trees still runs)."""
    more = tf.maximum(1 - tf.shape(x)[1], 0)
    return tf.pad(x, [[0, 0], [0, more]] + [[0, 0]] * (x.shape.rank - 2), constant_values=fill)


def _first_error(error, condition, code: int):
    """Keeps an earlier error; sets `code` where there is none yet and `condition`."""
    return tf.where((error == 0) & condition, code, error)


def _children(parent, arity: int | None, error):
    """Per-node parents `(B, N)` (-1 for none) -> children `(B, N, K)` in order."""
    nodes = tf.shape(parent)[1]
    width = tf.cast(nodes + 1, tf.int64)
    node = tf.range(nodes, dtype=tf.int64)[None, :]
    has_parent = parent >= 0
    keys = tf.where(has_parent, tf.cast(parent, tf.int64) * width + node, tf.int64.max)
    ordered = tf.sort(keys, axis=1)
    first = tf.searchsorted(ordered, tf.cast(tf.maximum(parent, 0), tf.int64) * width)
    rank = tf.cast(tf.searchsorted(ordered, keys) - first, tf.int32)  # among siblings
    rank = tf.where(has_parent, rank, -1)
    if arity is None:
        k = tf.maximum(tf.reduce_max(rank) + 1, 1)  # an empty batch still gets K = 1
    else:
        k = arity
        error = _first_error(error, tf.reduce_any(rank >= arity, 1), 6)
    fits = has_parent & (rank < k)
    where = tf.where(fits)  # (V, 2): tree, node
    index = tf.stack([where[:, 0], tf.cast(tf.gather_nd(parent, where), tf.int64),
                      tf.cast(tf.gather_nd(rank, where), tf.int64)], axis=1)  # fmt: skip
    batch = tf.shape(parent, tf.int64)[0]
    children = tf.tensor_scatter_nd_update(
        tf.fill(tf.stack([batch, tf.cast(nodes, tf.int64), tf.cast(k, tf.int64)]), -1),
        index, tf.cast(where[:, 1], tf.int32),
    )  # fmt: skip
    return children, error


def check(strings: list[str], origins: list[str], labelled: bool, chunk: int = 512,
          arity: int | None = None):  # fmt: skip
    """Parses every tree (as a model of `arity` reads it) and returns each one's leaves
    (its words, in order).

    Raises `DataError` naming the first bad tree's origin (`file:line`) and what is
    wrong with it, so a data file is never half read.

    Example:
    >>> check(["( ( [MAX 2 ) 9 )"], ["a.tsv:1"], labelled=False)
    [['[MAX', '2', '9']]
    >>> check(["( 2"], ["a.tsv:1"], labelled=False)
    Traceback (most recent call last):
    common.errors.DataError: a.tsv:1: unbalanced brackets: '( 2'
    """
    leaves = []
    for start in range(0, len(strings), chunk):
        out = _parse_graph(tf.constant(strings[start : start + chunk]), labelled, arity)
        for i in np.flatnonzero(out["error"].numpy())[:1]:
            tree = strings[start + i]
            shown = tree if len(tree) < 80 else tree[:77] + "..."
            raise DataError(f"{origins[start + i]}: {ERRORS[out['error'][i]]}: {shown!r}")
        leaves += [[w.decode() for w in row if w] for row in out["leaves"].numpy()]
    return leaves


_parse_graph = tf.function(parse, reduce_retracing=True)  # `parse` traced: 200x faster


def words(tree: str, labelled: bool) -> list[str]:
    """The words of one tree in reading order, read with a regular expression (for
    vocabularies; `parse` is the checked reader). White space is ASCII's, as in `parse`.

    Example:
    >>> words("(3 (2 It) (4 (4 works) (2 .)))", labelled=True)
    ['It', 'works', '.']
    >>> words("( ( [MAX 2 ) 9 )", labelled=False)
    ['[MAX', '2', '9']
    """
    if labelled:  # every word sits in a pre-terminal "(label word)"
        return re.findall(r"\(\s*[^\s()]+\s+([^\s()]+)\s*\)", tree, re.ASCII)
    return re.findall(r"[^\s()]+", tree, re.ASCII)
