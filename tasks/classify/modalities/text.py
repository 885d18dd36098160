"""Plain text: a sentence or a review -> its label, read as words or characters.

`text:PATH` reads a CSV or TSV file with a header naming a `text` and a `label`
column (other columns are ignored), or a folder of `<label>/*.txt` files (one text a
file), or IMDB's own layout, a folder with `train/<label>/*.txt` and
`test/<label>/*.txt` (its ready-made splits; the classes are the labels found in
both, which leaves out IMDB's unlabelled `train/unsup`). A folder of `train*`,
`val*` (or `dev*`) and `test*` CSV/TSV files keeps its splits too. `tfds:NAME` reads a
TFDS text set with `text` and `label` features (`tfds:imdb_reviews`).

Every source is read a text at a time into a file of strings under the run's `cache/`
(`StringRows`; memory keeps two offsets and a label per text), and each batch reads
its texts back. A file or a flat folder is split 80/10/10 by a hash of each text
(`tasks.base.hash_split`: equal texts share a split); a missing validation split is
a hash tenth of the training texts.

Tokens are words (lower-cased, punctuation split off) or characters
(`text.tokens=char`: Chinese or Japanese need no segmenter), mapped to ids inside
the model by a `TextVectorization` layer, so the export takes raw `texts` strings.
"""

import array
import csv
import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from common.errors import DataError
from models import WordDropout, encoders
from tasks import text
from tasks.base import (
    SPLITS,
    batched,
    hash_split,
    local_files,
    local_split,
    parse_source,
    read_lines,
    read_text,
)
from tasks.classify.modality import Data, Examples, gathered
from tasks.embeddings import token_embedding
from tasks.string_rows import StringRows

TEXT_COLUMNS = ("text", "sentence", "review")  # the header names taken for the text column
LABEL_COLUMNS = ("label", "sentiment", "class")


@dataclasses.dataclass(frozen=True)
class TextConfig:
    tokens: str = "word"  # word | char (no segmenter needed: Chinese, Japanese)
    max_vocab: int = 20000  # most frequent tokens of the training texts
    max_length: int = 256  # tokens read from each text (the first ones)

    def __post_init__(self):
        if self.tokens not in text.LEVELS:
            raise ValueError(f"text.tokens must be one of {text.LEVELS}, got {self.tokens!r}")
        if self.max_vocab < 1 or self.max_length < 1:
            raise ValueError("text.max_vocab and text.max_length must be 1 or more")


class Text:
    """Texts -> label: token embeddings, then the shared encoder over the tokens.

    Example:
    >>> import tempfile
    >>> from tasks.classify.config import config_for
    >>> path = Path(tempfile.mkdtemp()) / "reviews.csv"
    >>> rows = "".join(f"film {i},{'pos' if i % 2 else 'neg'}\\n" for i in range(50))
    >>> _ = path.write_text("text,label\\n" + rows)
    >>> data = Text(config_for(f"text:{path}"), path.parent).load(("train",))
    >>> data.classes, len(data.splits["train"].x)
    (('neg', 'pos'), 45)
    """

    sources = {
        "text": "text:PATH, a CSV/TSV file with text and label columns, a folder of "
        "<label>/*.txt files, or IMDB's train/<label> and test/<label> folders",
        "tfds": "tfds:NAME, a TFDS text set with 'text' and 'label', e.g. tfds:imdb_reviews",
    }
    tfds_feature = "text"  # a TFDS set with this feature is read by this modality
    fixed = ()  # prepared shards keep the raw texts
    gives = (encoders.SEQUENCES,)  # what its front end can give an encoder
    input_name = "texts"  # the export's input
    signature = tf.TensorSpec([None], tf.string, name="texts")
    per_node = False
    root_selection = False

    def __init__(self, cfg, workdir: Path):
        self.cfg = cfg
        self.text: TextConfig = cfg.text
        self.workdir = Path(workdir)

    def load(self, splits: tuple[str, ...]) -> Data:
        kind, arg = parse_source(self.cfg.data.source, self.sources)
        cache = self.workdir / "cache"
        if kind == "tfds":
            return _tfds(arg, self.cfg.data.seed, splits, cache)
        if not arg:
            raise DataError(f"data source 'text' needs a path: {self.sources['text']}")
        return read(Path(arg), self.cfg.data.seed, splits, cache)

    def files(self) -> list[Path]:
        """The table or text files of a `text:` source (none for TFDS)."""
        kind, arg = parse_source(self.cfg.data.source, self.sources)
        if kind != "text" or not arg:
            return []
        path = Path(arg)
        return sorted(path.rglob("*.txt")) + local_files(path) if path.is_dir() else [path]

    def prepare(self, train: Examples) -> None:
        """The training texts' most frequent tokens (the model's vocabulary), recorded."""
        self.vocabulary = text.load_or_build_vocabulary(
            self.workdir / "vocab" / "tokens.txt", iter(train.x), self.text.tokens,
            self.text.max_vocab,
        )  # fmt: skip

    def restore(self) -> None:
        """Nothing to read back: the vocabulary is part of the model."""

    def kept(self, inputs: Iterable[str]) -> StringRows:
        """Texts given one at a time, in a file of strings under the run's `cache/`."""
        rows = StringRows(self.workdir / "cache")
        for chunk in batched(inputs, text.CHUNK):
            rows.extend(chunk)
        return rows

    def dataset(self, examples: Examples, training: bool) -> tf.data.Dataset:
        """Shuffled indices (training), then one read of texts per batch."""
        seed = self.cfg.train.seed if training else None
        return gathered(examples, self.cfg.train.batch_size, seed)

    def front(self, reads: str) -> tuple[list, tuple]:
        """Raw strings -> token ids (inside the model) -> embeddings and their mask."""
        texts = keras.Input((), dtype="string", name="texts")
        vectorizer = text.vectorizer(self.vocabulary, self.text.tokens, self.text.max_length)
        ids = vectorizer(texts)  # (batch, max_length), 0 on padding
        ids = ops.concatenate([ops.maximum(ids[:, :1], text.UNK), ids[:, 1:]], axis=1)
        embedding = token_embedding(self.cfg.model, self.vocabulary, "classify")
        word_dropout = WordDropout(self.cfg.model.word_dropout, seed=self.cfg.train.seed,
                                   name="word_dropout")  # fmt: skip
        return [texts], (embedding(word_dropout(ids)), ops.not_equal(ids, text.PAD))

    def serve(self, model, texts):
        """Any string is valid: invalid UTF-8 bytes read as U+FFFD, unknown tokens as
        `[UNK]`, an empty text as one `[UNK]`, a long one by its first tokens."""
        clean = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
        return model(clean), tf.ones_like(texts, tf.bool), {}

    def report(self, model, examples: Examples, predicted: np.ndarray, majority: int) -> dict:
        """Nothing more than the task's scores."""
        return {}

    def read_input(self, given: str) -> np.ndarray:
        """A text given on the command line (or a line of a file), as it is."""
        return np.array(given, dtype=object)


def read(path: Path, seed: int, wanted: tuple[str, ...], cache: Path) -> Data:
    """The class names and the `wanted` splits of a `text:PATH` source (see the
    module), read a text at a time; the classes are the labels of every split."""
    return _collected(_rows(path, seed), wanted, cache, path)


def _rows(path: Path, seed: int) -> Iterator[tuple[str, str, str, str]]:
    """`(split, text, label, origin)` of a `text:PATH` source, read lazily."""
    if path.is_dir() and (path / "train").is_dir() and (path / "test").is_dir():
        train, test = _label_folders(path / "train"), _label_folders(path / "test")
        labels = sorted(set(train) & set(test))
        if not labels:
            raise DataError(f"{path}: train/ and test/ share no <label>/ folder")
        for split, folders in (("test", test), ("train", train)):
            for content, label, origin in _texts((label, folders[label]) for label in labels):
                held = split == "train" and hash_split(content, seed) == "val"
                yield "val" if held else split, content, label, origin
    elif path.is_dir() and not any(p.is_file() for p in path.glob("train*")):
        folders = _label_folders(path)
        if not folders:
            raise DataError(f"{path}: no <label>/*.txt folders, train*/test* files or "
                            f"train/ and test/ folders")  # fmt: skip
        for content, label, origin in _texts(sorted(folders.items())):
            yield hash_split(content, seed), content, label, origin
    else:
        for split in SPLITS:
            for content, label, origin in local_split(path, _table, seed, _text_of, split):
                yield split, content, label, origin


def _collected(rows: Iterable[tuple[str, str, str, str]], wanted: tuple[str, ...],
               cache: Path, source, classes: tuple[str, ...] | None = None) -> Data:  # fmt: skip
    """Rows `(split, text, label, origin)` -> the `wanted` splits, each split's texts in
    a `StringRows` file in `cache`, their labels in memory. The classes are `classes`,
    or the labels found in every split read, sorted."""
    texts = {name: StringRows(cache) for name in wanted}
    seen: dict[str, int] = {label: i for i, label in enumerate(classes or ())}
    labels = {name: array.array("q") for name in SPLITS}
    for chunk in batched(rows, text.CHUNK):
        for name in SPLITS:
            picked = [(content, label) for split, content, label, _ in chunk if split == name]
            if name in texts:
                texts[name].extend(content for content, _ in picked)
            labels[name].extend(seen.setdefault(label, len(seen)) for _, label in picked)
    if len(seen) < 2:
        raise DataError(f"{source}: one label only ({next(iter(seen), '')!r}); classify "
                        f"needs two or more")  # fmt: skip
    for name in wanted:
        if not labels[name]:
            raise DataError(f"{source}: the {name} split is empty (a file is split 80/10/10 "
                            f"by a hash of each text)")  # fmt: skip
    classes = classes or tuple(sorted(seen))
    index = np.array([classes.index(label) for label in seen])  # first seen -> class order
    return Data(classes, {
        name: Examples(texts[name], index[np.frombuffer(labels[name], np.int64)],
                       np.full(len(labels[name]), -1))
        for name in wanted
    })  # fmt: skip


def _text_of(row: tuple[str, str, str]) -> str:
    return row[0]


def _label_folders(folder: Path) -> dict[str, list[Path]]:
    """`{label: [text file, ...]}` of `folder/<label>/*.txt`."""
    out = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(sub.glob("*.txt"))
        if files:
            out[sub.name] = files
    return out


def _texts(folders: Iterable[tuple[str, list[Path]]]) -> Iterator[tuple[str, str, str]]:
    """`(text, label, origin)` of each label's files, a file at a time."""
    for label, files in folders:
        for path in files:
            content = read_text(path).strip()
            if not content:
                raise DataError(f"{path}: empty text")
            yield content, label, str(path)


def _table(path: Path) -> Iterator[tuple[str, str, str]]:
    """`(text, label, origin)` rows of a CSV (or, by a `.tsv` or `.txt` name, TSV)
    file whose header names a text column and a label column, read a line at a time
    (a quoted text may span lines)."""
    dialect = "excel-tab" if path.suffix.lower() in (".tsv", ".txt") else "excel"
    lines = (line + "\n" if ended else line for _, line, ended in read_lines(path))
    reader = csv.reader(lines, dialect=dialect)
    found = False
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        columns = [next((header.index(n) for n in names if n in header), None)
                   for names in (TEXT_COLUMNS, LABEL_COLUMNS)]  # fmt: skip
        if None in columns:
            raise DataError(
                f"{path}:1: the header must name a text column ({', '.join(TEXT_COLUMNS)}) "
                f"and a label column ({', '.join(LABEL_COLUMNS)}), got {header}"
            )
        last = reader.line_num
        for row in reader:
            line, last = last + 1, reader.line_num  # the line the row starts on
            if not row:
                continue
            if len(row) <= max(columns):
                raise DataError(f"{path}:{line}: expected {len(header)} columns, got {len(row)}")
            content, label = row[columns[0]].strip(), row[columns[1]].strip()
            if not content or not label:
                raise DataError(f"{path}:{line}: empty {'text' if not content else 'label'}")
            found = True
            yield content, label, f"{path}:{line}"
    except csv.Error as err:
        raise DataError(f"{path}:{reader.line_num}: {err}") from None
    if not found:
        raise DataError(f"{path}: no rows after the header")


def _tfds(name: str, seed: int, wanted: tuple[str, ...], cache: Path) -> Data:
    """A TFDS text set, read from the `tf.data` datasets TFDS returns; validation is a
    hash tenth of train (by position: TFDS keeps its order)."""
    import tensorflow_datasets as tfds  # heavy; only this source needs it

    builder = tfds.builder(name)
    builder.download_and_prepare()
    classes = tuple(builder.info.features["label"].names)

    def rows():  # train (and val) read only when asked for
        for split in ("test", "train")[: 1 if set(wanted) == {"test"} else 2]:
            for i, ex in enumerate(tfds.as_numpy(builder.as_dataset(split=split))):
                held = split == "train" and hash_split(f"#{i}", seed) == "val"
                yield ("val" if held else split, ex["text"].decode("utf-8", "replace"),
                       classes[int(ex["label"])], f"tfds:{name}[{split}] #{i}")  # fmt: skip

    return _collected(rows(), wanted, cache, f"tfds:{name}", classes)
