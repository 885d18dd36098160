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


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    encoder: str = "lstm"  # lstm | bilstm | frame (a baseline that sees one frame or day)
    layers: int = 1
    units: int = 64
    filters: tuple[int, ...] = (16, 32, 64)  # video: the per-frame CNN's blocks
    backbone: str = "small"  # video: small | mobilenet_v2 | inception_v3 | resnet50
    projection: int = 64  # per-frame or per-day features are projected to this width
    dropout: float = 0.1


@dataclasses.dataclass(frozen=True)
class ClassifyConfig:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()


PRESETS = {
    "default": ClassifyConfig(train=TrainConfig(epochs=30, patience=6)),
    "tiny": ClassifyConfig(
        data=DataConfig(size=120, frames=6, frame_size=16, window=12),
        model=ModelConfig(units=8, filters=(4, 8), projection=8, dropout=0.0),
        train=TrainConfig(epochs=1, batch_size=16),
    ),
}
