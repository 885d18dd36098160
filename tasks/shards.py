"""Prepared shards: a source's examples, encoded once, in TFRecord files read by `tf.data`."""

import functools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import tensorflow as tf

from common.errors import ConfigError, DataError
from tasks.base import SPLITS

MANIFEST = "shards.json"
RAW = ("uint8", "float32")  # arrays kept as their bytes, of one shape
BUFFER = 10_000  # training examples a shuffle holds (after the shard files' own shuffle)


class Shards:
    """A folder of TFRecord shards, `{split}-{i:05d}.tfrecord`, and its `shards.json`
    (the task, the config they were encoded with, the files and example counts).

    `write` spreads a split's examples over its files in turn (so each file holds an
    even share, without counting first); an example is a dict of 1-D integer arrays
    (token ids), uint8 and float32 arrays of one shape (pixels, windows: kept as their
    bytes) and strings (raw text, kept for references). `dataset` reads a split
    back: the training split in a new seeded file order each epoch, four files
    interleaved and a `BUFFER`-example shuffle, with the `FILE` auto-shard policy, so
    under `--strategy multiworker` each worker reads its own files.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> rows = [{"ids": np.arange(n), "text": "abc"[:n]} for n in (1, 2, 3)]
    >>> shards = Shards.write(folder, {"task": "demo"}, {s: rows for s in SPLITS}, count=2)
    >>> [f.name for f in shards.files("test")]
    ['test-00000.tfrecord', 'test-00001.tfrecord']
    >>> [e["ids"].tolist() for e in shards.rows("test")], shards.count("test")
    ([[0], [0, 1], [0, 1, 2]], 3)
    """

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        path = self.folder / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            self.meta, self.features, self.shapes, self._splits = (
                manifest["meta"], manifest["features"], manifest["shapes"], manifest["splits"]
            )  # fmt: skip
        except FileNotFoundError:
            raise DataError(
                f"{path}: no such file; write shards with `python -m pipelines prepare`"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise DataError(f"{path}: not a shards manifest ({err})") from None

    @classmethod
    def of(cls, folder: str, task: str, asked: dict) -> "Shards":
        """The shards in `folder`, checked to be `task`'s and written with the config
        values a run asks for: `asked` maps dotted fields (`data.image_size`) to them,
        the fields the shards fixed (what training cannot change)."""
        if not folder:
            raise DataError(f"data source 'tfrecord' needs a folder: tfrecord:DIR, written "
                            f"by `python -m pipelines prepare --task {task}`")  # fmt: skip
        shards = cls(folder)
        if shards.meta.get("task") != task:
            raise DataError(f"{folder}: shards of the {shards.meta.get('task')} task, not {task}'s")
        for field, value in asked.items():
            written = functools.reduce(dict.__getitem__, field.split("."), shards.meta["config"])
            if written != value:
                raise ConfigError(f"{field}={value}, but {folder} was prepared with "
                                  f"{field}={written}: set it so")  # fmt: skip
        return shards

    def described_by(self) -> list[Path]:
        """The files that identify the shards (a run fingerprints them): the manifest
        and what the task recorded beside it, such as vocabularies; not the shard files
        themselves, which `prepare` never rewrites."""
        return sorted(p for p in self.folder.rglob("*") if p.is_file() and p.suffix != ".tfrecord")

    @classmethod
    def write(cls, folder: Path, meta: dict, splits: dict[str, Iterable[dict]],
              count: int) -> "Shards":  # fmt: skip
        """Writes each split's examples to `count` files (fewer for a split of fewer
        examples) in `folder`, then the manifest with `meta` (written last: it may be
        filled as the examples are read); returns them."""
        folder.mkdir(parents=True, exist_ok=True)
        features, shapes, written = {}, {}, {}
        for split, examples in splits.items():
            writers, files, total = [], [], 0
            try:
                for total, example in enumerate(examples, 1):
                    if not features:
                        features = {k: _kind(v) for k, v in example.items()}
                        shapes = {k: list(np.shape(v)) for k, v in example.items()}
                    if len(writers) < count:  # the first `count` examples open the files
                        files.append(f"{split}-{len(writers):05d}.tfrecord")
                        writers.append(tf.io.TFRecordWriter(str(folder / files[-1])))
                    writers[(total - 1) % count].write(_serialized(example, features))
            finally:
                for writer in writers:
                    writer.close()
            if not total:
                raise DataError(f"the {split} split has no examples to write")
            written[split] = {"files": files, "examples": total}
        manifest = {"meta": meta, "features": features, "shapes": shapes, "splits": written}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return cls(folder)

    def count(self, split: str) -> int:
        """The split's number of examples."""
        return self._splits[split]["examples"]

    def files(self, split: str | None = None) -> list[Path]:
        """The split's shard files (every split's, without one)."""
        names = [f for s in SPLITS if split in (None, s) for f in self._splits[s]["files"]]
        return [self.folder / name for name in names]

    def dataset(self, split: str, seed: int | None = None) -> tf.data.Dataset:
        """The split's examples, dicts of `(n,)` int64 ids and `()` strings: in file
        order, or with `seed` shuffled anew each epoch (one draw per iterator: the
        resume of `pipelines.run` draws the same orders again)."""
        files = tf.data.Dataset.from_tensor_slices([str(f) for f in self.files(split)])
        if seed is not None:
            files = files.shuffle(len(self.files(split)), seed=seed)
        examples = files.interleave(tf.data.TFRecordDataset, cycle_length=4,
                                    num_parallel_calls=tf.data.AUTOTUNE,
                                    deterministic=True)  # fmt: skip
        if seed is not None:
            examples = examples.shuffle(BUFFER, seed=seed)
            options = tf.data.Options()
            options.experimental_distribute.auto_shard_policy = (
                tf.data.experimental.AutoShardPolicy.FILE
            )
            examples = examples.with_options(options)
        spec = {name: tf.io.RaggedFeature(tf.int64) if kind == "int"
                else tf.io.FixedLenFeature([], tf.string)
                for name, kind in self.features.items()}  # fmt: skip

        def parsed(record):  # arrays of bytes back to their dtype and shape
            example = tf.io.parse_single_example(record, spec)
            for name, kind in self.features.items():
                if kind in RAW:
                    raw = tf.io.decode_raw(example[name], tf.as_dtype(kind))
                    example[name] = tf.reshape(raw, self.shapes[name])
            return example

        examples = examples.map(parsed, num_parallel_calls=tf.data.AUTOTUNE)
        return examples.apply(tf.data.experimental.assert_cardinality(self.count(split)))

    def rows(self, split: str) -> Iterator[dict]:
        """The split's examples in file order, as numpy arrays and str."""
        for example in self.dataset(split).as_numpy_iterator():
            yield {k: v.decode("utf-8") if self.features[k] == "bytes" else v
                   for k, v in example.items()}  # fmt: skip


def _kind(value) -> str:
    """How a feature is kept: `bytes` (a str, UTF-8), `uint8` or `float32` (an array's
    bytes) or `int` (int64 values)."""
    if isinstance(value, str):
        return "bytes"
    dtype = np.asarray(value).dtype.name
    return dtype if dtype in RAW else "int"


def _serialized(example: dict, features: dict[str, str]) -> bytes:
    """One example as a `tf.train.Example`: byte strings and int64 lists."""
    if example.keys() != features.keys():
        raise ValueError(f"example of features {sorted(example)}, not {sorted(features)}")
    feature = {}
    for name, value in example.items():
        if features[name] == "int":
            feature[name] = tf.train.Feature(
                int64_list=tf.train.Int64List(value=np.asarray(value).tolist())
            )
        else:
            raw = (
                value.encode("utf-8") if features[name] == "bytes" else np.asarray(value).tobytes()
            )
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[raw]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
