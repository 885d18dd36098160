"""Configuration of the caption task and its presets."""

import dataclasses

from common.config import DecodeConfig, TrainConfig
from models.attention_decoder import ATTENTION_KINDS
from models.image_encoder import BACKBONES


@dataclasses.dataclass(frozen=True)
class DataConfig:
    source: str = "shapes"  # see tasks.caption.sources.SOURCES
    size: int = 5000  # generated scenes (shapes only), split 80/10/10 by image
    seed: int = 0  # the split
    image_size: int = 64  # images are resized to image_size x image_size
    max_pixels: int = 50_000_000  # larger image files are refused
    max_vocab: int = 5000
    max_length: int = 24  # tokens; longer training captions are counted and left out
    cache_features: bool = False  # frozen backbone: features computed once per image
    val_images: int = 500  # validation images captioned each epoch for val_cider

    def __post_init__(self):
        if min(self.size, self.image_size, self.max_vocab, self.max_length, self.val_images) < 1:
            raise ValueError("data.size, image_size, max_vocab, max_length and val_images "
                             "must be 1 or more")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    backbone: str = "small"  # small | efficientnet_lite0 (-lite1, -lite2) | mobilenet_v2 | ...
    filters: tuple[int, ...] = (32, 64, 128)  # the small CNN's blocks
    weights: str = "none"  # none | imagenet | PATH of a weights file (models/image_encoder.py)
    freeze_backbone: bool = False
    units: int = 256
    embedding_dim: int = 64
    decoder_layers: int = 1
    attention: str = "bahdanau"  # bahdanau | luong
    dropout: float = 0.1
    feed_summary: int = 0  # the pooled image fed with every word, this wide (0: none)

    def __post_init__(self):
        if self.backbone != "small" and self.backbone not in BACKBONES:
            known = ", ".join(["small", *BACKBONES])
            raise ValueError(f"model.backbone must be one of {known}, got {self.backbone!r}")
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"model.attention must be one of {ATTENTION_KINDS}, "
                             f"got {self.attention!r}")  # fmt: skip
        if self.backbone == "small" and self.weights != "none":
            raise ValueError("model.weights are for a pre-trained backbone, not the small CNN")


@dataclasses.dataclass(frozen=True)
class CaptionConfig:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    decode: DecodeConfig = DecodeConfig(beam_size=3, alpha=0.0)
    train: TrainConfig = TrainConfig()


# a photo folder (measured on 640 Flickr8k photographs, README "caption"): the
# ImageNet EfficientNet-Lite0 run once per image, a decoder under strong dropout
# trained until validation CIDEr-D stops rising, beam 5 without repeated bigrams
PHOTO_FOLDER = [
    "model.backbone=efficientnet_lite0",
    "model.weights=imagenet",
    "model.freeze_backbone=true",
    "data.cache_features=true",
    "data.image_size=224",
    "model.dropout=0.5",
    "train.epochs=40",
    "train.patience=5",
    "decode.beam_size=5",
    "decode.no_repeat_ngram=2",
]  # fmt: skip

PRESETS = {
    # shapes: an epoch reads every (scene, caption) pair, 20,000 of them
    "default": CaptionConfig(train=TrainConfig(epochs=5, patience=2)),
    "default:folder": PHOTO_FOLDER,
    "default:tfrecord": PHOTO_FOLDER,  # shards prepared from a photo folder
    "tiny": CaptionConfig(
        data=DataConfig(size=60, image_size=32),
        model=ModelConfig(filters=(4, 8), units=16, embedding_dim=8, dropout=0.0),
        decode=DecodeConfig(beam_size=2, alpha=0.0),
        train=TrainConfig(epochs=1, batch_size=16),
    ),
}
