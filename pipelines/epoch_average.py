"""Averaging the weights of a run's last epochs (checkpoint averaging)."""

from pathlib import Path

import keras
import numpy as np

from common import atomic


class EpochWeights(keras.callbacks.Callback):
    """Keeps the weights of the last `count` epochs in `folder` (`epoch-E.weights.h5`,
    written atomically, older ones removed), so that `average` can mean them. They are
    files, not memory: a resumed run averages the same epochs as an unbroken one.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(np.ones((4, 2)), np.ones(4), epochs=3, verbose=0,
    ...               callbacks=[EpochWeights(folder, count=2)])
    >>> sorted(p.name for p in folder.iterdir())
    ['epoch-2.weights.h5', 'epoch-3.weights.h5']
    """

    def __init__(self, folder: Path, count: int):
        super().__init__()
        self.folder, self.count = Path(folder), count

    def on_epoch_end(self, epoch, logs=None):
        with atomic.replacing(self.folder / f"epoch-{epoch + 1}.weights.h5") as tmp:
            self.model.save_weights(tmp)
        for old in self.files()[: -self.count]:
            old.unlink()

    def files(self) -> list[Path]:
        """The kept epochs' weight files, oldest first."""
        found = self.folder.glob("epoch-*.weights.h5") if self.folder.exists() else []
        return sorted(found, key=lambda p: int(p.name.split("-")[1].split(".")[0]))

    def average(self, model: keras.Model) -> int:
        """Sets `model`'s weights to the mean of the kept epochs'; returns how many."""
        files = self.files()
        sums = None
        for path in files:
            model.load_weights(path)
            weights = [np.asarray(w, np.float64) for w in model.get_weights()]
            sums = weights if sums is None else [a + b for a, b in zip(sums, weights, strict=True)]
        model.set_weights([(s / len(files)).astype(w.dtype) for s, w in
                           zip(sums, model.get_weights(), strict=True)])  # fmt: skip
        return len(files)
