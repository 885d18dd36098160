"""Shared Keras layers: sequence encoders, the attentional decoder and decoding."""

from models.attention_decoder import AttentionDecoder
from models.sequence_encoder import SequenceEncoder

__all__ = ["AttentionDecoder", "SequenceEncoder"]
