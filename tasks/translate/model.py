"""The sequence-to-sequence model: source embedding, encoder, attentional decoder.

With `encoder="treelstm"` the source is a parse tree, `source` node token ids plus
`children` (`tasks/trees.py`), read by the tree-to-sequence `TreeEncoder`.
"""

import keras
import numpy as np
from keras import ops

from models import AttentionDecoder, SequenceEncoder
from tasks import text
from tasks.text import DecodeConfig
from tasks.translate.config import ModelConfig
from tasks.translate.tree_encoder import TreeEncoder

ENCODERS = ("lstm", "bilstm", "treelstm")


def build_model(cfg: ModelConfig, source_vocab: int, target_vocab: int,
                vectors: np.ndarray | None = None) -> keras.Model:  # fmt: skip
    """Inputs `source (batch, S)` (and for trees `children (batch, S, K)`) and
    `target_in (batch, T)` ids; `(batch, T, vocab)` logits. `vectors`, a
    `(source_vocab, dim)` matrix, initialises the source embedding.

    Example:
    >>> model = build_model(ModelConfig(units=8, embedding_dim=4), 20, 30)
    >>> tuple(model.output.shape)
    (None, None, 30)
    """
    if cfg.encoder not in ENCODERS:
        raise ValueError(f"model.encoder must be one of {ENCODERS}, got {cfg.encoder!r}")
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    dim = cfg.embedding_dim if vectors is None else vectors.shape[1]
    embedding = keras.layers.Embedding(source_vocab, dim, name="source_embedding",
                                       trainable=not cfg.freeze_embeddings)  # fmt: skip
    if vectors is not None:
        embedding.build((None, None))
        embedding.embeddings.assign(vectors)
    if cfg.encoder == "treelstm":
        children = keras.Input((None, None), dtype="int32", name="children")
        inputs = [source, children, target_in]
        encoder = TreeEncoder(cfg.units, cfg.dropout, name="encoder")
    else:
        inputs = [source, target_in]
        encoder = SequenceEncoder(
            cfg.units, cfg.layers, cfg.encoder == "bilstm", cfg.dropout, name="encoder"
        )
    embedding(source)  # builds it before `_encode` reuses it
    model_source = source if cfg.encoder != "treelstm" else (source, children)
    memory, state_h, mask = _encode_with(embedding, encoder, model_source)
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
    return keras.Model(inputs, logits, name="seq2seq")


def _encode_with(embedding, encoder, source):
    """`source` ids `(batch, S)`, or `(ids, children)` of trees -> memory, summary, mask."""
    if isinstance(source, tuple):
        ids, children = source
        words = ops.not_equal(ids, text.PAD)  # leaves; phrases have no token
        return encoder(embedding(ids), children, words)
    mask = ops.not_equal(source, text.PAD)
    memory, state_h, _ = encoder(embedding(source), mask=mask)
    return memory, state_h, mask


def _encode(model: keras.Model, source):
    return _encode_with(model.get_layer("source_embedding"), model.get_layer("encoder"), source)


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
