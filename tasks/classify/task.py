"""The classify task: a modality's front end, the shared encoder, a softmax head."""

import array
import json
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common import atomic
from common.errors import ConfigError, DataError
from models import encoders
from tasks import plots, text
from tasks.base import SPLITS, Splits
from tasks.classify import modalities
from tasks.classify.config import PRESETS, ClassifyConfig
from tasks.classify.modality import Data, Examples
from tasks.classify.scores import classification_scores
from tasks.export import endpoint, json_rows, write_saved_model
from tasks.validation import ValidationScore

EVAL_BATCH = 64


class ClassifyTask:
    """Sequence (or tree) -> label. The modality that reads the configured source
    (video clips, price series, trees, text; `tasks/classify/modalities/`) gives the
    data, the model's front end and the served computation; the task puts an encoder
    of the catalog and a softmax head between them, and scores and exports the result.

    Example:
    >>> import tempfile
    >>> task = ClassifyTask(PRESETS["tiny"], Path(tempfile.mkdtemp()))
    >>> splits = task.prepare()
    >>> task.classes[:2], tuple(task.build_model().output.shape)
    (('right', 'left'), (None, 6))
    """

    name = "classify"
    presets = PRESETS
    export_imports: dict = {}  # the export runs on core TensorFlow alone

    def __init__(self, cfg: ClassifyConfig, workdir: Path):
        self.cfg = cfg
        self.workdir = Path(workdir)
        # prepared shards (tfrecord:DIR), and the config with the source they were
        # written from, which the modality reads its kind from
        self.shards, written = modalities.prepared(cfg)
        modality = modalities.for_source(cfg.data.source)
        reads = encoders.get(cfg.model.encoder).reads
        if reads not in modality.gives:
            raise ConfigError(f"model.encoder={cfg.model.encoder} reads {reads}; "
                              f"{cfg.data.source} gives {' or '.join(modality.gives)}")  # fmt: skip
        self.modality = modality(written, workdir)

    # -- data ---------------------------------------------------------------

    def prepare(self) -> Splits:
        """Reads the splits, fits and records what the front end learns from training
        data, records the class names and the majority class, and the pipelines."""
        data = self._load(SPLITS)
        parts = data.splits
        if self.cfg.data.shuffle_labels:
            rng = np.random.default_rng(self.cfg.train.seed)
            parts["train"] = parts["train"]._replace(y=rng.permutation(parts["train"].y))
        self.classes = data.classes
        self.outputs = data.outputs or len(data.classes)
        self.majority = data.majority
        if self.majority is None:
            self.majority = int(np.bincount(parts["train"].y, minlength=self.outputs).argmax())
        record = {"classes": list(self.classes), "majority": self.majority}
        atomic.write_text(self._classes_path, json.dumps(record, ensure_ascii=False) + "\n")
        self.modality.prepare(parts["train"])
        self.val = parts["val"]
        return Splits(*(self.modality.dataset(parts[n], n == "train") for n in SPLITS))

    def _load(self, splits: tuple[str, ...]) -> Data:
        """The splits asked, from the modality, or read back from prepared shards."""
        if self.shards is None:
            return self.modality.load(splits)
        parts = {}
        for name in splits:
            labels, previous = array.array("q"), array.array("q")

            def inputs(name=name, labels=labels, previous=previous):
                for row in self.shards.rows(name):
                    labels.append(int(row["y"][0]))
                    previous.append(int(row["previous"][0]))
                    yield row["x"]

            x = self.modality.kept(inputs())
            parts[name] = Examples(x, np.frombuffer(labels, np.int64),
                                   np.frombuffer(previous, np.int64))  # fmt: skip
        written = self.shards.meta["records"]
        return Data(tuple(written["classes"]), parts, written["outputs"], written["majority"])

    def records(self) -> tuple[dict[str, Iterator[dict]], dict]:
        """Each split's examples as prepared shards hold them: the modality's input
        `x` (a clip, a window, a tree or a text), the label `y` and `previous` (each
        `(1,)`); with them, what reading them back needs (the input's name, the
        classes, `outputs` and `majority`)."""
        data = self.modality.load(SPLITS)

        def rows(part: Examples) -> Iterator[dict]:
            for i in range(len(part.y)):
                yield {"x": part.x[i], "y": part.y[i : i + 1], "previous": part.previous[i : i + 1]}

        meta = {"input": self.modality.input_name, "classes": list(data.classes),
                "outputs": data.outputs, "majority": data.majority}  # fmt: skip
        return {name: rows(data.splits[name]) for name in SPLITS}, meta

    def restore(self) -> None:
        """The class names and majority class the run recorded."""
        record = json.loads(self._classes_path.read_text(encoding="utf-8"))
        self.classes, self.majority = tuple(record["classes"]), record["majority"]
        self.modality.restore()

    @property
    def _classes_path(self) -> Path:
        return self.workdir / "vocab" / "classes.json"

    # -- model --------------------------------------------------------------

    def build_model(self) -> keras.Model:
        """The modality's front end, the encoder, dropout and a softmax over the
        classes: of the summary, or of every node's state (`per_node`)."""
        inputs, features = self.modality.front(encoders.get(self.cfg.model.encoder).reads)
        states, summary, _ = encoders.build(self.cfg.model)(*features)
        state = states if self.modality.per_node else summary  # (B, [N,] width)
        state = keras.layers.Dropout(self.cfg.model.dropout)(state)
        logits = keras.layers.Dense(self.outputs, name="logits")(state)
        probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")
        return keras.Model(inputs, probabilities(logits), name="classifier")

    def compile_args(self) -> dict:
        metrics = "weighted_metrics" if self.modality.per_node else "metrics"
        loss = text.SmoothedCrossentropy(self.cfg.train.label_smoothing, from_logits=False)
        return {"loss": loss, metrics: ["accuracy"]}

    @property
    def selection(self) -> tuple[str, str]:
        """The validation loss; or the served roots' accuracy (what is reported), for a
        model the loss does not measure that way (`Modality.root_selection`: a label
        per tree node, a five-class model read as two)."""
        if self.modality.root_selection:
            return ("val_root_accuracy", "max")
        return ("val_loss", "min")

    def callbacks(self, model: keras.Model) -> list:
        if not self.modality.root_selection:
            return []
        serve = self.serving(model)

        def root_accuracy(model: keras.Model) -> float:
            return float(np.mean(self._predicted(serve, self.val) == self.val.y))

        return [ValidationScore("val_root_accuracy", root_accuracy)]

    def _predicted(self, serve, part: Examples) -> np.ndarray:
        """The class the served model gives each example of `part`."""
        probabilities = np.concatenate([
            serve(part.x[i : i + EVAL_BATCH])["probabilities"].numpy()
            for i in range(0, len(part.y), EVAL_BATCH)
        ])  # fmt: skip
        return probabilities.argmax(-1)

    # -- evaluation and export ----------------------------------------------

    def serving(self, model: keras.Model):
        """The exported function: the modality's raw input -> `label` (class names),
        `probabilities`, `valid` and the modality's extras. An invalid input gets label
        `""` and zero probabilities; one of the wrong dtype, rank or size is refused."""
        classes = tf.constant(self.classes)

        def serve(batch):
            probabilities, valid, extras = self.modality.serve(model, batch)
            labels = tf.gather(classes, tf.argmax(probabilities, axis=-1))
            return {
                "label": tf.where(valid, labels, ""),
                "probabilities": tf.where(valid[:, None], probabilities, 0.0),
                "valid": valid,
                **extras,
            }

        return endpoint(serve, self.modality.signature)

    def evaluate(self, model: keras.Model, split: str = "test") -> dict:
        """Accuracy, macro-F1 and per-class precision/recall, beside the majority class
        of training, and what the modality adds (`Modality.report`)."""
        part: Examples = self._load((split,)).splits[split]
        predicted = self._predicted(self.serving(model), part)
        scores = classification_scores(part.y, predicted, self.classes)
        plots.confusion(scores.pop("confusion"), self.classes,
                        self.workdir / "plots" / "confusion.png")  # fmt: skip
        more = {"majority_accuracy": float(np.mean(part.y == self.majority)),
                **self.modality.report(model, part, predicted, self.majority)}  # fmt: skip
        return {
            "split": split,
            "examples": len(part.y),
            **scores,
            **{k: round(v, 4) for k, v in more.items()},
        }

    def export(self, model: keras.Model, path: Path) -> None:
        write_saved_model(path, [model], {"serving_default": self.serving(model)})

    def data_files(self) -> list[Path]:
        return self.shards.described_by() if self.shards else self.modality.files()

    def serving_inputs(self, split: str) -> list:
        """The split's inputs (clips, windows, trees, texts), as the export takes them."""
        return list(self._load((split,)).splits[split].x)

    @staticmethod
    def predict(served, cfg: ClassifyConfig, inputs: list[str], n_best: int = 1) -> list[dict]:
        """Labels one batch of inputs with a loaded SavedModel: clip folders (video),
        CSV files (series: their last window), trees or texts as given. Per input the
        signature's outputs (`label`, `probabilities` in class order, the modality's
        extras), or `{"error": why}` for one that could not be read or was refused."""
        fn = served.signatures["serving_default"]
        (name,) = fn.structured_input_signature[1]
        modality = modalities.for_input(name)(cfg, Path())
        rows: list[dict] = [{}] * len(inputs)
        shapes: dict[tuple, list[tuple[int, np.ndarray]]] = {}  # one shape runs as one batch
        for i, given in enumerate(inputs):
            try:
                x = modality.read_input(given)
            except DataError as err:
                rows[i] = {"error": str(err)}
                continue
            except OSError as err:  # a folder or file not allowed, say
                rows[i] = {"error": f"{given}: {err.strerror or err}"}
                continue
            shapes.setdefault(x.shape, []).append((i, x))
        for group in shapes.values():
            out = fn(**{name: tf.constant(np.stack([x for _, x in group]))})
            for (i, _), row in zip(group, json_rows(out), strict=True):
                why = f"invalid input: {row.pop('error', '')}".rstrip(": ")
                rows[i] = row if row.pop("valid") else {"error": why}
        return rows
