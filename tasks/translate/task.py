"""The translate task: data, model, metrics and export behind the `Task` contract."""

import functools
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import keras
import numpy as np
import sacrebleu
import tensorflow as tf
import tensorflow_text as tf_text

from common import atomic
from common.errors import ConfigError, DataError, UserError
from tasks import plots, text, trees
from tasks.base import SPLITS, Splits, batched
from tasks.export import json_rows
from tasks.row_file import RowFile
from tasks.translate import model as seq2seq
from tasks.translate import sources, tokenizers
from tasks.translate.config import PRESETS, TranslateConfig
from tasks.translate.serving import Translator, TreeSource
from tasks.translate.toy_pairs import Pair
from tasks.validation import ValidationScore

EVAL_BATCH = 64


class TranslateTask:
    """Sentence -> sentence with an encoder of the catalog and an attentional LSTM decoder.

    Model selection follows `val_bleu`: cased BLEU of greedy translations of (a sample
    of) the validation sources against all their references, each epoch.

    Example:
    >>> import tempfile
    >>> task = TranslateTask(PRESETS["tiny"], Path(tempfile.mkdtemp()))
    >>> splits = task.prepare()
    >>> model = task.build_model()
    >>> tuple(model.output.shape)[-1] == task.target.size
    True
    """

    name = "translate"
    presets = PRESETS
    selection = ("val_bleu", "max")
    # The export's graph normalises (and splits subwords) with tensorflow-text's ops.
    export_imports = {"tensorflow_text": f"tensorflow-text=={tf_text.__version__}"}

    def __init__(self, cfg: TranslateConfig, workdir: Path):
        self.cfg = cfg
        self.workdir = Path(workdir)
        self.tree_source = seq2seq.reads_trees(cfg.model)
        if self.tree_source and cfg.data.tokens != "word":
            raise ConfigError(f"model.encoder={cfg.model.encoder} reads parse trees, whose "
                              f"leaves are words: it needs data.tokens=word")  # fmt: skip
        self.shards = sources.prepared(cfg.data)  # None unless the source is tfrecord:DIR
        if self.tree_source and self.shards is not None:
            raise _no_trees(cfg.model.encoder)

    # -- data ---------------------------------------------------------------

    def prepare(self) -> Splits:
        """Builds and records the tokenizers (or copies prepared shards' ones), and the
        pipelines, reading the source a split at a time (the training split once per
        tokenizer, then each split once)."""
        if self.shards is not None:
            with atomic.replacing(self.workdir / "vocab") as tmp:
                shutil.copytree(self.shards.folder / "vocab", tmp)
            self.restore()
        else:
            self._build_tokenizers()
        return Splits(*(self._dataset(name) for name in SPLITS))

    def records(self) -> tuple[dict[str, Iterator[dict]], dict]:
        """Builds and records the tokenizers; then each split's pairs, read lazily, as
        prepared shards hold them: `source_ids` and `target_ids` (`(n,)` ids; none for
        a pair longer than `data.max_length`, kept for its sentences) and the raw
        `source` and `target` (references for BLEU). With them, what the shards'
        manifest keeps, filled as they are read: `{"trainable": {split: pairs}}`."""
        if self.tree_source:
            raise _no_trees(self.cfg.model.encoder)
        self._build_tokenizers()
        trainable = {}
        return {split: self._records(split, trainable) for split in SPLITS}, {
            "trainable": trainable
        }

    def _build_tokenizers(self) -> None:
        data = self.cfg.data
        self.source, self.target = (
            tokenizers.build(data.tokens, functools.partial(self._side, side),
                             data.max_vocab, self.workdir / "vocab" / side)
            for side in ("source", "target")
        )  # fmt: skip

    def restore(self) -> None:
        """The tokenizers the run recorded."""
        self.source, self.target = (
            tokenizers.load(self.cfg.data.tokens, self.workdir / "vocab" / side)
            for side in ("source", "target")
        )

    def _pairs(self, split: str) -> Iterator[Pair]:
        """The split's pairs, read lazily; a tree encoder checks each has a tree."""
        for pair in sources.read(self.cfg.data, split):
            if self.tree_source and pair.tree is None:
                raise DataError(
                    f"{pair.origin}: model.encoder={self.cfg.model.encoder} needs source "
                    f"parse trees, which data.source={self.cfg.data.source} lacks (try "
                    f"toy_pairs)"
                )
            yield pair

    def _side(self, side: str) -> Iterator[str]:
        """The training split's `source` or `target` sentences, read lazily."""
        return (getattr(pair, side) for pair in self._pairs("train"))

    def _dataset(self, split: str) -> tf.data.Dataset:
        limit, train = self.cfg.data.max_length, self.cfg.train
        batch, seed = train.batch_size, train.seed
        pool = train.length_pool if split == "train" else 1

        def pairs(ids, lengths):  # (batch, 2 * limit), (batch, 2) -> padded source,
            # teacher-forcing target in, out
            source = tf.RaggedTensor.from_tensor(ids[:, :limit], lengths=lengths[:, 0])
            target = tf.RaggedTensor.from_tensor(ids[:, limit:], lengths=lengths[:, 1])
            return source.to_tensor(), *text.teacher_batch(target)

        def sort_key(lengths):  # (n, 2) -> (n,): target length first
            return lengths[:, 1] * (limit + 1) + lengths[:, 0]

        if self.shards is not None:  # examples read from the files, shuffled in a buffer
            examples = self.shards.dataset(split, seed if split == "train" else None)
            count = self.shards.meta["records"]["trainable"][split]
            examples = examples.filter(lambda e: tf.size(e["target_ids"]) > 0)
            examples = examples.apply(tf.data.experimental.assert_cardinality(count))
            examples = examples.map(functools.partial(_row, limit=limit))
            ds = text.length_batches(examples, lambda run: sort_key(run[1]), batch, pool, seed)
            return ds.map(pairs).map(_with_weights).prefetch(tf.data.AUTOTUNE)
        rows, counts, trees = self._encoded(split)

        def read(indices):  # (batch,) -> the rows' ids and lengths
            return rows.gather(indices), tf.gather(counts, indices)

        if trees is not None:  # parsed in the pipeline, as in the SavedModel
            reader = TreeSource(self.source.vocabulary, self.cfg.model.tree)
            ds = tf.data.Dataset.from_tensor_slices((trees, tf.range(len(rows), dtype=tf.int64)))
            ds = ds.map(lambda tree, i: (reader.single(tree), i)).cache()
            ds = self._shuffled(ds, split, len(rows))
            ds = ds.padded_batch(batch, padding_values=((0, -1), tf.constant(0, tf.int64)))
            ds = ds.map(lambda parsed, i: (parsed, *pairs(*read(i))[1:]))
        else:  # shuffled indices, then one read and pad per batch, not a map per pair
            order = self._shuffled(tf.data.Dataset.range(len(rows)), split, len(rows))
            ds = text.length_batches(order, lambda i: sort_key(tf.gather(counts, i)), batch,
                                     pool, seed)  # fmt: skip
            ds = ds.map(lambda i: pairs(*read(i)))
        return ds.map(_with_weights).prefetch(tf.data.AUTOTUNE)

    def _tokenized(self, split: str) -> Iterator[tuple[list[Pair], np.ndarray, np.ndarray,
                                                       np.ndarray]]:  # fmt: skip
        """The split's pairs tokenised a chunk at a time: the chunk's pairs, whether
        each is kept (`(n,)` bool: at most `data.max_length` tokens a side; the others
        are counted and left out of training) and the kept ones' `(kept, 2 *
        data.max_length)` int32 rows of `[source | target]` ids, each side padded,
        with their `(kept, 2)` lengths. A split with none kept is an error."""
        limit = self.cfg.data.max_length
        kept, dropped, first = 0, 0, None
        for chunk in batched(self._pairs(split), text.CHUNK):
            ids = [getattr(self, side).tokenize(tf.constant([getattr(p, side) for p in chunk]))
                   for side in ("source", "target")]  # fmt: skip
            counts = np.stack([side.row_lengths().numpy() for side in ids], axis=1)  # (n, 2)
            for i in np.flatnonzero((counts == 0).any(axis=1))[:1]:
                raise DataError(f"{chunk[i].origin}: sentence has no tokens after normalising")
            keep = (counts <= limit).all(axis=1)
            kept, dropped = kept + int(keep.sum()), dropped + int((~keep).sum())
            first = first or next((chunk[i].origin for i in np.flatnonzero(~keep)), None)
            padded = [tf.ragged.boolean_mask(side, keep).to_tensor(shape=[None, limit])
                      for side in ids]  # fmt: skip
            yield (
                chunk,
                keep,
                np.concatenate([side.numpy() for side in padded], axis=1),
                counts[keep],
            )
        if dropped:
            print(f"translate: {dropped} {split} pairs are longer than data.max_length="
                  f"{limit} tokens and are left out (first: {first})")  # fmt: skip
        if not kept:
            raise DataError(f"data.source={self.cfg.data.source}: the {split} split has no "
                            f"pairs of at most data.max_length={limit} tokens (a file is "
                            f"split 80/10/10 by a hash of each source sentence)")  # fmt: skip

    def _encoded(self, split: str) -> tuple[RowFile, tf.Tensor, list[str] | None]:
        """The split's kept pairs (`_tokenized`) in a file under the run's `cache/`.
        Returns the rows, their `(rows, 2)` int64 source and target lengths and, for a
        tree encoder, the kept pairs' parse trees (held in memory: generated sources
        only have them)."""
        rows = RowFile(self.workdir / "cache")
        lengths, trees = [], [] if self.tree_source else None
        for pairs, keep, ids, counts in self._tokenized(split):
            if len(ids):
                rows.append(ids)
                lengths.append(counts)
            if trees is not None:
                trees += [p.tree for p, k in zip(pairs, keep, strict=True) if k]
        return rows, tf.constant(np.concatenate(lengths).astype(np.int64)), trees

    def _records(self, split: str, trainable: dict[str, int]) -> Iterator[dict]:
        """Every pair of the split (`_tokenized`), one at a time, as shards hold it: a
        pair left out of training has no ids (its sentences stay: references). Counts
        the others in `trainable[split]`."""
        limit, trainable[split] = self.cfg.data.max_length, 0
        for pairs, keep, ids, counts in self._tokenized(split):
            rows = iter(zip(ids, counts, strict=True))
            for pair, kept in zip(pairs, keep, strict=True):
                row, (source, target) = next(rows) if kept else (ids[:0, 0], (0, 0))
                trainable[split] += bool(kept)
                yield {"source_ids": row[:source], "target_ids": row[limit : limit + target],
                       "source": pair.source, "target": pair.target}  # fmt: skip

    def _shuffled(self, ds: tf.data.Dataset, split: str, count: int) -> tf.data.Dataset:
        """Training examples in a new seeded order each epoch (one draw per iterator)."""
        if split != "train":
            return ds
        return ds.shuffle(count, seed=self.cfg.train.seed)

    # -- model --------------------------------------------------------------

    def build_model(self) -> keras.Model:
        return seq2seq.build_model(self.cfg.model, self.source.vocabulary, self.target.size)

    def compile_args(self) -> dict:
        return text.compile_args(self.cfg.train.label_smoothing)

    def callbacks(self, model: keras.Model) -> list:
        """Cased BLEU of greedy translations of (a sample of) the validation sources,
        each epoch: what `selection` follows."""
        groups = _grouped(self._pairs("val"), self._input, self.cfg.data.val_sentences)
        inputs, references = list(groups), text.reference_streams(list(groups.values()))
        translator = self.translator(model)

        def bleu(model: keras.Model) -> float:
            hypotheses = _translations(translator.greedy, inputs)
            return sacrebleu.BLEU().corpus_score(hypotheses, references).score

        return [ValidationScore("val_bleu", bleu)]

    def translator(self, model: keras.Model) -> Translator:
        return Translator(model, self.source, self.target, self.cfg)

    # -- evaluation and export ----------------------------------------------

    def evaluate(self, model: keras.Model, split: str = "test") -> dict:
        """Beam-search translations of `split`'s distinct sources, each scored against
        all its translations in the split: sacrebleu BLEU and chrF, cased on the raw
        references (the headline, as the field reports), and lower-cased beside."""
        pairs = list(self._pairs(split))
        groups = _grouped(pairs, self._input)
        inputs, references = list(groups), text.reference_streams(list(groups.values()))
        translator = self.translator(model)
        hypotheses = _translations(translator.beam, inputs)
        scores = {}
        for suffix, lowercase in (("", False), ("_lc", True)):
            for name, metric in (("bleu", sacrebleu.BLEU(lowercase=lowercase)),
                                 ("chrf", sacrebleu.CHRF(lowercase=lowercase))):  # fmt: skip
                scores[name + suffix] = round(metric.corpus_score(hypotheses, references).score, 2)
                scores[f"{name}{suffix}_signature"] = str(metric.get_signature())
        first = {}
        for pair in pairs:
            first.setdefault(self._input(pair), pair)
        shown = list(first.values())[:5]
        self._plot_attention(model, translator, shown[:3], hypotheses[:3])
        return {
            "split": split,
            "examples": len(pairs),
            "sources": len(inputs),
            **scores,
            "samples": [
                {"source": p.source, "references": " | ".join(groups[self._input(p)]), "output": h}
                for p, h in zip(shown, hypotheses, strict=False)
            ],  # fmt: skip
        }

    def _input(self, pair: Pair) -> str:
        return pair.tree if self.tree_source else pair.source

    def _plot_attention(self, model, translator, pairs: list[Pair], hypotheses: list[str]):
        for i, (pair, hypothesis) in enumerate(zip(pairs, hypotheses, strict=True)):
            source, _ = translator.encode(tf.constant([self._input(pair)]))
            out = self.target.tokenize(tf.constant([hypothesis])).to_tensor()
            target_in = tf.concat([[[text.START]], out], axis=1)
            weights = seq2seq.attention(model, source, target_in)[0].numpy()  # (T, S)
            ids = source[0] if self.tree_source else source
            columns = [text.token_name(self.source.vocabulary, t) for t in ids[0].numpy()]
            if self.tree_source:  # phrase nodes by their label
                labels = trees.parse(tf.constant([pair.tree]), labelled=True)["labels"][0]
                columns = [c or label.decode() for c, label in zip(columns, labels.numpy(),
                                                                   strict=True)]  # fmt: skip
            rows = [text.token_name(self.target.vocabulary, t) for t in out[0].numpy()]
            plots.attention_heatmap(
                weights[: len(rows) + 1],
                [*rows, "[end]"],
                columns,
                self.workdir / "plots" / f"attention_{i}.png",
                pair.source,
            )

    def export(self, model: keras.Model, path: Path) -> None:
        self.translator(model).export(path)

    def data_files(self) -> list[Path]:
        return sources.files(self.cfg.data)

    def serving_inputs(self, split: str) -> list[str]:
        """The split's sources (parse trees for a tree encoder), as the export takes them."""
        return [self._input(p) for p in self._pairs(split)]

    @staticmethod
    def predict(served, cfg, inputs: list[str], n_best: int = 1) -> list[dict]:
        """Translates one batch with a loaded SavedModel: per input its `translation`
        and `score`, or with `n_best` > 1 its `n_best` best `translations` and their
        `scores`. Inputs are sentences, or parse trees for a tree encoder."""
        fn = served.signatures["nbest" if n_best > 1 else "serving_default"]
        out = fn(**{next(iter(fn.structured_input_signature[1])): tf.constant(inputs)})
        if n_best == 1:
            return json_rows(out)
        beams = out["translations"].shape[1]
        if n_best > beams:
            raise UserError(f"--n-best {n_best}: this export's beam keeps {beams} hypotheses "
                            f"(decode.beam_size)")  # fmt: skip
        return json_rows({name: value[:, :n_best] for name, value in out.items()})


def _grouped(pairs: Iterable[Pair], key, limit: int | None = None) -> dict[str, list[str]]:
    """Each distinct input (`key(pair)`, in order; the first `limit` of them) with all
    its translations: its references, when a source occurs several times."""
    targets: dict[str, list[str]] = {}
    for pair in pairs:
        if key(pair) in targets or limit is None or len(targets) < limit:
            targets.setdefault(key(pair), []).append(pair.target)
    return targets


def _translations(signature, inputs: list[str]) -> list[str]:
    out = []
    for start in range(0, len(inputs), EVAL_BATCH):
        batch = signature(tf.constant(inputs[start : start + EVAL_BATCH]))["translation"]
        out += [t.decode("utf-8") for t in batch.numpy()]
    return out


def _no_trees(encoder: str) -> ConfigError:
    return ConfigError(f"model.encoder={encoder} reads parse trees, which prepared shards "
                       f"do not hold")  # fmt: skip


def _row(example: dict, limit: int):
    """A shard's example -> its row as the row file holds it: `(2 * limit,)` int32
    `[source | target]` ids, each padded to `limit`, and `(2,)` int64 lengths."""
    sides = [tf.cast(example[f"{side}_ids"], tf.int32) for side in ("source", "target")]
    row = tf.concat([tf.pad(ids, [[0, limit - tf.size(ids)]]) for ids in sides], axis=0)
    return tf.ensure_shape(row, [2 * limit]), tf.stack([tf.size(ids, tf.int64) for ids in sides])


def _with_weights(source, target_in, target_out):
    # (batch, S) or trees' ((batch, S), (batch, S, K)), and (batch, T) -> inputs,
    # targets, weights that mask the padding
    inputs = (*source, target_in) if isinstance(source, tuple) else (source, target_in)
    return inputs, target_out, text.padding_weights(target_out)
