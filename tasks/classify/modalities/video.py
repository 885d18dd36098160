"""Video clips: generated moving shapes, folders of frames, TFDS video sets.

Clips are `(frames, size, size, 3)` uint8, `video.frames` frames taken evenly over
each clip and resized to `video.frame_size`. The front end is a per-frame CNN
(`TimeDistributed`), its grid flattened beside its mean; the export takes uint8
`frames` `(batch, time, height, width, 3)` of any length and size.
"""

import dataclasses
import random
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from common.errors import DataError
from models import ImageEncoder, encoders
from tasks import images
from tasks.base import generated_split, parse_source, random_split, split_sizes
from tasks.classify import moving_shapes
from tasks.classify.modality import Data, Examples
from tasks.export import at_least_one

SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


@dataclasses.dataclass(frozen=True)
class VideoConfig:
    frames: int = 16  # clip length: frames taken evenly over each clip
    frame_size: int = 32  # frames are resized to frame_size x frame_size
    max_pixels: int = 50_000_000  # frames:DIR: larger frame files are refused
    augment: bool = True  # random brightness and contrast per clip in training
    filters: tuple[int, ...] = (16, 32, 64)  # the per-frame CNN's blocks
    backbone: str = "small"  # small | mobilenet_v2 | inception_v3 | resnet50
    projection: int = 64  # per-frame features are projected to this width

    def __post_init__(self):
        if self.frames < 1 or self.frame_size < 1:
            raise ValueError("video.frames and video.frame_size must be 1 or more")


class Video:
    """Clips -> label: the per-frame CNN, then the shared encoder over the frames.

    Example:
    >>> from tasks.classify.config import config_for
    >>> video = Video(config_for("moving_shapes"), Path("unused"))
    >>> data = video.load(("test",))
    >>> data.classes[:2], data.splits["test"].x.shape[1:]
    (('right', 'left'), (6, 16, 16, 3))
    """

    sources = {
        "moving_shapes": "generated clips of moving, growing and shrinking shapes (default)",
        "frames": "frames:DIR, a folder DIR/<class>/<clip>/<frame>.jpg of extracted frames",
        "tfds": "tfds:NAME, a TFDS video set with 'video' and 'label', e.g. tfds:ucf101",
    }
    tfds_feature = "video"  # a TFDS set with this feature is read by this modality
    signature = tf.TensorSpec([None, None, None, None, 3], tf.uint8, name="frames")
    gives = (encoders.SEQUENCES,)  # what its front end can give an encoder
    input_name = "frames"  # the export's input
    per_node = False
    root_selection = False

    def __init__(self, cfg, workdir: Path):
        self.cfg = cfg
        self.video: VideoConfig = cfg.video

    def load(self, splits: tuple[str, ...]) -> Data:
        data, video = self.cfg.data, self.video
        kind, arg = parse_source(data.source, self.sources)
        if kind == "moving_shapes":
            sizes = split_sizes(data.size)

            def make(count, seed):
                return moving_shapes.generate(count, video.frames, video.frame_size, seed)

            parts = {name: generated_split(make, sizes, data.seed, name) for name in splits}
            return Data(moving_shapes.CLASSES, {name: _examples(*xy) for name, xy in parts.items()})
        if kind == "tfds":
            return _tfds(arg, data.seed, video.frames, video.frame_size, splits)
        if not arg:
            raise DataError(f"data source {kind!r} needs a folder: {self.sources[kind]}")
        clips, labels, classes = read_frames(Path(arg), video.frames, video.frame_size,
                                             video.max_pixels)  # fmt: skip
        parts = random_split(list(range(len(labels))), data.seed)
        return Data(classes, {name: _examples(clips[parts[name]], labels[parts[name]])
                              for name in splits})  # fmt: skip

    def files(self) -> list[Path]:
        """Every frame of a `frames:DIR` folder (none for generated or TFDS clips)."""
        kind, arg = parse_source(self.cfg.data.source, self.sources)
        if kind != "frames" or not Path(arg).is_dir():
            return []
        return sorted(p for p in Path(arg).rglob("*") if p.suffix.lower() in SUFFIXES)

    def prepare(self, train: Examples) -> None:
        """Nothing is fitted to the training clips."""

    def restore(self) -> None:
        """Nothing to read back."""

    def dataset(self, examples: Examples, training: bool) -> tf.data.Dataset:
        seed = self.cfg.train.seed
        ds = tf.data.Dataset.from_tensor_slices((examples.x, examples.y)).cache()
        if training:
            ds = ds.shuffle(len(examples.y), seed=seed)
        ds = ds.batch(self.cfg.train.batch_size)
        if self.video.augment and training:
            # Seeds from the dataset, not stateful ops, so that parallel calls and resumed
            # runs draw the same jitter: a new pair per batch, new values each epoch.
            seeds = tf.data.Dataset.random(seed, rerandomize_each_iteration=True)
            ds = tf.data.Dataset.zip((ds, seeds.batch(2))).map(
                lambda batch, pair: (_jitter(batch[0], pair), batch[1]),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        else:
            ds = ds.map(lambda clips, y: (tf.cast(clips, tf.float32), y),
                        num_parallel_calls=tf.data.AUTOTUNE)  # fmt: skip
        return ds.prefetch(tf.data.AUTOTUNE)

    def front(self, reads: str) -> tuple[list, tuple]:
        """Clips `(batch, frames, size, size, 3)` -> per-frame features `(batch, frames, P)`.

        The CNN's grid is flattened (where things are, for motion) beside its mean
        (how much of each feature there is, wherever it is).
        """
        video = self.video
        size = video.frame_size
        clip = keras.Input((video.frames, size, size, 3), name="frames")
        frame = keras.Input((size, size, 3))
        grid, pooled = ImageEncoder(video.backbone, video.filters, name="frame_encoder")(frame)
        both = keras.layers.Concatenate()([keras.layers.Flatten()(grid), pooled])
        features = keras.layers.Dense(video.projection, "relu", name="projection")(both)
        cnn = keras.Model(frame, features, name="frame_cnn")
        return [clip], (keras.layers.TimeDistributed(cnn, name="per_frame")(clip),)

    def serve(self, model, frames):
        """uint8 `(batch, time, height, width, 3)` of any length and size: frames taken
        evenly to the trained clip length and resized. No frames or pixels: invalid."""
        video = self.video
        count = tf.shape(frames)[0]
        valid = tf.fill([count], tf.reduce_all(tf.shape(frames)[1:4] > 0))
        frames = at_least_one(frames, axes=(0, 1, 2, 3))  # no frames or pixels: zeros
        shape = tf.shape(frames)  # (batch, time, height, width, 3)
        clips = tf.gather(frames, _evenly(shape[1], video.frames), axis=1)
        clips = tf.reshape(clips, [shape[0] * video.frames, shape[2], shape[3], 3])
        clips = images.resize(clips, video.frame_size)
        size = video.frame_size
        clips = tf.reshape(clips, [shape[0], video.frames, size, size, 3])
        return model(tf.cast(clips, tf.float32))[:count], valid, {}

    def report(self, model, examples: Examples, predicted: np.ndarray, majority: int) -> dict:
        """Nothing more than the task's scores."""
        return {}

    @staticmethod
    def read_inputs(paths: list[str], spec: tf.TensorSpec) -> list[np.ndarray]:
        """Folders of frames -> one uint8 `(frames, height, width, 3)` clip each.

        Frames are read in file-name order and resized to the first frame's size.
        """
        videos = []
        for folder in map(Path, paths):
            files = sorted(p for p in folder.glob("*") if p.suffix.lower() in SUFFIXES)
            if not files:
                raise DataError(f"{folder}: no frames ({', '.join(SUFFIXES)}) in this folder")
            size = Image.open(files[0]).size
            videos.append(np.stack([_frame(p, size) for p in files]))
        return videos


def _examples(x: np.ndarray, y: np.ndarray) -> Examples:
    return Examples(x, np.asarray(y), np.full(len(y), -1))


def _evenly(length, count: int):
    """`count` indices spread evenly over `length` (a tensor), first and last included."""
    last = tf.cast(length - 1, tf.float32)
    return tf.cast(tf.round(tf.linspace(0.0, last, count)), tf.int32)


def _frame(path: Path, size: tuple[int, int]) -> np.ndarray:
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB").resize(size))
    except OSError as err:
        raise DataError(f"{path}: not a readable image ({err})") from None


def read_frames(folder: Path, frames: int, size: int, max_pixels: int):
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
            paths = sorted(p for p in clip.iterdir() if p.suffix.lower() in SUFFIXES)
            if len(paths) < frames:
                raise DataError(f"{clip}: {len(paths)} frames, need at least video.frames={frames}")
            picks = np.linspace(0, len(paths) - 1, frames).round().astype(int)
            clips.append(np.stack([images.load(paths[i], size, max_pixels) for i in picks]))
            labels.append(label)
    return np.stack(clips), np.array(labels), classes


def _tfds(name: str, seed: int, frames: int, size: int, wanted: tuple[str, ...]) -> Data:
    import tensorflow_datasets as tfds  # heavy; only this source needs it

    builder = tfds.builder(name)
    builder.download_and_prepare()
    classes = tuple(builder.info.features["label"].names)

    def sample(example):
        video = example["video"]  # (time, height, width, 3) uint8
        picks = _evenly(tf.shape(video)[0], frames)
        return images.resize(tf.gather(video, picks), size), example["label"]

    read = {"test"} & set(wanted) | ({"train"} if {"train", "val"} & set(wanted) else set())
    arrays = {}
    for split in sorted(read):  # val is carved from train
        pairs = list(tfds.as_numpy(builder.as_dataset(split=split).map(sample)))
        arrays[split] = (np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    splits = {}
    if "test" in wanted:
        splits["test"] = _examples(*arrays["test"])
    if "train" in wanted or "val" in wanted:
        x, y = arrays["train"]
        held = random.Random(seed).sample(range(len(x)), max(1, len(x) // 10))
        val = np.zeros(len(x), bool)
        val[held] = True
        splits.update({"train": _examples(x[~val], y[~val]), "val": _examples(x[val], y[val])})
    return Data(classes, {name: splits[name] for name in wanted})


def _jitter(clips, seed):
    """uint8 clips as float32 with random brightness and contrast per clip; `seed`: 2
    integers (stateless random)."""
    batch = tf.shape(clips)[0]  # clips: (batch, frames, size, size, 3) uint8
    noise = tf.random.stateless_uniform([2, batch, 1, 1, 1, 1], seed)
    return _scale_shift(clips, 0.8 + 0.4 * noise[0], 40.0 * noise[1] - 20.0)


@tf.function(jit_compile=True)  # fused: half the pipeline's CPU time, the noise unchanged
def _scale_shift(clips, scale, shift):
    return tf.clip_by_value(tf.cast(clips, tf.float32) * scale + shift, 0.0, 255.0)
