"""Trees as model inputs: the vocabulary, and the parsing `tf.data` pipeline."""

from collections import Counter
from pathlib import Path

import numpy as np
import tensorflow as tf

from tasks import text, trees
from tasks.classify.config import ClassifyConfig

BUCKETS = [16, 32, 64, 128, 256, 512]  # tree sizes (nodes or words) batched together


def vocabulary(path: Path, training_trees: np.ndarray, labelled: bool) -> list[str]:
    """The run's saved token list, or the training trees' words by frequency, saved."""
    if path.exists():
        return text.load_vocabulary(path)
    counts = Counter(w for tree in training_trees for w in trees.words(tree, labelled))
    words = [w for w, _ in counts.most_common()]
    text.save_vocabulary(path, words)
    return words


def arity(cfg: ClassifyConfig) -> int | None:
    """The most children a node may have for the configured encoder (None: any)."""
    return 2 if cfg.model.encoder == "treelstm" and cfg.model.tree == "nary" else None


def model_inputs(parsed: dict, encoder: str) -> dict:
    """The model's inputs from `trees.parse` output: node tokens and children for the
    Tree-LSTM, the flattened words for the sequence encoders."""
    if encoder == "treelstm":
        return {"tokens": parsed["tokens"], "children": parsed["children"]}
    return {"leaves": parsed["leaves"]}


class TreeReader:
    """Builds the batched `tf.data` pipeline of one split of bracketed trees.

    Each tree is parsed once in the pipeline (then cached) by the same in-graph
    parser the SavedModel uses. Targets are the root's class; with
    `data.node_labels` (SST), every labelled node's class, weighted 0 on padding
    and, in binary mode, on neutral nodes.

    Example:
    >>> reader = TreeReader(PRESETS["tiny"], labelled=False)  # doctest: +SKIP
    >>> train = reader.dataset(data.splits["train"], training=True)  # doctest: +SKIP
    """

    def __init__(self, cfg: ClassifyConfig, labelled: bool):
        self.cfg = cfg
        self.labelled = labelled

    def _example(self, tree, label):
        parsed = {
            k: v[0] for k, v in trees.parse(tree[None], self.labelled, arity(self.cfg)).items()
        }
        inputs = model_inputs(parsed, self.cfg.model.encoder)
        if not self.cfg.data.node_labels:
            return inputs, tf.cast(label, tf.int32)
        names = parsed["labels"]  # (nodes,) "0".."4", "" on padding
        fine = tf.strings.to_number(tf.where(names == "", "-1", names), tf.int32)
        weight = fine >= 0
        if self.cfg.data.sst_mode == "binary":
            weight &= fine != 2
            fine = tf.cast(fine > 2, tf.int32)
        return inputs, tf.maximum(fine, 0), tf.cast(weight, tf.float32)

    def dataset(self, split, training: bool) -> tf.data.Dataset:
        """A `Split` of tree strings -> batches of (inputs, targets[, weights])."""
        ds = tf.data.Dataset.from_tensor_slices((split.x.astype(str), split.y))
        ds = ds.map(self._example, num_parallel_calls=tf.data.AUTOTUNE).cache()
        if training:
            ds = ds.shuffle(len(split.y), seed=self.cfg.train.seed)
        pad = {"tokens": "", "children": -1, "leaves": ""}
        values = {k: pad[k] for k in ds.element_spec[0]}
        values = (values, 0, 0.0) if self.cfg.data.node_labels else (values, 0)
        # Batches of trees of similar size: a batch takes as many steps as its
        # tallest tree, so one long tree among short ones would set every step.
        return ds.bucket_by_sequence_length(
            lambda inputs, *_: tf.shape(next(iter(inputs.values())))[0],
            BUCKETS,
            [self.cfg.train.batch_size] * (len(BUCKETS) + 1),
            padding_values=values,
        ).prefetch(tf.data.AUTOTUNE)
