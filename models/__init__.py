"""Shared Keras layers: sequence and tree encoders and their catalog, the attentional
decoder and its searches, the image encoder."""

from models.additive_attention import AdditiveAttention
from models.attention_decoder import AttentionDecoder
from models.char_ngram_embedding import CharNgramEmbedding
from models.child_sum_tree_lstm import ChildSumTreeLSTM
from models.encoder_config import EncoderConfig
from models.image_encoder import ImageEncoder
from models.middle_step import MiddleStep
from models.nary_tree_lstm import NaryTreeLSTM
from models.sequence_encoder import SequenceEncoder
from models.time_folded import TimeFolded
from models.tree_encoder import TreeEncoder
from models.word_dropout import WordDropout

__all__ = [
    "AdditiveAttention",
    "AttentionDecoder",
    "CharNgramEmbedding",
    "ChildSumTreeLSTM",
    "EncoderConfig",
    "ImageEncoder",
    "MiddleStep",
    "NaryTreeLSTM",
    "SequenceEncoder",
    "TimeFolded",
    "TreeEncoder",
    "WordDropout",
]
