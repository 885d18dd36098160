"""Video clips: generated moving shapes, folders of frames, video files, TFDS video sets.

Clips are `(frames, size, size, 3)` uint8, `video.frames` frames taken evenly over
each clip and resized to `video.frame_size`. The front end is a per-frame CNN
(`models.TimeFolded`: every frame of the batch in one call), its grid flattened
beside its mean; the export takes uint8 `frames` `(batch, time, height, width, 3)`
of any length and size.
"""

import dataclasses
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common.errors import DataError
from models import ImageEncoder, TimeFolded, encoders
from tasks import images
from tasks.base import (
    SPLITS,
    batched,
    generated_split,
    hash_split,
    parse_source,
    random_split,
    split_sizes,
)
from tasks.classify import moving_shapes
from tasks.classify.modality import Data, Examples, gathered
from tasks.export import at_least_one
from tasks.row_file import RowFile

SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm")  # what `videos:` reads (PyAV)
CHUNK = 64  # clips read (decoded several at once) before they go to the file


@dataclasses.dataclass(frozen=True)
class VideoConfig:
    frames: int = 16  # clip length: frames taken evenly over each clip
    frame_size: int = 32  # frames are resized to frame_size x frame_size
    max_pixels: int = 50_000_000  # frames:, videos:: larger frames are refused
    augment: bool = True  # random brightness and contrast per clip in training
    filters: tuple[int, ...] = (16, 32, 64)  # the per-frame CNN's blocks
    backbone: str = "small"  # small | mobilenet_v2 | inception_v3 | resnet50
    projection: int = 64  # per-frame features are projected to this width

    def __post_init__(self):
        if self.frames < 1 or self.frame_size < 1:
            raise ValueError("video.frames and video.frame_size must be 1 or more")


class Video:
    """Clips -> label: the per-frame CNN, then the shared encoder over the frames.

    Clips are kept in files, not memory (`RowFile`): a split's clips are read (or
    generated) a chunk at a time into an unlinked file under the run directory's
    `cache/`, and each batch reads its rows back.

    Example:
    >>> import tempfile
    >>> from tasks.classify.config import config_for
    >>> video = Video(config_for("moving_shapes"), Path(tempfile.mkdtemp()))
    >>> data = video.load(("test",))
    >>> data.classes[:2], data.splits["test"].x.shape[1:]
    (('right', 'left'), (6, 16, 16, 3))
    """

    sources = {
        "moving_shapes": "generated clips of moving, growing and shrinking shapes (default)",
        "frames": "frames:DIR, a folder DIR/<class>/<clip>/<frame>.jpg of extracted frames",
        "videos": "videos:DIR, a folder DIR/<class>/<clip>.avi|.mp4 (UCF101's own layout)",
        "tfds": "tfds:NAME, a TFDS video set with 'video' and 'label', e.g. tfds:ucf101",
    }
    tfds_feature = "video"  # a TFDS set with this feature is read by this modality
    fixed = ("video.frames", "video.frame_size")  # what prepared shards fix
    signature = tf.TensorSpec([None, None, None, None, 3], tf.uint8, name="frames")
    gives = (encoders.SEQUENCES,)  # what its front end can give an encoder
    input_name = "frames"  # the export's input
    per_node = False
    root_selection = False

    def __init__(self, cfg, workdir: Path):
        self.cfg, self.workdir = cfg, Path(workdir)
        self.video: VideoConfig = cfg.video

    def load(self, splits: tuple[str, ...]) -> Data:
        data, video = self.cfg.data, self.video
        kind, arg = parse_source(data.source, self.sources)
        if kind == "moving_shapes":
            sizes = split_sizes(data.size)

            def make(count, seed):
                return moving_shapes.generate(count, video.frames, video.frame_size, seed)

            parts = {name: generated_split(make, sizes, data.seed, name) for name in splits}
            clips = {name: self._examples([x], y) for name, (x, y) in parts.items()}
            return Data(moving_shapes.CLASSES, clips)
        if kind == "tfds":
            return _tfds(arg, data.seed, video.frames, video.frame_size, splits,
                         self.workdir / "cache")  # fmt: skip
        if not arg:
            raise DataError(f"data source {kind!r} needs a folder: {self.sources[kind]}")
        listed, read = FOLDER_READERS[kind]
        paths, labels, classes = listed(Path(arg))
        parts = random_split(list(range(len(labels))), data.seed)
        sizes = (video.frames, video.frame_size, video.max_pixels)
        return Data(classes, {name: self._examples(read([paths[i] for i in parts[name]], *sizes),
                                                   labels[parts[name]])
                              for name in splits})  # fmt: skip

    def kept(self, inputs: Iterable[np.ndarray]) -> RowFile:
        """Clips given one at a time, in a `RowFile` under the run's `cache/`."""
        rows = RowFile(self.workdir / "cache")
        for chunk in batched(inputs, CHUNK):
            rows.append(np.stack(chunk))
        return rows

    def _examples(self, clips: Iterable[np.ndarray], y: np.ndarray) -> Examples:
        """A split whose clips, given a chunk `(n, frames, size, size, 3)` at a time, are
        kept in a `RowFile` under the run directory's `cache/`."""
        rows = RowFile(self.workdir / "cache")
        for chunk in clips:
            rows.append(chunk)
        return Examples(rows, np.asarray(y), np.full(len(y), -1))

    def files(self) -> list[Path]:
        """Every frame a `frames:DIR` folder's clips hold, every clip of a `videos:DIR`
        one, as training reads them (none for generated or TFDS clips)."""
        kind, arg = parse_source(self.cfg.data.source, self.sources)
        if kind not in ("frames", "videos") or not Path(arg).is_dir():
            return []
        if kind == "videos":
            return _video_files(Path(arg))[0]
        return [frame for clip in _clip_folders(Path(arg))[0] for frame in _frames_of(clip)]

    def prepare(self, train: Examples) -> None:
        """Nothing is fitted to the training clips."""

    def restore(self) -> None:
        """Nothing to read back."""

    def dataset(self, examples: Examples, training: bool) -> tf.data.Dataset:
        seed = self.cfg.train.seed
        ds = gathered(examples, self.cfg.train.batch_size, seed if training else None)
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
        return [clip], (TimeFolded(cnn, name="per_frame")(clip),)

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

    def read_input(self, given: str) -> np.ndarray:
        """A folder of frames or a video file -> a uint8 `(frames, size, size, 3)` clip,
        read as training reads it: `video.frames` frames taken evenly (a short clip
        repeats frames), resized to `video.frame_size`."""
        path, video = Path(given), self.video
        if not given:
            raise DataError("an empty input: give a folder of frames or a video file")
        if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
            return read_video(path, video.frames, video.frame_size, video.max_pixels)
        if not path.is_dir():
            raise DataError(f"{path}: neither a folder of frames nor a video file "
                            f"({', '.join(VIDEO_SUFFIXES)})")  # fmt: skip
        files = _frames_of(path)
        if not files:
            raise DataError(f"{path}: no frames ({', '.join(SUFFIXES)}) in this folder")
        return np.stack([images.load(files[i], video.frame_size, video.max_pixels)
                         for i in _evenly_np(len(files), video.frames)])  # fmt: skip


def _evenly(length, count: int):
    """`count` indices spread evenly over `length` (a tensor), first and last included."""
    last = tf.cast(length - 1, tf.float32)
    return tf.cast(tf.round(tf.linspace(0.0, last, count)), tf.int32)


def read_frames(folders: list[Path], frames: int, size: int,
                max_pixels: int) -> Iterator[np.ndarray]:  # fmt: skip
    """Clip folders of frame files -> their clips, `(n, frames, size, size, 3)` a chunk
    at a time, in order: frames taken evenly over each clip, in file-name order."""
    for start in range(0, len(folders), CHUNK):
        clips = []
        for clip in folders[start : start + CHUNK]:
            paths = _frames_of(clip)
            if len(paths) < frames:
                raise DataError(f"{clip}: {len(paths)} frames, need at least "
                                f"video.frames={frames}")  # fmt: skip
            clips.append(np.stack([images.load(paths[i], size, max_pixels)
                                   for i in _evenly_np(len(paths), frames)]))  # fmt: skip
        yield np.stack(clips)


def read_videos(files: list[Path], frames: int, size: int,
                max_pixels: int) -> Iterator[np.ndarray]:  # fmt: skip
    """Video files -> their clips, `(n, frames, size, size, 3)` a chunk at a time, in
    order: each file decoded (`read_video`, several at once), `frames` frames taken
    evenly over it."""
    with ThreadPoolExecutor(os.cpu_count()) as pool:  # FFmpeg decodes without the GIL
        for start in range(0, len(files), CHUNK):
            chunk = files[start : start + CHUNK]
            yield np.stack(list(pool.map(lambda p: read_video(p, frames, size, max_pixels),
                                         chunk)))  # fmt: skip


def _clip_folders(folder: Path) -> tuple[list[Path], np.ndarray, tuple]:
    return _by_class(folder, Path.is_dir, "DIR/<class>/<clip>/<frame>.jpg")


def _video_files(folder: Path) -> tuple[list[Path], np.ndarray, tuple]:
    return _by_class(folder, lambda p: p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES,
                     f"DIR/<class>/<clip>.avi, or {', '.join(VIDEO_SUFFIXES[1:])}")  # fmt: skip


def _frames_of(clip: Path) -> list[Path]:
    """A clip folder's frame files, in name order."""
    return sorted(p for p in clip.iterdir() if p.suffix.lower() in SUFFIXES)


def _by_class(folder: Path, is_clip, layout: str) -> tuple[list[Path], np.ndarray, tuple]:
    """The clips of a `DIR/<class>/<clip>` folder (`is_clip(path)` says which entries
    are), class by class in name order, their labels and the class names."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    classes = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    if not classes:
        raise DataError(f"{folder}: no class folders (expected {layout})")
    clips, labels = [], []
    for label, name in enumerate(classes):
        found = sorted(p for p in (folder / name).iterdir() if is_clip(p))
        if not found:
            raise DataError(f"{folder / name}: empty class folder (expected {layout})")
        clips += found
        labels += [label] * len(found)
    return clips, np.array(labels), classes


def read_video(path: Path, frames: int, size: int, max_pixels: int = 50_000_000) -> np.ndarray:
    """A video file -> uint8 `(frames, size, size, 3)`: `frames` frames taken evenly
    over the clip (a short one repeats frames), resized as `frames:` resizes a frame
    file. Decoded with PyAV (FFmpeg); only the frames taken are kept, so a long clip
    costs no more memory than a short one. A file FFmpeg cannot read, or whose frames
    are over `max_pixels` pixels, is a `DataError`.

    Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "clip.avi"
    >>> write_video(path, np.zeros((10, 24, 32, 3), np.uint8))
    >>> read_video(path, frames=4, size=16).shape
    (4, 16, 16, 3)
    """
    import av  # the decoder: only video files need it

    try:
        with av.open(str(path)) as container:  # count first: demuxing decodes nothing
            stream = container.streams.video[0]
            width, height = stream.width, stream.height
            count = sum(1 for p in container.demux(stream) if p.size)
        if width * height > max_pixels:
            raise DataError(f"{path}: {width}x{height} pixels a frame is over "
                            f"video.max_pixels={max_pixels}")  # fmt: skip
        kept, decoded = _decode(path, _evenly_np(count, frames)) if count else ({}, 0)
        if 0 < decoded < count:  # fewer frames than packets: take them over what decodes
            kept, decoded = _decode(path, _evenly_np(decoded, frames))
    except (av.FFmpegError, IndexError) as err:
        raise DataError(f"{path}: not a readable video ({err})") from None
    if not kept:
        raise DataError(f"{path}: a video without frames that decode")
    clip = np.stack([kept[i] for i in _evenly_np(decoded, frames)])
    return images.resize(tf.constant(clip), size).numpy()


def _decode(path: Path, picks: np.ndarray) -> tuple[dict[int, np.ndarray], int]:
    """The frames at `picks` (increasing indices) of a video file, RGB uint8 by index,
    and how many frames were decoded: up to the last pick, or all when fewer decode."""
    import av

    wanted, kept, decoded = set(picks.tolist()), {}, 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for decoded, frame in enumerate(container.decode(stream), 1):
            if decoded - 1 in wanted:
                kept[decoded - 1] = frame.to_ndarray(format="rgb24")
            if decoded - 1 >= picks[-1]:
                break
    return kept, decoded


def write_video(path: Path, clip: np.ndarray, fps: int = 25) -> None:
    """uint8 `(frames, height, width, 3)` -> a video file: lossless (`rawvideo`) in
    `.avi`, MPEG-4 part 2 otherwise. For tests and generated data sets."""
    import av

    lossless = path.suffix.lower() == ".avi"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("rawvideo" if lossless else "mpeg4", rate=fps)
        stream.height, stream.width = clip.shape[1:3]
        stream.pix_fmt = "bgr24" if lossless else "yuv420p"
        for pixels in clip:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())


# A folder source's kind -> (its clips' paths, labels and classes; the clips of paths)
FOLDER_READERS = {"frames": (_clip_folders, read_frames), "videos": (_video_files, read_videos)}


def _evenly_np(length: int, count: int) -> np.ndarray:
    """`count` indices spread evenly over `length`, first and last included (as
    `_evenly` in the graph)."""
    return np.linspace(0, length - 1, count).round().astype(int)


def _tfds(name: str, seed: int, frames: int, size: int, wanted: tuple[str, ...],
          cache: Path) -> Data:  # fmt: skip
    """The splits of a TFDS video set, read from the `tf.data` datasets TFDS returns:
    each clip sampled, resized and appended to its split's `RowFile` in `cache` as it
    comes, `CHUNK` at a time, so no split is ever whole in memory. Validation is
    a tenth of the training clips, by a hash of their place in it (`hash_split`)."""
    import tensorflow_datasets as tfds  # heavy; only this source needs it

    builder = tfds.builder(name)
    builder.download_and_prepare()
    classes = tuple(builder.info.features["label"].names)

    def sample(example):
        video = example["video"]  # (time, height, width, 3) uint8
        picks = _evenly(tf.shape(video)[0], frames)
        return images.resize(tf.gather(video, picks), size), example["label"]

    def split_of(tfds_split: str, i: int) -> str:
        if tfds_split == "test":
            return "test"
        return "val" if hash_split(f"#{i}", seed) == "val" else "train"

    read = {"test"} & set(wanted) | ({"train"} if {"train", "val"} & set(wanted) else set())
    rows = {part: RowFile(cache) for part in SPLITS}
    labels: dict[str, list[int]] = {part: [] for part in SPLITS}
    for tfds_split in sorted(read):  # val is carved from train
        clips = tfds.as_numpy(builder.as_dataset(split=tfds_split).map(sample))
        for chunk in batched(enumerate(clips), CHUNK):
            parts = [split_of(tfds_split, i) for i, _ in chunk]
            for part in sorted(set(parts)):
                picked = [clip_y for (_, clip_y), p in zip(chunk, parts, strict=True) if p == part]
                rows[part].append(np.stack([clip for clip, _ in picked]))
                labels[part] += [int(y) for _, y in picked]
    for part in (part for part in wanted if not labels[part]):
        raise DataError(f"tfds:{name}: its {part} split has no clips")
    return Data(classes, {part: Examples(rows[part], np.array(labels[part]),
                                         np.full(len(labels[part]), -1))
                          for part in wanted})  # fmt: skip


def _jitter(clips, seed):
    """uint8 clips as float32 with random brightness and contrast per clip; `seed`: 2
    integers (stateless random)."""
    batch = tf.shape(clips)[0]  # clips: (batch, frames, size, size, 3) uint8
    noise = tf.random.stateless_uniform([2, batch, 1, 1, 1, 1], seed)
    return _scale_shift(clips, 0.8 + 0.4 * noise[0], 40.0 * noise[1] - 20.0)


@tf.function(jit_compile=True)  # fused: half the pipeline's CPU time, the noise unchanged
def _scale_shift(clips, scale, shift):
    return tf.clip_by_value(tf.cast(clips, tf.float32) * scale + shift, 0.0, 255.0)
