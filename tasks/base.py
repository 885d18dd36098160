"""What every task shares: the training config, the task contract and data splits."""

import dataclasses
import random
from pathlib import Path
from typing import Protocol

import keras
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings, the same for every task.

    Example:
    >>> TrainConfig(epochs=3).batch_size
    64
    """

    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    clipnorm: float = 0.0  # clip each gradient to this norm; 0 turns it off
    seed: int = 0
    patience: int = 4  # early stopping on val_loss; 0 turns it off
    jit_compile: bool = False  # XLA-compile the training step
    steps_per_execution: int = 32  # steps per tf.function call: no Python between steps
    mixed_precision: bool = False  # float16 compute on a GPU (cuDNN), bfloat16 on a CPU
    backup_steps: int = 200  # save the training state this often (and every epoch)


@dataclasses.dataclass
class Splits:
    """Batched `tf.data` pipelines of `(inputs, targets, sample_weights)`."""

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset


class Task(Protocol):
    """The contract between a task and the task-agnostic pipeline.

    A task is built from its resolved config and its run directory; the pipeline
    calls `datasets()` before `build_model()`, and never looks inside either.
    """

    name: str
    presets: dict  # preset name -> frozen config dataclass with a `train` field; "NAME:SOURCE"
    # -> settings tuning preset NAME for a data source kind (see pipelines.config.resolve)

    def __init__(self, cfg, workdir: Path): ...

    def datasets(self) -> Splits: ...

    def build_model(self) -> keras.Model: ...

    def compile_args(self) -> dict: ...  # loss, metrics for `model.compile`

    def evaluate(self, model: keras.Model, split: str = "test") -> dict: ...

    def export(self, model: keras.Model, path: Path) -> None: ...

    @staticmethod
    def predict(served, inputs: list[str]) -> list[str]: ...


class DataError(ValueError):
    """Bad input data; the message names the file, line or field."""


def read_text(path: Path) -> str:
    """The text of a UTF-8 file, a leading byte-order mark dropped.

    A missing or unreadable file is a `DataError` naming it; bytes that are not UTF-8,
    one naming the file and the line.

    Example:
    >>> read_text(Path("no/such.txt"))
    Traceback (most recent call last):
    tasks.base.DataError: no/such.txt: no such file
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError) as err:  # a folder, no permission, a NUL in the name
        raise DataError(f"{path}: cannot read ({getattr(err, 'strerror', None) or err})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8 ({err.reason})") from None


def parse_source(spec: str, known: dict[str, str]) -> tuple[str, str]:
    """Splits `KIND[:ARG]` and checks `KIND` against `known` (kind -> description).

    Example:
    >>> parse_source("anki:fra.txt", {"anki": "Anki TSV", "toy_pairs": "generated"})
    ('anki', 'fra.txt')
    """
    kind, _, arg = spec.partition(":")
    if kind not in known:
        listing = "\n".join(f"  {k}: {v}" for k, v in known.items())
        raise DataError(f"unknown data source {spec!r}; known sources:\n{listing}")
    return kind, arg


def random_split(items: list, seed: int) -> dict[str, list]:
    """A seeded 80/10/10 split of independent examples; val and test get one at least.

    Example:
    >>> {k: len(v) for k, v in random_split(list(range(30)), seed=0).items()}
    {'test': 3, 'val': 3, 'train': 24}
    """
    if len(items) < 3:
        raise DataError(f"need at least 3 examples to split, got {len(items)}")
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    held = max(1, len(items) // 10)
    return {"test": shuffled[:held], "val": shuffled[held : 2 * held],
            "train": shuffled[2 * held :]}  # fmt: skip
