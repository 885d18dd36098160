"""Where labelled sequences come from: generated clips, series and ListOps trees,
frame folders, OHLCV CSV files, TFDS video sets, ListOps files and the SST.

`load(cfg)` returns a `Data`: the modality (`"video"`, `"series"` or `"tree"`), the
class names and, per split, the inputs, labels and each example's `previous` index
(the example before it in time, for the "same as last" baseline; -1 when none).
Trees are kept as their bracketed text (`labelled` tells the notation, see
`tasks/trees.py`); the model's input pipeline parses them.
"""

import random
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from tasks import images, trees
from tasks.base import DataError, parse_source, random_split, read_text
from tasks.classify import listops, moving_shapes, ohlcv, regimes
from tasks.classify.config import DataConfig

SOURCES = {
    "moving_shapes": "generated clips of moving, growing and shrinking shapes (default)",
    "regimes": "generated daily OHLCV series from a regime-switching process",
    "frames": "frames:DIR, a folder DIR/<class>/<clip>/<frame>.jpg of extracted frames",
    "ohlcv": "ohlcv:PATH, a CSV file (or folder of them) with Date,Open,High,Low,Close,Volume",
    "tfds": "tfds:NAME, a TFDS video set with 'video' and 'label', e.g. tfds:ucf101",
    "listops": "generated ListOps trees; listops:PATH reads released label<TAB>expression "
    "files (a file, or a folder of train*/test* and optional val*/dev* files)",
    "sst": "sst:DIR, the Stanford Sentiment Treebank's train.txt, dev.txt and test.txt",
}
SST_CLASSES = {
    "fine": ("very negative", "negative", "neutral", "positive", "very positive"),
    "binary": ("negative", "positive"),
}
FINE_LABELS = ("0", "1", "2", "3", "4")  # SST node labels
VIDEO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class Split(NamedTuple):
    x: np.ndarray  # (n, frames, size, size, 3) uint8, (n, days, 5) float32 or (n,) str
    y: np.ndarray  # (n,) int labels
    previous: np.ndarray  # (n,) index into the same split, or -1


class Data(NamedTuple):
    modality: str
    classes: tuple[str, ...]
    splits: dict[str, Split]
    labelled: bool = False  # trees: PTB notation with node labels (else ListOps')


def load(cfg: DataConfig) -> Data:
    kind, arg = parse_source(cfg.source, SOURCES)
    if kind not in ("moving_shapes", "regimes", "listops") and not arg:
        raise DataError(f"data source {kind!r} needs an argument: {SOURCES[kind]}")
    if kind == "moving_shapes":
        clips, labels = moving_shapes.generate(cfg.size, cfg.frames, cfg.frame_size, seed=99)
        return Data("video", moving_shapes.CLASSES, _split(clips, labels, cfg.seed))
    if kind == "frames":
        clips, labels, classes = read_frames(Path(arg), cfg.frames, cfg.frame_size)
        return Data("video", classes, _split(clips, labels, cfg.seed))
    if kind == "tfds":
        return _tfds(arg, cfg)
    if kind == "regimes":
        return Data("series", regimes.CLASSES, _regime_splits(cfg))
    if kind == "listops":
        return Data("tree", tuple(str(d) for d in range(10)), _listops_splits(arg, cfg))
    if kind == "sst":
        return Data("tree", SST_CLASSES[cfg.sst_mode], _sst_splits(Path(arg), cfg), True)
    return Data("series", ohlcv.CLASSES, _ohlcv_splits(Path(arg), cfg))


def _split(x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Split]:
    """The seeded 80/10/10 split of independent examples (no time order)."""
    parts = random_split(list(range(len(x))), seed)
    return {k: Split(x[i], y[i], np.full(len(i), -1)) for k, i in parts.items()}


def _regime_splits(cfg: DataConfig) -> dict[str, Split]:
    """80/10/10 of the windows in series order; the two windows at each boundary are
    dropped, since neighbouring windows of a series overlap by half."""
    x, y, owner = regimes.windows(cfg.size, cfg.window, seed=77)
    cut = [int(len(y) * share) for share in (0.8, 0.9)]
    parts = {"train": np.arange(0, cut[0] - 1), "val": np.arange(cut[0] + 1, cut[1] - 1),
             "test": np.arange(cut[1] + 1, len(y))}  # fmt: skip
    out = {}
    for name, idx in parts.items():
        same = np.r_[False, owner[idx][1:] == owner[idx][:-1]]  # follows in the series
        out[name] = Split(x[idx], y[idx], np.where(same, np.arange(len(idx)) - 1, -1))
    return out


def _ohlcv_splits(path: Path, cfg: DataConfig) -> dict[str, Split]:
    """Per ticker, chronological splits with a gap of `horizon` days; then concatenated."""
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    for ticker, (_, table) in ohlcv.read(path).items():
        x, y, previous = ohlcv.windows(table, cfg.window, cfg.horizon, cfg.dead_zone,
                                       f"{path} ({ticker})")  # fmt: skip
        for name, idx in ohlcv.chronological(len(x), cfg.horizon).items():
            if len(idx) == 0:
                raise DataError(f"{path} ({ticker}): too few rows for a {name} split")
            offset = sum(len(p[1]) for p in parts[name])
            prev = previous[idx] - idx[0]  # re-indexed within the split
            prev = np.where(prev >= 0, prev + offset, -1)
            parts[name].append((x[idx], y[idx], prev))
    return {
        name: Split(*(np.concatenate([p[k] for p in chunks]) for k in range(3)))
        for name, chunks in parts.items()
    }


def read_frames(folder: Path, frames: int, size: int):
    """`DIR/<class>/<clip>/<frame>` -> clips `(n, frames, size, size, 3)`, labels, classes.

    Frames are taken evenly over each clip, in file-name order.
    """
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    classes = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    if not classes:
        raise DataError(f"{folder}: no class folders (expected DIR/<class>/<clip>/<frame>.jpg)")
    clips, labels = [], []
    for label, name in enumerate(classes):
        clip_dirs = sorted(p for p in (folder / name).iterdir() if p.is_dir())
        if not clip_dirs:
            raise DataError(f"{folder / name}: empty class folder (no clip folders)")
        for clip in clip_dirs:
            paths = sorted(p for p in clip.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
            if len(paths) < frames:
                raise DataError(f"{clip}: {len(paths)} frames, need at least data.frames={frames}")
            picks = np.linspace(0, len(paths) - 1, frames).round().astype(int)
            clips.append(np.stack([images.load(paths[i], size, 10**8) for i in picks]))
            labels.append(label)
    return np.stack(clips), np.array(labels), classes


def _tfds(name: str, cfg: DataConfig) -> Data:
    import tensorflow_datasets as tfds  # heavy; only this source needs it

    builder = tfds.builder(name)
    builder.download_and_prepare()
    classes = tuple(builder.info.features["label"].names)
    size, frames = cfg.frame_size, cfg.frames

    def sample(example):
        video = example["video"]  # (time, height, width, 3) uint8
        last = tf.cast(tf.shape(video)[0] - 1, tf.float32)
        picks = tf.cast(tf.round(tf.linspace(0.0, last, frames)), tf.int32)
        return images.resize(tf.gather(video, picks), size), example["label"]

    arrays = {}
    for split in ("train", "test"):
        pairs = list(tfds.as_numpy(builder.as_dataset(split=split).map(sample)))
        arrays[split] = (np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    x, y = arrays["train"]
    held = random.Random(cfg.seed).sample(range(len(x)), max(1, len(x) // 10))
    val = np.zeros(len(x), bool)
    val[held] = True
    splits = {
        "train": Split(x[~val], y[~val], np.full((~val).sum(), -1)),
        "val": Split(x[val], y[val], np.full(val.sum(), -1)),
        "test": Split(*arrays["test"], np.full(len(arrays["test"][1]), -1)),
    }
    return Data("video", classes, splits)


def _tree_split(examples: list[tuple[int, str]]) -> Split:
    return Split(np.array([x for _, x in examples], dtype=object),
                 np.array([y for y, _ in examples]), np.full(len(examples), -1))  # fmt: skip


def _listops_splits(path: str, cfg: DataConfig) -> dict[str, Split]:
    """Generated (`cfg.tree_splits` distinct expressions), one released file split
    80/10/10, or a folder of released files; longer than `cfg.max_length` dropped."""
    limit = cfg.max_length or None
    if not path:
        examples = listops.generate(sum(cfg.tree_splits), cfg.seed, limit)
        train, val, _ = cfg.tree_splits
        parts = {"train": examples[:train], "val": examples[train : train + val],
                 "test": examples[train + val :]}  # fmt: skip
    elif Path(path).is_dir():
        parts = {name: _listops_files(Path(path), prefixes)
                 for name, prefixes in (("train", ("train",)), ("val", ("val", "dev")),
                                        ("test", ("test",)))}  # fmt: skip
        if not parts["train"] or not parts["test"]:
            raise DataError(f"{path}: need train*.tsv and test*.tsv ListOps files")
        if not parts["val"]:  # released ListOps has no validation file
            held = random_split(parts["train"], cfg.seed)
            parts["train"], parts["val"] = held["train"] + held["test"], held["val"]
    else:
        parts = random_split(listops.read(Path(path)), cfg.seed)
    if limit:
        for name, examples in parts.items():
            kept = [e for e in examples if listops.length_and_depth(e[1])[0] <= limit]
            if len(kept) < len(examples):
                print(f"listops: {len(examples) - len(kept)} {name} expressions longer than "
                      f"data.max_length={limit} are left out")  # fmt: skip
            parts[name] = kept
    return {name: _tree_split(examples) for name, examples in parts.items()}


def _listops_files(folder: Path, prefixes: tuple[str, ...]) -> list[tuple[int, str]]:
    files = sorted(
        p for p in folder.iterdir() if p.suffix == ".tsv" and p.name.startswith(prefixes)
    )
    return [example for path in files for example in listops.read(path)]


def _sst_splits(folder: Path, cfg: DataConfig) -> dict[str, Split]:
    """`train.txt`, `dev.txt`, `test.txt`: one labelled tree a line, every node labelled
    0-4, the root's label the class; in `binary` mode, neutral roots (2) are left out,
    0-1 negative."""
    if cfg.sst_mode not in SST_CLASSES:
        raise DataError(f"data.sst_mode must be one of {tuple(SST_CLASSES)}, got {cfg.sst_mode!r}")
    parts = {}
    for name, file in (("train", "train.txt"), ("val", "dev.txt"), ("test", "test.txt")):
        path = folder / file
        if not path.exists():
            raise DataError(f"{path}: missing (sst:DIR needs train.txt, dev.txt and test.txt)")
        lines = read_text(path).split("\n")
        numbered = [
            (f"{path}:{i}", line.strip()) for i, line in enumerate(lines, 1) if line.strip()
        ]
        trees.check([t for _, t in numbered], [o for o, _ in numbered], labelled=True)
        examples = []
        for origin, tree in numbered:
            if not tree.startswith("("):  # one bare word is a tree to the parser
                raise DataError(f"{origin}: expected '(label ...)', got {tree[:80]!r}")
            labels = re.findall(r"\(\s*([^\s()]+)", tree, re.ASCII)  # the root's first
            if labels[0] not in FINE_LABELS:
                raise DataError(f"{origin}: the root label must be 0-4, got {labels[0]!r}")
            for node in labels[1:]:
                if node not in FINE_LABELS:
                    raise DataError(f"{origin}: node labels must be 0-4, got {node!r}")
            label = int(labels[0])
            if cfg.sst_mode == "binary":
                if label == 2:
                    continue
                label = int(label > 2)
            examples.append((label, tree))
        if not examples:
            raise DataError(f"{path}: no trees")
        parts[name] = _tree_split(examples)
    return parts
