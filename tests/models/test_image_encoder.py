import keras
import numpy as np
import pytest

from models import ImageEncoder
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
    with pytest.raises(ValueError, match="known: small, mobilenet_v2"):
        ImageEncoder("vgg99")


def test_pixels_are_normalised_inside():
    encoder = ImageEncoder(filters=(4,))
    assert float(keras.ops.max(encoder.preprocess(np.full((1, 2, 2, 3), 255.0)))) == 1.0
