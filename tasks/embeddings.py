"""Pre-trained word vectors (GloVe or word2vec text format) as an embedding matrix.

Rows follow the ids of `tasks/text.py`: row 0 is padding (zeros), row 1 is `[UNK]`
(the mean of the vectors found), row `i + 2` is `vocabulary[i]`. A word the file lacks
gets a random vector drawn from a normal with the found vectors' per-dimension mean and
standard deviation, so it starts at their scale; the draw for `vocabulary[i]` depends
only on `seed` and `i`. Words match exactly (no case folding).

Files are streamed, keeping only vocabulary words: GloVe (`word v1 ... vd` a line) and
word2vec text (the same after a `count dim` header line). The dimension is the header's,
or else the first line's; a word may hold spaces (GloVe 840B has `. . .`), as the last
`dim` fields are the values. Every line's field count is checked, the values only of
vocabulary words (parsing them all would take minutes on a GloVe file).

Example:
>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "glove.txt"
>>> _ = path.write_text("the 0.5 1.0\\ncat 1.5 -1.0\\n")
>>> matrix, found = read_embeddings(path, ["cat", "dog", "the"])
>>> matrix.shape, found, matrix[[0, 1, 2, 4]].tolist()
((5, 2), 2, [[0.0, 0.0], [1.0, 0.0], [1.5, -1.0], [0.5, 1.0]])
"""

from pathlib import Path

import keras
import numpy as np

from common.errors import DataError


def _number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _word_and_values(line: bytes, dim: int) -> tuple[bytes, bytes]:
    """Splits a line into the word and its `dim` values; raises DataError on a bad count."""
    spaces = line.count(b" ")
    if spaces == dim:
        word, _, values = line.partition(b" ")
        return word, values
    word = line.rsplit(b" ", dim)[0]
    if spaces > dim and not all(map(_number, word.split(b" ")[1:])):  # a word with spaces
        return word, line[len(word) + 1 :]
    raise DataError(f"expected a word and {dim} values, found {spaces} fields after the word")


def read_embeddings(path: Path, vocabulary: list[str], seed: int = 0) -> tuple[np.ndarray, int]:
    """A `(len(vocabulary) + 2, dim)` float32 matrix and how many words the file had."""
    rows = {word: i for i, word in enumerate(vocabulary)}
    if len(rows) != len(vocabulary):
        raise ValueError("the vocabulary repeats a word")
    vectors: dict[int, np.ndarray] = {}  # vocabulary index -> the first vector in the file
    dim = announced = None
    count = 0  # vectors in the file
    try:
        file = open(path, "rb")  # bytes: a decoding error is then found with its line
    except OSError as error:
        raise DataError(f"{path}: cannot read the word vectors: {error}") from error
    with file:
        for number, raw in enumerate(file, 1):
            line = raw.rstrip()  # word2vec's C tool ends lines with a space
            if not line:
                continue
            try:
                if dim is None:
                    head = line.split()
                    if len(head) == 2 and head[0].isdigit() and head[1].isdigit():
                        announced, dim = int(head[0]), int(head[1])  # word2vec header
                        continue
                    dim = line.count(b" ")
                    if dim == 0:
                        raise DataError("a word without values")
                word, values = _word_and_values(line, dim)
                count += 1
                index = rows.get(word.decode("utf-8"))
                if index is None or index in vectors:
                    continue
                vector = np.array(values.split(b" "), dtype="float32")
                if not np.isfinite(vector).all():
                    raise DataError(f"a value of {word.decode()!r} is not finite")
                vectors[index] = vector
            except (UnicodeDecodeError, ValueError) as error:
                raise DataError(f"{path}:{number}: {error}") from None
    if announced is not None and count != announced:
        raise DataError(f"{path}: the header announces {announced} vectors, found {count}")
    if not vectors:
        raise DataError(
            f"{path}: no vector for any of the {len(vocabulary)} vocabulary words "
            "(the wrong file, or a different language or casing?)"
        )
    found = np.stack(list(vectors.values()))  # (found, dim)
    wide = found.astype("float64")  # float32 squares overflow from about 1e19
    mean, std = wide.mean(axis=0), wide.std(axis=0)
    matrix = np.zeros((len(vocabulary) + 2, dim), dtype="float32")
    matrix[1] = mean
    drawn = mean + std * np.random.default_rng(seed).standard_normal(matrix[2:].shape)
    big = np.finfo("float32").max
    matrix[2:] = np.clip(drawn, -big, big)
    matrix[np.fromiter(vectors, dtype="int64") + 2] = found
    return matrix, len(vectors)


def token_embedding(cfg, vocabulary: list[str], task: str,
                    name: str = "embedding") -> keras.layers.Layer:  # fmt: skip
    """The token embedding of a model config with `embedding_dim`, `embeddings` (a
    vectors file, or `""`) and `freeze_embeddings`: `len(vocabulary) + 2` rows (the
    ids of `tasks/text.py`), started from the file's vectors when there is one.

    Example:
    >>> from types import SimpleNamespace
    >>> cfg = SimpleNamespace(embedding_dim=3, embeddings="", freeze_embeddings=False)
    >>> token_embedding(cfg, ["a", "b"], "demo").input_dim
    4
    """
    rows = len(vocabulary) + 2
    if not cfg.embeddings:
        return keras.layers.Embedding(rows, cfg.embedding_dim, name=name)
    vectors, found = read_embeddings(Path(cfg.embeddings), vocabulary)
    print(f"{task}: {found} of {len(vocabulary)} tokens have pre-trained vectors in "
          f"{cfg.embeddings} (width {vectors.shape[1]})")  # fmt: skip
    layer = keras.layers.Embedding(rows, vectors.shape[1], trainable=not cfg.freeze_embeddings,
                                   name=name)  # fmt: skip
    layer.build((None, None))
    layer.embeddings.assign(vectors)
    return layer
