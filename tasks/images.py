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


def header_pixels(encoded):
    """Width x height of an encoded image, read from its header before any decoding
    (scalar int64): PNG (IHDR), GIF (logical screen), BMP (info header), JPEG (its
    frame header, `tf.io.extract_jpeg_shape`); 0 for another format. An image of
    many pixels can be a small file (a 1.5 MB PNG of 23170 x 23170): this is how a
    server refuses it without allocating them.

    Example:
    >>> png = tf.io.encode_png(tf.zeros([3, 5, 3], tf.uint8))
    >>> int(header_pixels(png)), int(header_pixels(tf.constant(b"text")))
    (15, 0)
    """

    def number(start: int, width: int, big_endian: bool):
        raw = tf.cast(tf.io.decode_raw(tf.strings.substr(encoded, start, width), tf.uint8),
                      tf.int64)  # fmt: skip
        weights = tf.constant([256**k for k in range(width)], tf.int64)
        return tf.reduce_sum(raw * (weights[::-1] if big_endian else weights))

    def signed(value):  # a BMP's height is negative for top-down rows
        return tf.abs(tf.where(value >= 2**31, value - 2**32, value))

    length = tf.strings.length(encoded)
    head = tf.strings.substr(encoded, 0, 8)
    branches = [
        (tf.strings.substr(head, 0, 8) == b"\x89PNG\r\n\x1a\n") & (length >= 24),
        (tf.strings.substr(head, 0, 4) == b"GIF8") & (length >= 10),
        (tf.strings.substr(head, 0, 2) == b"BM") & (length >= 26),
        tf.strings.substr(head, 0, 2) == b"\xff\xd8",
    ]
    sizes = [
        lambda: number(16, 4, True) * number(20, 4, True),
        lambda: number(6, 2, False) * number(8, 2, False),
        lambda: number(18, 4, False) * signed(number(22, 4, False)),
        lambda: tf.reduce_prod(tf.cast(tf.io.extract_jpeg_shape(encoded)[:2], tf.int64)),
    ]
    return tf.case(list(zip(branches, sizes, strict=True)),
                   default=lambda: tf.constant(0, tf.int64))  # fmt: skip


def decode_rows(encoded, size: int, max_pixels: int):
    """`(batch,)` encoded images -> `(batch, size, size, 3)` uint8 and `(batch,)` bool
    `valid`. A row that does not decode (empty, not an image, truncated or corrupt)
    or whose header claims more than `max_pixels` pixels (`header_pixels`: it is
    not decoded) gets zeros and `valid=False`; the rest of the batch decodes as usual.

    tf.data's `ignore_errors` is the one in-graph way to survive a decoder error, so
    the rows go through a small dataset that keeps each good row's index, read as one
    batch by `get_single_element` (an empty batch follows, for when no row is good).
    A per-call dataset costs about a millisecond read so; read by `reduce`, whose
    function is made anew each call, it cost 16 to 60 ms, most of a batch-1 caption.
    """

    def checked(i, one):
        pixels = header_pixels(one)
        tf.debugging.assert_less_equal(pixels, tf.constant(max_pixels, tf.int64))
        tf.debugging.assert_positive(pixels)  # (errors: the row is dropped)
        return i, decode(one, size)

    count = tf.shape(encoded)[0]
    rows = tf.data.Dataset.from_tensor_slices((tf.range(count), encoded))
    rows = rows.map(checked).ignore_errors().batch(tf.cast(tf.maximum(count, 1), tf.int64))
    none = (tf.zeros([0], tf.int32), tf.zeros([0, size, size, 3], tf.uint8))
    rows = rows.concatenate(tf.data.Dataset.from_tensors(none)).take(1)
    # Built per call: graph rewrites and autotuning would add to each call.
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    options.autotune.enabled = False
    index, pixels = rows.with_options(options).get_single_element()  # (good,), (good, S, S, 3)
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
