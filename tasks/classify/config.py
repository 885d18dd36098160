"""Configuration of the classify task and its presets."""

import dataclasses

from tasks.base import TrainConfig


@dataclasses.dataclass(frozen=True)
class DataConfig:
    source: str = "moving_shapes"  # see tasks.classify.sources.SOURCES
    size: int = 3000  # generated clips or series windows
    seed: int = 0  # the split of independent examples
    frames: int = 16  # clip length: frames taken evenly over each clip
    frame_size: int = 32  # frames are resized to frame_size x frame_size
    augment: bool = True  # video: random brightness and contrast per clip in training
    window: int = 30  # series: days per window
    horizon: int = 5  # ohlcv: the label is the return over the next `horizon` days
    dead_zone: float = 0.01  # ohlcv: |log return| below this is "flat"
    shuffle_labels: bool = False  # shuffle training labels (a leakage check)
    tree_splits: tuple[int, ...] = (90000, 1000, 10000)  # listops: generated train, val, test
    max_length: int = 0  # listops: leave out longer expressions (tokens); 0 keeps all
    sst_mode: str = "fine"  # sst: fine (5 classes) | binary (neutral roots left out)
    node_labels: bool = False  # sst + treelstm: learn every node's label, not only the root's


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    encoder: str = "lstm"  # lstm | bilstm | treelstm | frame (sees one frame or day only)
    tree: str = "nary"  # treelstm: nary (binary, ordered children) | childsum (any arity)
    layers: int = 1
    units: int = 64
    filters: tuple[int, ...] = (16, 32, 64)  # video: the per-frame CNN's blocks
    backbone: str = "small"  # video: small | mobilenet_v2 | inception_v3 | resnet50
    projection: int = 64  # per-frame or per-day features are projected to this width
    dropout: float = 0.1
    embedding_dim: int = 64  # trees: token embedding width
    embeddings: str = ""  # trees: pre-trained vectors, a GloVe/word2vec text file
    freeze_embeddings: bool = False  # keep the pre-trained vectors fixed


@dataclasses.dataclass(frozen=True)
class ClassifyConfig:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()


PRESETS = {
    "default": ClassifyConfig(train=TrainConfig(epochs=30, patience=6)),
    # Tuning for a data source (see pipelines.config.resolve): ListOps' 90k trees an epoch.
    "default:listops": [
        "train.epochs=12",
        "train.patience=3",
        "train.learning_rate=0.003",
        "train.clipnorm=1.0",
    ],
    "tiny": ClassifyConfig(
        data=DataConfig(size=120, frames=6, frame_size=16, window=12, tree_splits=(160, 40, 40)),
        model=ModelConfig(units=8, filters=(4, 8), projection=8, dropout=0.0),
        train=TrainConfig(epochs=1, batch_size=16),
    ),
}
