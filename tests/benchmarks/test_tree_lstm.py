import numpy as np
import pytest
import tensorflow as tf

from benchmarks import tree_lstm


@pytest.mark.slow
def test_quick_rows_compare_all_three_ways_on_both_length_ranges():
    rows = tree_lstm.run(quick=True)
    assert [r.case.split(":")[1].strip() for r in rows] == [
        "Tree-LSTM vs LSTM", "batched vs per-tree"] * 2  # fmt: skip
    versus, per_tree = rows[0].figures, rows[1].figures
    assert versus["tree/LSTM time"] == versus["tree step s"] / versus["LSTM step s"]
    for way in (tree_lstm.NODE_BY_NODE, tree_lstm.LEVEL_BATCHED):
        assert per_tree[f"x vs {way}"] > 0 and per_tree[f"{way} tokens/s"] > 0
    assert rows[1].met is (per_tree[f"x vs {tree_lstm.NODE_BY_NODE}"] >= 20)
    assert tree_lstm.NODE_BY_NODE in rows[1].note and tree_lstm.LEVEL_BATCHED in rows[1].note
    assert versus["tree nodes/s"] > versus["tree tokens/s"]  # inner nodes count too


def test_node_by_node_baseline_computes_what_the_batched_layer_does():
    model = tree_lstm._tree_model(units=8)
    expressions = [x for _, x in tree_lstm.listops.generate(3, seed=2, max_length=40)]
    tokens, children, _ = tree_lstm._parse(expressions)
    batched = model([tokens, children])
    logits = tf.function(tree_lstm.node_by_node(model))
    for t in range(len(expressions)):
        alone, kids, _ = tree_lstm._parse(expressions[t : t + 1])
        order = tree_lstm.post_order(kids[0].numpy())
        assert sorted(order.tolist()) == list(range(len(order)))  # every node, once
        np.testing.assert_allclose(logits(alone[0], kids[0], order)[0], batched[t], atol=1e-5)
