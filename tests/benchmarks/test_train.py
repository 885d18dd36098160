import keras
import numpy as np

from benchmarks import train
from models import TimeFolded


def _model(wrapper):
    clips = keras.Input((4, 3))
    steps = wrapper(keras.layers.Dense(5, name="inner"), name="per_step")(clips)
    model = keras.Model(clips, keras.layers.Dense(2)(keras.layers.Flatten()(steps)))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def test_the_time_distributed_twin_has_the_same_weights_outputs_and_compilation():
    keras.utils.set_random_seed(0)
    model = _model(TimeFolded)
    twin = train._time_distributed(model)
    assert type(twin.get_layer("per_step")) is keras.layers.TimeDistributed
    x = np.random.RandomState(0).normal(size=(6, 4, 3)).astype("float32")
    np.testing.assert_allclose(twin(x), model(x), rtol=1e-6)
    assert twin.get_compile_config() == model.get_compile_config()
    y = np.zeros((6, 2), "float32")
    twin.fit(x, y, epochs=1, verbose=0)  # trains its own weights, not the model's
    assert not np.allclose(twin(x), model(x))


def test_no_twin_for_a_model_without_time_folded():
    assert train._time_distributed(_model(keras.layers.TimeDistributed)) is None
