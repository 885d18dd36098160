"""Configuration of the translate task and its presets."""

import dataclasses

from common.config import DecodeConfig, TrainConfig
from models import EncoderConfig
from models.attention_decoder import ATTENTION_KINDS
from tasks.translate.tokenizers import LEVELS


@dataclasses.dataclass(frozen=True)
class DataConfig:
    source: str = "toy_pairs"  # see tasks.translate.sources.SOURCES
    size: int = 12000  # generated pairs (toy_pairs only), split 80/10/10
    seed: int = 0  # the generated pairs and the split of local files
    tokens: str = "word"  # word | char | subword (SentencePiece), tasks/translate/tokenizers.py
    max_vocab: int = 8000  # per language: words, characters or subword pieces
    max_length: int = 32  # tokens; longer training pairs are counted and left out
    val_sentences: int = 500  # validation sources translated each epoch for val_bleu

    def __post_init__(self):
        if self.tokens not in LEVELS:
            raise ValueError(f"data.tokens must be one of {LEVELS}, got {self.tokens!r}")
        if min(self.size, self.max_vocab, self.max_length, self.val_sentences) < 1:
            raise ValueError("data.size, max_vocab, max_length and val_sentences must be 1 "
                             "or more")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ModelConfig(EncoderConfig):
    # encoder, units, layers, dropout, tree: see models.EncoderConfig; treelstm reads
    # toy_pairs' gold source trees (any number of children: a Child-Sum cell)
    tree: str = "childsum"
    embedding_dim: int = 64
    decoder_layers: int = 1
    attention: str = "bahdanau"  # bahdanau (additive) | luong (multiplicative)
    feed_summary: int = 0  # the encoder's summary fed with every target word, this wide
    embeddings: str = ""  # source side: pre-trained vectors, a GloVe/word2vec text file
    freeze_embeddings: bool = False  # keep the pre-trained vectors fixed

    def __post_init__(self):
        super().__post_init__()
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"model.attention must be one of {ATTENTION_KINDS}, "
                             f"got {self.attention!r}")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TranslateConfig:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    decode: DecodeConfig = DecodeConfig()
    train: TrainConfig = TrainConfig()


# A real corpus (anki:, files:, tfds:), as measured on Tatoeba English-French (README
# "translate", what each choice bought): cased subword pieces, a model four times the
# generated language's, dropout and label smoothing against its few thousand sentences,
# a higher learning rate decayed along a cosine, selection on validation BLEU.
REAL_CORPUS = [
    "data.tokens=subword",
    "data.max_vocab=4000",
    "model.units=256",
    "model.embedding_dim=128",
    "model.dropout=0.3",
    "train.label_smoothing=0.1",
    "train.learning_rate=0.002",
    "train.lr_schedule=cosine",
    "train.epochs=20",
    "train.patience=5",
    "train.average_last=5",
    "decode.beam_size=5",
    "decode.alpha=1.0",
]

PRESETS = {
    # toy_pairs: the generated language, converged by epoch ~7
    "default": TranslateConfig(train=TrainConfig(epochs=10)),
    "default:anki": REAL_CORPUS,
    "default:files": REAL_CORPUS,
    "default:tfds": REAL_CORPUS,
    "default:tfrecord": REAL_CORPUS,  # shards prepared from a real corpus
    "tiny": TranslateConfig(
        data=DataConfig(size=300, max_length=24),
        model=ModelConfig(units=16, embedding_dim=8, dropout=0.0),
        decode=DecodeConfig(beam_size=2),
        train=TrainConfig(epochs=1, batch_size=32),
    ),
}
