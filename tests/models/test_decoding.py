"""Greedy and beam search against brute force on a tiny random language model."""

import itertools

import numpy as np
import pytest
from keras import ops

from models import decoding

VOCAB, END, START, MAX_LEN = 4, 0, 1, 3


def _model(seed: int, batch: int = 2):
    """A small RNN language model: the distribution depends on the whole prefix."""
    rng = np.random.default_rng(seed)
    embed = rng.normal(size=(VOCAB, 5)).astype("float32") * 2
    recur = rng.normal(size=(5, 5)).astype("float32")
    out = rng.normal(size=(5, VOCAB)).astype("float32") * 2
    init = rng.normal(size=(batch, 5)).astype("float32")

    def step(tokens, states):
        h = ops.tanh(ops.take(embed, tokens, axis=0) + ops.matmul(states[0], recur))
        return ops.matmul(h, out), [h]

    return step, init


def _logp(step, init_row, seq):
    """Log-probability of `seq` (ids) under the model, one example."""
    states, token, total = [ops.convert_to_tensor(init_row[None])], START, 0.0
    for t in seq:
        logits, states = step(ops.convert_to_tensor([token], "int32"), states)
        total += float(ops.log_softmax(logits)[0, t])
        token = t
    return total


def _repeats(seq, n: int) -> bool:
    """Whether `seq` holds some n-gram twice (0: never)."""
    grams = [tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)] if n else []
    return len(set(grams)) < len(grams)


def _exhaustive(step, init_row, alpha, no_repeat_ngram=0):
    """Every hypothesis: ended by END at any length, or cut at MAX_LEN."""
    scored = []
    for n in range(1, MAX_LEN + 1):
        for prefix in itertools.product(range(1, VOCAB), repeat=n - 1):
            for last in range(VOCAB):
                seq = (*prefix, last)
                if last != END and n < MAX_LEN or _repeats(seq, no_repeat_ngram):
                    continue
                penalty = ((5 + n) / 6) ** alpha
                scored.append((_logp(step, init_row, seq) / penalty, seq))
    return sorted(scored, reverse=True)


@pytest.mark.parametrize(
    "seed,alpha,no_repeat", [(0, 0.0, 0), (1, 0.6, 0), (2, 1.5, 0), (3, 0.6, 1), (4, 0.0, 2)]
)
def test_wide_beam_equals_exhaustive_search_with_n_best(seed, alpha, no_repeat):
    step, init = _model(seed)
    beam = 40  # every hypothesis fits: 1 + 3 + 9 ended + 27 cut
    states = [decoding.repeat_beams(ops.convert_to_tensor(init), beam)]
    tokens, scores = decoding.beam_search(step, states, START, END, MAX_LEN, beam, alpha, 5,
                                          no_repeat_ngram=no_repeat)  # fmt: skip
    tokens, scores = np.asarray(tokens), np.asarray(scores)
    for b in range(init.shape[0]):
        best = _exhaustive(step, init[b], alpha, no_repeat)[:5]
        for k, (score, seq) in enumerate(best):
            assert tuple(tokens[b, k, : len(seq)]) == seq
            assert (tokens[b, k, len(seq) :] == END).all()
            assert scores[b, k] == pytest.approx(score, abs=1e-4)


def test_greedy_follows_the_argmax_path():
    step, init = _model(3)
    tokens, scores = decoding.greedy_search(step, [ops.convert_to_tensor(init)], START, END, 6)
    for b in range(init.shape[0]):
        states, token, seq, total = [ops.convert_to_tensor(init[b : b + 1])], START, [], 0.0
        while len(seq) < 6:
            logits, states = step(ops.convert_to_tensor([token], "int32"), states)
            logp = np.asarray(ops.log_softmax(logits))[0]
            token = int(logp.argmax())
            seq.append(token)
            total += logp[token]
            if token == END:
                break
        assert list(np.asarray(tokens)[b, : len(seq)]) == seq
        assert float(scores[b]) == pytest.approx(total, abs=1e-4)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_repeated_ngram_ban_forbids_exactly_the_repeating_tokens(n):
    tokens = np.random.default_rng(n).integers(0, 3, size=(64, 9)).astype("int32")
    for t in range(9):
        ban = np.asarray(decoding.repeated_ngram_ban(ops.convert_to_tensor(tokens), t, n, 3))
        for row, seq in zip(ban, tokens[:, :t].tolist(), strict=True):
            want = [_repeats([*seq, token], n) and not _repeats(seq, n) for token in range(3)]
            assert [bool(x < 0) for x in row] == want or _repeats(seq, n)


@pytest.mark.parametrize("beam", [1, 3])
def test_a_looping_model_stops_repeating_bigrams(beam):
    """A model that prefers "2 3 2 3 ..." never ends; without repeated bigrams it must
    leave the loop: every output holds each bigram once."""
    step = lambda tokens, states: (ops.one_hot(5 - tokens % 2, 6) * 3.0, states)  # noqa: E731
    states = [decoding.repeat_beams(ops.zeros((2, 1)), beam)]
    search = decoding.greedy_search if beam == 1 else decoding.beam_search
    args = () if beam == 1 else (beam,)
    looping, _ = search(step, states, START, END, 8, *args)
    blocked, _ = search(step, states, START, END, 8, *args, no_repeat_ngram=2)
    loop, out = (np.asarray(x).reshape(2, -1, 8)[0, 0].tolist() for x in (looping, blocked))
    assert _repeats(loop, 2) and not _repeats(out[: out.index(END) + 1 if END in out else 8], 2)


def test_beam_of_one_is_greedy():
    step, init = _model(4)
    greedy, _ = decoding.greedy_search(step, [ops.convert_to_tensor(init)], START, END, 5)
    beam, _ = decoding.beam_search(step, [ops.convert_to_tensor(init)], START, END, 5, 1)
    np.testing.assert_array_equal(np.asarray(beam)[:, 0], greedy)


def test_length_penalty_is_gnmt():
    assert float(decoding.length_penalty(7, 1.0)) == pytest.approx(2.0)


@pytest.mark.parametrize("beam", [1, 3])
def test_context_goes_with_its_example(beam):
    """A per-example context reaches the rows of its example, as if carried in the states."""
    step, init = _model(5, batch=4)
    bias = np.random.default_rng(6).normal(size=(4, 5)).astype("float32")

    def with_context(tokens, states, bias):  # bias: (examples computed, 5)
        per_row = ops.repeat(bias, tokens.shape[0] // bias.shape[0], axis=0)
        return step(tokens, [states[0] + per_row])

    def carried(tokens, states):  # the same model, its bias repeated into the states
        logits, (h,) = step(tokens, [states[0] + states[1]])
        return logits, [h, states[1]]

    init, bias = ops.convert_to_tensor(init), ops.convert_to_tensor(bias)
    if beam == 1:
        got = decoding.greedy_search(with_context, [init], START, END, 6, [bias])
        want = decoding.greedy_search(carried, [init, bias], START, END, 6)
    else:
        rows = [decoding.repeat_beams(x, beam) for x in (init, bias)]
        got = decoding.beam_search(with_context, rows[:1], START, END, 6, beam, 0.6, 2, [bias])
        want = decoding.beam_search(carried, rows, START, END, 6, beam, 0.6, 2)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], atol=1e-6)


def test_finished_examples_are_not_computed():
    """Example 0 ends at once; example 1 never ends: steps then compute example 1 only."""
    rows = []

    def step(tokens, states, prefer):  # prefer: (examples computed,) the favourite token
        rows.append(int(tokens.shape[0]))
        prefer = ops.repeat(prefer, tokens.shape[0] // prefer.shape[0], axis=0)
        return 5.0 * ops.one_hot(prefer, VOCAB), states

    prefer = ops.convert_to_tensor([END, 2], "int32")
    tokens, _ = decoding.greedy_search(step, [ops.zeros((2, 1))], START, END, 4, [prefer])
    assert np.asarray(tokens).tolist() == [[END] * 4, [2] * 4] and rows == [2, 1, 1, 1]
    rows.clear()
    states = [ops.zeros((4, 1))]
    tokens, _ = decoding.beam_search(step, states, START, END, 4, 2, context=[prefer])
    assert np.asarray(tokens)[:, 0].tolist() == [[END] * 4, [2] * 4] and rows == [4, 4, 2, 2]
