"""The translate task: data, model, metrics and export behind the `Task` contract."""

from pathlib import Path

import keras
import numpy as np
import sacrebleu
import tensorflow as tf

from common.errors import DataError
from tasks import plots, text, trees
from tasks.base import SPLITS, Splits
from tasks.translate import model as seq2seq
from tasks.translate import sources
from tasks.translate.config import PRESETS, TranslateConfig
from tasks.translate.serving import Translator, TreeSource
from tasks.translate.toy_pairs import Pair

EVAL_BATCH = 64


class TranslateTask:
    """Sentence -> sentence with an encoder of the catalog and an attentional LSTM decoder.

    Example:
    >>> import tempfile
    >>> task = TranslateTask(PRESETS["tiny"], Path(tempfile.mkdtemp()))
    >>> splits = task.prepare()
    >>> model = task.build_model()
    >>> tuple(model.output.shape)[-1] == len(task.target_vocab) + 2
    True
    """

    selection = ("val_loss", "min")
    name = "translate"
    presets = PRESETS

    def __init__(self, cfg: TranslateConfig, workdir: Path):
        self.cfg = cfg
        self.workdir = Path(workdir)
        self.tree_source = seq2seq.reads_trees(cfg.model)

    # -- data ---------------------------------------------------------------

    def prepare(self) -> Splits:
        """Reads the pairs, builds and records the vocabularies, and the pipelines."""
        pairs = sources.load(self.cfg.data)
        for pair in (p for part in pairs.values() for p in part):
            self._check(pair)
        self.source_vocab = self._vocabulary("source", [p.source for p in pairs["train"]])
        self.target_vocab = self._vocabulary("target", [p.target for p in pairs["train"]])
        return Splits(*(self._dataset(name, pairs[name]) for name in SPLITS))

    def restore(self) -> None:
        """The vocabularies the run recorded."""
        self.source_vocab, self.target_vocab = (
            text.load_vocabulary(self.workdir / "vocab" / f"{side}.txt")
            for side in ("source", "target")
        )

    def _check(self, pair: Pair) -> None:
        if self.tree_source and pair.tree is None:
            raise DataError(
                f"{pair.origin}: model.encoder={self.cfg.model.encoder} needs source parse "
                f"trees, which data.source={self.cfg.data.source} lacks (try toy_pairs)"
            )

    def _vocabulary(self, side: str, texts: list[str]) -> list[str]:
        path = self.workdir / "vocab" / f"{side}.txt"
        data = self.cfg.data
        return text.load_or_build_vocabulary(path, texts, data.tokens, data.max_vocab)

    def _ids(self, vocabulary: list[str], texts: list[str]) -> tf.RaggedTensor:
        return tf.cast(text.vectorizer(vocabulary, self.cfg.data.tokens)(texts), tf.int32)

    def _dataset(self, split: str, pairs: list[Pair]) -> tf.data.Dataset:
        source = self._ids(self.source_vocab, [p.source for p in pairs])
        target = self._ids(self.target_vocab, [p.target for p in pairs])
        src_len, tgt_len = source.row_lengths().numpy(), target.row_lengths().numpy()
        limit = self.cfg.data.max_length
        for i in np.flatnonzero((src_len == 0) | (tgt_len == 0))[:1]:
            raise DataError(f"{pairs[i].origin}: sentence has no tokens after standardising")
        keep = (src_len <= limit) & (tgt_len <= limit)
        if not keep.all():
            first = pairs[int(np.flatnonzero(~keep)[0])].origin
            print(
                f"translate: {int((~keep).sum())} of {len(pairs)} {split} pairs are longer "
                f"than data.max_length={limit} tokens and are left out (first: {first})"
            )
        kept = [p for p, k in zip(pairs, keep, strict=True) if k]
        keep = tf.constant(keep)
        target = tf.ragged.boolean_mask(target, keep)
        batch = self.cfg.train.batch_size
        if self.tree_source:  # parsed in the pipeline, as in the SavedModel
            reader = TreeSource(self.source_vocab, self.cfg.model.tree)
            trees = tf.constant([p.tree for p in kept])
            ds = tf.data.Dataset.from_tensor_slices((trees, target))
            ds = ds.map(lambda tree, target: (reader.single(tree), target)).cache()
            ds = self._shuffled(ds, split, len(kept)).map(_teacher_forcing)
            ds = ds.padded_batch(batch, padding_values=((0, -1), 0, 0))
        else:  # shuffled indices, then one gather and pad per batch, not a map per pair
            source = tf.ragged.boolean_mask(source, keep)
            ds = self._shuffled(tf.data.Dataset.range(len(kept)), split, len(kept))
            ds = ds.batch(batch).map(lambda i: _padded_pairs(source, target, i))
        return ds.map(_with_weights).prefetch(tf.data.AUTOTUNE)

    def _shuffled(self, ds: tf.data.Dataset, split: str, count: int) -> tf.data.Dataset:
        """Training examples in a new seeded order each epoch (one draw per iterator)."""
        if split != "train":
            return ds
        return ds.shuffle(count, seed=self.cfg.train.seed)

    # -- model --------------------------------------------------------------

    def build_model(self) -> keras.Model:
        return seq2seq.build_model(self.cfg.model, self.source_vocab, len(self.target_vocab) + 2)

    def compile_args(self) -> dict:
        return text.compile_args()

    def callbacks(self, model: keras.Model) -> list:
        return []

    def translator(self, model: keras.Model) -> Translator:
        return Translator(model, self.source_vocab, self.target_vocab, self.cfg)

    # -- evaluation and export ----------------------------------------------

    def evaluate(self, model: keras.Model, split: str = "test") -> dict:
        """Beam-search translations of `split`, scored with sacrebleu BLEU and chrF."""
        (pairs,) = sources.load(self.cfg.data, (split,)).values()
        translator = self.translator(model)
        hypotheses = []
        for start in range(0, len(pairs), EVAL_BATCH):
            batch = tf.constant([self._input(p) for p in pairs[start : start + EVAL_BATCH]])
            out = translator.beam(batch)["translation"].numpy()
            hypotheses += [h.decode("utf-8") for h in out]
        references = [p.target for p in pairs]
        bleu = sacrebleu.BLEU(lowercase=True)
        chrf = sacrebleu.CHRF(lowercase=True)
        self._plot_attention(model, translator, pairs[:3], hypotheses[:3])
        return {
            "split": split,
            "examples": len(pairs),
            "bleu": round(bleu.corpus_score(hypotheses, [references]).score, 2),
            "chrf": round(chrf.corpus_score(hypotheses, [references]).score, 2),
            "bleu_signature": str(bleu.get_signature()),
            "chrf_signature": str(chrf.get_signature()),
            "samples": [
                {"source": p.source, "reference": p.target, "output": h}
                for p, h in zip(pairs[:5], hypotheses[:5], strict=False)
            ],
        }

    def _input(self, pair: Pair) -> str:
        return pair.tree if self.tree_source else pair.source

    def _plot_attention(self, model, translator, pairs: list[Pair], hypotheses: list[str]):
        for i, (pair, hypothesis) in enumerate(zip(pairs, hypotheses, strict=True)):
            source, _ = translator.encode(tf.constant([self._input(pair)]))
            out = self._ids(self.target_vocab, [hypothesis]).to_tensor()
            target_in = tf.concat([[[text.START]], out], axis=1)
            weights = seq2seq.attention(model, source, target_in)[0].numpy()  # (T, S)
            ids = source[0] if self.tree_source else source
            columns = [text.token_name(self.source_vocab, t) for t in ids[0].numpy()]
            if self.tree_source:  # phrase nodes by their label
                labels = trees.parse(tf.constant([pair.tree]), labelled=True)["labels"][0]
                columns = [c or label.decode() for c, label in zip(columns, labels.numpy(),
                                                                   strict=True)]  # fmt: skip
            rows = [text.token_name(self.target_vocab, t) for t in out[0].numpy()] + ["[end]"]
            plots.attention_heatmap(
                weights[: len(rows)],
                rows,
                columns,
                self.workdir / "plots" / f"attention_{i}.png",
                pair.source,
            )

    def export(self, model: keras.Model, path: Path) -> None:
        self.translator(model).export(path)

    def serving_inputs(self, split: str) -> list[str]:
        """The split's sources (parse trees for a tree encoder), as the export takes them."""
        (pairs,) = sources.load(self.cfg.data, (split,)).values()
        return [self._input(p) for p in pairs]

    @staticmethod
    def predict(served, inputs: list[str]) -> list[str]:
        """Translates with a loaded SavedModel: one `translation<TAB>score` line each.
        Inputs are sentences, or parse trees for a `treelstm` model."""
        fn = served.signatures["serving_default"]
        out = fn(**{next(iter(fn.structured_input_signature[1])): tf.constant(inputs)})
        return [
            f"{t.decode('utf-8')}\t{s:.3f}"
            for t, s in zip(out["translation"].numpy(), out["score"].numpy(), strict=True)
        ]


def _teacher_forcing(source, target):
    return source, *text.teacher_forcing(target)


def _padded_pairs(source, target, indices):
    """The pairs at `indices` as `_teacher_forcing` and `padded_batch` would make them."""
    target = tf.gather(target, indices)
    rows = [target.nrows(), 1]
    target = tf.concat([tf.fill(rows, text.START), target, tf.fill(rows, text.END)], axis=1)
    return (
        tf.gather(source, indices).to_tensor(),
        target[:, :-1].to_tensor(),
        target[:, 1:].to_tensor(),
    )


def _with_weights(source, target_in, target_out):
    # (batch, S) or trees' ((batch, S), (batch, S, K)), and (batch, T) -> inputs,
    # targets, weights that mask the padding
    inputs = (*source, target_in) if isinstance(source, tuple) else (source, target_in)
    return inputs, target_out, text.padding_weights(target_out)
