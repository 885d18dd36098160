import numpy as np

from models import MiddleStep
from tests.models.layer_test import run_layer_test


def test_layer_contract(tmp_path):
    steps = np.arange(24, dtype="float32").reshape(2, 4, 3)
    states, middle, mask = run_layer_test(
        MiddleStep, {}, {"inputs": steps}, tmp_path, trainable_weights=0
    )
    np.testing.assert_array_equal(states, steps)
    np.testing.assert_array_equal(middle, steps[:, 1])  # (4 - 1) // 2
    assert mask.all()


def test_the_middle_of_the_real_steps():
    steps = np.arange(10, dtype="float32").reshape(2, 5, 1)
    mask = np.array([[True] * 5, [True, True, True, False, False]])
    _, middle, _ = MiddleStep()(steps, mask=mask)
    np.testing.assert_array_equal(np.asarray(middle)[:, 0], [2.0, 6.0])
