"""Model selection on a task's own measure: a validation score computed every epoch."""

from collections.abc import Callable

import keras


class ValidationScore(keras.callbacks.Callback):
    """Adds `name` to each epoch's logs: `score(model)`, a figure on validation data
    that a loss does not give (BLEU of decoded translations, CIDEr-D of captions,
    accuracy at the root of a tree). A task lists it in `callbacks(model)` and names it
    in `selection`, so the best checkpoint and early stopping follow it, and it is
    written to `history.csv` and TensorBoard like the loss.

    Example:
    >>> callback = ValidationScore("val_score", lambda model: 0.5)
    >>> logs = {}
    >>> callback.on_epoch_end(0, logs)
    >>> logs
    {'val_score': 0.5}
    """

    def __init__(self, name: str, score: Callable[[keras.Model], float]):
        super().__init__()
        self.name = name
        self.score = score

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs[self.name] = float(self.score(self.model))
