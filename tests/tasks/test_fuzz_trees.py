"""Hostile input for the in-graph tree parser: `trees.parse` never raises, and flags a
row as an error exactly when a plain Python reader finds it malformed."""

import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import DataError
from tasks import trees
from tests.tasks.fuzz import text, tree, tree_bytes, tree_reference, tried

ROWS = st.lists(tree_bytes, max_size=6)
PARSE = tf.function(trees.parse, reduce_retracing=True)  # as tf.data and a SavedModel run it


@settings(max_examples=100)
@given(ROWS, st.booleans(), st.sampled_from([None, 2]), st.sampled_from([40, trees.MAX_TOKENS]))
def test_parse_never_raises_and_flags_exactly_the_malformed_rows(rows, labelled, arity, limit):
    tried("trees.parse")
    out = {k: v.numpy() for k, v in PARSE(tf.constant(rows, tf.string), labelled,
                                          arity, limit).items()}  # fmt: skip
    batch, nodes = len(rows), out["tokens"].shape[1]
    assert out["labels"].shape == (batch, nodes) and out["children"].shape[:2] == (batch, nodes)
    assert out["leaves"].shape[0] == batch and min(nodes, out["leaves"].shape[1]) >= 1
    assert arity is None or out["children"].shape[2] == arity
    for b, row in enumerate(rows):
        want = tree_reference(row, labelled, arity, limit)
        assert (out["error"][b] == 0) == (want is not None), (row[:80], out["error"][b])
        if want is None:
            assert 0 < out["error"][b] < len(trees.ERRORS)
            assert not any(out["leaves"][b]) and (out["children"][b] == -1).all()
        else:
            assert [w for w in out["leaves"][b] if w] == want


@settings(max_examples=60)
@given(st.booleans().flatmap(lambda labelled: st.tuples(
    st.just(labelled), st.lists(tree(labelled), min_size=1, max_size=4))))  # fmt: skip
def test_a_generated_tree_reads_back_its_words_and_nodes(case):
    tried("trees.parse")
    labelled, generated = case
    out = PARSE(tf.constant([g[0] for g in generated]), labelled)
    assert not out["error"].numpy().any()
    for b, (text_, words, nodes, _) in enumerate(generated):
        leaves = [w.decode() for w in out["leaves"][b].numpy() if w]
        assert leaves == words == trees.words(text_, labelled)
        children = out["children"][b].numpy()
        assert sorted(c for c in children.ravel() if c >= 0) == list(range(1, nodes))
        assert (children[nodes:] == -1).all() and not any(out["tokens"][b].numpy()[nodes:])


@settings(max_examples=50)
@given(st.lists(text, max_size=5), st.booleans())
def test_check_reads_every_tree_or_names_the_first_bad_one(rows, labelled):
    tried("trees.check")
    origins = [f"data.txt:{i + 1}" for i in range(len(rows))]
    wants = [tree_reference(r.encode(), labelled, None, trees.MAX_TOKENS) for r in rows]
    bad = [o for o, w in zip(origins, wants, strict=True) if w is None]
    if bad:
        with pytest.raises(DataError, match=f"^{bad[0]}: "):
            trees.check(rows, origins, labelled, chunk=2)
    else:
        got = trees.check(rows, origins, labelled, chunk=2)
        assert got == [[w.decode() for w in want] for want in wants]
