"""The training state of a run, saved while it trains so that a killed run resumes."""

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from common import atomic
from common.errors import UserError
from pipelines.run_directory import read_json

STATE = "state.json"
KEPT = ("best", "wait", "best_epoch", "stopped_epoch")  # what ModelCheckpoint/EarlyStopping track


class Backup(keras.callbacks.Callback):
    """Saves the whole training state every `steps` steps and at every epoch's end.

    Keras' `BackupAndRestore` is not enough here: it writes its files in place (a kill
    during a save tears them), restarts an interrupted epoch at its first batch, and
    forgets the other callbacks' state, so that after a resume `ModelCheckpoint` would
    replace the best checkpoint with a worse one. This callback saves, as one unit: the
    weights with the optimizer's state (`weights-E-S.weights.h5`), the epoch and the step
    within it, the metrics' running totals of the epoch (added back after the resumed
    epoch's first step: Keras' metrics keep sums, and build only then), the `KEPT`
    attributes of `callbacks`, the layers' random seed states (dropout; `save_weights`
    leaves them out), whether training stopped early, and the history rows;
    `state.json` names the weights file, and its atomic rename is the commit. The
    caller resumes the data where `position()` says (see `pipelines.run.train`).

    A multi-worker cluster's workers must save together (reading some variables is a
    collective op): steps, unlike a clock, agree between them. A non-chief worker saves
    into a scratch `folder` and restores from the chief's (`restore_from`).

    Place it after `callbacks` in `fit`'s list: it restores their state after their own
    `on_train_begin` and reads it after their `on_epoch_end`. `history` is rewritten
    (atomically) at every epoch's end from the saved rows, so it always matches the state.

    Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> backup = Backup(folder / "backup", folder / "history.csv", steps=1)
    >>> _ = model.fit(np.ones((8, 2)), np.ones(8), batch_size=4, epochs=2, verbose=0,
    ...               callbacks=[backup])
    >>> Backup(folder / "backup", folder / "history.csv").position()
    (2, 0, False)
    """

    def __init__(
        self,
        folder: Path,
        history: Path,
        steps: int = 200,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        restore_from: Path | None = None,
    ):
        super().__init__()
        self.folder, self.history, self.steps = Path(folder), Path(history), steps
        self.source = Path(restore_from or folder)
        self.kept = list(callbacks)
        self.offset = 0  # steps of the current epoch done before this `fit` began
        self._epoch, self._saved, self._rows, self._metrics = 0, 0, [], None

    def load(self) -> dict | None:
        """The last committed state, or None for a fresh run."""
        path = self.source / STATE
        return read_json(path) if path.exists() else None

    def position(self) -> tuple[int, int, bool]:
        """`(epoch, step, stopped)` to resume at: `(0, 0, False)` for a fresh run."""
        state = self.load() or {"epoch": 0, "step": 0, "stopped": False}
        return state["epoch"], state["step"], state["stopped"]

    def on_train_begin(self, logs=None):
        state = self.load()
        if state is None:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        path = self.source / state["weights"]
        try:
            self.model.load_weights(path)
        except ValueError as error:  # Keras names a file's weights by layer class and path
            reason = str(error).strip().splitlines()[0]
            raise UserError(f"{path}: this run's saved training state does not fit the model "
                            f"this code builds ({reason}); the run began under a version "
                            f"whose layers differ. Resume it with that version, or train "
                            f"into a new --workdir") from error  # fmt: skip
        for callback, kept in zip(self.kept, state["callbacks"], strict=True):
            for name, value in kept.items():
                setattr(callback, name, value)
        for variable, value in zip(_seed_states(self.model), state["seeds"], strict=True):
            variable.assign(value)
        self._rows = state["history"]
        self._metrics = state["metrics"] if state["step"] else None
        self._saved = state["step"]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._metrics is not None:  # built by now: add the interrupted epoch's totals
            for variable, value in zip(self.model.metrics_variables, self._metrics, strict=True):
                variable.assign_add(value)
            self._metrics = None
        done = self.offset + batch + 1  # steps of this epoch
        if done // self.steps > self._saved // self.steps:
            self._save(self._epoch, done)

    def on_epoch_end(self, epoch, logs=None):
        self._rows.append({"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}})
        self.offset = 0
        atomic.write_text(self.history, _csv(self._rows))
        self._save(epoch + 1, 0)

    def _save(self, epoch: int, step: int) -> None:
        self._saved = step
        name = f"weights-{epoch}-{step}.weights.h5"
        with atomic.replacing(self.folder / name) as tmp:
            self.model.save_weights(tmp)
        state = {
            "epoch": epoch,
            "step": step,
            "stopped": bool(self.model.stop_training),
            "weights": name,
            "callbacks": [
                {k: _plain(getattr(c, k)) for k in KEPT if hasattr(c, k)} for c in self.kept
            ],
            "metrics": [np.asarray(v).tolist() for v in self.model.metrics_variables],
            "seeds": [np.asarray(v).tolist() for v in _seed_states(self.model)],
            "history": self._rows,
        }
        atomic.write_text(self.folder / STATE, json.dumps(state) + "\n")
        for old in self.folder.glob("weights-*.weights.h5"):
            if old.name != name:
                old.unlink()


def _seed_states(model: keras.Model) -> list:
    """The state variables of the model's `keras.random.SeedGenerator`s, in order."""
    return [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def _plain(value):
    """A callback attribute as JSON: ints stay ints, other numbers become floats."""
    return value if value is None or isinstance(value, int) else float(value)


def _csv(rows: list[dict]) -> str:
    """`CSVLogger`'s layout: `epoch`, then the metrics in sorted order."""
    out = io.StringIO()
    keys = ["epoch"] + sorted({k for row in rows for k in row} - {"epoch"})
    writer = csv.DictWriter(out, keys, restval="NA", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
