"""Encoded images in, captions out: the code path of `evaluate`, `predict` and export."""

from pathlib import Path

import keras
import tensorflow as tf

from tasks import images, text
from tasks.caption.config import CaptionConfig
from tasks.caption.model import encode
from tasks.export import write_saved_model

IMAGES = tf.TensorSpec([None], tf.string, name="images")


class Captioner:
    """Wraps a trained captioning model as exportable `tf.function`s.

    `beam` and `greedy` take a `(batch,)` string tensor of encoded JPEG, PNG, GIF or
    BMP images (any size, grayscale or RGBA too) and return `{"caption": (batch,)
    strings, "score": (batch,) float32}`; resizing and normalisation are inside. A
    batch holding undecodable bytes fails with `InvalidArgumentError` (the serving
    process carries on). `pixels` captions `(batch, S, S, 3)` uint8 images that are
    already decoded and resized, as evaluation does.

    Example:
    >>> captioner = Captioner(model, vocabulary, cfg)  # doctest: +SKIP
    >>> captioner.beam(tf.constant([open("scene.png", "rb").read()]))  # doctest: +SKIP
    """

    def __init__(self, model: keras.Model, vocabulary: list[str], cfg: CaptionConfig):
        self.model = model
        self.vocabulary = vocabulary
        self.cfg = cfg
        size, beam = cfg.data.image_size, cfg.decode.beam_size
        self.beam = tf.function(
            lambda images_: self.caption(images.decode_batch(images_, size), beam),
            input_signature=[IMAGES],
        )
        self.greedy = tf.function(
            lambda images_: self.caption(images.decode_batch(images_, size), 1),
            input_signature=[IMAGES],
        )
        self.pixels = tf.function(
            lambda pixels: self.caption(pixels, beam),
            input_signature=[tf.TensorSpec([None, size, size, 3], tf.uint8)],
        )

    def caption(self, pixels, beam_size: int) -> dict:
        grid, pooled = encode(self.model, pixels)
        tokens, scores = text.generate(
            self.model.get_layer("decoder"), grid, pooled, self.cfg.data.max_length + 1,
            beam_size, self.cfg.decode.alpha,
        )  # fmt: skip
        return {"caption": text.detokenize(tokens, self.vocabulary, "word"), "score": scores}

    def export(self, path: Path) -> None:
        """Writes a SavedModel with `serving_default` (beam search) and `greedy`."""
        endpoints = {"serving_default": self.beam, "greedy": self.greedy}
        write_saved_model(path, [self.model], endpoints)
