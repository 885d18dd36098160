import numpy as np
import pytest

from models import SequenceEncoder
from tests.models.layer_test import run_layer_test


def _inputs(batch=3, steps=6, features=4, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, steps, features)).astype("float32")


@pytest.mark.parametrize("bidirectional", [True, False])
def test_layer_contract(tmp_path, bidirectional):
    outputs, summary, mask = run_layer_test(
        SequenceEncoder,
        {"units": 5, "num_layers": 2, "bidirectional": bidirectional, "dropout": 0.1},
        {"inputs": _inputs()},
        tmp_path,
        trainable_weights=12 if bidirectional else 6,  # kernel, recurrent, bias per LSTM
    )
    width = 10 if bidirectional else 5
    assert outputs.shape == (3, 6, width) and summary.shape == (3, width)
    assert mask.all() and mask.shape == (3, 6)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_padding_never_changes_a_result(bidirectional):
    encoder = SequenceEncoder(units=5, num_layers=2, bidirectional=bidirectional)
    x = _inputs(batch=1, steps=4)
    padded = np.concatenate([x, _inputs(batch=1, steps=3, seed=1)], axis=1)  # junk padding
    mask = np.array([[True] * 4 + [False] * 3])
    short = [np.asarray(t) for t in encoder(x)]
    long = [np.asarray(t) for t in encoder(padded, mask=mask)]
    np.testing.assert_allclose(long[0][:, :4], short[0], atol=1e-5)
    np.testing.assert_array_equal(long[0][:, 4:], 0.0)  # padded steps output zeros
    np.testing.assert_allclose(long[1], short[1], atol=1e-5)  # the summary at the last real step
    np.testing.assert_array_equal(long[2], mask)
