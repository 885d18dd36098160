"""The encoder catalog: each encoder by name, how to build it and what it reads.

Tasks never compare encoder names: they look a name up here (`get`), build the layer
from their config (`build`) and feed it what its entry `reads`, sequences or trees.
Every encoder returns the same triple, `(states (batch, steps, width), summary
(batch, width), mask (batch, steps))`: a decoder attends over the states and starts
from the summary, a classifier reads the summary (or every node's state). Adding an
encoder is its layer file and one `register` call here (or in a test).

Example:
>>> from models.encoder_config import EncoderConfig
>>> layer = build(EncoderConfig(encoder="bilstm", units=4))
>>> states, summary, mask = layer(keras.ops.ones((2, 3, 5)))
>>> tuple(summary.shape), get("treelstm").reads
((2, 8), 'trees')
"""

from collections.abc import Callable
from typing import NamedTuple

import keras

from models.middle_step import MiddleStep
from models.sequence_encoder import SequenceEncoder
from models.tree_encoder import TreeEncoder

SEQUENCES = "sequences"  # call(x (batch, steps, features), mask=(batch, steps) bool)
TREES = "trees"  # call(x (batch, nodes, features), children (batch, nodes, K), words)


class Entry(NamedTuple):
    """One encoder: `build(cfg)` makes the layer from an `EncoderConfig`; `reads` is
    `SEQUENCES` or `TREES`; `about` says what it is, in a few words."""

    build: Callable[..., keras.layers.Layer]
    reads: str
    about: str


CATALOG: dict[str, Entry] = {}


def register(name: str, build: Callable[..., keras.layers.Layer], reads: str, about: str) -> None:
    """Adds (or replaces) the encoder `name`; `--set model.encoder=NAME` then builds it."""
    if reads not in (SEQUENCES, TREES):
        raise ValueError(f"an encoder reads {SEQUENCES!r} or {TREES!r}, not {reads!r}")
    CATALOG[name] = Entry(build, reads, about)


def get(name: str) -> Entry:
    """The entry of `name`; an unknown name is a `ValueError` that lists the catalog."""
    if name not in CATALOG:
        known = "; ".join(f"{key} ({entry.about})" for key, entry in CATALOG.items())
        raise ValueError(f"unknown encoder {name!r}; encoders: {known}")
    return CATALOG[name]


def build(cfg) -> keras.layers.Layer:
    """The encoder layer `cfg.encoder` (an `EncoderConfig` or one that extends it)."""
    return get(cfg.encoder).build(cfg)


register(
    "lstm",
    lambda cfg: SequenceEncoder(cfg.units, cfg.layers, False, cfg.dropout, name="encoder"),
    SEQUENCES,
    "stacked LSTMs",
)
register(
    "bilstm",
    lambda cfg: SequenceEncoder(cfg.units, cfg.layers, True, cfg.dropout, name="encoder"),
    SEQUENCES,
    "stacked bidirectional LSTMs, 2 x units wide",
)
register(
    "treelstm",
    lambda cfg: TreeEncoder(cfg.units, cfg.tree, cfg.layers - 1, cfg.dropout, name="encoder"),
    TREES,
    "a Tree-LSTM (model.tree) over parse trees, on model.layers - 1 BiLSTM layers",
)
register(
    "frame",
    lambda cfg: MiddleStep(name="encoder"),
    SEQUENCES,
    "the middle step alone, a baseline with no sequence model",
)
