"""The best model so far, saved whole or not at all."""

from pathlib import Path

import keras
import numpy as np

from common import atomic


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model to `path` (`.keras`) at each epoch whose `monitor` (a key of the
    epoch's logs) beats every earlier epoch's, `mode` `"min"` or `"max"`.

    Keras' `ModelCheckpoint` writes under one fixed name; this writes a fresh
    temporary and renames it into place (`common.atomic`), only in an epoch that
    improved. `best` is part of the training state (`pipelines/backup.py`), so a
    resumed run keeps comparing with the best before the kill.

    Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "best.keras"
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> checkpoint = BestCheckpoint(path, "loss", "min")
    >>> _ = model.fit(np.ones((4, 2)), np.ones(4), epochs=2, verbose=0, callbacks=[checkpoint])
    >>> path.exists(), checkpoint.best < np.inf
    (True, True)
    """

    def __init__(self, path: Path, monitor: str, mode: str):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.path, self.monitor, self.mode = Path(path), monitor, mode
        self.best = np.inf if mode == "min" else -np.inf

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"no {self.monitor!r} in the epoch's logs: {sorted(logs or {})}")
        if value < self.best if self.mode == "min" else value > self.best:
            self.best = float(value)
            with atomic.replacing(self.path) as tmp:
                self.model.save(tmp)
