"""The encoder catalog: one place names every encoder, and one entry adds one."""

import json

import keras
import numpy as np
import pytest

from models import EncoderConfig, encoders
from pipelines import run


@keras.saving.register_keras_serializable(package="tests")
class GRUEncoder(keras.layers.Layer):
    """A new encoder's layer file: stacked GRUs returning the encoders' triple."""

    def __init__(self, units: int, num_layers: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.num_layers = units, num_layers
        self.grus = [keras.layers.GRU(units, return_sequences=True, return_state=True)
                     for _ in range(num_layers)]  # fmt: skip
        self.supports_masking = True

    def build(self, input_shape):
        for gru in self.grus:
            gru.build(input_shape)
            input_shape = (*input_shape[:2], self.units)

    def call(self, inputs, mask=None, training=None):
        x = inputs
        for gru in self.grus:
            x, summary = gru(x, mask=mask, training=training)
        if mask is None:
            mask = keras.ops.ones(keras.ops.shape(inputs)[:2], "bool")
        return x, summary, mask

    def compute_mask(self, inputs, mask=None):
        return [mask, None, None]

    def compute_output_spec(self, inputs, mask=None, training=None):
        batch, steps = inputs.shape[:2]
        return (keras.KerasTensor((batch, steps, self.units), self.compute_dtype),
                keras.KerasTensor((batch, self.units), self.compute_dtype),
                keras.KerasTensor((batch, steps), "bool"))  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_layers": self.num_layers}


@pytest.fixture
def gru():
    encoders.register("gru", lambda cfg: GRUEncoder(cfg.units, cfg.layers, name="encoder"),
                      encoders.SEQUENCES, "stacked GRUs")  # fmt: skip
    yield
    del encoders.CATALOG["gru"]


def test_an_unknown_encoder_lists_the_catalog():
    listing = r"unknown encoder 'gru'; encoders: lstm \(stacked LSTMs\); bilstm"
    with pytest.raises(ValueError, match=listing):
        EncoderConfig(encoder="gru")


@pytest.mark.parametrize("name", ["lstm", "bilstm", "frame"])
def test_every_sequence_encoder_returns_the_triple(name):
    layer = encoders.build(EncoderConfig(encoder=name, units=3))
    mask = np.array([[True, True, False]])
    states, summary, out_mask = layer(np.ones((1, 3, 2), "float32"), mask=mask)
    assert states.shape[:2] == (1, 3) and summary.shape[0] == 1
    np.testing.assert_array_equal(out_mask, mask)


def test_layers_must_be_positive_whatever_the_encoder():
    with pytest.raises(ValueError, match="model.units and model.layers must be 1 or more"):
        EncoderConfig(encoder="treelstm", layers=0)


@pytest.mark.slow
def test_one_catalog_entry_adds_an_encoder_to_every_task(gru, tmp_path):
    """Registering `gru` is all it takes: translate and classify (text) train, evaluate
    and export with it through the real pipeline."""
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("text,label\n" + "".join(
        f"{'good great fine' if i % 2 else 'bad awful poor'} film {i},{i % 2}\n" for i in range(60)
    ))  # fmt: skip
    for task, data in (("translate", None), ("classify", f"text:{reviews}")):
        workdir = run.train(task, data, "tiny", ("model.encoder=gru",), tmp_path / task)
        config = json.loads((workdir / "config.json").read_text())["config"]
        model = keras.saving.load_model(workdir / run.CHECKPOINT, safe_mode=True)
        assert config["model"]["encoder"] == "gru"
        assert isinstance(model.get_layer("encoder"), GRUEncoder)
        assert (workdir / "export" / "1" / "saved_model.pb").exists()
