"""Encoded images in, captions out: the code path of `evaluate`, `predict` and export."""

from pathlib import Path

import keras
import tensorflow as tf

from tasks import images, text
from tasks.caption.config import CaptionConfig
from tasks.caption.model import encode
from tasks.export import at_least_one, endpoint, write_saved_model

IMAGES = tf.TensorSpec([None], tf.string, name="images")


class Captioner:
    """Wraps a trained captioning model as exportable `tf.function`s.

    `beam` and `greedy` take a `(batch,)` string tensor of encoded JPEG, PNG, GIF or
    BMP images (any size, grayscale or RGBA too) and return `{"caption": (batch,)
    strings, "score": (batch,) float32, "valid": (batch,) bool}`; resizing and
    normalisation are inside. A row that does not decode (empty, not an image,
    truncated or corrupt) or whose header claims more than `data.max_pixels` pixels
    gets caption `""`, score 0 and `valid=False`; the rest of the batch is captioned
    as usual. `pixels` captions `(batch, S, S, 3)` uint8 images
    that are already decoded and resized, as evaluation does.

    Example:
    >>> from tasks.caption.config import PRESETS
    >>> from tasks.caption.model import build_model
    >>> cfg = PRESETS["tiny"]
    >>> model = build_model(cfg.model, cfg.data.image_size, vocab_size=2 + 2)
    >>> captioner = Captioner(model, ["a", "circle"], cfg)
    >>> png = tf.io.encode_png(tf.zeros([40, 30, 3], tf.uint8))
    >>> out = captioner.beam(tf.stack([png, tf.constant(b"not an image")]))
    >>> out["valid"].numpy().tolist(), out["caption"].shape
    ([True, False], TensorShape([2]))
    """

    def __init__(self, model: keras.Model, vocabulary: list[str], cfg: CaptionConfig):
        self.model = model
        self.vocabulary = vocabulary
        self.cfg = cfg
        size, beam = cfg.data.image_size, cfg.decode.beam_size
        self.beam = endpoint(lambda encoded: self.encoded(encoded, beam), IMAGES)
        self.greedy = endpoint(lambda encoded: self.encoded(encoded, 1), IMAGES)
        self.pixels = endpoint(lambda pixels: self.caption(pixels, beam),
                               tf.TensorSpec([None, size, size, 3], tf.uint8))  # fmt: skip

    def encoded(self, encoded, beam_size: int) -> dict:
        """`(batch,)` encoded images -> `caption`, `score` and `valid` per row."""
        pixels, valid = images.decode_rows(encoded, self.cfg.data.image_size,
                                           self.cfg.data.max_pixels)  # fmt: skip
        out = self.caption(pixels, beam_size)
        return {"caption": tf.where(valid, out["caption"], ""),
                "score": tf.where(valid, out["score"], 0.0), "valid": valid}  # fmt: skip

    def caption(self, pixels, beam_size: int) -> dict:
        count = tf.shape(pixels)[0]
        grid, pooled = encode(self.model, at_least_one(pixels))
        tokens, scores = text.generate(
            self.model.get_layer("decoder"), grid, pooled, self.cfg.data.max_length + 1,
            beam_size, self.cfg.decode.alpha, no_repeat_ngram=self.cfg.decode.no_repeat_ngram,
        )  # fmt: skip
        captions = text.detokenize(tokens[:count, 0], self.vocabulary, "word")
        return {"caption": captions, "score": scores[:count, 0]}

    def export(self, path: Path) -> None:
        """Writes a SavedModel with `serving_default` (beam search) and `greedy`."""
        endpoints = {"serving_default": self.beam, "greedy": self.greedy}
        write_saved_model(path, [self.model], endpoints)
