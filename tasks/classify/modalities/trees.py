"""Trees: generated ListOps expressions, released ListOps files, the Stanford
Sentiment Treebank.

Trees stay bracketed text until the input pipeline (and the SavedModel) parses them
with `tasks/trees.py`. An encoder that reads trees gets every node's token and its
children; one that reads sequences gets the words in reading order (the flattened
tree). Tokens map to ids inside the model, so the export takes raw `trees` strings.
"""

import atexit
import dataclasses
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from common import atomic
from common.errors import DataError
from models import CharNgramEmbedding, WordDropout, encoders
from models.tree_encoder import ARITY
from tasks import text, trees
from tasks.base import generated_split, local_files, local_splits, parse_source, read_text
from tasks.classify import listops
from tasks.classify.modality import Data, Examples
from tasks.embeddings import token_embedding

SST_CLASSES = {
    "fine": ("very negative", "negative", "neutral", "positive", "very positive"),
    "binary": ("negative", "positive"),
}
FINE_LABELS = ("0", "1", "2", "3", "4")  # SST node labels
SST_FILES = {"train": "train.txt", "val": "dev.txt", "test": "test.txt"}
CACHES = ("memory", "file")
BUCKETS = [16, 32, 64, 128, 256, 512]  # tree sizes (nodes or words) batched together


@dataclasses.dataclass(frozen=True)
class TreeConfig:
    tree_splits: tuple[int, ...] = (90000, 1000, 10000)  # listops: generated train, val, test
    max_length: int = 0  # listops: train and validate on no longer expressions (0: all)
    sst_mode: str = "fine"  # sst: fine (5 classes) | binary (the fine model read as 2)
    node_labels: bool = False  # sst + a tree encoder: learn every node's label, not only the root's
    lowercase: bool = False  # read tokens lower-cased
    min_count: int = 1  # training words seen fewer times read as [UNK]
    char_ngrams: int = 0  # hashed character 3-5-grams added to each word's vector (0: none)
    # Where the parsed trees are kept between epochs: memory (about 4 KB a tree: SST's
    # 8,544 take 32 MiB) or file (under the run's cache/, for treebanks larger than memory)
    cache: str = "memory"

    def __post_init__(self):
        if self.sst_mode not in SST_CLASSES:
            raise ValueError(f"trees.sst_mode must be one of {tuple(SST_CLASSES)}, "
                             f"got {self.sst_mode!r}")  # fmt: skip
        if len(self.tree_splits) != 3 or min(self.tree_splits) < 1:
            raise ValueError("trees.tree_splits takes three sizes, train,val,test, each 1 or more")
        if self.max_length and self.max_length < 4:
            raise ValueError(f"trees.max_length must be 0 or 4 or more, got {self.max_length}")
        if self.cache not in CACHES:
            raise ValueError(f"trees.cache must be one of {CACHES}, got {self.cache!r}")
        if self.min_count < 1 or self.char_ngrams < 0:
            raise ValueError("trees.min_count must be 1 or more, trees.char_ngrams 0 or more")


class Trees:
    """Bracketed trees -> label: the root's (or, with `trees.node_labels`, every node's).

    Example:
    >>> from tasks.classify.config import config_for
    >>> data = Trees(config_for("listops"), Path("unused")).load(("test",))
    >>> len(data.classes), len(data.splits["test"].x)
    (10, 40)
    """

    sources = {
        "listops": "generated ListOps trees; listops:PATH reads released label<TAB>expression "
        "files (a file, or a folder of train*/test* and optional val*/dev* files)",
        "sst": "sst:DIR, the Stanford Sentiment Treebank's train.txt, dev.txt and test.txt",
    }
    tfds_feature = None
    fixed = ("trees.sst_mode", "trees.max_length")  # what prepared shards fix (labels, lengths)
    gives = (encoders.TREES, encoders.SEQUENCES)  # what its front end can give an encoder
    input_name = "trees"  # the export's input
    signature = tf.TensorSpec([None], tf.string, name="trees")

    def __init__(self, cfg, workdir: Path):
        self.cfg = cfg
        self.trees: TreeConfig = cfg.trees
        self.workdir = Path(workdir)
        self.reads = encoders.get(cfg.model.encoder).reads
        # PTB notation (the source is checked where it is read; `predict` builds this
        # from a run's config, whose source may be prepared shards, `tfrecord:DIR`)
        self.labelled = cfg.data.source.partition(":")[0] == "sst"
        self.per_node = self.trees.node_labels
        self.binary = self.labelled and self.trees.sst_mode == "binary"
        self.root_selection = self.per_node or self.binary
        self.arity = ARITY[cfg.model.tree] if self.reads == encoders.TREES else None
        if self.per_node and not self.labelled:
            raise DataError(f"trees.node_labels needs trees with node labels (sst:DIR), "
                            f"not data.source={cfg.data.source}")  # fmt: skip
        if self.per_node and self.reads != encoders.TREES:
            raise DataError(f"trees.node_labels needs an encoder that reads trees, "
                            f"not model.encoder={cfg.model.encoder}")  # fmt: skip

    # -- data ---------------------------------------------------------------

    def load(self, splits: tuple[str, ...]) -> Data:
        kind, arg = parse_source(self.cfg.data.source, self.sources)
        if kind == "sst":
            if not arg:
                raise DataError(f"data source 'sst' needs a folder: {self.sources['sst']}")
            parts = {name: _examples(self._sst(Path(arg), name)) for name in splits}
            majority = None
            if self.binary and "train" in parts:  # among the non-neutral training roots
                fine = parts["train"].y
                majority = int(np.mean(fine[fine != 2] > 2) > 0.5)
            return Data(SST_CLASSES[self.trees.sst_mode], parts, outputs=5, majority=majority)
        limit = self.trees.max_length or None
        if arg:
            parts = local_splits(Path(arg), listops.read, self.cfg.data.seed)
        else:
            sizes = dict(zip(("train", "val", "test"), self.trees.tree_splits, strict=True))

            def make(count, seed):
                return listops.generate(count, seed, limit)

            def make_held(count, seed):  # val as training; test at every length, to test
                val = listops.generate(sizes["val"], seed, limit)  # the longer ones
                seen = {e[1] for e in val}
                test = [e for e in listops.generate(count, seed + 1) if e[1] not in seen]
                return val + test[: count - len(val)]

            parts = {name: generated_split(make, sizes, self.cfg.data.seed, name,
                                           key=lambda example: example[1], make_held=make_held)
                     for name in splits}  # fmt: skip
        out = {}
        for name in splits:  # (the test split keeps every length: length generalisation)
            longer = limit and name != "test"
            kept = [e for e in parts[name] if not longer or _length(e[1]) <= limit]
            if len(kept) < len(parts[name]):
                print(f"listops: {len(parts[name]) - len(kept)} {name} expressions longer than "
                      f"trees.max_length={limit} are left out")  # fmt: skip
            out[name] = _examples(kept)
        return Data(tuple(str(d) for d in range(10)), out)

    def _sst(self, folder: Path, split: str) -> list[tuple[int, str]]:
        """One file, one labelled tree a line, every node labelled 0-4, the root's label
        the class; in `binary` mode neutral roots (2) are left out, 0-1 negative."""
        path = folder / SST_FILES[split]
        if not path.exists():
            raise DataError(f"{path}: missing (sst:DIR needs train.txt, dev.txt and test.txt)")
        lines = read_text(path).split("\n")
        numbered = [(f"{path}:{i}", line.strip()) for i, line in enumerate(lines, 1)
                    if line.strip()]  # fmt: skip
        trees.check([t for _, t in numbered], [o for o, _ in numbered], labelled=True,
                    arity=self.arity)  # a binary cell refuses wider nodes here  # fmt: skip
        examples = []
        for origin, tree in numbered:
            if not tree.startswith("("):  # one bare word is a tree to the parser
                raise DataError(f"{origin}: expected '(label ...)', got {tree[:80]!r}")
            labels = re.findall(r"\(\s*([^\s()]+)", tree, re.ASCII)  # the root's first
            for i, node in enumerate(labels):
                if node not in FINE_LABELS:
                    what = "the root label" if i == 0 else "node labels"
                    raise DataError(f"{origin}: {what} must be 0-4, got {node!r}")
            label = int(labels[0])
            if self.binary and split != "train":  # scored on non-neutral roots, as two
                if label == 2:
                    continue
                label = int(label > 2)
            examples.append((label, tree))
        if not examples:
            raise DataError(f"{path}: no trees")
        return examples

    def files(self) -> list[Path]:
        """The files of a released ListOps or SST source (none for generated trees)."""
        kind, arg = parse_source(self.cfg.data.source, self.sources)
        if not arg:
            return []
        if kind == "sst":
            return [Path(arg) / name for name in SST_FILES.values() if (Path(arg) / name).exists()]
        return local_files(Path(arg))

    def prepare(self, train: Examples) -> None:
        """The training trees' words (lower-cased with `trees.lowercase`) seen at least
        `trees.min_count` times, by frequency: the model's vocabulary, recorded."""
        path = self.workdir / "vocab" / "tokens.txt"
        if path.exists():
            self.vocabulary = text.load_vocabulary(path)
            return
        fold = str.lower if self.trees.lowercase else str
        counts = Counter(fold(w) for tree in train.x for w in trees.words(tree, self.labelled))
        self.vocabulary = [w for w, n in counts.most_common() if n >= self.trees.min_count]
        text.save_vocabulary(path, self.vocabulary)

    def restore(self) -> None:
        """Nothing to read back: the vocabulary is part of the model."""

    def kept(self, inputs: Iterable[str]) -> np.ndarray:
        """Trees given one at a time, as strings in memory (as `load` keeps them)."""
        return np.array(list(inputs), dtype=object)

    def _parse(self, strings) -> dict:
        return trees.parse(strings, self.labelled, self.arity)

    def _inputs(self, parsed: dict) -> dict:
        """The model's inputs from `trees.parse` output: node tokens and children for a
        tree encoder, the flattened words for a sequence encoder (lower-cased with
        `trees.lowercase`, in the pipeline and the SavedModel alike)."""
        fold = tf.strings.lower if self.trees.lowercase else tf.identity
        if self.reads == encoders.TREES:
            return {"tokens": fold(parsed["tokens"]), "children": parsed["children"]}
        return {"leaves": fold(parsed["leaves"])}

    def _example(self, tree, label):
        parsed = {k: v[0] for k, v in self._parse(tree[None]).items()}
        inputs = self._inputs(parsed)
        if not self.per_node:
            return inputs, tf.cast(label, tf.int32)
        names = parsed["labels"]  # (nodes,) "0".."4", "" on padding
        fine = tf.strings.to_number(tf.where(names == "", "-1", names), tf.int32)
        return inputs, tf.maximum(fine, 0), tf.cast(fine >= 0, tf.float32)

    def dataset(self, examples: Examples, training: bool) -> tf.data.Dataset:
        """Batches of (inputs, targets[, weights]), each tree parsed once (then cached,
        `trees.cache`) by the parser the SavedModel uses; trees of similar size batched
        together."""
        ds = tf.data.Dataset.from_tensor_slices((examples.x.astype(str), examples.y))
        ds = ds.map(self._example, num_parallel_calls=tf.data.AUTOTUNE).cache(self._cache_file())
        if training:
            ds = ds.shuffle(len(examples.y), seed=self.cfg.train.seed)
        pad = {"tokens": "", "children": -1, "leaves": ""}
        values = {k: pad[k] for k in ds.element_spec[0]}
        values = (values, 0, 0.0) if self.per_node else (values, 0)
        # A batch takes as many steps as its tallest tree, so one long tree among
        # short ones would set every step.
        return ds.bucket_by_sequence_length(
            lambda inputs, *_: tf.shape(next(iter(inputs.values())))[0],
            BUCKETS,
            [self.cfg.train.batch_size] * (len(BUCKETS) + 1),
            padding_values=values,
        ).prefetch(tf.data.AUTOTUNE)

    def _cache_file(self) -> str:
        """`""` (memory), or a file prefix in a new folder under the run's `cache/`,
        removed when this process ends (a killed one's is a `.partial-*` temporary,
        which the next command on the run clears)."""
        if self.trees.cache == "memory":
            return ""
        (self.workdir / "cache").mkdir(parents=True, exist_ok=True)
        folder = tempfile.mkdtemp(prefix=f"{atomic.PREFIX}trees-", dir=self.workdir / "cache")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return str(Path(folder) / "parsed")

    # -- model and serving --------------------------------------------------

    def front(self, reads: str) -> tuple[list, tuple]:
        """Token strings -> ids (inside the model: `""` is padding, unknown `[UNK]`) ->
        embeddings, with the children and leaf mask for a tree encoder."""
        lookup = keras.layers.StringLookup(vocabulary=self.vocabulary, mask_token="",
                                           name="lookup")  # fmt: skip
        embedding = token_embedding(self.cfg.model, self.vocabulary, "classify")
        word_dropout = WordDropout(self.cfg.model.word_dropout, seed=self.cfg.train.seed,
                                   name="word_dropout")  # fmt: skip
        if self.trees.char_ngrams:
            spelling = CharNgramEmbedding(self.trees.char_ngrams, embedding.output_dim,
                                          name="char_ngrams")  # fmt: skip

        def embed(tokens):  # (B, N) strings -> ids (B, N), vectors (B, N, dim)
            ids = lookup(tokens)
            vectors = embedding(word_dropout(ids))
            if self.trees.char_ngrams:
                vectors = keras.layers.Add(name="words_and_spelling")([vectors, spelling(tokens)])
            return ids, vectors

        if reads == encoders.TREES:
            tokens = keras.Input((None,), dtype="string", name="tokens")
            children = keras.Input((None, self.arity), dtype="int32", name="children")
            ids, vectors = embed(tokens)
            return [tokens, children], (vectors, children, ops.not_equal(ids, 0))
        leaves = keras.Input((None,), dtype="string", name="leaves")
        ids, vectors = embed(leaves)
        return [leaves], (vectors, ops.not_equal(ids, 0))

    def serve(self, model, strings):
        """A tree that does not parse is invalid; `error` says why (`""` when fine)."""
        parsed = self._parse(strings)
        probabilities = model(self._inputs(parsed))
        if self.per_node:
            probabilities = probabilities[:, 0]  # (batch, nodes, classes) -> the root's
        if self.binary:
            probabilities = _as_binary(probabilities)
        error = tf.gather(tf.constant(trees.ERRORS), parsed["error"])
        return probabilities, parsed["error"] == 0, {"error": error}

    def report(self, model, examples: Examples, predicted: np.ndarray, majority: int) -> dict:
        """With node labels, the accuracy over every labelled node (the phrases too; in
        binary mode, the non-neutral ones); with `trees.max_length`, the accuracy on
        the test trees longer than it, which training never saw."""
        out = {}
        if self.per_node:
            right = total = 0.0
            for inputs, labels, weights in self.dataset(examples, training=False):
                probabilities, labels = model.predict_on_batch(inputs), labels.numpy()
                weights = weights.numpy() * (labels != 2 if self.binary else 1)
                if self.binary:  # (B, N, 5) read as two; labels 0-4 as two
                    probabilities, labels = _as_binary(probabilities).numpy(), labels > 2
                right += float(np.sum((np.argmax(probabilities, -1) == labels) * weights))
                total += float(np.sum(weights))
            out["all_node_accuracy"] = right / max(total, 1.0)
        if self.trees.max_length:
            longer = np.array([_length(x) > self.trees.max_length for x in examples.x])
            if longer.any():
                out["longer_examples"] = int(longer.sum())
                out["longer_accuracy"] = float(np.mean(predicted[longer] == examples.y[longer]))
        return out

    def read_input(self, given: str) -> np.ndarray:
        """A tree given as text on the command line (or a line of a file), as it is."""
        return np.array(given, dtype=object)


def _as_binary(fine):
    """Five SST classes' probabilities `(..., 5)` read as negative (0, 1) against
    positive (3, 4), the neutral class's share left out `(..., 2)` (Tai et al. 2015)."""
    sides = tf.stack([fine[..., 0] + fine[..., 1], fine[..., 3] + fine[..., 4]], axis=-1)
    return sides / tf.maximum(tf.reduce_sum(sides, axis=-1, keepdims=True), 1e-12)


def _length(expression: str) -> int:
    return listops.length_and_depth(expression)[0]


def _examples(pairs: list[tuple[int, str]]) -> Examples:
    return Examples(np.array([x for _, x in pairs], dtype=object),
                    np.array([y for y, _ in pairs]), np.full(len(pairs), -1))  # fmt: skip
