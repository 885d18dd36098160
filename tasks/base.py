"""What every task shares: the task contract, data splits and reading data files."""

import dataclasses
import hashlib
import itertools
import random
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

import keras
import tensorflow as tf

from common.errors import DataError

SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class Splits:
    """Batched `tf.data` pipelines of `(inputs, targets, sample_weights)`."""

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset


class Task(Protocol):
    """The contract between a task and the task-agnostic pipeline.

    A task is made from its resolved config and its run directory. Training calls
    `prepare()`, which builds the data and records in the run directory what a
    trained model needs besides its weights (vocabularies, class names); evaluation
    and export call `restore()`, which reads that record back and builds no data;
    then `build_model()`. `evaluate` reads only the split it scores.
    """

    name: str
    presets: dict  # preset name -> frozen config dataclass with a `train` field; "NAME:SOURCE"
    # -> settings tuning preset NAME for a data source kind (see pipelines.settings.resolve)

    def __init__(self, cfg, workdir: Path): ...

    def prepare(self) -> Splits: ...

    def restore(self) -> None: ...

    def build_model(self) -> keras.Model: ...

    def compile_args(self) -> dict: ...  # loss, metrics for `model.compile`

    def callbacks(self, model: keras.Model) -> list: ...  # more callbacks for `fit`

    # The validation figure that picks the best checkpoint and stops training:
    # (a key of `fit`'s logs, "min" or "max"), e.g. ("val_loss", "min").
    selection: tuple[str, str]
    # Modules a process must import before loading the export (their ops are in its
    # graph), module -> pip requirement; empty when core TensorFlow runs it.
    export_imports: dict[str, str]

    def evaluate(self, model: keras.Model, split: str = "test") -> dict: ...

    def export(self, model: keras.Model, path: Path) -> None: ...

    def serving_inputs(self, split: str) -> list: ...  # the split as the export takes it

    def data_files(self) -> list[Path]: ...  # the local files the source reads (fingerprinted)

    # For `python -m pipelines prepare`: builds and records what encodes the data
    # (tokenizers) in the run directory, then gives each split's examples, read
    # lazily, as dicts of arrays and strings (which `tasks.shards.Shards` writes and a
    # `tfrecord:DIR` source reads back), and a dict for the shards' manifest, filled
    # as they are read.
    def records(self) -> tuple[dict[str, Iterator[dict]], dict]: ...

    # One batch of raw inputs (sentences, file paths) -> per input the served
    # signature's outputs, JSON-ready, or {"error": why} for one that was refused;
    # `cfg` is the config the export was trained with.
    @staticmethod
    def predict(served, cfg, inputs: list[str], n_best: int = 1) -> list[dict]: ...


def read_text(path: Path) -> str:
    """The text of a UTF-8 file, a leading byte-order mark dropped.

    A missing or unreadable file is a `DataError` naming it; bytes that are not UTF-8,
    one naming the file and the line.

    Example:
    >>> read_text(Path("no/such.txt"))
    Traceback (most recent call last):
    common.errors.DataError: no/such.txt: no such file
    """
    with _opened(path) as file:
        data = file.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8 ({err.reason})") from None


def _opened(path: Path):
    """`path` opened to read bytes; a missing or unreadable file is a `DataError` naming it."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError) as err:  # a folder, no permission, a NUL in the name
        raise DataError(f"{path}: cannot read ({getattr(err, 'strerror', None) or err})") from None


def read_lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """The lines of a UTF-8 file, read one at a time, for files larger than memory:
    `(number, line, ended)`, the line without its `\\n` and whether one ended it (not
    so for a last line cut short). A leading byte-order mark is dropped; errors are
    `read_text`'s, a line that is not UTF-8 named by its number.

    Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(b"\\xef\\xbb\\xbfone\\ntwo")
    >>> list(read_lines(path))
    [(1, 'one', True), (2, 'two', False)]
    """
    with _opened(path) as file:
        for number, raw in enumerate(file, 1):  # binary lines end at b"\\n" only
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise DataError(f"{path}:{number}: not valid UTF-8 ({err.reason})") from None
            ended = line.endswith("\n")
            yield number, line[:-1] if ended else line, ended


def batched(items: Iterable, size: int) -> Iterator[list]:
    """`items` in lists of `size` (the last one shorter), read lazily.

    Example:
    >>> list(batched(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def parse_source(spec: str, known: dict[str, str]) -> tuple[str, str]:
    """Splits `KIND[:ARG]` and checks `KIND` against `known` (kind -> description).

    Example:
    >>> parse_source("anki:fra.txt", {"anki": "Anki TSV", "toy_pairs": "generated"})
    ('anki', 'fra.txt')
    """
    kind, _, arg = spec.partition(":")
    if kind not in known:
        listing = "\n".join(f"  {k}: {v}" for k, v in known.items())
        raise DataError(f"unknown data source {spec!r}; known sources:\n{listing}")
    return kind, arg


def split_sizes(total: int) -> dict[str, int]:
    """Sizes of an 80/10/10 split: val and test a tenth each (one at least).

    Example:
    >>> split_sizes(30)
    {'train': 24, 'val': 3, 'test': 3}
    """
    if total < 3:
        raise DataError(f"need at least 3 examples to split, got {total}")
    held = max(1, total // 10)
    return {"train": total - 2 * held, "val": held, "test": held}


def random_split(items: list, seed: int, key: Callable | None = None) -> dict[str, list]:
    """A seeded 80/10/10 split; with `key`, examples of one key stay in one split
    (the translations of one sentence, say), the split counting keys.

    Example:
    >>> {k: len(v) for k, v in random_split(list(range(30)), seed=0).items()}
    {'train': 24, 'val': 3, 'test': 3}
    >>> parts = random_split(["a1", "a2", "b1", "c1", "d1"], 0, key=lambda s: s[0])
    >>> sorted(len({s[0] for s in part}) for part in parts.values())  # keys in each split
    [1, 1, 2]
    """
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item) if key else len(groups), []).append(item)
    order = list(groups)
    random.Random(seed).shuffle(order)
    sizes = split_sizes(len(order))
    held = sizes["test"] + sizes["val"]  # the first keys of the order are the test's
    bounds = {"train": (held, len(order)), "val": (sizes["test"], held),
              "test": (0, sizes["test"])}  # fmt: skip
    return {name: [item for k in order[a:b] for item in groups[k]]
            for name, (a, b) in bounds.items()}  # fmt: skip


def hash_split(key: str, seed: int) -> str:
    """The split of a streamed example, from a hash of its `key` and `seed`: 80/10/10,
    decided one example at a time, so an example keeps its split whatever else the
    file holds (lines added or removed move no other example).

    Example:
    >>> from collections import Counter
    >>> sorted(Counter(hash_split(f"sentence {i}", 0) for i in range(1000)).items())
    [('test', 104), ('train', 796), ('val', 100)]
    """
    digest = hashlib.blake2b(f"{seed}/{key}".encode(), digest_size=8).digest()
    tenth = int.from_bytes(digest, "big") % 10
    return "test" if tenth == 0 else "val" if tenth == 1 else "train"


def split_seed(seed: int, split: str) -> int:
    """The seed of one split of a generated source: each split is drawn on its own.

    Example:
    >>> split_seed(0, "train") != split_seed(0, "test")
    True
    """
    return zlib.crc32(f"{seed}/{split}".encode())


def generated_split(make: Callable[[int, int], list], sizes: dict[str, int], seed: int,
                    split: str, key: Callable | None = None,
                    make_held: Callable[[int, int], list] | None = None) -> list:  # fmt: skip
    """One split of a generated source, made without making the training set when it
    is not the one asked for: evaluating a run never generates training data.

    `make(count, seed)` draws `count` examples (`make_held`, if given, those of the
    held-out splits: another distribution to test on). With `key`, examples are
    distinct values (sentences, expressions): the held-out splits are drawn together,
    and training examples equal to a held-out one are dropped.

    Example:
    >>> make = lambda n, seed: [random.Random(seed).randrange(8) for _ in range(n)]
    >>> held = generated_split(make, {"train": 4, "val": 2, "test": 2}, 0, "test", key=int)
    >>> train = generated_split(make, {"train": 4, "val": 2, "test": 2}, 0, "train", key=int)
    >>> set(held) & set(train)
    set()
    """
    make_held = make_held or make
    if key is None:
        return (make if split == "train" else make_held)(sizes[split], split_seed(seed, split))
    held = make_held(sizes["val"] + sizes["test"], split_seed(seed, "held-out"))
    if split != "train":
        return held[: sizes["val"]] if split == "val" else held[sizes["val"] :]
    taken = {key(e) for e in held}
    drawn = make(sizes["train"] + len(held), split_seed(seed, "train"))
    return [e for e in drawn if key(e) not in taken][: sizes["train"]]


def _split_files(folder: Path) -> dict[str, list[Path]]:
    return {name: sorted(p for p in folder.iterdir() if p.is_file() and p.name.startswith(prefixes))
            for name, prefixes in (("train", ("train",)), ("val", ("val", "dev")),
                                   ("test", ("test",)))}  # fmt: skip


def _folder_splits(folder: Path) -> dict[str, list[Path]]:
    """A folder source's files by split; it must have `train*` and `test*` ones."""
    files = _split_files(folder)
    if not files["train"] or not files["test"]:
        raise DataError(f"{folder}: a folder source needs train* and test* files "
                        f"(and optionally val* or dev*)")  # fmt: skip
    return files


def local_files(path: Path) -> list[Path]:
    """The files a local source reads: `path` itself, or a folder's split files."""
    path = Path(path)
    return [path] if not path.is_dir() else [f for fs in _split_files(path).values() for f in fs]


def local_split(path: Path, read: Callable[[Path], Iterable], seed: int, key: Callable,
                split: str) -> Iterator:  # fmt: skip
    """One split of a local source, read lazily with `read(file)` (an iterator): a
    file's examples by `hash_split` of `key(example)` (so the examples of one key, the
    translations of one sentence, say, share a split), or a folder's `train*`, `val*`
    (or `dev*`) and `test*` files. A folder without a validation file gives a tenth of
    its training examples (by `hash_split`) to validation; a standard test set stays
    the test set.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("train.txt", "test.txt"):
    ...     _ = (folder / name).write_text("".join(f"{name[:2]}{i}\\n" for i in range(20)))
    >>> read = lambda path: iter(path.read_text().split())
    >>> [len(list(local_split(folder, read, 0, str, s))) for s in ("train", "val", "test")]
    [18, 2, 20]
    """
    path = Path(path)
    if not path.is_dir():
        return (e for e in read(path) if hash_split(key(e), seed) == split)
    files = _folder_splits(path)
    if files["val"] or split == "test":
        return (e for file in files[split] for e in read(file))
    kept = {"val"} if split == "val" else {"train", "test"}
    return (e for file in files["train"] for e in read(file) if hash_split(key(e), seed) in kept)


def local_splits(path: Path, read: Callable[[Path], list], seed: int,
                 key: Callable | None = None) -> dict[str, list]:  # fmt: skip
    """The splits of a local source: a file split 80/10/10 (`random_split`), or a
    folder of ready-made `train*`, `val*` (or `dev*`) and `test*` files, read with
    `read(file)`. A folder without a validation file gets one from its training
    files (a ninth of them, `random_split`'s share); a standard test set stays the
    test set.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("train.txt", "test.txt"):
    ...     _ = (folder / name).write_text("".join(f"{name[:2]}{i}\\n" for i in range(9)))
    >>> parts = local_splits(folder, lambda p: p.read_text().split(), seed=0)
    >>> {k: len(v) for k, v in parts.items()}
    {'train': 8, 'val': 1, 'test': 9}
    """
    path = Path(path)
    if not path.is_dir():
        return random_split(read(path), seed, key)
    files = _folder_splits(path)
    parts = {name: [e for file in found for e in read(file)] for name, found in files.items()}
    if not files["val"]:
        held = random_split(parts["train"], seed, key)
        parts["train"], parts["val"] = held["train"] + held["test"], held["val"]
    return parts
