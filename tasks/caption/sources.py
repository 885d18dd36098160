"""Where captioned images come from: generated shapes, a Flickr8k-style folder, TFDS.

`load(cfg, splits)` returns `{split: [Example, ...]}` for the splits asked: a uint8
image at `image_size` and all its reference captions. Generated scenes are drawn per
split; folders are split by image (never by caption), 80/10/10 after a seeded
shuffle, and an image file is decoded only when its pixels are asked for (`image`),
so that a folder's examples hold no pixels: the task reads them a batch at a time. A
TFDS split, or prepared shards' (`tfrecord:DIR`), is read once, its resized images
written to a row file as they come.
"""

import csv
import functools
import io
import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from common.errors import DataError
from tasks import images
from tasks.base import (
    SPLITS,
    batched,
    generated_split,
    parse_source,
    random_split,
    read_text,
    split_sizes,
)
from tasks.caption import shapes
from tasks.row_file import RowFile
from tasks.shards import Shards

SOURCES = {
    "shapes": "generated scenes of coloured shapes, five captions each (default)",
    "folder": "folder:DIR, images plus captions.txt/captions.csv (image,caption) "
    "or Flickr8k.token.txt (name.jpg#k<TAB>caption)",
    "tfds": "tfds:NAME, a TFDS captioning set with an image and captions/text, "
    "e.g. tfds:coco_captions",
    "tfrecord": "tfrecord:DIR, resized images and their captions written by `python -m "
    "pipelines prepare --task caption`",
}
ENCODING = ("image_size",)  # what prepared shards fix: training on them must ask for it
CAPTION_FILES = ("captions.txt", "captions.csv", "Flickr8k.token.txt")
IMAGE_FOLDERS = ("images", "Images", "Flicker8k_Dataset", "Flickr8k_Dataset", ".")
CHUNK = 256  # TFDS images resized and written at a time


class Example(NamedTuple):
    """An image and its captions: the pixels, or a function that reads them from a file."""

    pixels: np.ndarray | Callable[[], np.ndarray]  # (size, size, 3) uint8
    captions: list[str]
    origin: str

    @property
    def image(self) -> np.ndarray:
        """`(size, size, 3)` uint8; a file's are read here, each time (a DataError names
        a missing, oversized, non-image or corrupt file)."""
        return self.pixels() if callable(self.pixels) else self.pixels


def load(cfg, splits: tuple[str, ...] = SPLITS,
         cache: Path | None = None) -> dict[str, list[Example]]:  # fmt: skip
    """The examples of `splits` of the source `cfg.source` (a caption `DataConfig`); a
    TFDS set's images are kept in a file in `cache` (the system's temporary folder by
    default) while its examples live."""
    kind, arg = parse_source(cfg.source, SOURCES)
    if kind == "shapes":
        sizes = split_sizes(cfg.size)
        return {name: generated_split(functools.partial(_scenes, size=cfg.image_size, split=name),
                                      sizes, cfg.seed, name)
                for name in splits}  # fmt: skip
    cache = Path(cache or tempfile.gettempdir())
    if shards := prepared(cfg):
        return {name: _in_row_file(((row["image"], json.loads(row["captions"]),
                                     f"{arg} {name} #{i}")
                                    for i, row in enumerate(shards.rows(name))), cache)
                for name in splits}  # fmt: skip
    if not arg:
        raise DataError(f"data source {kind!r} needs an argument: {SOURCES[kind]}")
    if kind == "folder":
        parts = random_split(captioned_images(Path(arg)), cfg.seed)
        return {name: [_example(row, cfg.image_size, cfg.max_pixels) for row in parts[name]]
                for name in splits}  # fmt: skip
    return _tfds(arg, cfg.image_size, splits, cache)


def files(cfg) -> list[Path]:
    """The local files the source reads: a folder's caption file and images, or what
    identifies prepared shards."""
    kind, arg = parse_source(cfg.source, SOURCES)
    if shards := prepared(cfg):
        return shards.described_by()
    if kind != "folder" or not arg:
        return []
    return [caption_file(Path(arg)), *(path for path, _, _ in captioned_images(Path(arg)))]


def prepared(cfg) -> Shards | None:
    """The shards of a `tfrecord:DIR` source (None for another source), checked to be
    a caption task's of `cfg.image_size` (`cfg`: a caption `DataConfig`)."""
    kind, arg = parse_source(cfg.source, SOURCES)
    if kind != "tfrecord":
        return None
    return Shards.of(arg, "caption", {f"data.{f}": getattr(cfg, f) for f in ENCODING})


def _in_row_file(examples: Iterable[tuple[np.ndarray, list[str], str]],
                 cache: Path) -> list[Example]:  # fmt: skip
    """`(image, captions, origin)` read lazily -> examples whose pixels are in a row
    file in `cache`, appended `CHUNK` images at a time: a split of COCO's size is
    never in memory."""
    rows, out = RowFile(cache), []
    for chunk in batched(examples, CHUNK):
        rows.append(np.stack([image for image, _, _ in chunk]))
        out += [Example(functools.partial(rows.__getitem__, len(out) + i), captions, origin)
                for i, (_, captions, origin) in enumerate(chunk)]  # fmt: skip
    return out


def _scenes(count: int, seed: int, size: int, split: str) -> list[Example]:
    return [Example(s.image, s.captions, f"shapes {split} #{i}")
            for i, s in enumerate(shapes.generate(count, size, seed))]  # fmt: skip


def _caption_rows(path: Path) -> list[tuple[int, str, str]]:
    """`(line, image name, caption)` rows of a CSV or Flickr8k token file."""
    text = read_text(path)
    rows = []
    if text.split("\n", 1)[0].strip().lower().replace(" ", "") == "image,caption":
        reader = csv.reader(io.StringIO(text, newline=""))
        number = 1  # the line the next row starts on (a quoted caption may hold newlines)
        try:
            for row in reader:
                number, start = reader.line_num + 1, number
                if start == 1 or not row:
                    continue
                if len(row) < 2:
                    raise DataError(f"{path}:{start}: expected 'image,caption', got {row!r}")
                rows.append((start, row[0].strip(), ",".join(row[1:]).strip()))
        except csv.Error as err:
            raise DataError(f"{path}:{number}: {err}") from None
        return rows
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        name, tab, caption = line.partition("\t")
        if not tab:
            raise DataError(f"{path}:{number}: expected 'name.jpg#k<TAB>caption', got {line!r}")
        rows.append((number, name.split("#")[0].strip(), caption.strip()))
    return rows


def _image_path(image_dir: Path, name: str, origin: str) -> Path:
    """The image file `name` in `image_dir`; one outside it (`..`, an absolute path, a
    symbolic link out) is refused, as a data file must not reach other files."""
    try:
        path = (image_dir / name).resolve()
        inside = path.is_relative_to(image_dir.resolve())
        found = inside and path.is_file()
    except (OSError, ValueError, RuntimeError) as err:  # a NUL, a name too long, a link loop
        raise DataError(f"{origin}: bad image name {name!r} ({err})") from None
    if not inside:
        raise DataError(f"{origin}: image {name!r} is outside the image folder {image_dir}")
    if not found:
        raise DataError(f"{origin}: image {name} not found in {image_dir}")
    return path


def read_folder(folder: Path, image_size: int, max_pixels: int) -> list[Example]:
    """A Flickr8k-style folder's examples; every image a caption names must exist, and
    its pixels are read when asked for."""
    return [_example(row, image_size, max_pixels) for row in captioned_images(folder)]


def _example(row: tuple[Path, list[str], str], image_size: int, max_pixels: int) -> Example:
    path, captions, origin = row
    return Example(functools.partial(images.load, path, image_size, max_pixels), captions, origin)


def caption_file(folder: Path) -> Path:
    """The caption file of a Flickr8k-style folder."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    found = [folder / name for name in CAPTION_FILES if (folder / name).is_file()]
    if not found:
        raise DataError(f"{folder}: no caption file (looked for {', '.join(CAPTION_FILES)})")
    return found[0]


def captioned_images(folder: Path) -> list[tuple[Path, list[str], str]]:
    """A Flickr8k-style folder's `(image path, captions, origin)`, in the caption
    file's order, without reading the images; every image a caption names must exist."""
    captions_file = caption_file(folder)
    image_dir = next(folder / d for d in IMAGE_FOLDERS if (folder / d).is_dir())
    by_image: dict[Path, list[str]] = {}
    first_line: dict[Path, int] = {}
    for number, name, caption in _caption_rows(captions_file):
        if not caption:
            raise DataError(f"{captions_file}:{number}: empty caption for {name}")
        path = _image_path(image_dir, name, f"{captions_file}:{number}")
        by_image.setdefault(path, []).append(caption)
        first_line.setdefault(path, number)
    if not by_image:
        raise DataError(f"{captions_file}: no captions")
    return [(path, caps, f"{captions_file}:{first_line[path]}") for path, caps in by_image.items()]


def _tfds(name: str, image_size: int, wanted: tuple[str, ...],
          cache: Path) -> dict[str, list[Example]]:  # fmt: skip
    """The splits of a TFDS set, read from the `tf.data` datasets TFDS returns: each
    image resized and appended to a row file in `cache` as it is read (`_in_row_file`)."""
    import tensorflow_datasets as tfds  # heavy; only this source needs it

    builder = tfds.builder(name)
    builder.download_and_prepare()
    splits = set(builder.info.splits) or {"train", "val", "test"}
    names = {"train": "train", "test": "test" if "test" in splits else "val"}
    names["val"] = "validation" if "validation" in splits else "val"
    out = {}
    for split_name, tfds_split in ((n, names[n]) for n in wanted):
        ds = builder.as_dataset(split=tfds_split).map(
            lambda ex: (images.resize(ex["image"], image_size), ex["captions"]["text"])
        )
        out[split_name] = _in_row_file(((image, [c.decode("utf-8") for c in captions],
                                         f"tfds:{name}[{tfds_split}] #{i}")
                                        for i, (image, captions) in enumerate(tfds.as_numpy(ds))),
                                       cache)  # fmt: skip
    return out
