"""The captioning model: CNN image encoder and the shared attentional LSTM decoder."""

import keras
from keras import ops

from models import AttentionDecoder, ImageEncoder
from tasks.caption.config import ModelConfig


def build_model(cfg: ModelConfig, image_size: int, vocab_size: int) -> keras.Model:
    """Inputs `image (batch, S, S, 3)` pixels and `caption_in (batch, T)` ids -> logits.

    The feature grid is the decoder's memory ("Show, Attend and Tell"); the pooled
    features initialise its state ("Show and Tell").

    Example:
    >>> model = build_model(ModelConfig(filters=(4, 8), units=8), 32, 12)
    >>> tuple(model.output.shape)
    (None, None, 12)
    """
    return assemble(make_encoder(cfg), make_decoder(cfg, vocab_size), image_size)


def make_encoder(cfg: ModelConfig) -> ImageEncoder:
    weights = None if cfg.weights == "none" else cfg.weights
    return ImageEncoder(cfg.backbone, cfg.filters, weights, not cfg.freeze_backbone,
                        name="encoder")  # fmt: skip


def make_decoder(cfg: ModelConfig, vocab_size: int) -> AttentionDecoder:
    return AttentionDecoder(
        vocab_size, cfg.units, cfg.embedding_dim, cfg.decoder_layers, cfg.attention,
        cfg.dropout, cfg.feed_summary, name="decoder",
    )  # fmt: skip


def assemble(encoder: ImageEncoder, decoder: AttentionDecoder, image_size: int) -> keras.Model:
    """The captioner from its two parts (layers are shared, not copied)."""
    image = keras.Input((image_size, image_size, 3), name="image")
    caption_in = keras.Input((None,), dtype="int32", name="caption_in")
    grid, pooled = encoder(image)  # (batch, cells, C), (batch, C)
    return keras.Model([image, caption_in], decoder(caption_in, grid, pooled), name="captioner")


def build_decoder_model(encoder: ImageEncoder, cfg: ModelConfig, image_size: int,
                        vocab_size: int) -> keras.Model:  # fmt: skip
    """For cached features: inputs `grid`, `pooled` (from `encoder`) and `caption_in`."""
    cells = encoder.grid_size(image_size) ** 2
    grid = keras.Input((cells, encoder.channels), name="grid")
    pooled = keras.Input((encoder.channels,), name="pooled")
    caption_in = keras.Input((None,), dtype="int32", name="caption_in")
    logits = make_decoder(cfg, vocab_size)(caption_in, grid, pooled)
    return keras.Model([grid, pooled, caption_in], logits, name="caption_decoder")


def encode(model: keras.Model, pixels):
    """`(batch, S, S, 3)` uint8 -> grid `(batch, cells, C)`, pooled `(batch, C)`."""
    return model.get_layer("encoder")(ops.cast(pixels, "float32"))
