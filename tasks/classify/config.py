"""Configuration of the classify task and its presets: a section per modality."""

import dataclasses

from common.config import TrainConfig
from models import EncoderConfig
from tasks.classify.modalities.series import SeriesConfig
from tasks.classify.modalities.text import TextConfig
from tasks.classify.modalities.trees import TreeConfig
from tasks.classify.modalities.video import VideoConfig


@dataclasses.dataclass(frozen=True)
class DataConfig:
    source: str = "moving_shapes"  # see tasks.classify.modalities.SOURCES
    size: int = 3000  # generated clips or series windows
    seed: int = 0  # generated data and the split of independent examples
    shuffle_labels: bool = False  # shuffle training labels (a leakage check)


@dataclasses.dataclass(frozen=True)
class ModelConfig(EncoderConfig):
    # encoder, units, layers, dropout, tree: see models.EncoderConfig; `frame` (the
    # middle step alone) is the baseline that sees one frame, day or token
    encoder: str = "lstm"
    units: int = 64
    embedding_dim: int = 64  # trees and text: token embedding width
    embeddings: str = ""  # trees and text: pre-trained vectors, a GloVe/word2vec text file
    freeze_embeddings: bool = False  # keep the pre-trained vectors fixed
    word_dropout: float = 0.0  # trees and text: in training, a word reads as [UNK] this often


@dataclasses.dataclass(frozen=True)
class ClassifyConfig:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    video: VideoConfig = VideoConfig()
    series: SeriesConfig = SeriesConfig()
    trees: TreeConfig = TreeConfig()
    text: TextConfig = TextConfig()
    train: TrainConfig = TrainConfig()


# The Stanford Sentiment Treebank as Tai, Socher & Manning (2015) train their binary
# (constituency) Tree-LSTM: a loss on every labelled node, hidden 150, AdaGrad at 0.05
# in batches of 25, dropout 0.5; without pre-trained vectors: 300-wide embeddings of
# the lower-cased words seen twice, with their spelling (character 3-5-grams) added,
# and word dropout. What each choice bought: README "Trees".
SST = [
    "model.encoder=treelstm",
    "trees.node_labels=true",
    "model.units=150",
    "model.embedding_dim=300",
    "model.dropout=0.5",
    "model.word_dropout=0.25",
    "trees.lowercase=true",
    "trees.min_count=2",
    "trees.char_ngrams=30000",
    "train.optimizer=adagrad",
    "train.learning_rate=0.05",
    "train.batch_size=25",
    "train.epochs=20",
    "train.patience=5",
    "train.average_last=6",  # the best epoch and the 5 after it (early stopping's patience),
    "train.average_keep=always",  # their mean kept: README "Trees"
]

PRESETS = {
    "default": ClassifyConfig(train=TrainConfig(epochs=30, patience=6)),
    "default:sst": SST,  # fine-grained, as sst-fine
    "sst-fine": SST,  # with --data sst:DIR: five classes
    "sst-binary": [*SST, "trees.sst_mode=binary"],  # the five-class model read as two
    # Tuning for a data source (see pipelines.settings.resolve): ListOps' 90k trees an epoch.
    "default:listops": [
        "train.epochs=10",
        "train.patience=3",
        "train.learning_rate=0.003",
        "train.clipnorm=1.0",
    ],
    "tiny": ClassifyConfig(
        data=DataConfig(size=120),
        model=ModelConfig(units=8, dropout=0.0),
        video=VideoConfig(frames=6, frame_size=16, filters=(4, 8), projection=8),
        series=SeriesConfig(window=12, projection=8),
        trees=TreeConfig(tree_splits=(160, 40, 40)),
        text=TextConfig(max_vocab=500, max_length=32),
        train=TrainConfig(epochs=1, batch_size=16),
    ),
}


def config_for(source: str, preset: str = "tiny") -> ClassifyConfig:
    """A preset with `data.source` set (for examples and quick checks).

    Example:
    >>> config_for("regimes").data.source
    'regimes'
    """
    cfg = PRESETS[preset]
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, source=source))
