"""The classify task: data, model, metrics and export behind the `Task` contract."""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tasks import plots
from tasks.base import DataError, Splits
from tasks.classify import inputs as reading
from tasks.classify import model as classifier_model
from tasks.classify import sources, tree_inputs
from tasks.classify.config import PRESETS, ClassifyConfig
from tasks.classify.features import OHLCVFeatures
from tasks.classify.serving import Classifier
from tasks.embeddings import read_embeddings

EVAL_BATCH = 64


class ClassifyTask:
    """Sequence -> label: video clips through a per-frame CNN, price windows through
    in-graph features, then the shared (Bi)LSTM encoder and a softmax head; or tree
    -> label through a Tree-LSTM (or a (Bi)LSTM over the flattened tree).

    Example:
    >>> task = ClassifyTask(PRESETS["tiny"], Path("runs/classify-tiny"))  # doctest: +SKIP
    >>> splits = task.datasets(); model = task.build_model()  # doctest: +SKIP
    """

    name = "classify"
    presets = PRESETS

    def __init__(self, cfg: ClassifyConfig, workdir: Path):
        self.cfg = cfg
        self.workdir = Path(workdir)

    def datasets(self) -> Splits:
        self.data = sources.load(self.cfg.data)
        train = self.data.splits["train"]
        if self.cfg.data.shuffle_labels:
            rng = np.random.default_rng(self.cfg.train.seed)
            self.data.splits["train"] = train._replace(y=rng.permutation(train.y))
        if self.cfg.data.node_labels and not self.data.labelled:
            raise DataError(
                f"data.node_labels needs trees with node labels (sst:DIR), "
                f"not data.source={self.cfg.data.source}"
            )
        if self.data.modality == "tree":
            self.vocabulary = tree_inputs.vocabulary(self.workdir / "vocab" / "tokens.txt",
                                                     train.x, self.data.labelled)  # fmt: skip
            self.trees = tree_inputs.TreeReader(self.cfg, self.data.labelled)
            return Splits(*(self.trees.dataset(self.data.splits[n], n == "train")
                            for n in ("train", "val", "test")))  # fmt: skip
        return Splits(*(self._dataset(n) for n in ("train", "val", "test")))

    def _dataset(self, split: str) -> tf.data.Dataset:
        part = self.data.splits[split]
        x = part.x.astype("float32") if self.data.modality == "series" else part.x
        ds = tf.data.Dataset.from_tensor_slices((x, part.y)).cache()
        if split == "train":
            ds = ds.shuffle(len(part.y), seed=self.cfg.train.seed)
        ds = ds.batch(self.cfg.train.batch_size)
        if self.data.modality == "video" and self.cfg.data.augment and split == "train":
            # Seeds from the dataset, not stateful ops, so that parallel calls and resumed
            # runs draw the same jitter: a new pair per batch, new values each epoch.
            seeds = tf.data.Dataset.random(self.cfg.train.seed, rerandomize_each_iteration=True)
            ds = tf.data.Dataset.zip((ds, seeds.batch(2))).map(
                lambda batch, seed: (_jitter(batch[0], seed), batch[1]),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        elif self.data.modality == "video":
            ds = ds.map(lambda clips, y: (tf.cast(clips, tf.float32), y),
                        num_parallel_calls=tf.data.AUTOTUNE)  # fmt: skip
        return ds.prefetch(tf.data.AUTOTUNE)

    def build_model(self) -> keras.Model:
        cfg, data = self.cfg, self.cfg.data
        if self.data.modality == "tree":
            vectors = None
            if cfg.model.embeddings:
                vectors, found = read_embeddings(Path(cfg.model.embeddings), self.vocabulary)
                print(f"classify: {found} of {len(self.vocabulary)} tokens have pre-trained "
                      f"vectors in {cfg.model.embeddings} (width {vectors.shape[1]})")  # fmt: skip
            return classifier_model.tree_model(cfg.model, self.vocabulary, len(self.data.classes),
                                               data.node_labels, vectors)  # fmt: skip
        if self.data.modality == "video":
            front = classifier_model.video_front(cfg.model, data.frames, data.frame_size)
        else:
            normalization = keras.layers.Normalization(axis=-1, name="normalization")
            train = self.data.splits["train"].x.astype("float32")
            normalization.adapt(OHLCVFeatures()(train))  # training windows only
            front = classifier_model.series_front(cfg.model, data.window, normalization)
        return classifier_model.build_model(cfg.model, front, len(self.data.classes))

    def compile_args(self) -> dict:
        metrics = "weighted_metrics" if self.cfg.data.node_labels else "metrics"
        return {"loss": "sparse_categorical_crossentropy", metrics: ["accuracy"]}

    def classifier(self, model: keras.Model) -> Classifier:
        return Classifier(model, self.data.modality, self.data.classes, self.cfg,
                          self.data.labelled)  # fmt: skip

    def evaluate(self, model: keras.Model, split: str = "test") -> dict:
        """Accuracy, macro-F1 and per-class precision/recall, beside naive baselines."""
        part = self.data.splits[split]
        serve = self.classifier(model).serve
        x = part.x.astype("float32") if self.data.modality == "series" else part.x
        x = x.astype(str) if self.data.modality == "tree" else x
        probabilities = np.concatenate([
            serve(x[i : i + EVAL_BATCH])["probabilities"].numpy()
            for i in range(0, len(x), EVAL_BATCH)
        ])  # fmt: skip
        predicted = probabilities.argmax(-1)
        majority = int(np.bincount(self.data.splits["train"].y).argmax())
        scores = classification_scores(part.y, predicted, self.data.classes)
        baselines = {"majority_accuracy": float(np.mean(part.y == majority))}
        if self.data.modality == "series":
            last = np.where(part.previous >= 0, part.y[part.previous], majority)
            baselines["same_as_last_accuracy"] = float(np.mean(part.y == last))
            plots.series_labels(part, predicted, self.data.classes,
                                self.workdir / "plots" / "series.png")  # fmt: skip
        plots.confusion(scores.pop("confusion"), self.data.classes,
                        self.workdir / "plots" / "confusion.png")  # fmt: skip
        return {
            "split": split,
            "examples": len(part.y),
            **scores,
            **{k: round(v, 4) for k, v in baselines.items()},
        }

    def export(self, model: keras.Model, path: Path) -> None:
        self.classifier(model).export(path)

    @staticmethod
    def predict(served, inputs: list[str]) -> list[str]:
        """Labels clip folders (video), the last window of CSV files (series) or
        bracketed trees given as text (trees)."""
        fn = served.signatures["serving_default"]
        name = next(iter(fn.structured_input_signature[1]))
        if name == "trees":
            out = fn(trees=tf.constant(inputs))
            return [
                f"{tree}\t{label.decode() or 'invalid input: ' + error.decode()}\t{p.max():.3f}"
                for tree, label, error, p in zip(inputs, out["label"].numpy(), out["error"].numpy(),
                                                 out["probabilities"].numpy(), strict=True)
            ]  # fmt: skip
        batch = reading.clips(inputs) if name == "frames" else reading.last_windows(
            inputs, fn.structured_input_signature[1][name].shape[1]
        )  # fmt: skip
        out = fn(**{name: batch})
        return [
            f"{path}\t{label.decode() or 'invalid input'}\t{p.max():.3f}"
            for path, label, p in zip(inputs, out["label"].numpy(),
                                      out["probabilities"].numpy(), strict=True)
        ]  # fmt: skip


def classification_scores(y: np.ndarray, predicted: np.ndarray, classes) -> dict:
    """Accuracy, macro-F1, per-class precision and recall, and the confusion matrix.

    Example:
    >>> s = classification_scores(np.array([0, 0, 1]), np.array([0, 1, 1]), ("a", "b"))
    >>> s["accuracy"], s["macro_f1"], s["per_class"]["b"]
    (0.6667, 0.6667, {'precision': 0.5, 'recall': 1.0})
    """
    k = len(classes)
    confusion = np.bincount(y * k + predicted, minlength=k * k).reshape(k, k)  # true x pred
    hits = np.diag(confusion).astype(float)
    precision = np.divide(hits, confusion.sum(0), out=np.zeros(k), where=confusion.sum(0) > 0)
    recall = np.divide(hits, confusion.sum(1), out=np.zeros(k), where=confusion.sum(1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k),
                   where=precision + recall > 0)  # fmt: skip
    return {
        "accuracy": round(float(hits.sum() / max(len(y), 1)), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "per_class": {
            name: {"precision": round(float(p), 4), "recall": round(float(r), 4)}
            for name, p, r in zip(classes, precision, recall, strict=True)
        },
        "confusion": confusion,
    }


def _jitter(clips, seed):
    """uint8 clips as float32 with random brightness and contrast per clip; `seed`: 2
    integers (stateless random)."""
    batch = tf.shape(clips)[0]  # clips: (batch, frames, size, size, 3) uint8
    noise = tf.random.stateless_uniform([2, batch, 1, 1, 1, 1], seed)
    return _scale_shift(clips, 0.8 + 0.4 * noise[0], 40.0 * noise[1] - 20.0)


@tf.function(jit_compile=True)  # fused: half the pipeline's CPU time, the noise unchanged
def _scale_shift(clips, scale, shift):
    return tf.clip_by_value(tf.cast(clips, tf.float32) * scale + shift, 0.0, 255.0)
