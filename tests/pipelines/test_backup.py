import keras
import numpy as np
import pytest

from common.errors import UserError
from models import TimeFolded
from pipelines.backup import Backup


def _model(wrapper):
    model = keras.Sequential([keras.Input((3, 2)), wrapper(keras.layers.Dense(4)),
                              keras.layers.Flatten(), keras.layers.Dense(1)])  # fmt: skip
    model.compile("sgd", "mse")
    return model


def _fit(wrapper, folder):
    model = _model(wrapper)
    model.fit(np.ones((8, 3, 2)), np.ones(8), batch_size=4, epochs=1, verbose=0,
              callbacks=[Backup(folder / "backup", folder / "history.csv", steps=1)])  # fmt: skip
    return model


def test_a_saved_state_of_other_layers_is_a_clear_error_and_stays(tmp_path):
    _fit(keras.layers.TimeDistributed, tmp_path)  # a run begun under the earlier layers
    saved = sorted(p.name for p in (tmp_path / "backup").iterdir())
    with pytest.raises(
        UserError,
        match=r"weights-.*\.weights\.h5: this run's saved "
        r"training state does not fit",
    ):
        _fit(TimeFolded, tmp_path)
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == saved


def test_a_saved_state_of_the_same_layers_is_restored(tmp_path):
    trained = _fit(TimeFolded, tmp_path)
    resumed = _model(TimeFolded)
    backup = Backup(tmp_path / "backup", tmp_path / "history.csv")
    backup.set_model(resumed)
    backup.on_train_begin()
    for a, b in zip(resumed.get_weights(), trained.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
