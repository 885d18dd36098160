import numpy as np
import pytest

from common.errors import DataError
from tasks.embeddings import read_embeddings

GLOVE = "the 0.5 1.0 -1.0\ncat 1.5 -1.0 2.0\n. . . 9.0 9.0 9.0\nsat -0.5 0.0 1e-1\n"


def _write(tmp_path, text, name="vectors.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_glove_rows_follow_the_vocabulary(tmp_path):
    matrix, found = read_embeddings(_write(tmp_path, GLOVE), ["sat", "dog", "the", ". . ."])
    assert matrix.shape == (6, 3) and matrix.dtype == np.float32 and found == 3
    np.testing.assert_array_equal(matrix[0], 0)  # padding
    np.testing.assert_array_equal(matrix[2], np.float32([-0.5, 0.0, 0.1]))  # sat
    np.testing.assert_array_equal(matrix[4], [0.5, 1.0, -1.0])  # the
    np.testing.assert_array_equal(matrix[5], [9.0, 9.0, 9.0])  # a word with spaces
    np.testing.assert_allclose(matrix[1], np.mean(matrix[[2, 4, 5]], axis=0))  # [UNK]


def test_word2vec_header_and_trailing_spaces(tmp_path):
    text = "3 3\n" + "".join(line + " \n" for line in GLOVE.splitlines() if line[0] != ".")
    matrix, found = read_embeddings(_write(tmp_path, text), ["cat", "the"])
    assert found == 2 and matrix.shape == (4, 3)
    np.testing.assert_array_equal(matrix[2], [1.5, -1.0, 2.0])


def test_the_first_of_repeated_words_wins_and_unicode_words_match(tmp_path):
    path = _write(tmp_path, "été 1 2\nthe 3 4\nété 5 6\n")
    matrix, found = read_embeddings(path, ["été"])
    assert found == 1
    np.testing.assert_array_equal(matrix[2], [1, 2])


def test_missing_words_are_seeded_draws_at_the_found_scale(tmp_path):
    rng = np.random.default_rng(0)
    found_vectors = rng.normal([3.0, -1.0], [2.0, 0.1], size=(200, 2))
    text = "".join(f"w{i} {a} {b}\n" for i, (a, b) in enumerate(found_vectors))
    vocabulary = [f"w{i}" for i in range(200)] + [f"new{i}" for i in range(2000)]
    path = _write(tmp_path, text)
    matrix, found = read_embeddings(path, vocabulary, seed=1)
    assert found == 200
    missing = matrix[202:]
    mean, std = found_vectors.mean(axis=0), found_vectors.std(axis=0)
    np.testing.assert_allclose(missing.std(axis=0), std, rtol=0.1)
    np.testing.assert_allclose((missing.mean(axis=0) - mean) / std, 0, atol=0.1)
    np.testing.assert_array_equal(read_embeddings(path, vocabulary, seed=1)[0], matrix)
    assert not np.allclose(read_embeddings(path, vocabulary, seed=2)[0][202:], missing)


@pytest.mark.parametrize(
    "text, message",
    [
        ("the 1 2 3\ncat 1 2\n", r":2: expected a word and 3 values, found 2"),
        ("the 1 2\ncat 1 2 3\n", r":2: expected a word and 2 values, found 3"),
        ("2 3\nthe 1 2 3\ncat 1 2\n", r":3: expected a word and 3 values"),
        ("the 1 2\ncat 1 x\n", r":2: could not convert"),
        ("the 1 2\ncat 1 nan\n", r":2: a value of 'cat' is not finite"),
        (b"the 1 2\nc\xe9t 1 2\n", r":2: 'utf-8' codec can't decode"),
        ("the\n", r":1: a word without values"),
        ("3 2\nthe 1 2\ncat 1 2\n", r": the header announces 3 vectors, found 2"),
        ("dog 1 2\n", r": no vector for any of the 2 vocabulary words"),
    ],
)
def test_bad_files_name_the_path_and_line(tmp_path, text, message):
    path = _write(tmp_path, text, "bad.txt")
    with pytest.raises(DataError, match=r"bad\.txt" + message):
        read_embeddings(path, ["the", "cat"])


def test_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="nothing.txt"):
        read_embeddings(tmp_path / "nothing.txt", ["the"])
