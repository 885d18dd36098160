"""Where translation pairs come from: generated, Anki/Tatoeba, two text files, TFDS.

`load(cfg, splits)` returns `{split: [Pair, ...]}` for the splits asked, making or
reading only what they need. Generated pairs are drawn per split (held-out sources
never occur in training). A local file is split 80/10/10 after a seeded shuffle by
source sentence, so that all translations of a sentence fall in one split; a folder
of `train*`, `val*` (or `dev*`) and `test*` files keeps its own splits. TFDS sets keep
their own splits (a missing validation split is carved from train).
"""

from pathlib import Path

from common.errors import DataError
from tasks.base import (
    SPLITS,
    generated_split,
    local_files,
    local_splits,
    parse_source,
    read_text,
    split_sizes,
)
from tasks.translate import toy_pairs
from tasks.translate.toy_pairs import Pair

SOURCES = {
    "toy_pairs": "generated English -> Toy pairs with source trees (default)",
    "anki": "anki:PATH, a Tatoeba/Anki tab-separated file (source, target[, attribution]), "
    "or a folder of such train*, val* and test* files",
    "files": "files:SRC,TGT, two aligned text files, one sentence a line, or two folders "
    "of such train*, val* and test* files with the same names",
    "tfds": "tfds:NAME[/CONFIG], a TFDS translation set, e.g. tfds:ted_hrlr_translate/pt_to_en",
}


def load(cfg, splits: tuple[str, ...] = SPLITS) -> dict[str, list[Pair]]:
    """The pairs of `splits` of the source `cfg.source` (a translate `DataConfig`)."""
    kind, arg = parse_source(cfg.source, SOURCES)
    if kind == "toy_pairs":
        sizes = split_sizes(cfg.size)
        return {name: generated_split(toy_pairs.generate, sizes, cfg.seed, name,
                                      key=lambda pair: pair.source)
                for name in splits}  # fmt: skip
    if kind == "tfds":
        return _tfds(arg, splits)
    if not arg:
        raise DataError(f"data source {kind!r} needs a path: {SOURCES[kind]}")
    if kind == "anki":
        parts = local_splits(Path(arg), read_anki, cfg.seed, key=_source)
    else:
        src, tgt = _parallel_paths(arg)
        parts = local_splits(src, lambda path: read_parallel(path, _target_of(path, src, tgt)),
                             cfg.seed, key=_source)  # fmt: skip
    return {name: parts[name] for name in splits}


def files(cfg) -> list[Path]:
    """The local files the source reads (none when generated or from TFDS)."""
    kind, arg = parse_source(cfg.source, SOURCES)
    if kind == "anki" and arg:
        return local_files(Path(arg))
    if kind == "files" and arg:
        src, tgt = _parallel_paths(arg)
        return [f for path in local_files(src) for f in (path, _target_of(path, src, tgt))]
    return []


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


def _read_lines(path: Path) -> list[str]:
    lines = read_text(path).split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def read_anki(path: Path) -> list[Pair]:
    """Reads `source<TAB>target[<TAB>attribution]` lines.

    A malformed line is an error naming it; a malformed *last* line without a
    newline is taken as a truncated download and left out with a warning.
    """
    lines = _read_lines(path)
    truncated = not path.read_bytes().endswith(b"\n")
    pairs = []
    for number, line in enumerate(lines, 1):
        columns = line.rstrip("\r").split("\t")
        ok = len(columns) in (2, 3) and columns[0].strip() and columns[1].strip()
        if not ok:
            if truncated and number == len(lines):
                print(f"warning: {path}:{number}: truncated last line left out")
                continue
            raise DataError(
                f"{path}:{number}: expected 'source<TAB>target[<TAB>attribution]' "
                f"with non-empty sentences, got {len(columns)} column(s): {line[:80]!r}"
            )
        pairs.append(Pair(columns[0].strip(), columns[1].strip(), None, f"{path}:{number}"))
    return pairs


def read_parallel(src: Path, tgt: Path) -> list[Pair]:
    """Reads two line-aligned files; empty lines and unequal lengths are errors."""
    sources, targets = _read_lines(src), _read_lines(tgt)
    if len(sources) != len(targets):
        raise DataError(f"{src} has {len(sources)} lines but {tgt} has {len(targets)}")
    pairs = []
    for number, (s, t) in enumerate(zip(sources, targets, strict=True), 1):
        for path, text in ((src, s), (tgt, t)):
            if not text.strip():
                raise DataError(f"{path}:{number}: empty sentence")
        pairs.append(Pair(s.strip(), t.strip(), None, f"{src}:{number}"))
    return pairs


def _tfds(name: str, wanted: tuple[str, ...]) -> dict[str, list[Pair]]:
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
    out = {}
    for split_name, tfds_split in ((n, names[n]) for n in wanted):
        ds = builder.as_dataset(split=tfds_split, as_supervised=True)
        out[split_name] = [
            Pair(s.decode("utf-8"), t.decode("utf-8"), None, f"tfds:{name}[{tfds_split}] #{i}")
            for i, (s, t) in enumerate(tfds.as_numpy(ds))
        ]
    return out
