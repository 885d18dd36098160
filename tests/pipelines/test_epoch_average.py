"""Checkpoint averaging: the mean of the last epochs replaces the best checkpoint when it
scores better (each scored in the training model itself), or always when asked."""

import keras
import numpy as np
import pytest

from pipelines import run
from pipelines.epoch_average import EpochWeights
from tasks.validation import ValidationScore


def _model(value: float) -> keras.Model:
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.full((1, 1), value, "float32")])
    return model


@pytest.mark.parametrize("best_value,always,kept", [(1.0, False, 3.0), (5.0, False, 5.0),
                                                    (5.0, True, 3.0)])  # fmt: skip
def test_the_mean_is_kept_when_it_scores_better_or_always(tmp_path, best_value, always, kept):
    model = _model(0.0)
    epochs = EpochWeights(tmp_path / "epochs", count=2)
    for value, epoch in ((2.0, 0), (4.0, 1)):  # the last two epochs: mean 3
        model.set_weights([np.full((1, 1), value, "float32")])
        epochs.set_model(model)
        epochs.on_epoch_end(epoch)
    best = tmp_path / "best.keras"
    _model(best_value).save(best)
    # Scored as a task scores: bound to the training model, whatever it is given.
    score = ValidationScore("val_score", lambda _: float(model.get_weights()[0][0, 0]))
    run._keep_average(model, epochs, None, [score], ("val_score", "max"), best, always)
    saved = keras.saving.load_model(best, safe_mode=True).get_weights()[0][0, 0]
    assert saved == kept
