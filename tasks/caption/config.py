"""Configuration of the caption task and its presets."""

import dataclasses

from common.config import DecodeConfig, TrainConfig


@dataclasses.dataclass(frozen=True)
class DataConfig:
    source: str = "shapes"  # see tasks.caption.sources.SOURCES
    size: int = 5000  # generated scenes (shapes only), split 80/10/10 by image
    seed: int = 0  # the split
    image_size: int = 64  # images are resized to image_size x image_size
    max_pixels: int = 50_000_000  # larger image files are refused
    max_vocab: int = 5000
    max_length: int = 24  # tokens; longer training captions are counted and left out
    cache_features: bool = False  # frozen backbone: features computed once, cached by tf.data


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    backbone: str = "small"  # small | mobilenet_v2 | inception_v3 | resnet50
    filters: tuple[int, ...] = (32, 64, 128)  # the small CNN's blocks
    weights: str = "none"  # none | imagenet (application backbones)
    freeze_backbone: bool = False
    units: int = 256
    embedding_dim: int = 64
    decoder_layers: int = 1
    attention: str = "bahdanau"  # bahdanau | luong
    dropout: float = 0.1


@dataclasses.dataclass(frozen=True)
class CaptionConfig:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    decode: DecodeConfig = DecodeConfig(beam_size=3, alpha=0.0)
    train: TrainConfig = TrainConfig()


PRESETS = {
    "default": CaptionConfig(train=TrainConfig(epochs=25, patience=5)),
    "tiny": CaptionConfig(
        data=DataConfig(size=60, image_size=32),
        model=ModelConfig(filters=(4, 8), units=16, embedding_dim=8, dropout=0.0),
        decode=DecodeConfig(beam_size=2, alpha=0.0),
        train=TrainConfig(epochs=1, batch_size=16),
    ),
}
