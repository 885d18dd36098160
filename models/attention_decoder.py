"""Attentional LSTM decoder with teacher forcing, a step function and decoding."""

import keras
from keras import ops

from models import decoding
from models.additive_attention import AdditiveAttention

ATTENTION_KINDS = ("bahdanau", "luong")


@keras.saving.register_keras_serializable(package="models")
class AttentionDecoder(keras.layers.Layer):
    """LSTM decoder that attends over a memory (encoder outputs or an image grid).

    The LSTM stack reads the previous target tokens; its top output `h_t` queries the
    memory, and the attentional state `tanh(W_c [context_t; h_t])` predicts the next
    token (Luong et al. 2015). The score is additive, `v^T tanh(W_q h_t + W_k m_s)`
    for `"bahdanau"` (Bahdanau et al. 2015), or multiplicative, `h_t^T W_k m_s`
    ("general") for `"luong"`. The attentional state is not fed back into the LSTM,
    so teacher forcing runs the whole target through one (cuDNN) LSTM kernel per
    layer instead of a Python-level step loop. The initial states come from a
    summary vector (`tanh(W s)`, as "Show, Attend and Tell" initialises from the
    mean annotation), so an encoder's final state or pooled image features start it.
    With `feed_summary > 0`, a projection of the summary (`tanh(V s)`, that wide) is
    also fed with every input token, as LRCN (Donahue et al. 2015) feeds the image at
    every step: without it, what the memory holds reaches the recurrent state only
    through its start, which fades over a long output, and a weakly conditioned
    language model loops ("a red and a red and ..."). It stays one kernel per layer.

    Args:
        vocab_size: number of target tokens (logits width).
        units: LSTM and attention size.
        embedding_dim: target token embedding size.
        num_layers: stacked LSTM layers.
        attention: `"bahdanau"` (additive) or `"luong"` (multiplicative).
        dropout: dropout on embeddings, between layers and on the attentional state.
        feed_summary: width of the summary projection fed at every step (0: none).

    Call arguments:
        tokens: `(batch, steps)` int target inputs (teacher forcing).
        memory: `(batch, memory_steps, memory_dim)` float features to attend over.
        summary: `(batch, summary_dim)` float vector the initial states come from.
        memory_mask: optional `(batch, memory_steps)` bool, `True` on real entries;
            masked entries get zero attention.
        return_attention: also return the attention weights.

    Returns:
        `(batch, steps, vocab_size)` float32 logits, and with `return_attention`
        also `(batch, steps, memory_steps)` attention weights.

    Example:
    >>> decoder = AttentionDecoder(vocab_size=7, units=8, embedding_dim=4)
    >>> memory, summary = keras.ops.ones((2, 5, 6)), keras.ops.ones((2, 6))
    >>> tuple(decoder(keras.ops.ones((2, 3), "int32"), memory, summary).shape)
    (2, 3, 7)
    >>> tokens, scores = decoder.generate(memory, summary, start_id=2, end_id=3,
    ...                                   max_length=4, beam_size=2)
    >>> tuple(tokens.shape), tuple(scores.shape)
    ((2, 1, 4), (2, 1))
    """

    def __init__(
        self,
        vocab_size: int,
        units: int,
        embedding_dim: int,
        num_layers: int = 1,
        attention: str = "bahdanau",
        dropout: float = 0.0,
        feed_summary: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {attention!r}")
        self.vocab_size = vocab_size
        self.units = units
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.attention_kind = attention
        self.dropout = dropout
        self.feed_summary = feed_summary
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.feed = None
        if feed_summary:
            self.feed = keras.layers.Dense(feed_summary, "tanh", name="feed_summary")
        self.rnns = [
            keras.layers.LSTM(units, return_sequences=True, return_state=True, name=f"lstm_{i}")
            for i in range(num_layers)
        ]
        self.init_state = keras.layers.Dense(2 * num_layers * units, "tanh", name="init_state")
        self.key_proj = keras.layers.Dense(units, use_bias=False, name="key_proj")
        if attention == "bahdanau":
            self.query_proj = keras.layers.Dense(units, use_bias=False, name="query_proj")
            self.attention = AdditiveAttention(name="attention")
        else:
            self.query_proj = None
            self.attention = keras.layers.Attention(name="attention")
        self.combine = keras.layers.Dense(units, "tanh", name="combine")
        self.drop = keras.layers.Dropout(dropout)
        # float32 logits keep the softmax stable under mixed precision.
        self.logits = keras.layers.Dense(vocab_size, dtype="float32", name="logits")

    def build(self, tokens_shape, memory_shape, summary_shape, memory_mask_shape=None):
        batch, steps = tokens_shape[:2]
        self.embedding.build(tokens_shape)
        width = self.embedding_dim + self.feed_summary
        if self.feed is not None:
            self.feed.build(summary_shape)
        for rnn in self.rnns:
            rnn.build((batch, steps, width))
            width = self.units
        hidden = (batch, steps, self.units)  # (batch, T, units)
        keys = (*memory_shape[:2], self.units)  # (batch, S, units)
        self.init_state.build(summary_shape)
        self.key_proj.build(memory_shape)
        if self.query_proj is not None:
            self.query_proj.build(hidden)
        self.attention.build([hidden, memory_shape, keys])
        self.combine.build((batch, steps, memory_shape[-1] + self.units))
        self.logits.build(hidden)
        self.built = True

    def initial_state(self, summary):
        """`(batch, summary_dim)` -> `[h_0, c_0, h_1, c_1, ...]`, each `(batch, units)`."""
        flat = self.init_state(summary)  # (batch, 2 * layers * units)
        return ops.split(flat, 2 * self.num_layers, axis=-1)

    def keys(self, memory):
        """Projects the memory once per sequence: `(batch, S, M)` -> `(batch, S, units)`."""
        return self.key_proj(memory)

    def _attend(self, query, memory, keys, memory_mask):
        # query (batch, T, units) -> context (batch, T, M), weights (batch, T, S)
        if self.query_proj is not None:
            query = self.query_proj(query)
        mask = None if memory_mask is None else [None, memory_mask]
        return self.attention([query, memory, keys], mask=mask, return_attention_scores=True)

    def _readout(self, context, output, training=None):
        state = self.combine(ops.concatenate([context, output], axis=-1))
        return self.logits(self.drop(state, training=training))

    def call(
        self,
        tokens,
        memory,
        summary,
        memory_mask=None,
        training=None,
        return_attention=False,
    ):
        states = self.initial_state(summary)
        x = self.drop(self._inputs(self.embedding(tokens), summary), training=training)  # (B, T, I)
        for i, rnn in enumerate(self.rnns):
            if i > 0:
                x = self.drop(x, training=training)
            x, _, _ = rnn(x, initial_state=states[2 * i : 2 * i + 2], training=training)
        context, weights = self._attend(x, memory, self.keys(memory), memory_mask)
        logits = self._readout(context, x, training=training)  # (batch, T, vocab)
        return (logits, weights) if return_attention else logits

    def _inputs(self, embedded, summary):
        """The LSTM's inputs: `(batch, T, E)` token embeddings, with the fed summary
        `(batch, F)` beside each when `feed_summary`; or one step's, `(n, E)`, whose
        rows go in groups of `n // batch` (the beams of one example)."""
        if self.feed is None:
            return embedded
        fed = self.feed(summary)  # (batch, F)
        if len(embedded.shape) == 2:  # one step: (n, E), n = batch * beams
            fed = ops.repeat(fed, ops.shape(embedded)[0] // ops.shape(fed)[0], axis=0)
        else:
            fed = ops.repeat(fed[:, None, :], ops.shape(embedded)[1], axis=1)
        return ops.concatenate([embedded, ops.cast(fed, embedded.dtype)], axis=-1)

    def step(self, tokens, states, memory, keys, summary, memory_mask=None):
        """One decoding step: `(n,)` tokens -> `(n, vocab)` logits, new states.

        `n` is a multiple of the memory's batch `b`: the `n // b` consecutive rows
        from `i * n // b` (the beams of example `i`) attend over memory row `i`.
        """
        x = self._inputs(self.embedding(tokens), summary)  # (n, E [+ F])
        new_states = []
        for i, rnn in enumerate(self.rnns):
            x, (h, c) = rnn.cell(x, states[2 * i : 2 * i + 2])
            new_states += [h, c]
        query = ops.reshape(x, (ops.shape(memory)[0], -1, self.units))  # (b, n // b, units)
        context, _ = self._attend(query, memory, keys, memory_mask)  # (b, n // b, M)
        return self._readout(ops.reshape(context, (-1, context.shape[-1])), x), new_states

    def generate(
        self,
        memory,
        summary,
        start_id: int,
        end_id: int,
        max_length: int,
        memory_mask=None,
        beam_size: int = 1,
        alpha: float = 0.0,
        num_results: int = 1,
        banned_ids: tuple[int, ...] = (),
        no_repeat_ngram: int = 0,
    ):
        """Decodes with greedy search (`beam_size=1`) or beam search.

        `banned_ids` are never produced (padding, the start token); with
        `no_repeat_ngram`, no n-gram of that many tokens is produced twice. Returns
        `(tokens (batch, num_results, max_length), scores (batch, num_results))`;
        see `models.decoding` for the details of each search.
        """
        context = [memory, self.keys(memory), summary]
        context += [] if memory_mask is None else [memory_mask]
        states = self.initial_state(summary)
        ban = ops.sum(ops.one_hot(list(banned_ids), self.vocab_size), axis=0) * -1e9

        def step_fn(tokens, states, *context):
            logits, states = self.step(tokens, states, *context)
            return logits + ban if banned_ids else logits, states

        if beam_size == 1:
            if num_results != 1:
                raise ValueError("greedy search returns one result; use beam_size > 1")
            tokens, scores = decoding.greedy_search(
                step_fn, states, start_id, end_id, max_length, context, no_repeat_ngram
            )
            return tokens[:, None, :], scores[:, None]
        states = [decoding.repeat_beams(s, beam_size) for s in states]
        return decoding.beam_search(step_fn, states, start_id, end_id, max_length, beam_size,
                                    alpha, num_results, context, no_repeat_ngram)  # fmt: skip

    def compute_output_shape(self, tokens_shape, memory_shape, summary_shape, **kwargs):
        return (*tokens_shape, self.vocab_size)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "units": self.units,
            "embedding_dim": self.embedding_dim,
            "num_layers": self.num_layers,
            "attention": self.attention_kind,
            "dropout": self.dropout,
            "feed_summary": self.feed_summary,
        }
