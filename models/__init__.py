"""Shared Keras layers: sequence encoders, the attentional decoder and decoding."""

from models.attention_decoder import AttentionDecoder
from models.image_encoder import ImageEncoder
from models.sequence_encoder import SequenceEncoder

__all__ = ["AttentionDecoder", "ImageEncoder", "SequenceEncoder"]
