"""Shared Keras layers: sequence and tree encoders, the attentional decoder, decoding."""

from models.attention_decoder import AttentionDecoder
from models.child_sum_tree_lstm import ChildSumTreeLSTM
from models.image_encoder import ImageEncoder
from models.nary_tree_lstm import NaryTreeLSTM
from models.sequence_encoder import SequenceEncoder

__all__ = [
    "AttentionDecoder",
    "ChildSumTreeLSTM",
    "ImageEncoder",
    "NaryTreeLSTM",
    "SequenceEncoder",
]
