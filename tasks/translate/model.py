"""The sequence-to-sequence model: source embedding, encoder, attentional decoder."""

import keras
from keras import ops

from models import AttentionDecoder, SequenceEncoder
from tasks import text
from tasks.text import DecodeConfig
from tasks.translate.config import ModelConfig

ENCODERS = ("lstm", "bilstm")


def build_model(cfg: ModelConfig, source_vocab: int, target_vocab: int) -> keras.Model:
    """Inputs `source (batch, S)` and `target_in (batch, T)` ids; `(batch, T, vocab)` logits.

    Example:
    >>> model = build_model(ModelConfig(units=8, embedding_dim=4), 20, 30)
    >>> tuple(model.output.shape)
    (None, None, 30)
    """
    if cfg.encoder not in ENCODERS:
        raise ValueError(f"model.encoder must be one of {ENCODERS}, got {cfg.encoder!r}")
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    mask = ops.not_equal(source, text.PAD)  # (batch, S)
    embedded = keras.layers.Embedding(source_vocab, cfg.embedding_dim, name="source_embedding")(
        source
    )
    encoder = SequenceEncoder(
        cfg.units, cfg.layers, cfg.encoder == "bilstm", cfg.dropout, name="encoder"
    )
    memory, state_h, _ = encoder(embedded, mask=mask)  # (batch, S, D), (batch, D)
    decoder = AttentionDecoder(
        target_vocab,
        encoder.output_dim,
        cfg.embedding_dim,
        cfg.decoder_layers,
        cfg.attention,
        cfg.dropout,
        name="decoder",
    )
    logits = decoder(target_in, memory, state_h, memory_mask=mask)
    return keras.Model([source, target_in], logits, name="seq2seq")


def _encode(model: keras.Model, source):
    mask = ops.not_equal(source, text.PAD)
    embedded = model.get_layer("source_embedding")(source)
    memory, state_h, _ = model.get_layer("encoder")(embedded, mask=mask)
    return memory, state_h, mask


def generate(model: keras.Model, source, max_length: int, cfg: DecodeConfig, beam_size: int):
    """Translates `(batch, S)` source ids: `(batch, max_length)` ids and `(batch,)` scores."""
    memory, state_h, mask = _encode(model, source)
    decoder = model.get_layer("decoder")
    return text.generate(decoder, memory, state_h, max_length, beam_size, cfg.alpha, mask)


def attention(model: keras.Model, source, target_in):
    """Teacher-forced attention weights `(batch, T, S)` of `target_in` over `source`."""
    memory, state_h, mask = _encode(model, source)
    _, weights = model.get_layer("decoder")(
        target_in, memory, state_h, memory_mask=mask, return_attention=True
    )
    return weights
