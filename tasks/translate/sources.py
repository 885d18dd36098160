"""Where translation pairs come from: generated, Anki/Tatoeba, two text files, TFDS.

`read(cfg, split)` gives one split's pairs lazily, one at a time, making or reading
only what that split needs: a local file or a TFDS split is never held whole, however
large. Generated pairs are drawn per split (held-out sources never occur in
training). A local file is split 80/10/10 by a hash of each pair's source sentence
(`tasks.base.hash_split`), so that all translations of a sentence fall in one split
and a pair's split does not depend on the rest of the file; a folder of `train*`,
`val*` (or `dev*`) and `test*` files keeps its own splits. TFDS sets keep their own
splits (a missing validation split is carved from train). Prepared shards
(`tfrecord:DIR`) keep the splits, tokens and vocabularies they were written with.
"""

import itertools
import warnings
from collections.abc import Iterator
from pathlib import Path

from common.errors import DataError
from tasks.base import (
    generated_split,
    local_files,
    local_split,
    parse_source,
    read_lines,
    split_sizes,
)
from tasks.shards import Shards
from tasks.translate import toy_pairs
from tasks.translate.toy_pairs import Pair

SOURCES = {
    "toy_pairs": "generated English -> Toy pairs with source trees (default)",
    "anki": "anki:PATH, a Tatoeba/Anki tab-separated file (source, target[, attribution]), "
    "or a folder of such train*, val* and test* files",
    "files": "files:SRC,TGT, two aligned text files, one sentence a line, or two folders "
    "of such train*, val* and test* files with the same names",
    "tfds": "tfds:NAME[/CONFIG], a TFDS translation set, e.g. tfds:ted_hrlr_translate/pt_to_en",
    "tfrecord": "tfrecord:DIR, TFRecord shards of token ids written by `python -m pipelines "
    "prepare --task translate`",
}
# What prepared shards fix: training on them must ask for the same.
ENCODING = ("tokens", "max_vocab", "max_length")


def read(cfg, split: str) -> Iterator[Pair]:
    """The pairs of `split` of the source `cfg.source` (a translate `DataConfig`), read
    lazily: each call reads the source anew.

    Example:
    >>> from tasks.translate.config import DataConfig
    >>> pair = next(read(DataConfig(size=100), "test"))
    >>> len(pair.source.split()) > 1
    True
    """
    kind, arg = parse_source(cfg.source, SOURCES)
    if kind == "toy_pairs":
        return iter(generated_split(toy_pairs.generate, split_sizes(cfg.size), cfg.seed, split,
                                    key=_source))  # fmt: skip
    if kind == "tfds":
        return _tfds(arg, split)
    if kind == "tfrecord":
        return _prepared(cfg, split)
    if not arg:
        raise DataError(f"data source {kind!r} needs a path: {SOURCES[kind]}")
    if kind == "anki":
        return local_split(Path(arg), read_anki, cfg.seed, _source, split)
    src, tgt = _parallel_paths(arg)
    return local_split(src, lambda path: read_parallel(path, _target_of(path, src, tgt)),
                       cfg.seed, _source, split)  # fmt: skip


def files(cfg) -> list[Path]:
    """The local files the source reads (none when generated or from TFDS)."""
    kind, arg = parse_source(cfg.source, SOURCES)
    if kind == "anki" and arg:
        return local_files(Path(arg))
    if kind == "files" and arg:
        src, tgt = _parallel_paths(arg)
        return [f for path in local_files(src) for f in (path, _target_of(path, src, tgt))]
    if shards := prepared(cfg):
        return shards.described_by()
    return []


def prepared(cfg) -> Shards | None:
    """The shards of a `tfrecord:DIR` source (None for another source), checked to be
    a translate task's encoded as `cfg` (a translate `DataConfig`) asks."""
    kind, arg = parse_source(cfg.source, SOURCES)
    if kind != "tfrecord":
        return None
    return Shards.of(arg, "translate", {f"data.{f}": getattr(cfg, f) for f in ENCODING})


def _prepared(cfg, split: str) -> Iterator[Pair]:
    """The raw sentences kept in a split's shards."""
    shards = prepared(cfg)
    for i, row in enumerate(shards.rows(split)):
        yield Pair(row["source"], row["target"], None, f"{shards.folder} {split} #{i}")


def _parallel_paths(arg: str) -> tuple[Path, Path]:
    """`files:SRC,TGT`: two files, or two folders of split files."""
    src, _, tgt = arg.partition(",")
    if not tgt:
        raise DataError(f"data source 'files' needs two paths: {SOURCES['files']}")
    src, tgt = Path(src), Path(tgt)
    if src.is_dir() != tgt.is_dir():
        raise DataError(f"files:{arg}: give two files or two folders, not one of each")
    return src, tgt


def _target_of(path: Path, src: Path, tgt: Path) -> Path:
    """The target file aligned with source file `path`: `tgt` itself, or the file of
    the same name in the target folder."""
    return tgt / path.name if src.is_dir() else tgt


def _source(pair: Pair) -> str:
    return pair.source


def read_anki(path: Path) -> Iterator[Pair]:
    """Reads `source<TAB>target[<TAB>attribution]` lines, one at a time.

    A malformed line is an error naming it; a malformed *last* line without a
    newline is taken as a truncated download and left out with a warning.
    """
    for number, line, ended in read_lines(path):
        columns = line.rstrip("\r").split("\t")
        if len(columns) in (2, 3) and columns[0].strip() and columns[1].strip():
            yield Pair(columns[0].strip(), columns[1].strip(), None, f"{path}:{number}")
        elif not ended:
            warnings.warn(f"{path}:{number}: truncated last line left out", stacklevel=1)
        else:
            raise DataError(
                f"{path}:{number}: expected 'source<TAB>target[<TAB>attribution]' "
                f"with non-empty sentences, got {len(columns)} column(s): {line[:80]!r}"
            )


def read_parallel(src: Path, tgt: Path) -> Iterator[Pair]:
    """Reads two line-aligned files, a line of each at a time; empty lines and unequal
    lengths are errors."""
    lines = itertools.zip_longest(read_lines(src), read_lines(tgt))
    for number, (source, target) in enumerate(lines, 1):
        if source is None or target is None:  # one file ended: count the other's rest
            longer = number + sum(1 for _ in lines)
            counts = (number - 1, longer) if source is None else (longer, number - 1)
            raise DataError(f"{src} has {counts[0]} lines but {tgt} has {counts[1]}")
        for path, (_, text, _) in ((src, source), (tgt, target)):
            if not text.strip():
                raise DataError(f"{path}:{number}: empty sentence")
        yield Pair(source[1].strip(), target[1].strip(), None, f"{src}:{number}")


def _tfds(name: str, split: str) -> Iterator[Pair]:
    """One split of a TFDS set, read from the `tf.data` dataset TFDS returns."""
    import tensorflow_datasets as tfds  # heavy; only this source needs it

    if not name:
        raise DataError(f"data source 'tfds' needs a name: {SOURCES['tfds']}")
    builder = tfds.builder(name)
    keys = builder.info.supervised_keys
    if not keys:
        raise DataError(f"tfds:{name} has no supervised (source, target) keys")
    # Builders whose split metadata is not at hand (mocked in tests) list none.
    splits = set(builder.info.splits) or {"train", "validation", "test"}
    names = {"train": "train", "test": "test"}
    names["val"] = "validation" if "validation" in splits else "train[:5%]"
    if names["val"] == "train[:5%]":
        names["train"] = "train[5%:]"
    builder.download_and_prepare()
    ds = builder.as_dataset(split=names[split], as_supervised=True)
    for i, (s, t) in enumerate(tfds.as_numpy(ds)):
        yield Pair(s.decode("utf-8"), t.decode("utf-8"), None, f"tfds:{name}[{names[split]}] #{i}")
