import keras
import numpy as np
import pytest

from benchmarks import flops, reference
from benchmarks.train import epoch_work


def test_lstm_and_dense_products_are_counted_from_their_sizes():
    # batch 2, 5 steps, 3 features -> LSTM(4) -> Dense(6): forward 2*B*T*(F+U)*4U + 2*B*U*6
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(6)])
    forward = 2 * 2 * 5 * (3 + 4) * 16 + 2 * 2 * 4 * 6
    assert flops.forward_flops(model, np.zeros((2, 5, 3), "float32")) == forward
    assert flops.train_step_flops(model, np.zeros((2, 5, 3), "float32")) == 3 * forward


def test_bidirectional_counts_both_directions_and_conv_counts_every_output():
    inp = keras.Input((7, 3))
    out = keras.layers.Bidirectional(keras.layers.LSTM(4))(inp)
    model = keras.Model(inp, out)
    assert flops.forward_flops(model, np.zeros((1, 7, 3), "float32")) == 2 * (2 * 7 * 7 * 16)
    conv = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(5, 3)])
    # 4x4 outputs x 5 filters, each 3*3*2 multiply-adds
    assert flops.forward_flops(conv, np.zeros((1, 6, 6, 2), "float32")) == 2 * 16 * 5 * 18


def test_attention_counts_scores_and_context():
    query, value = keras.Input((3, 4)), keras.Input((5, 6))
    keys = keras.layers.Dense(4, use_bias=False)(value)
    out = keras.layers.AdditiveAttention()([query, value, keys])
    model = keras.Model([query, value], out)
    counted = flops.forward_flops(model, [np.zeros((2, 3, 4), "f"), np.zeros((2, 5, 6), "f")])
    assert counted == 2 * 2 * 5 * 6 * 4 + 2 * 2 * 3 * 5 * (4 + 6)  # key projection + attention


def test_recording_leaves_layer_calls_unpatched():
    before = keras.Layer.__call__
    with pytest.raises(RuntimeError):
        with flops._recording([]):
            raise RuntimeError
    assert keras.Layer.__call__ is before


def test_epoch_work_counts_text_tokens_from_the_weights():
    import tensorflow as tf

    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(9, 2)])
    ids = tf.constant([[3, 4, 0], [5, 0, 0]])
    data = tf.data.Dataset.from_tensors((ids, ids, tf.cast(ids > 0, "float32")))
    work = epoch_work(model, data)
    assert (work["steps"], work["examples"], work["unit"], work["units"]) == (1, 2, "tokens", 3)


def test_reference_stack_flops_match_the_layer_count():
    sizes = {"batch": 2, "steps": 3, "features": 5, "units": 4}
    stack = keras.Sequential([
        keras.Input((3, 5)),
        keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)),
        keras.layers.LSTM(4),
    ])  # fmt: skip
    counted = flops.train_step_flops(stack, np.zeros((2, 3, 5), "float32"))
    assert reference.stack_flops(**sizes) == counted


def test_reference_mfu_is_against_the_highest_peak_measured_between_the_cases(monkeypatch):
    peaks = iter([1e9, 4e9])  # before the one case (a slow spell), and after it
    monkeypatch.setattr(reference.timing, "matmul_peak", lambda n: next(peaks))
    monkeypatch.setattr(reference.timing, "seconds", lambda fn, repeats: 0.5)
    monkeypatch.setattr(reference.importlib.util, "find_spec", lambda name: None)  # no torch
    rows = reference.run(quick=True)
    (sizes,) = reference.QUICK_SIZES
    assert [row.case.split()[0] for row in rows] == ["keras"]
    seconds = 0.5 / reference.STEPS
    assert rows[0].figures["MFU"] == pytest.approx(reference.stack_flops(**sizes) / seconds / 4e9)
    assert "best of 2 tf.matmul peaks, 4 GFLOP/s" in rows[0].note
