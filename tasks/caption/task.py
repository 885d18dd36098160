"""The caption task: data, model, metrics and export behind the `Task` contract."""

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import sacrebleu
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
from tasks.export import json_rows
from tasks.row_file import RowFile
from tasks.validation import ValidationScore

EVAL_BATCH = 64
NOT_AN_IMAGE = "not a readable image (JPEG, PNG, GIF or BMP) within data.max_pixels"


class CaptionTask:
    """Image -> sentence: a CNN grid attended by the shared LSTM decoder.

    Every epoch pairs each training image with one of its captions, drawn at random.
    With `data.cache_features` (and a frozen backbone) the encoder runs once per image:
    its features are kept in a file, the fitted model is the decoder alone, and the full
    captioner is put back together from both for evaluation and export. The frozen
    encoder's weights are kept in `checkpoints/encoder.weights.h5`.

    Example:
    >>> import tempfile
    >>> task = CaptionTask(PRESETS["tiny"], Path(tempfile.mkdtemp()))
    >>> splits = task.prepare()
    >>> tuple(task.build_model().output.shape)[-1] == len(task.vocabulary) + 2
    True
    """

    selection = ("val_cider", "max")
    name = "caption"
    presets = PRESETS
    export_imports: dict = {}  # the export runs on core TensorFlow alone

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
        examples = sources.load(self.cfg.data, cache=self.workdir / "cache")
        self.val = examples["val"]
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

    def records(self) -> tuple[dict[str, Iterator[dict]], dict]:
        """Each split's examples, read lazily, as prepared shards hold them: the
        `image` resized to `data.image_size` (`(size, size, 3)` uint8) and its
        `captions` (a JSON list). The vocabulary is built from the shards' training
        captions when a run trains on them, so nothing more is recorded."""
        examples = sources.load(self.cfg.data)
        return {split: ({"image": e.image, "captions": json.dumps(e.captions, ensure_ascii=False)}
                        for e in examples[split])
                for split in SPLITS}, {}  # fmt: skip

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
        """Every (image, caption) pair of the split, an epoch reading each once: one
        gather of images (or cached features) and captions per batch."""
        ids, owner = self._caption_ids(split, examples)  # (pairs, T) ragged, (pairs,)
        inputs = self._inputs(examples)  # each (images, ...)
        pairs, pool = tf.data.Dataset.range(len(owner)), 1
        if split == "train":  # a new seeded order each epoch (one draw per iterator)
            pairs = pairs.shuffle(len(owner), seed=self.cfg.train.seed)
            pool = self.cfg.train.length_pool
        owner = tf.constant(owner)
        lengths, train = ids.row_lengths(), self.cfg.train
        batches = text.length_batches(pairs, lambda i: tf.gather(lengths, i), train.batch_size,
                                      pool, train.seed)  # fmt: skip
        batches = batches.map(lambda i: _pairs(inputs, ids, tf.gather(owner, i), i))
        return batches.prefetch(tf.data.AUTOTUNE)

    def _caption_ids(self, split: str, examples: list[Example]):
        """The usable captions' ids `(pairs, T)` and the image each belongs to `(pairs,)`."""
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
        return tf.ragged.boolean_mask(ids, tf.constant(keep)), owner[keep]

    def _inputs(self, examples: list[Example]) -> tuple[RowFile, ...]:
        """`(pixels,)` uint8 `(images, S, S, 3)`, or with cached features the frozen
        encoder's `(grid, pooled)`, computed here once per image: in files under the run
        directory's `cache/`, read back a batch at a time, so that the images of a split
        are never all in memory (`RowFile`). A bad image file is a DataError naming it."""
        files = ()
        for start in range(0, len(examples), EVAL_BATCH):
            pixels = np.stack([e.image for e in examples[start : start + EVAL_BATCH]])
            parts = (pixels,) if self.encoder is None else encode_frozen(self.encoder, pixels)
            files = files or tuple(RowFile(self.workdir / "cache") for _ in parts)
            for file, part in zip(files, parts, strict=True):
                file.append(np.asarray(part))
        return files

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
        return text.compile_args(self.cfg.train.label_smoothing)

    def callbacks(self, model: keras.Model) -> list:
        """CIDEr-D of greedy captions of (a sample of) the validation images, each
        epoch: what `selection` follows."""
        sample = self.val[: self.cfg.data.val_images]
        references = [e.captions for e in sample]
        inputs = self._inputs(sample)
        greedy = self._greedy(model)

        def cider(model: keras.Model) -> float:
            outputs = []
            for start in range(0, len(sample), EVAL_BATCH):
                tokens = greedy(*(x[start : start + EVAL_BATCH] for x in inputs))
                captions = text.detokenize(tokens, self.vocabulary, "word").numpy()
                outputs += [c.decode("utf-8") for c in captions]
            return metrics.coco_scores(references, outputs)["cider"]

        return [ValidationScore("val_cider", cider)]

    def _greedy(self, model: keras.Model):
        """A `tf.function`: `(pixels,)` or cached `(grid, pooled)` -> greedy caption ids
        `(batch, max_length + 1)`."""
        decoder, length = model.get_layer("decoder"), self.cfg.data.max_length + 1

        def greedy(*inputs):
            grid, pooled = encode(model, inputs[0]) if self.encoder is None else inputs
            decode = self.cfg.decode
            return text.generate(decoder, grid, pooled, length, 1, decode.alpha,
                                 no_repeat_ngram=decode.no_repeat_ngram)[0][:, 0]  # fmt: skip

        return tf.function(greedy, reduce_retracing=True)

    def captioner(self, model: keras.Model) -> Captioner:
        return Captioner(self.full_model(model), self.vocabulary, self.cfg)

    # -- evaluation and export ----------------------------------------------

    def evaluate(self, model: keras.Model, split: str = "test") -> dict:
        """Beam-search captions of `split`, scored as the COCO evaluation scores them:
        BLEU-1..4, CIDEr-D and ROUGE-L (`tasks/caption/metrics.py`).

        Beside them: sacrebleu's corpus BLEU, lower-cased, against the references as
        written (`sacrebleu_lc`, a figure comparable across tools), and the scores of a
        model that ignores the image, which can do no better than one caption for every
        image; we take the most frequent training caption.
        """
        (examples,) = sources.load(self.cfg.data, (split,), self.workdir / "cache").values()
        captioner = self.captioner(model)
        outputs = []
        for start in range(0, len(examples), EVAL_BATCH):
            batch = np.stack([e.image for e in examples[start : start + EVAL_BATCH]])
            out = captioner.pixels(batch)["caption"].numpy()
            outputs += [c.decode("utf-8") for c in out]
        references = [e.captions for e in examples]
        blind = [self.blind] * len(examples)
        scores, blind_scores = (
            {**metrics.coco_scores(references, captions),
             "sacrebleu_lc": sacrebleu.BLEU(lowercase=True).corpus_score(
                 captions, text.reference_streams(references)).score}
            for captions in (outputs, blind)
        )  # fmt: skip
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

    def data_files(self) -> list[Path]:
        return sources.files(self.cfg.data)

    def serving_inputs(self, split: str) -> list[bytes]:
        """The split's images as PNG files' bytes, as the export takes them."""
        (examples,) = sources.load(self.cfg.data, (split,), self.workdir / "cache").values()
        return [tf.io.encode_png(e.image).numpy() for e in examples]

    @staticmethod
    def predict(served, cfg, inputs: list[str], n_best: int = 1) -> list[dict]:
        """Captions one batch of image files with a loaded SavedModel: per file its
        `caption` and `score`, or `{"error": why}` for one that cannot be read or is
        not an image the export takes."""
        rows: list[dict] = [{}] * len(inputs)
        encoded, read = [], []
        for i, path in enumerate(inputs):
            try:
                encoded.append(Path(path).read_bytes() if path else b"")
                read.append(i)
            except OSError as err:
                rows[i] = {"error": f"{path}: {err.strerror or err}"}
        if encoded:
            out = served.signatures["serving_default"](images=tf.constant(encoded))
            for i, row in zip(read, json_rows(out), strict=True):
                named = inputs[i] or "an empty input"
                rows[i] = row if row.pop("valid") else {"error": f"{named}: {NOT_AN_IMAGE}"}
        return rows


def _blind_caption(examples: list[Example]) -> str:
    """What a model that ignores the image can do best with one caption for every
    image: we take the most frequent training caption (as the metrics tokenise it)."""
    captions = [metrics.coco_tokens(c) for e in examples for c in e.captions]
    return Counter(captions).most_common(1)[0][0]


def encode_frozen(encoder, images):
    """`(batch, S, S, 3)` uint8 -> `(grid, pooled)` from a frozen encoder."""
    return encoder(tf.cast(images, tf.float32), training=False)


def _pairs(inputs: tuple[RowFile, ...], ids, owner, index):
    """A batch of pairs: the images (or features) of `owner` `(B,)`, and the captions
    at `index` `(B,)` as teacher-forcing input, target and padding weights."""
    images = [x.gather(owner) for x in inputs]
    if images[0].dtype == tf.uint8:
        images = [tf.cast(images[0], tf.float32)]
    caption_in, caption_out = text.teacher_batch(tf.gather(ids, index))
    return (*images, caption_in), caption_out, text.padding_weights(caption_out)
