import numpy as np
import pytest
import tensorflow as tf

from models import ChildSumTreeLSTM, TreeEncoder
from tests.models.layer_test import run_layer_test

# Two parse trees in pre-order: (S (a) (NP (b) (c))) and (S (d) (e)), padded to 5 nodes.
CHILDREN = np.array([[[1, 2], [-1, -1], [3, 4], [-1, -1], [-1, -1]],
                     [[1, 2], [-1, -1], [-1, -1], [-1, -1], [-1, -1]]], "int32")  # fmt: skip
WORDS = np.array([[False, True, False, True, True], [False, True, True, False, False]])


def _embedded(seed=0):
    return np.random.default_rng(seed).normal(size=(2, 5, 3)).astype("float32")


@pytest.mark.parametrize("cell,reader_layers", [("nary", 0), ("childsum", 1), ("nary", 2)])
def test_layer_contract(tmp_path, cell, reader_layers):
    nodes, root, mask = run_layer_test(
        TreeEncoder,
        {"units": 4, "cell": cell, "reader_layers": reader_layers, "dropout": 0.1},
        {"embedded": _embedded(), "children": CHILDREN, "words": WORDS},
        tmp_path,
        # the Tree-LSTM's kernel, bias, recurrent (and Child-Sum's forget) kernels,
        # and 3 per LSTM of each reader layer's two directions
        trainable_weights=(4 if cell == "childsum" else 3) + 6 * reader_layers,
    )
    assert nodes.shape == (2, 5, 4) and root.shape == (2, 4)
    np.testing.assert_array_equal(mask, [[True] * 5, [True] * 3 + [False] * 2])
    np.testing.assert_array_equal(nodes[1, 3:], 0.0)  # padding nodes


def test_without_a_reader_the_leaves_read_their_own_embedding():
    """Tai et al.: a leaf's state depends on its word only, not on its neighbours."""
    encoder = TreeEncoder(units=4, cell="nary", reader_layers=0)
    a, b = _embedded(0), _embedded(0)
    b[0, 4] += 1.0  # another word at the last leaf
    nodes_a, _, _ = encoder(a, CHILDREN, WORDS)
    nodes_b, _, _ = encoder(b, CHILDREN, WORDS)
    np.testing.assert_allclose(nodes_a[0, 3], nodes_b[0, 3], atol=1e-6)  # the other leaf
    assert np.abs(nodes_a[0, 0] - nodes_b[0, 0]).max() > 1e-4  # the root sees it


def test_a_reader_gives_each_leaf_its_context():
    """Eriguchi et al.: with a BiLSTM below, a leaf's state depends on its neighbours."""
    encoder = TreeEncoder(units=4, cell="nary", reader_layers=1)
    a, b = _embedded(0), _embedded(0)
    b[0, 4] += 1.0
    nodes_a, _, _ = encoder(a, CHILDREN, WORDS)
    nodes_b, _, _ = encoder(b, CHILDREN, WORDS)
    assert np.abs(nodes_a[0, 3] - nodes_b[0, 3]).max() > 1e-4


def test_childsum_takes_any_number_of_children_nary_at_most_two():
    wide = np.array([[[1, 2, 3], [-1] * 3, [-1] * 3, [-1] * 3]], "int32")
    words = np.array([[False, True, True, True]])
    nodes, _, _ = TreeEncoder(units=4, cell="childsum")(_embedded()[:1, :4], wide, words)
    assert nodes.shape == (1, 4, 4)
    assert isinstance(TreeEncoder(units=4, cell="childsum").tree, ChildSumTreeLSTM)
    with pytest.raises(tf.errors.InvalidArgumentError, match="more children than arity=2"):
        TreeEncoder(units=4, cell="nary")(_embedded()[:1, :4], wide, words)
