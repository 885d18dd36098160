"""Classifier models: a front end per modality, the shared encoder, a softmax head."""

import keras
import numpy as np
from keras import ops

from models import ChildSumTreeLSTM, ImageEncoder, NaryTreeLSTM, SequenceEncoder
from tasks.classify.config import ModelConfig
from tasks.classify.features import OHLCVFeatures

ENCODERS = ("lstm", "bilstm", "frame")
TREE_ENCODERS = ("treelstm", "lstm", "bilstm")
TREES = {"nary": NaryTreeLSTM, "childsum": ChildSumTreeLSTM}


def video_front(cfg: ModelConfig, frames: int, size: int):
    """Clips `(batch, frames, size, size, 3)` -> per-frame features `(batch, frames, P)`.

    The CNN's grid is flattened (where things are, for motion) beside its mean (how
    much of each feature there is, wherever it is).
    """
    clip = keras.Input((frames, size, size, 3), name="frames")
    frame = keras.Input((size, size, 3))
    grid, pooled = ImageEncoder(cfg.backbone, cfg.filters, name="frame_encoder")(frame)
    both = keras.layers.Concatenate()([keras.layers.Flatten()(grid), pooled])
    features = keras.layers.Dense(cfg.projection, "relu", name="projection")(both)
    cnn = keras.Model(frame, features, name="frame_cnn")
    return clip, keras.layers.TimeDistributed(cnn, name="per_frame")(clip)


def series_front(cfg: ModelConfig, days: int, normalization: keras.layers.Normalization):
    """Raw windows `(batch, days, 5)` -> normalised, projected features `(batch, days - 1, P)`."""
    window = keras.Input((days, 5), name="window")
    features = normalization(OHLCVFeatures(name="features")(window))
    return window, keras.layers.Dense(cfg.projection, "relu", name="projection")(features)


def build_model(cfg: ModelConfig, front, num_classes: int) -> keras.Model:
    """The shared sequence encoder and a softmax head on a front end's `(inputs, steps)`.

    `encoder="frame"` is the per-frame baseline: it sees the middle step only.

    Example:
    >>> front = video_front(ModelConfig(filters=(4,), units=8), frames=5, size=16)
    >>> tuple(build_model(ModelConfig(units=8), front, 6).output.shape)
    (None, 6)
    """
    if cfg.encoder not in ENCODERS:
        raise ValueError(f"model.encoder must be one of {ENCODERS}, got {cfg.encoder!r}")
    inputs, steps = front  # (batch, steps, features)
    if cfg.encoder == "frame":
        middle = steps[:, steps.shape[1] // 2]  # (batch, features)
        logits = keras.layers.Dense(num_classes, name="logits")(middle)
    else:
        encoder = SequenceEncoder(
            cfg.units, cfg.layers, cfg.encoder == "bilstm", cfg.dropout, name="encoder"
        )
        _, state, _ = encoder(steps)  # (batch, units * directions)
        state = keras.layers.Dropout(cfg.dropout)(state)
        logits = keras.layers.Dense(num_classes, name="logits")(state)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")
    return keras.Model(inputs, probabilities(logits), name="classifier")


def tree_model(
    cfg: ModelConfig,
    vocabulary: list[str],
    num_classes: int,
    node_labels: bool = False,
    vectors: np.ndarray | None = None,
) -> keras.Model:
    """A classifier of parsed trees (`tasks/trees.py`), by its root or over its leaves.

    `treelstm` reads `tokens` (batch, nodes) strings and `children` (batch, nodes, K);
    `lstm` and `bilstm` read the flattened tree, `leaves` (batch, words) strings.
    Tokens map to ids inside the model (`""` is padding, unknown ones `[UNK]`).
    Output: `(batch, classes)` probabilities of the root, or with `node_labels`
    `(batch, nodes, classes)` of every node (node 0 is the root). `vectors`, a
    `(len(vocabulary) + 2, dim)` matrix, initialises the embedding.

    Example:
    >>> model = tree_model(ModelConfig(encoder="treelstm", units=8), ["[MAX", "1", "]"], 10)
    >>> [tuple(i.shape) for i in model.inputs], tuple(model.output.shape)
    ([(None, None), (None, None, 2)], (None, 10))
    """
    if cfg.encoder not in TREE_ENCODERS:
        raise ValueError(
            f"model.encoder must be one of {TREE_ENCODERS} for trees, got {cfg.encoder!r}"
        )
    if node_labels and cfg.encoder != "treelstm":
        raise ValueError("data.node_labels needs model.encoder=treelstm (only it has node states)")
    if cfg.tree not in TREES:
        raise ValueError(f"model.tree must be one of {tuple(TREES)}, got {cfg.tree!r}")
    lookup = keras.layers.StringLookup(vocabulary=vocabulary, mask_token="", name="lookup")
    dim = cfg.embedding_dim if vectors is None else vectors.shape[1]
    embedding = keras.layers.Embedding(len(vocabulary) + 2, dim, name="embedding",
                                       trainable=not cfg.freeze_embeddings)  # fmt: skip
    if vectors is not None:
        embedding.build((None, None))
        embedding.embeddings.assign(vectors)
    if cfg.encoder == "treelstm":
        tokens = keras.Input((None,), dtype="string", name="tokens")
        children = keras.Input((None, 2 if cfg.tree == "nary" else None), dtype="int32",
                               name="children")  # fmt: skip
        inputs = [tokens, children]
        encoder = TREES[cfg.tree](cfg.units, leaf_inputs_only=True, name="encoder")
        nodes, state = encoder(embedding(lookup(tokens)), children)  # (B, N, U), (B, U)
        if node_labels:
            state = nodes
    else:
        leaves = keras.Input((None,), dtype="string", name="leaves")
        inputs = [leaves]
        ids = lookup(leaves)
        encoder = SequenceEncoder(
            cfg.units, cfg.layers, cfg.encoder == "bilstm", cfg.dropout, name="encoder"
        )
        _, state, _ = encoder(embedding(ids), mask=ops.not_equal(ids, 0))  # (B, units * dirs)
    state = keras.layers.Dropout(cfg.dropout)(state)
    logits = keras.layers.Dense(num_classes, name="logits")(state)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")
    return keras.Model(inputs, probabilities(logits), name="tree_classifier")
