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
    image = keras.Input((image_size, image_size, 3), name="image")
    caption_in = keras.Input((None,), dtype="int32", name="caption_in")
    encoder = ImageEncoder(
        cfg.backbone,
        cfg.filters,
        None if cfg.weights == "none" else cfg.weights,
        not cfg.freeze_backbone,
        name="encoder",
    )
    grid, pooled = encoder(image)  # (batch, cells, C), (batch, C)
    decoder = AttentionDecoder(
        vocab_size, cfg.units, cfg.embedding_dim, cfg.decoder_layers, cfg.attention,
        cfg.dropout, name="decoder",
    )  # fmt: skip
    logits = decoder(caption_in, grid, pooled)
    return keras.Model([image, caption_in], logits, name="captioner")


def encode(model: keras.Model, pixels):
    """`(batch, S, S, 3)` uint8 -> grid `(batch, cells, C)`, pooled `(batch, C)`."""
    return model.get_layer("encoder")(ops.cast(pixels, "float32"))
