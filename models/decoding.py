"""Greedy and beam-search decoding over a step function, in backend ops only.

Both searches run as one `keras.ops.while_loop` with fixed-shape loop variables, so
they trace inside a `tf.function` and export to a SavedModel that serves on stock
TensorFlow (no `GatherTree` or other contrib ops).

A step function maps `(tokens (n,), states)` to `(logits (n, vocab), states)`, where
`states` is a list of tensors whose first axis is `n`.
"""

from collections.abc import Callable, Sequence

from keras import ops

StepFn = Callable[[object, list], tuple[object, list]]
_NEG = -1e9  # log-probability of a forbidden continuation (finite: keeps sums NaN-free)


def repeat_beams(x, beam_size: int):
    """Repeat every row `beam_size` times: `(batch, ...)` -> `(batch * beam, ...)`."""
    return ops.repeat(x, beam_size, axis=0)


def length_penalty(lengths, alpha: float):
    """GNMT length penalty `((5 + length) / 6) ** alpha` (Wu et al. 2016)."""
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, alpha)


def greedy_search(
    step_fn: StepFn,
    states: Sequence,
    start_id: int,
    end_id: int,
    max_length: int,
):
    """Pick the most likely token at every step until `end_id` or `max_length`.

    Returns:
        `(tokens, scores)`: `(batch, max_length)` int32 ids, `end_id` after the end,
        and `(batch,)` summed log-probabilities up to and including `end_id`.

    Example:
    >>> def step(tokens, states):  # always prefers token 3, then 1 (the end)
    ...     logits = ops.one_hot(ops.where(states[0] > 0, 1, 3), 4)
    ...     return logits, [states[0] + 1]
    >>> tokens, _ = greedy_search(step, [ops.zeros((1,))], 0, 1, 4)
    >>> ops.convert_to_numpy(tokens).tolist()
    [[3, 1, 1, 1]]
    """
    batch = ops.shape(states[0])[0]
    positions = ops.arange(max_length)

    def body(t, last, states, tokens, scores, finished):
        logits, states = step_fn(last, list(states))
        logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (batch, vocab)
        best = ops.cast(ops.argmax(logp, axis=-1), "int32")
        best = ops.where(finished, end_id, best)
        gain = ops.take_along_axis(logp, best[:, None], axis=1)[:, 0]
        scores = scores + ops.where(finished, 0.0, gain)
        tokens = ops.where(positions[None, :] == t, best[:, None], tokens)
        return t + 1, best, states, tokens, scores, finished | (best == end_id)

    def cond(t, last, states, tokens, scores, finished):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    loop = (
        ops.convert_to_tensor(0, "int32"),
        ops.full((batch,), start_id, "int32"),
        list(states),
        ops.full((batch, max_length), end_id, "int32"),
        ops.zeros((batch,), "float32"),
        ops.zeros((batch,), "bool"),
    )
    _, _, _, tokens, scores, _ = ops.while_loop(cond, body, loop)
    return tokens, scores


def beam_search(
    step_fn: StepFn,
    states: Sequence,
    start_id: int,
    end_id: int,
    max_length: int,
    beam_size: int,
    alpha: float = 0.0,
    num_results: int = 1,
):
    """Beam search with a GNMT length penalty and n-best output.

    `states` must already be repeated per beam (`repeat_beams`), so that row
    `b * beam_size + k` is beam `k` of example `b`. At each step the `beam_size`
    best continuations by summed log-probability are kept; a finished beam keeps its
    score and competes with the live ones. Finished hypotheses are ranked by
    `log_prob / length_penalty(length, alpha)`, counting the end token in the length.
    With a beam as wide as the number of hypotheses the search is exhaustive.

    Returns:
        `(tokens, scores)`: `(batch, num_results, max_length)` int32 ids, best first,
        padded with `end_id`, and their `(batch, num_results)` penalised scores.

    Example:
    >>> def step(tokens, states):  # a fixed distribution; token 0 ends
    ...     return ops.log(ops.convert_to_tensor([[0.1, 0.3, 0.6]] * 2)), states
    >>> tokens, scores = beam_search(step, [ops.zeros((2, 1))], 0, 0, 2, beam_size=2)
    >>> ops.convert_to_numpy(tokens).tolist()
    [[[2, 2]]]
    """
    n = ops.shape(states[0])[0]
    batch = n // beam_size
    positions = ops.arange(max_length)
    offsets = ops.arange(batch)[:, None] * beam_size  # (batch, 1)

    def body(t, last, states, tokens, scores, finished, lengths):
        logits, states = step_fn(last, list(states))
        logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (n, vocab)
        vocab = ops.shape(logp)[-1]
        logp = ops.reshape(logp, (batch, beam_size, vocab))
        only_end = ops.where(ops.arange(vocab) == end_id, 0.0, _NEG)  # (vocab,)
        logp = ops.where(finished[:, :, None], only_end[None, None, :], logp)
        total = ops.reshape(scores[:, :, None] + logp, (batch, beam_size * vocab))
        scores, flat = ops.top_k(total, beam_size)  # (batch, beam)
        flat = ops.cast(flat, "int32")
        beam, token = flat // vocab, flat % vocab
        rows = ops.reshape(offsets + beam, (-1,))  # (n,)
        states = [ops.take(s, rows, axis=0) for s in states]
        tokens = ops.take_along_axis(tokens, beam[:, :, None], axis=1)
        tokens = ops.where(positions[None, None, :] == t, token[:, :, None], tokens)
        was_finished = ops.take_along_axis(finished, beam, axis=1)
        lengths = ops.take_along_axis(lengths, beam, axis=1)
        lengths = lengths + ops.cast(ops.logical_not(was_finished), "int32")
        finished = was_finished | (token == end_id)
        return t + 1, ops.reshape(token, (-1,)), states, tokens, scores, finished, lengths

    def cond(t, last, states, tokens, scores, finished, lengths):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    first = ops.concatenate([ops.zeros((1,)), ops.full((beam_size - 1,), _NEG)])
    loop = (
        ops.convert_to_tensor(0, "int32"),
        ops.full((n,), start_id, "int32"),
        list(states),
        ops.full((batch, beam_size, max_length), end_id, "int32"),
        ops.tile(first[None, :], (batch, 1)),  # only beam 0 is live at the start
        ops.zeros((batch, beam_size), "bool"),
        ops.zeros((batch, beam_size), "int32"),
    )
    _, _, _, tokens, scores, _, lengths = ops.while_loop(cond, body, loop)
    scores = scores / length_penalty(lengths, alpha)
    scores, best = ops.top_k(scores, num_results)  # (batch, num_results)
    tokens = ops.take_along_axis(tokens, best[:, :, None], axis=1)
    return tokens, scores
