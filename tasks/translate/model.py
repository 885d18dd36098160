"""The sequence-to-sequence model: source embedding, an encoder of the catalog, and
the attentional decoder.

The source is a sentence, `source (batch, S)` token ids, for encoders that read
sequences; for encoders that read trees (`treelstm`), a parse tree: `source` node
token ids plus `children` (`tasks/trees.py`).
"""

import keras
from keras import ops

from common.config import DecodeConfig
from models import AttentionDecoder, encoders
from tasks import text
from tasks.embeddings import token_embedding
from tasks.translate.config import ModelConfig


def reads_trees(cfg: ModelConfig) -> bool:
    """Whether the configured encoder reads parse trees rather than sentences."""
    return encoders.get(cfg.encoder).reads == encoders.TREES


def build_model(cfg: ModelConfig, source_vocab: list[str], target_size: int) -> keras.Model:
    """Inputs `source` (and for trees `children (batch, S, K)`) and `target_in (batch, T)`
    ids; `(batch, T, target_size)` logits.

    Example:
    >>> model = build_model(ModelConfig(units=8, embedding_dim=4), ["a", "b"], 30)
    >>> tuple(model.output.shape)
    (None, None, 30)
    """
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    embedding = token_embedding(cfg, source_vocab, "translate", name="source_embedding")
    encoder = encoders.build(cfg)
    if reads_trees(cfg):
        children = keras.Input((None, None), dtype="int32", name="children")
        inputs, model_source = [source, children, target_in], (source, children)
    else:
        inputs, model_source = [source, target_in], source
    memory, summary, mask = _encode_with(embedding, encoder, model_source)
    decoder = AttentionDecoder(target_size, memory.shape[-1], cfg.embedding_dim,
                               cfg.decoder_layers, cfg.attention, cfg.dropout,
                               cfg.feed_summary, name="decoder")  # fmt: skip
    logits = decoder(target_in, memory, summary, memory_mask=mask)
    return keras.Model(inputs, logits, name="seq2seq")


def _encode_with(embedding, encoder, source):
    """`source` ids `(batch, S)`, or `(ids, children)` of trees -> memory, summary, mask."""
    if isinstance(source, tuple):
        ids, children = source
        words = ops.not_equal(ids, text.PAD)  # leaves; phrases have no token
        return encoder(embedding(ids), children, words)
    return encoder(embedding(source), mask=ops.not_equal(source, text.PAD))


def _encode(model: keras.Model, source):
    return _encode_with(model.get_layer("source_embedding"), model.get_layer("encoder"), source)


def generate(model: keras.Model, source, max_length: int, cfg: DecodeConfig, beam_size: int,
             results: int = 1):  # fmt: skip
    """Translates `(batch, S)` source ids: the `results` best, `(batch, results,
    max_length)` ids and `(batch, results)` scores."""
    memory, summary, mask = _encode(model, source)
    decoder = model.get_layer("decoder")
    return text.generate(decoder, memory, summary, max_length, beam_size, cfg.alpha, mask,
                         results, cfg.no_repeat_ngram)  # fmt: skip


def attention(model: keras.Model, source, target_in):
    """Teacher-forced attention weights `(batch, T, S)` of `target_in` over `source`."""
    memory, summary, mask = _encode(model, source)
    _, weights = model.get_layer("decoder")(
        target_in, memory, summary, memory_mask=mask, return_attention=True
    )
    return weights
