"""What every classify modality provides: its data, its model front end, its serving.

A modality is one kind of input (video clips, price series, trees, text). The task
(`tasks/classify/task.py`) knows none of them by name: it asks the modality that reads
the configured source (`tasks/classify/modalities/__init__.py`) for examples, batches,
the model's inputs and the served function, and puts the shared encoder and the
softmax head between them.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
import tensorflow as tf

from tasks.classify.windows import Windows
from tasks.row_file import RowFile
from tasks.string_rows import StringRows


class Examples(NamedTuple):
    """One split: inputs, integer labels, and each example's `previous` (the index of
    the example before it in time, in the same split, or -1) for the "same as last"
    baseline of series."""

    x: np.ndarray | RowFile | StringRows | Windows  # (n, ...) what the modality reads:
    # clips (in a file), windows (places in their rows), trees, texts (in a file)
    y: np.ndarray  # (n,) int labels
    previous: np.ndarray  # (n,)


def gathered(examples: Examples, batch_size: int, seed: int | None) -> tf.data.Dataset:
    """Batches `(inputs, labels)` of examples whose inputs live outside the graph
    (`examples.x.gather`: clips or texts in a file, windows over their rows): indices,
    in a new seeded order each epoch with `seed` (one draw per iterator), then one
    read per batch (batches read in parallel, kept in order)."""
    inputs, labels = examples.x, tf.constant(examples.y)
    order = tf.data.Dataset.range(len(examples.y))
    if seed is not None:
        order = order.shuffle(len(examples.y), seed=seed)
    batches = order.batch(batch_size).map(lambda i: (inputs.gather(i), tf.gather(labels, i)),
                                          num_parallel_calls=tf.data.AUTOTUNE)  # fmt: skip
    return batches.prefetch(tf.data.AUTOTUNE)


class Data(NamedTuple):
    """What `Modality.load` returns: the class names and the splits asked for; when
    the model is trained on more classes than it serves (SST binary: the five-class
    model read as two), how many (`outputs`) and the training split's majority class
    among the served ones (`majority`)."""

    classes: tuple[str, ...]
    splits: dict[str, Examples]
    outputs: int | None = None
    majority: int | None = None


class Modality(Protocol):
    """One kind of classify input.

    `load` reads (or generates) the splits asked; `prepare(train)` fits what the
    model's front end learns from the training split (a vocabulary, a normalisation)
    and records in the run directory what `restore` reads back. `front(reads)` builds
    the model's inputs and what an encoder reading `reads` (one of `gives`) takes
    (`models.encoders.SEQUENCES`: steps and mask; `TREES`: node features, children
    and leaf mask). `serve(model, batch)`
    is the served computation: raw input of `signature` to probabilities `(B, C)`,
    `valid` `(B,)` and extra outputs; `read_input` turns a command-line input (paths,
    strings) into one such input each.
    """

    sources: dict[str, str]  # source kind -> what it reads
    fixed: tuple[str, ...]  # config fields prepared shards fix ("video.frames"): a run on
    # them must ask for the same
    gives: tuple[str, ...]  # what the front end can give an encoder: SEQUENCES, TREES
    signature: tf.TensorSpec
    per_node: bool  # one label per tree node (then the head reads every node's state)
    root_selection: bool  # select on the served roots' accuracy, not the loss

    def __init__(self, cfg, workdir: Path): ...

    def load(self, splits: tuple[str, ...]) -> Data: ...

    def prepare(self, train: Examples) -> None: ...

    def kept(self, inputs: Iterable) -> object: ...  # one split's inputs, given one at a

    # time (read back from prepared shards), kept as `load` keeps them (`Examples.x`)

    def restore(self) -> None: ...

    def files(self) -> list[Path]: ...  # the local files the source reads

    def dataset(self, examples: Examples, training: bool) -> tf.data.Dataset: ...

    def front(self, reads: str) -> tuple[list, tuple]: ...

    def serve(self, model, batch) -> tuple: ...

    def read_input(self, given: str) -> np.ndarray: ...

    def report(self, model, examples: Examples, predicted: np.ndarray, majority: int) -> dict:
        """What this modality adds to the evaluation of `examples` (baselines, breakdowns,
        plots), given the predicted classes and the training majority class."""
