"""The caption task: data, model, metrics and export behind the `Task` contract."""

from collections import Counter
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common import atomic
from common.errors import ConfigError, DataError
from tasks import plots, text
from tasks.base import SPLITS, Splits
from tasks.caption import metrics, sources
from tasks.caption import model as captioning
from tasks.caption.config import PRESETS, CaptionConfig
from tasks.caption.model import encode
from tasks.caption.serving import Captioner
from tasks.caption.sources import Example

EVAL_BATCH = 64


class CaptionTask:
    """Image -> sentence: a CNN grid attended by the shared LSTM decoder.

    Every epoch pairs each training image with one of its captions, drawn at random.
    With `data.cache_features` (and a frozen backbone) the encoder runs once per image:
    tf.data caches its features, the fitted model is the decoder alone, and the full
    captioner is put back together from both for evaluation and export. The frozen
    encoder's weights are kept in `checkpoints/encoder.weights.h5`.

    Example:
    >>> import tempfile
    >>> task = CaptionTask(PRESETS["tiny"], Path(tempfile.mkdtemp()))
    >>> splits = task.prepare()
    >>> tuple(task.build_model().output.shape)[-1] == len(task.vocabulary) + 2
    True
    """

    name = "caption"
    presets = PRESETS

    def __init__(self, cfg: CaptionConfig, workdir: Path):
        self.cfg = cfg
        self.workdir = Path(workdir)
        self.encoder = None  # the frozen encoder, when features are cached
        if cfg.data.cache_features and not cfg.model.freeze_backbone:
            raise ConfigError("data.cache_features needs model.freeze_backbone=true")

    # -- data ---------------------------------------------------------------

    def prepare(self) -> Splits:
        """Reads the images, builds and records the vocabulary (and the frozen
        encoder's weights, for cached features), and the pipelines."""
        examples = sources.load(self.cfg.data)
        self.blind = _blind_caption(examples["train"])
        atomic.write_text(self._blind_path, self.blind + "\n")
        train_captions = [c for e in examples["train"] for c in e.captions]
        self.vocabulary = text.load_or_build_vocabulary(
            self.workdir / "vocab" / "captions.txt", train_captions, "word",
            self.cfg.data.max_vocab,
        )  # fmt: skip
        if self.cfg.data.cache_features:
            self.encoder = self._frozen_encoder()
        return Splits(*(self._dataset(name, examples[name]) for name in SPLITS))

    def restore(self) -> None:
        """The vocabulary, the blind baseline's caption and the frozen encoder the run
        recorded."""
        self.vocabulary = text.load_vocabulary(self.workdir / "vocab" / "captions.txt")
        self.blind = self._blind_path.read_text(encoding="utf-8").strip()
        if self.cfg.data.cache_features:
            self.encoder = self._frozen_encoder()

    @property
    def _blind_path(self) -> Path:
        return self.workdir / "vocab" / "blind_caption.txt"

    def _frozen_encoder(self):
        encoder = captioning.make_encoder(self.cfg.model)
        size = self.cfg.data.image_size
        holder = keras.Sequential([keras.Input((size, size, 3)), encoder])
        path = self.workdir / "checkpoints" / "encoder.weights.h5"
        if path.exists():  # resumed, evaluated or exported later: the same features
            holder.load_weights(path)
        else:
            with atomic.replacing(path) as tmp:
                holder.save_weights(tmp)
        return encoder

    def _dataset(self, split: str, examples: list[Example]) -> tf.data.Dataset:
        flat = [c for e in examples for c in e.captions]
        ids = tf.cast(text.vectorizer(self.vocabulary, "word")(flat), tf.int32)
        lengths = ids.row_lengths().numpy()
        keep = (lengths > 0) & (lengths <= self.cfg.data.max_length)
        if not keep.all():
            print(f"caption: {int((~keep).sum())} of {len(flat)} {split} captions are empty "
                  f"or longer than data.max_length={self.cfg.data.max_length} tokens and are "
                  "left out of training (they stay as references)")  # fmt: skip
        owner = np.repeat(np.arange(len(examples)), [len(e.captions) for e in examples])
        counts = np.bincount(owner[keep], minlength=len(examples))
        for i in np.flatnonzero(counts == 0)[:1]:
            raise DataError(f"{examples[i].origin}: no usable caption for this image")
        captions = tf.RaggedTensor.from_value_rowids(
            tf.ragged.boolean_mask(ids, tf.constant(keep)), owner[keep], len(examples)
        )  # (images, captions, tokens)
        pixels = np.stack([e.image for e in examples])  # (images, S, S, 3) uint8
        ds = tf.data.Dataset.from_tensor_slices((pixels, captions))
        if self.encoder is None:
            ds = ds.map(lambda image, caps: ((tf.cast(image, tf.float32),), caps))
        else:  # the encoder runs once per image; tf.data keeps its features
            features = ds.map(lambda image, caps: image).batch(EVAL_BATCH)
            features = features.map(lambda images: encode_frozen(self.encoder, images))
            ds = tf.data.Dataset.zip(features.unbatch(), ds.map(lambda _, caps: caps))
            ds = ds.apply(tf.data.experimental.assert_cardinality(len(examples))).cache()
        if split == "train":
            ds = ds.shuffle(len(examples), seed=self.cfg.train.seed)
        seed = self.cfg.train.seed if split == "train" else None
        return (
            ds.map(lambda inputs, caps: _one_caption(inputs, caps, seed))
            .padded_batch(self.cfg.train.batch_size)
            .map(_with_weights)
            .prefetch(tf.data.AUTOTUNE)
        )

    # -- model --------------------------------------------------------------

    def build_model(self) -> keras.Model:
        size, vocab = self.cfg.data.image_size, len(self.vocabulary) + 2
        if self.encoder is not None:
            return captioning.build_decoder_model(self.encoder, self.cfg.model, size, vocab)
        return captioning.build_model(self.cfg.model, size, vocab)

    def full_model(self, model: keras.Model) -> keras.Model:
        """The image -> logits captioner, also when `model` is the decoder alone."""
        if self.encoder is None:
            return model
        decoder = model.get_layer("decoder")
        return captioning.assemble(self.encoder, decoder, self.cfg.data.image_size)

    def compile_args(self) -> dict:
        return text.compile_args()

    def callbacks(self, model: keras.Model) -> list:
        return []

    def captioner(self, model: keras.Model) -> Captioner:
        return Captioner(self.full_model(model), self.vocabulary, self.cfg)

    # -- evaluation and export ----------------------------------------------

    def evaluate(self, model: keras.Model, split: str = "test") -> dict:
        """Beam-search captions of `split`, scored with COCO BLEU-1..4 and CIDEr-D.

        Beside them: the scores of a model that ignores the image, which can do no
        better than one caption for every image; we take the most frequent training
        caption.
        """
        (examples,) = sources.load(self.cfg.data, (split,)).values()
        captioner = self.captioner(model)
        outputs = []
        for start in range(0, len(examples), EVAL_BATCH):
            batch = np.stack([e.image for e in examples[start : start + EVAL_BATCH]])
            out = captioner.pixels(batch)["caption"].numpy()
            outputs += [c.decode("utf-8") for c in out]
        references = [_standardize(e.captions) for e in examples]
        scores = metrics.coco_scores(references, _standardize(outputs))
        blind_scores = metrics.coco_scores(references, [self.blind] * len(examples))
        self._plot(self.full_model(model), examples[:12], outputs[:12])
        return {
            "split": split,
            "images": len(examples),
            **{k: round(v, 4) for k, v in scores.items()},
            "blind_caption": self.blind,
            **{f"blind_{k}": round(v, 4) for k, v in blind_scores.items()},
            "samples": [
                {"reference": e.captions[0], "output": o}
                for e, o in zip(examples[:5], outputs[:5], strict=False)
            ],
        }

    def _plot(self, model: keras.Model, examples: list[Example], outputs: list[str]):
        out = self.workdir / "plots"
        pairs = [(o, e.captions[0]) for e, o in zip(examples, outputs, strict=True)]
        plots.caption_grid([e.image for e in examples], pairs, out / "captions.png")
        for i, (example, output) in enumerate(zip(examples[:3], outputs[:3], strict=False)):
            ids = text.vectorizer(self.vocabulary, "word")([output])
            caption_in = tf.concat([[[text.START]], tf.cast(ids, tf.int32).to_tensor()], 1)
            grid, pooled = encode(model, example.image[None])
            _, weights = model.get_layer("decoder")(
                caption_in, grid, pooled, return_attention=True
            )  # (1, T, cells)
            side = int(round(weights.shape[-1] ** 0.5))
            words = [*output.split(), "[end]"]
            weights = np.asarray(weights[0]).reshape(-1, side, side)[: len(words)]
            plots.attention_over_image(example.image, weights, words, out / f"attention_{i}.png")

    def export(self, model: keras.Model, path: Path) -> None:
        self.captioner(model).export(path)

    def serving_inputs(self, split: str) -> list[bytes]:
        """The split's images as PNG files' bytes, as the export takes them."""
        (examples,) = sources.load(self.cfg.data, (split,)).values()
        return [tf.io.encode_png(e.image).numpy() for e in examples]

    @staticmethod
    def predict(served, inputs: list[str]) -> list[str]:
        """Captions image files with a loaded SavedModel: `path<TAB>caption<TAB>score`."""
        missing = [p for p in inputs if not Path(p).is_file()]
        if missing:
            raise FileNotFoundError(f"no such image file: {', '.join(missing)}")
        encoded = tf.constant([Path(p).read_bytes() for p in inputs])
        out = served.signatures["serving_default"](images=encoded)
        return [
            f"{p}\t{c.decode('utf-8')}\t{s:.3f}"
            for p, c, s in zip(inputs, out["caption"].numpy(), out["score"].numpy(), strict=True)
        ]


def _blind_caption(examples: list[Example]) -> str:
    """What a model that ignores the image can do best with one caption for every
    image: we take the most frequent training caption."""
    return Counter(_standardize([c for e in examples for c in e.captions])).most_common(1)[0][0]


def _standardize(captions: list[str]) -> list[str]:
    """COCO-style tokens: lower case, punctuation split off, single spaces."""
    return [c.decode("utf-8") for c in text.standardize(tf.constant(captions)).numpy()]


def encode_frozen(encoder, images):
    """`(batch, S, S, 3)` uint8 -> `(grid, pooled)` from a frozen encoder."""
    return encoder(tf.cast(images, tf.float32), training=False)


def _one_caption(inputs, captions, seed):
    # inputs: (pixels,) or (grid, pooled); (captions, tokens) ragged -> one caption
    count = captions.nrows(out_type=tf.int32)
    pick = 0 if seed is None else tf.random.uniform((), 0, count, tf.int32, seed=seed)
    caption_in, caption_out = text.teacher_forcing(captions[pick])
    return inputs, caption_in, caption_out


def _with_weights(inputs, caption_in, caption_out):
    return (*inputs, caption_in), caption_out, text.padding_weights(caption_out)
