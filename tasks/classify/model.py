"""Classifier models: a front end per modality, the shared encoder, a softmax head."""

import keras

from models import ImageEncoder, SequenceEncoder
from tasks.classify.config import ModelConfig
from tasks.classify.features import OHLCVFeatures

ENCODERS = ("lstm", "bilstm", "frame")


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
