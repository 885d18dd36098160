"""The in-graph tree parser against a plain recursive one, on both notations."""

import numpy as np
import pytest
import tensorflow as tf

from common.errors import DataError
from tasks import trees
from tasks.classify import listops


def _reference(text: str, labelled: bool):
    """Pre-order nodes of a bracketed tree: (word or "", label, children), recursively."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    nodes = []

    def node(i):  # -> index after the node
        me = len(nodes)
        if tokens[i] != "(":
            nodes.append([tokens[i], "", []])
            return i + 1
        label = tokens[i + 1] if labelled else ""
        i += 2 if labelled else 1
        if tokens[i] != "(" and tokens[i + 1] == ")":  # a pre-terminal: the word itself
            nodes.append([tokens[i], label, []])
            return i + 2
        nodes.append(["", label, []])
        while tokens[i] != ")":
            nodes[me][2].append(len(nodes))
            i = node(i)
        return i + 1

    node(0)
    return nodes


def _rows(out, b):
    n = len(_strip(out["tokens"][b]))
    return [
        [out["tokens"][b, i].numpy().decode(), out["labels"][b, i].numpy().decode(),
         [int(c) for c in out["children"][b, i].numpy() if c >= 0]]
        for i in range(n)
    ]  # fmt: skip


def _strip(row):
    tokens = [t.decode() for t in row.numpy()]
    return tokens[: max((i for i, t in enumerate(tokens) if t), default=0) + 1]


SST = [
    "(3 (2 It) (4 (4 works) (2 .)))",
    "(1 (2 (2 A) (1 (1 dull) (2 ,) (2 long))) (2 film))",
    "(2 word)",
    "(4 (3 (3 (2 very) (3 good)) (2 indeed)) (2 !))",
]


def test_matches_the_reference_on_generated_listops_and_sst_like_trees():
    expressions = [x for _, x in listops.generate(40, seed=3)]
    out = trees.parse(tf.constant(expressions), labelled=False)
    assert not out["error"].numpy().any()
    for b, text in enumerate(expressions):
        want = _reference(text, False)
        assert _rows(out, b)[: len(want)] == want
        assert out["children"][b, len(want) :].numpy().max(initial=-1) == -1  # padding
        leaves = [t.decode() for t in out["leaves"][b].numpy() if t]
        assert leaves == trees.words(text, False)
    out = trees.parse(tf.constant(SST), labelled=True)
    assert not out["error"].numpy().any()
    for b, text in enumerate(SST):
        want = _reference(text, True)
        assert _rows(out, b)[: len(want)] == want
        assert [t.decode() for t in out["leaves"][b].numpy() if t] == trees.words(text, True)


BAD = {
    "": 1,
    "   ": 1,
    "( 1 2": 2,
    "1 ) (": 2,
    "( 1 ) )": 2,
    "( 1 ) ( 2 )": 3,
    "5 6": 3,
    "( ( ) 1 )": 4,
}


def test_bad_trees_get_an_error_and_one_empty_leaf_without_touching_the_others():
    good = "( ( [MAX 2 ) 9 )"
    batch = [good, *BAD, good]
    out = trees.parse(tf.constant(batch), labelled=False)
    errors = out["error"].numpy()
    assert errors.tolist() == [0, *BAD.values(), 0]
    alone = trees.parse(tf.constant([good]), labelled=False)
    for k in ("tokens", "children"):
        width = alone[k].shape[1]
        np.testing.assert_array_equal(out[k][0, :width], alone[k][0])
        np.testing.assert_array_equal(out[k][-1, :width], alone[k][0])
    for row in range(1, len(batch) - 1):
        assert not out["tokens"][row].numpy().any() and (out["children"][row].numpy() == -1).all()


def test_labelled_errors_arity_and_length_limits():
    out = trees.parse(tf.constant(["( (2 a) (3 b))", "(2)", "(1 (2 a) (3 b) (4 c))"]), True)
    assert out["error"].numpy().tolist() == [5, 4, 0]
    out = trees.parse(tf.constant(["(1 (2 a) (3 b) (4 c))", "(1 (2 a) (3 b))"]), True, arity=2)
    assert out["error"].numpy().tolist() == [6, 0] and out["children"].shape[2] == 2
    out = trees.parse(tf.constant(["( 1 2 )", "( 1 ( 2 3 ) )"]), False, max_tokens=6)
    assert out["error"].numpy().tolist() == [0, 7]


def test_an_empty_batch_and_odd_bytes():
    out = trees.parse(tf.constant([], tf.string), labelled=False)
    assert out["tokens"].shape[0] == 0 and out["error"].shape == (0,)
    out = trees.parse(tf.constant([b"( \xff\xfe ( x \x00 ) )", "(" * 5000]), labelled=False)
    assert out["error"].numpy().tolist() == [0, 2]


def test_check_names_the_bad_line():
    assert trees.check(["(2 (3 a) (1 b))"], ["f:1"], labelled=True) == [["a", "b"]]
    with pytest.raises(DataError, match=r"train.txt:7: unbalanced brackets: '\(2 \(3 a\)'"):
        trees.check(["(2 (3 a) (1 b))", "(2 (3 a)"], ["train.txt:6", "train.txt:7"], True)
