"""Image decoding shared by training and the SavedModel, so both see the same pixels."""

from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from common.errors import DataError


def decode(encoded, size: int):
    """Encoded JPEG/PNG/GIF/BMP bytes (scalar string) -> `(size, size, 3)` uint8.

    Grayscale is expanded to RGB and alpha dropped; the image is resized (bilinear,
    antialiased) to a square and rounded back to uint8.
    """
    return resize(tf.io.decode_image(encoded, channels=3, expand_animations=False), size)


def resize(image, size: int):
    """`([batch,] height, width, 3)` pixels -> `([batch,] size, size, 3)` uint8."""
    resized = tf.image.resize(image, (size, size), antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)


def decode_rows(encoded, size: int):
    """`(batch,)` encoded images -> `(batch, size, size, 3)` uint8 and `(batch,)` bool
    `valid`. A row that does not decode (empty, not an image, truncated or corrupt)
    gets zeros and `valid=False`; the rest of the batch decodes as usual.

    tf.data's `ignore_errors` is the one in-graph way to survive a decoder error, so
    the rows go through a small dataset that keeps each good row's index.
    """
    count = tf.shape(encoded)[0]
    rows = tf.data.Dataset.from_tensor_slices((tf.range(count), encoded))
    rows = rows.map(lambda i, one: (i, decode(one, size))).ignore_errors().batch(64)
    # Built per call: graph rewrites and autotuning would add ~4 ms to each call.
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    options.autotune.enabled = False
    rows = rows.with_options(options)
    start = (tf.zeros([0], tf.int32), tf.zeros([0, size, size, 3], tf.uint8))
    index, pixels = rows.reduce(start, lambda got, new: tuple(
        tf.concat([a, b], 0) for a, b in zip(got, new, strict=True)))  # fmt: skip
    index = index[:, None]
    valid = tf.scatter_nd(index, tf.ones_like(index[:, 0], tf.bool), [count])
    return tf.scatter_nd(index, pixels, tf.stack([count, size, size, 3])), valid


def load(path: Path, size: int, max_pixels: int) -> np.ndarray:
    """Reads one image file; a missing, oversized, non-image or corrupt file is an error."""
    if not path.is_file():
        raise DataError(f"{path}: no such image file")
    try:
        with Image.open(path) as header:  # reads the header only
            width, height = header.size
    except (OSError, Image.DecompressionBombError) as err:
        raise DataError(f"{path}: not a readable image ({err})") from None
    if width * height > max_pixels:
        raise DataError(f"{path}: {width}x{height} pixels is over data.max_pixels={max_pixels}")
    try:
        return decode(tf.constant(path.read_bytes()), size).numpy()
    except tf.errors.InvalidArgumentError as err:
        raise DataError(f"{path}: corrupt or truncated image ({err.message})") from None
