"""Plain text: a sentence or a review -> its label, read as words or characters.

`text:PATH` reads a CSV or TSV file with a header naming a `text` and a `label`
column (other columns are ignored), or a folder of `<label>/*.txt` files (one text a
file), or IMDB's own layout, a folder with `train/<label>/*.txt` and
`test/<label>/*.txt` (its ready-made splits; the classes are the labels found in
both, which leaves out IMDB's unlabelled `train/unsup`). A folder of `train*`,
`val*` (or `dev*`) and `test*` CSV/TSV files keeps its splits too. `tfds:NAME` reads a
TFDS text set with `text` and `label` features (`tfds:imdb_reviews`).

Tokens are words (lower-cased, punctuation split off) or characters
(`text.tokens=char`: Chinese or Japanese need no segmenter), mapped to ids inside
the model by a `TextVectorization` layer, so the export takes raw `texts` strings.
"""

import csv
import dataclasses
import io
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from common.errors import DataError
from models import WordDropout, encoders
from tasks import text
from tasks.base import SPLITS, local_files, local_splits, parse_source, random_split, read_text
from tasks.classify.modality import Data, Examples
from tasks.embeddings import token_embedding

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
    >>> _ = path.write_text("text,label\\n" + "good film,pos\\nbad film,neg\\n" * 5)
    >>> data = Text(config_for(f"text:{path}"), path.parent).load(("train",))
    >>> data.classes, len(data.splits["train"].x)
    (('neg', 'pos'), 8)
    """

    sources = {
        "text": "text:PATH, a CSV/TSV file with text and label columns, a folder of "
        "<label>/*.txt files, or IMDB's train/<label> and test/<label> folders",
        "tfds": "tfds:NAME, a TFDS text set with 'text' and 'label', e.g. tfds:imdb_reviews",
    }
    tfds_feature = "text"  # a TFDS set with this feature is read by this modality
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
        if kind == "tfds":
            return _tfds(arg, self.cfg.data.seed, splits)
        if not arg:
            raise DataError(f"data source 'text' needs a path: {self.sources['text']}")
        parts, classes = read(Path(arg), self.cfg.data.seed)
        return Data(classes, {name: parts[name] for name in splits})

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
            self.workdir / "vocab" / "tokens.txt", list(train.x), self.text.tokens,
            self.text.max_vocab,
        )  # fmt: skip

    def restore(self) -> None:
        """Nothing to read back: the vocabulary is part of the model."""

    def dataset(self, examples: Examples, training: bool) -> tf.data.Dataset:
        ds = tf.data.Dataset.from_tensor_slices((examples.x.astype(str), examples.y)).cache()
        if training:
            ds = ds.shuffle(len(examples.y), seed=self.cfg.train.seed)
        return ds.batch(self.cfg.train.batch_size).prefetch(tf.data.AUTOTUNE)

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


def read(path: Path, seed: int) -> tuple[dict[str, Examples], tuple[str, ...]]:
    """The splits and class names of a `text:PATH` source (see the module)."""
    if path.is_dir() and (path / "train").is_dir() and (path / "test").is_dir():
        train, test = _label_folders(path / "train"), _label_folders(path / "test")
        labels = sorted(set(train) & set(test))
        if not labels:
            raise DataError(f"{path}: train/ and test/ share no <label>/ folder")
        rows = {"test": [r for label in labels for r in test[label]]}
        held = random_split([r for label in labels for r in train[label]], seed)
        rows["train"], rows["val"] = held["train"] + held["test"], held["val"]
    elif path.is_dir() and not any(p.is_file() for p in path.glob("train*")):
        folders = _label_folders(path)
        if not folders:
            raise DataError(f"{path}: no <label>/*.txt folders, train*/test* files or "
                            f"train/ and test/ folders")  # fmt: skip
        rows = random_split([r for label in sorted(folders) for r in folders[label]], seed)
    else:
        rows = local_splits(path, _table, seed)
    classes = tuple(sorted({label for part in rows.values() for _, label, _ in part}))
    index = {name: i for i, name in enumerate(classes)}
    examples = {}
    for name in SPLITS:
        if not rows[name]:
            raise DataError(f"{path}: the {name} split is empty")
        examples[name] = Examples(
            np.array([t for t, _, _ in rows[name]], dtype=object),
            np.array([index[label] for _, label, _ in rows[name]]),
            np.full(len(rows[name]), -1),
        )
    if len(classes) < 2:
        raise DataError(f"{path}: one label only ({classes[0]!r}); classify needs two or more")
    return examples, classes


def _label_folders(folder: Path) -> dict[str, list[tuple[str, str, str]]]:
    """`{label: [(text, label, origin), ...]}` of `folder/<label>/*.txt`."""
    out = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(sub.glob("*.txt"))
        if files:
            out[sub.name] = [(_one_text(f), sub.name, str(f)) for f in files]
    return out


def _one_text(path: Path) -> str:
    content = read_text(path).strip()
    if not content:
        raise DataError(f"{path}: empty text")
    return content


def _table(path: Path) -> list[tuple[str, str, str]]:
    """`(text, label, origin)` rows of a CSV (or, by a `.tsv` or `.txt` name, TSV)
    file whose header names a text column and a label column."""
    dialect = "excel-tab" if path.suffix.lower() in (".tsv", ".txt") else "excel"
    reader = csv.reader(io.StringIO(read_text(path), newline=""), dialect=dialect)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        columns = [next((header.index(n) for n in names if n in header), None)
                   for names in (TEXT_COLUMNS, LABEL_COLUMNS)]  # fmt: skip
        if None in columns:
            raise DataError(
                f"{path}:1: the header must name a text column ({', '.join(TEXT_COLUMNS)}) "
                f"and a label column ({', '.join(LABEL_COLUMNS)}), got {header}"
            )
        rows, last = [], reader.line_num
        for row in reader:
            line, last = last + 1, reader.line_num  # the line the row starts on
            if not row:
                continue
            if len(row) <= max(columns):
                raise DataError(f"{path}:{line}: expected {len(header)} columns, got {len(row)}")
            content, label = row[columns[0]].strip(), row[columns[1]].strip()
            if not content or not label:
                raise DataError(f"{path}:{line}: empty {'text' if not content else 'label'}")
            rows.append((content, label, f"{path}:{line}"))
    except csv.Error as err:
        raise DataError(f"{path}:{reader.line_num}: {err}") from None
    if not rows:
        raise DataError(f"{path}: no rows after the header")
    return rows


def _tfds(name: str, seed: int, wanted: tuple[str, ...]) -> Data:
    import tensorflow_datasets as tfds  # heavy; only this source needs it

    builder = tfds.builder(name)
    builder.download_and_prepare()
    classes = tuple(builder.info.features["label"].names)
    rows = {}
    for split in sorted({"test"} & set(wanted) | ({"train"} if {"train", "val"} & set(wanted)
                                                   else set())):  # fmt: skip
        ds = builder.as_dataset(split=split)
        rows[split] = [(ex["text"].decode("utf-8", "replace"), int(ex["label"]), "")
                       for ex in tfds.as_numpy(ds)]  # fmt: skip
    if "train" in rows:
        held = random_split(rows["train"], seed)
        rows["train"], rows["val"] = held["train"] + held["test"], held["val"]
    return Data(classes, {
        name: Examples(np.array([t for t, _, _ in rows[name]], dtype=object),
                       np.array([y for _, y, _ in rows[name]]), np.full(len(rows[name]), -1))
        for name in wanted
    })  # fmt: skip
