"""Hostile word-vector files: a `DataError` naming the file (and line), or a finite
matrix of the right shape; well-formed GloVe and word2vec files read back exactly."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tasks.embeddings import read_embeddings
from tests.tasks.fuzz import WORD, fresh_folder, raw_bytes, read_or_error, tried

VOCABULARY = ["the", "é", "a b", "[MAX", "1"]
VALUE = st.floats(-(2.0**100), 2.0**100, width=32)


@settings(max_examples=60)
@given(st.lists(raw_bytes | st.sampled_from([b"the 0.5 -1", b"2 2", b"\xc3\xa9 1e39 0"]),
               max_size=5).map(b"\n".join))  # fmt: skip
def test_hostile_vector_files_error_or_give_a_finite_matrix(tmp_path, data):
    tried("embeddings reader")
    path = fresh_folder(tmp_path) / "vectors.txt"
    path.write_bytes(data)
    out, _ = read_or_error(lambda: read_embeddings(path, VOCABULARY), path)
    if out is not None:
        matrix, found = out
        assert matrix.shape[0] == len(VOCABULARY) + 2 and 1 <= found <= len(VOCABULARY)
        assert np.isfinite(matrix).all() and not matrix[0].any()


@settings(max_examples=30)
@given(st.integers(1, 4).flatmap(lambda dim: st.dictionaries(
    st.sampled_from(VOCABULARY) | WORD, st.lists(VALUE, min_size=dim, max_size=dim),
    min_size=1, max_size=6)), st.booleans(), st.data())  # fmt: skip
def test_vectors_read_back_and_a_broken_line_is_named(tmp_path, vectors, word2vec, data):
    tried("embeddings reader")
    path = fresh_folder(tmp_path) / "vectors.txt"
    # Without a header the first line sets the width, so its word must hold no space
    # (a file whose only words hold spaces is ambiguous: the reader takes one width).
    vectors = dict(sorted(vectors.items(), key=lambda item: " " in item[0]))
    assume(word2vec or " " not in next(iter(vectors)))
    lines = [f"{w} {' '.join(map(repr, v))}" for w, v in vectors.items()]
    head = [f"{len(lines)} {len(next(iter(vectors.values())))}"] if word2vec else []
    path.write_text("\n".join(head + lines) + "\n", encoding="utf-8")
    words = [w for w in VOCABULARY if w in vectors]
    if words:
        matrix, found = read_embeddings(path, VOCABULARY)
        assert found == len(words) and np.isfinite(matrix).all()
        for w in words:
            np.testing.assert_array_equal(matrix[VOCABULARY.index(w) + 2], vectors[w])
    # A line to break: not one that sets the width, nor a word with spaces (it may take more).
    breakable = [i for i, w in enumerate(vectors) if " " not in w and (word2vec or i > 0)]
    if not breakable:
        return
    k = data.draw(st.sampled_from(breakable))
    lines[k] += " 0.5"  # one value too many
    path.write_text("\n".join(head + lines) + "\n", encoding="utf-8")
    assert read_or_error(lambda: read_embeddings(path, VOCABULARY), path) == (
        None, len(head) + k + 1)  # fmt: skip
