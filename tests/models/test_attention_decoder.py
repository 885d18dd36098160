import numpy as np
import pytest

from models import AttentionDecoder
from tests.models.layer_test import run_layer_test

VOCAB = 9


def _batch(seed=0, batch=2, steps=4, memory_steps=5):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, VOCAB, size=(batch, steps)).astype("int32")
    memory = rng.normal(size=(batch, memory_steps, 6)).astype("float32")
    summary = rng.normal(size=(batch, 7)).astype("float32")
    return tokens, memory, summary


@pytest.mark.parametrize("attention,feed", [("bahdanau", 0), ("luong", 0), ("bahdanau", 5)])
def test_layer_contract(tmp_path, attention, feed):
    tokens, memory, summary = _batch()
    logits = run_layer_test(
        AttentionDecoder,
        {
            "vocab_size": VOCAB,
            "units": 8,
            "embedding_dim": 4,
            "num_layers": 2,
            "attention": attention,
            "dropout": 0.1,
            "feed_summary": feed,
        },
        {"tokens": tokens, "memory": memory, "summary": summary},
        tmp_path,
        # embedding, 2 LSTMs of 3, initial state 2, key projection, combine 2, logits 2;
        # additive attention also a query projection and a scale
        trainable_weights=(16 if attention == "bahdanau" else 14) + (2 if feed else 0),
        float32_outputs=(0,),  # the logits stay float32 for a stable softmax
    )
    assert logits.shape == (2, 4, VOCAB) and logits.dtype == np.float32


def test_unknown_attention_is_a_clear_error():
    with pytest.raises(ValueError, match="bahdanau"):
        AttentionDecoder(VOCAB, 8, 4, attention="dot-product")


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_masked_memory_gets_no_attention(attention):
    decoder = AttentionDecoder(VOCAB, 8, 4, attention=attention)
    tokens, memory, summary = _batch(batch=1)
    junk = np.random.default_rng(3).normal(size=(1, 3, 6)).astype("float32")
    mask = np.array([[True] * 5 + [False] * 3])
    short, w_short = decoder(tokens, memory, summary, return_attention=True)
    long, w_long = decoder(
        tokens, np.concatenate([memory, junk], 1), summary, memory_mask=mask, return_attention=True
    )
    np.testing.assert_allclose(long, short, atol=1e-5)
    np.testing.assert_allclose(np.asarray(w_long)[..., :5], w_short, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(w_long)[..., 5:], 0.0)


@pytest.mark.parametrize("num_layers,feed", [(1, 0), (2, 0), (2, 3)])
def test_step_matches_teacher_forcing(num_layers, feed):
    """Feeding tokens one at a time through `step` gives the teacher-forced logits."""
    decoder = AttentionDecoder(VOCAB, 8, 4, num_layers=num_layers, feed_summary=feed)
    tokens, memory, summary = _batch()
    forced = np.asarray(decoder(tokens, memory, summary))
    states, keys = decoder.initial_state(summary), decoder.keys(memory)
    for t in range(tokens.shape[1]):
        logits, states = decoder.step(tokens[:, t], states, memory, keys, summary)
        np.testing.assert_allclose(logits, forced[:, t], atol=1e-5)


def test_a_fed_summary_conditions_every_step():
    """With `feed_summary` the summary changes a step's output even after the initial
    state is set: without it, only through the initial state."""
    tokens, memory, summary = _batch()
    for feed, differs in ((0, False), (3, True)):
        decoder = AttentionDecoder(VOCAB, 8, 4, feed_summary=feed)
        states, keys = decoder.initial_state(summary), decoder.keys(memory)
        a, _ = decoder.step(tokens[:, 0], states, memory, keys, summary)
        b, _ = decoder.step(tokens[:, 0], states, memory, keys, summary + 1.0)
        assert (np.abs(np.asarray(a) - np.asarray(b)).max() > 1e-6) == differs


def test_generate_shapes_and_banned_tokens():
    decoder = AttentionDecoder(VOCAB, 8, 4)
    _, memory, summary = _batch()
    for beam in (1, 3):
        tokens, scores = decoder.generate(
            memory,
            summary,
            start_id=2,
            end_id=3,
            max_length=6,
            beam_size=beam,
            banned_ids=(0, 2, 5),
        )
        tokens = np.asarray(tokens)
        assert tokens.shape == (2, 1, 6) and np.asarray(scores).shape == (2, 1)
        assert not np.isin(tokens, [0, 2, 5]).any()


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_step_rows_of_an_example_share_its_memory(attention):
    """Three rows (beams) per example over unrepeated memory: as if each had its own copy."""
    decoder = AttentionDecoder(VOCAB, 8, 4, attention=attention)
    tokens, memory, summary = _batch()
    mask = np.array([[True] * 5, [True] * 3 + [False] * 2])
    decoder(tokens, memory, summary, memory_mask=mask)
    states = [np.repeat(s, 3, axis=0) for s in decoder.initial_state(summary)]
    beams = np.repeat(tokens[:, 0], 3)  # (6,)
    keys = decoder.keys(memory)
    shared, _ = decoder.step(beams, states, memory, keys, summary, mask)
    own, _ = decoder.step(beams, states, *(np.repeat(x, 3, axis=0)
                                           for x in (memory, keys, summary, mask)))  # fmt: skip
    np.testing.assert_allclose(shared, own, atol=1e-6)
