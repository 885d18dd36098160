"""Raw clips or price windows in, class names out: evaluation, predict and export."""

from pathlib import Path

import keras
import tensorflow as tf

from tasks import images, trees
from tasks.classify.config import ClassifyConfig
from tasks.classify.tree_inputs import arity, model_inputs
from tasks.export import at_least_one, endpoint, write_saved_model


class Classifier:
    """Wraps a trained classifier as one exportable `tf.function`, `serve`.

    Video: `frames`, uint8 `(batch, frames, height, width, 3)` of any length and
    size; frames are taken evenly to the trained clip length and resized inside.
    Series: `windows`, float32 `(batch, days, 5)` raw open, high, low, close, volume
    of the trained window length. Trees: `trees`, `(batch,)` bracketed strings in
    the trained notation (node labels are ignored), parsed inside the graph. All
    return `label` (class names), `probabilities` and `valid`: a clip without frames
    or pixels, a window with a NaN, infinite, zero or negative price, or a negative
    volume, or a tree that does not parse, gets label `""`, zero probabilities and
    `valid=False`; trees also return `error`, why a tree did not parse (`""` when it
    did). An input of the wrong dtype, rank or size is refused with a clear error.

    Example:
    >>> classifier = Classifier(model, "series", ("up", "down"), cfg)  # doctest: +SKIP
    >>> classifier.serve(windows)["label"]  # doctest: +SKIP
    """

    def __init__(self, model: keras.Model, modality: str, classes: tuple[str, ...],
                 cfg: ClassifyConfig, labelled: bool = False):  # fmt: skip
        self.model = model
        self.classes = classes
        self.cfg = cfg
        self.labelled = labelled
        if modality == "tree":
            self.serve = endpoint(self._trees, tf.TensorSpec([None], tf.string, name="trees"))
        elif modality == "video":
            spec = tf.TensorSpec([None, None, None, None, 3], tf.uint8, name="frames")
            self.serve = endpoint(self._video, spec)
        else:
            spec = tf.TensorSpec([None, cfg.data.window, 5], tf.float32, name="windows")
            self.serve = endpoint(self._series, spec)

    def _outputs(self, probabilities, valid):
        labels = tf.gather(tf.constant(self.classes), tf.argmax(probabilities, axis=-1))
        return {
            "label": tf.where(valid, labels, ""),
            "probabilities": tf.where(valid[:, None], probabilities, 0.0),
            "valid": valid,
        }

    def _video(self, frames):
        data = self.cfg.data
        count = tf.shape(frames)[0]
        valid = tf.fill([count], tf.reduce_all(tf.shape(frames)[1:4] > 0))
        frames = at_least_one(frames, axes=(0, 1, 2, 3))  # no frames or pixels: zeros
        shape = tf.shape(frames)  # (batch, time, height, width, 3)
        last = tf.cast(shape[1] - 1, tf.float32)
        picks = tf.cast(tf.round(tf.linspace(0.0, last, data.frames)), tf.int32)
        clips = tf.gather(frames, picks, axis=1)
        clips = tf.reshape(clips, [shape[0] * data.frames, shape[2], shape[3], 3])
        clips = images.resize(clips, data.frame_size)
        clips = tf.reshape(clips, [shape[0], data.frames, data.frame_size, data.frame_size, 3])
        probabilities = self.model(tf.cast(clips, tf.float32))[:count]
        return self._outputs(probabilities, valid)

    def _series(self, windows):
        prices, volume = windows[..., :4], windows[..., 4]
        valid = tf.reduce_all(tf.math.is_finite(windows), axis=[1, 2])
        valid &= tf.reduce_all(prices > 0, axis=[1, 2]) & tf.reduce_all(volume >= 0, axis=1)
        safe = tf.where(valid[:, None, None], windows, tf.ones_like(windows))
        return self._outputs(self.model(safe), valid)

    def _trees(self, strings):
        parsed = trees.parse(strings, self.labelled, arity(self.cfg))
        probabilities = self.model(model_inputs(parsed, self.cfg.model.encoder))
        if self.cfg.data.node_labels:
            probabilities = probabilities[:, 0]  # (batch, nodes, classes) -> the root's
        valid = parsed["error"] == 0
        return {**self._outputs(probabilities, valid),
                "error": tf.gather(tf.constant(trees.ERRORS), parsed["error"])}  # fmt: skip

    def export(self, path: Path) -> None:
        write_saved_model(path, [self.model], {"serving_default": self.serve})
