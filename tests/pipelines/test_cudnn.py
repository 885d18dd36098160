import keras
import numpy as np

from models import AttentionDecoder, SequenceEncoder
from pipelines import cudnn


def _seq2seq(extra_lstm=None):
    source, target = keras.Input((None, 3)), keras.Input((None,), dtype="int32")
    encoder = SequenceEncoder(4, num_layers=2, bidirectional=True, name="encoder")
    memory, state, _ = encoder(source)
    if extra_lstm is not None:  # one more bidirectional layer on top of the encoder
        memory, state, _, _, _ = keras.layers.Bidirectional(extra_lstm, name="extra")(memory)
    logits = AttentionDecoder(7, 8, 4, name="decoder")(target, memory, state)
    return keras.Model([source, target], logits)


def test_the_shared_layers_are_eligible_including_inside_bidirectional():
    lines = cudnn.report(_seq2seq(), gpu=False)
    assert lines[0].startswith("cuDNN eligibility (no GPU here")
    assert lines[1:] == [
        "  decoder/lstm_0: eligible",
        "  encoder/bilstm_0/backward_lstm_0: eligible",
        "  encoder/bilstm_0/forward_lstm_0: eligible",
        "  encoder/bilstm_1/backward_lstm_1: eligible",
        "  encoder/bilstm_1/forward_lstm_1: eligible",
    ]


def test_each_reason_is_named_for_both_directions():
    lstm = keras.layers.LSTM(
        4, activation="relu", recurrent_dropout=0.1, unroll=True, return_sequences=True,
        return_state=True, name="lstm",
    )  # fmt: skip
    lines = cudnn.report(_seq2seq(lstm), gpu=True)
    assert lines[0].startswith("cuDNN eligibility (on this GPU")
    reasons = "NOT eligible: activation=relu, recurrent_dropout=0.1, unroll=True"
    assert f"  extra/backward_lstm: {reasons}" in lines
    assert f"  extra/forward_lstm: {reasons}" in lines
    assert "  encoder/bilstm_1/forward_lstm_1: eligible" in lines


def test_gru_and_use_cudnn_false_are_checked():
    assert cudnn.layer_problems(keras.layers.GRU(3, reset_after=False)) == ["reset_after=False"]
    assert cudnn.layer_problems(keras.layers.LSTM(3, use_cudnn=False)) == ["use_cudnn=False"]
    assert cudnn.layer_problems(keras.layers.LSTM(3, use_bias=False)) == ["use_bias=False"]


def test_token_padding_must_be_on_the_right_and_rows_non_empty():
    good = {"source": np.array([[4, 5, 0], [6, 0, 0]]), "image": np.zeros((2, 4, 4, 3))}
    assert cudnn.padding_problems(good) == []
    left = {"source": np.array([[0, 4, 5], [6, 0, 0]])}
    assert cudnn.padding_problems(left) == ["source: 1 row(s) not right-padded"]
    lines = cudnn.report(_seq2seq(), inputs=left, gpu=False)
    assert lines[-1] == "  masks (token ids of the first training batch): " + (
        "source: 1 row(s) not right-padded"
    )
    ok = cudnn.report(_seq2seq(), inputs=good, gpu=False)
    assert ok[-1].endswith("right-padded, no empty rows")


def test_a_model_without_recurrent_layers_says_so():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert cudnn.report(model, gpu=False)[1:] == ["  (no LSTM or GRU layers)"]
