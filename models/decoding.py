"""Greedy and beam-search decoding over a step function, in backend ops only.

Both searches run as one `keras.ops.while_loop` with fixed-shape loop variables, so
they trace inside a `tf.function` and export to a SavedModel that serves on stock
TensorFlow (no `GatherTree` or other contrib ops).

A step function maps `(tokens (n,), states, *context)` to `(logits (n, vocab), states)`,
where `states` is a list of tensors whose first axis is `n`, and `context` the
per-example tensors given to the search (`(batch, ...)`, e.g. an encoder's memory)
for the examples the step computes: `n` is a multiple of their number, and example
`i` owns rows `i * n // examples` to `(i + 1) * n // examples - 1` (its beams).

Each step computes only the examples still searching (a live greedy row, or an
example with a live beam): the others keep what they have, and cost nothing (about
half the rows of a step, on average, in the default translate and caption runs).
"""

from collections.abc import Callable, Sequence

from keras import ops

StepFn = Callable[..., tuple[object, list]]  # (tokens, states, *context) -> (logits, states)
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
    context: Sequence = (),
    no_repeat_ngram: int = 0,
):
    """Pick the most likely token at every step until `end_id` or `max_length`, never
    one that would repeat an n-gram of `no_repeat_ngram` tokens (0: any).

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
        logits, live_states, row_of = _step_live(
            step_fn, last, states, context, ops.logical_not(finished), 1
        )
        states = [ops.take(s, row_of, axis=0) for s in live_states]
        logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (batch, vocab)
        if no_repeat_ngram:
            logp = logp + repeated_ngram_ban(tokens, t, no_repeat_ngram, ops.shape(logp)[-1])
        best = ops.cast(ops.argmax(logp, axis=-1), "int32")
        gain = ops.where(finished, 0.0, ops.max(logp, axis=-1))  # logp at `best`
        best = ops.where(finished, end_id, best)
        scores = scores + gain
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
    context: Sequence = (),
    no_repeat_ngram: int = 0,
):
    """Beam search with a GNMT length penalty and n-best output; with
    `no_repeat_ngram`, no hypothesis repeats an n-gram of that many tokens.

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

    # Beam `k` of example `b` is row `b * beam_size + k` of the states, `tokens`
    # (n, max_length) and `finished` (n,); `scores` is (batch, beam).
    def body(t, last, states, tokens, scores, finished):
        searching = ops.logical_not(ops.all(ops.reshape(finished, (batch, beam_size)), axis=1))
        logits, live_states, row_of = _step_live(
            step_fn, last, states, context, searching, beam_size
        )
        logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (n, vocab)
        vocab = ops.shape(logp)[-1]
        if no_repeat_ngram:
            logp = logp + repeated_ngram_ban(tokens, t, no_repeat_ngram, vocab)
        only_end = ops.where(ops.arange(vocab) == end_id, 0.0, _NEG)  # (vocab,)
        logp = ops.reshape(ops.where(finished[:, None], only_end[None, :], logp),
                           (batch, beam_size, vocab))  # fmt: skip
        total = ops.reshape(scores[:, :, None] + logp, (batch, beam_size * vocab))
        scores, flat = ops.top_k(total, beam_size)  # (batch, beam)
        flat = ops.cast(flat, "int32")
        token = ops.reshape(flat % vocab, (-1,))  # (n,)
        parent = ops.reshape(offsets + flat // vocab, (-1,))  # (n,) the row each extends
        states = [ops.take(s, ops.take(row_of, parent), axis=0) for s in live_states]
        tokens = ops.take(tokens, parent, axis=0)  # (n, max_length)
        tokens = ops.where(positions[None, :] == t, token[:, None], tokens)
        finished = ops.take(finished, parent) | (token == end_id)
        return t + 1, token, states, tokens, scores, finished

    def cond(t, last, states, tokens, scores, finished):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    first = ops.concatenate([ops.zeros((1,)), ops.full((beam_size - 1,), _NEG)])
    loop = (
        ops.convert_to_tensor(0, "int32"),
        ops.full((n,), start_id, "int32"),
        list(states),
        ops.full((n, max_length), end_id, "int32"),
        ops.tile(first[None, :], (batch, 1)),  # only beam 0 is live at the start
        ops.zeros((n,), "bool"),
    )
    _, _, _, tokens, scores, _ = ops.while_loop(cond, body, loop)
    # The loop stops early only once every beam has ended, so a beam that has not
    # ended ran all `max_length` steps; the end token counts in the length.
    ended = ops.cast(tokens == end_id, "int32")  # (n, max_length)
    lengths = ops.where(ops.any(ended == 1, axis=1), ops.argmax(ended, axis=1) + 1, max_length)
    scores = scores / length_penalty(ops.reshape(lengths, (batch, beam_size)), alpha)
    scores, best = ops.top_k(scores, num_results)  # (batch, num_results)
    rows = ops.reshape(offsets + ops.cast(best, "int32"), (-1,))  # (batch * num_results,)
    tokens = ops.reshape(ops.take(tokens, rows, axis=0), (batch, num_results, max_length))
    return tokens, scores


def repeated_ngram_ban(tokens, t, n: int, vocab: int):
    """`(rows, vocab)`: a forbidding log-probability on each token that, after a row's
    `tokens[:, :t]`, would complete an `n`-gram the row already holds; 0 elsewhere.

    Example:
    >>> tokens = ops.convert_to_tensor([[4, 5, 4, 0]], "int32")  # "4 5 4", at step 3
    >>> ban = ops.convert_to_numpy(repeated_ngram_ban(tokens, 3, 2, 6))[0]
    >>> [token for token in range(6) if ban[token] < 0]  # "4 5" again
    [5]
    """
    rows, length = ops.shape(tokens)[0], tokens.shape[1]
    starts = length - n + 1  # n-grams start at j = 0 .. starts - 1
    if starts < 1:
        return ops.zeros((rows, vocab))
    match = ops.broadcast_to(ops.arange(starts)[None, :] <= t - n, (rows, starts))  # ended
    for k in range(n - 1):  # the n-gram's k-th token equals the row's (n - 1 - k)-th last
        last = ops.take(tokens, ops.reshape(ops.maximum(t - n + 1 + k, 0), (1,)), axis=1)
        match = ops.logical_and(match, tokens[:, k : k + starts] == last)  # (rows, starts)
    follow = tokens[:, n - 1 :]  # (rows, starts): the token that completed each n-gram
    at = ops.stack([ops.broadcast_to(ops.arange(rows)[:, None], (rows, starts)), follow], -1)
    hits = ops.scatter(ops.reshape(at, (-1, 2)), ops.reshape(ops.cast(match, "float32"), (-1,)),
                       (rows, vocab))  # fmt: skip
    return ops.where(hits > 0, _NEG, 0.0)


def _step_live(step_fn: StepFn, last, states: Sequence, context: Sequence, live, group: int):
    """Runs `step_fn` on the rows of the `live` examples only.

    Example `i` owns rows `i * group` to `i * group + group - 1`. Returns the logits
    `(n, vocab)`, zero on the rows of the other examples, the new states of the live
    rows `(m, ...)`, and `(n,)` each row's index in those (0 for the other rows).
    While every example is live, nothing is gathered.
    """
    n = ops.shape(last)[0]

    def every_row():
        logits, new_states = step_fn(last, list(states), *context)
        return logits, new_states, ops.arange(n)

    def live_rows():
        examples = ops.nonzero(live)[0]  # (e,)
        rows = ops.reshape(examples[:, None] * group + ops.arange(group)[None, :], (-1,))  # (m,)
        logits, new_states = step_fn(
            ops.take(last, rows),
            [ops.take(s, rows, axis=0) for s in states],
            *[ops.take(c, examples, axis=0) for c in context],
        )
        at = rows[:, None]
        row_of = ops.scatter(at, ops.arange(ops.shape(rows)[0]), (n,))
        return ops.scatter(at, logits, (n, ops.shape(logits)[1])), new_states, row_of

    return ops.cond(ops.all(live), every_row, live_rows)
