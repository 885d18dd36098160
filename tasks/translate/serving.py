"""Raw strings in, translations out: the code path of `evaluate`, `predict` and export."""

from pathlib import Path

import keras
import tensorflow as tf

from models.tree_encoder import ARITY
from tasks import text, trees
from tasks.export import at_least_one, endpoint, write_saved_model
from tasks.translate import model as seq2seq
from tasks.translate.config import TranslateConfig

SENTENCES = tf.TensorSpec([None], tf.string, name="sentences")
TREES = tf.TensorSpec([None], tf.string, name="trees")


class TreeSource:
    """Parse trees (PTB-bracketed, labels ignored) -> the tree encoder's inputs, for
    the tree cell `cell` (`models.tree_encoder.CELLS`).

    Example:
    >>> source = TreeSource(["the", "dog"], "childsum")
    >>> (ids, children), error = source(tf.constant(["(NP (DT the) (NN cat))"]))
    >>> ids.numpy().tolist(), children.numpy().tolist(), error.numpy().tolist()
    ([[0, 2, 1]], [[[1, 2], [-1, -1], [-1, -1]]], [0])
    """

    def __init__(self, vocabulary: list[str], cell: str):
        self.lookup = keras.layers.StringLookup(vocabulary=vocabulary, mask_token="")
        self.lookup.build((None,))  # ExportArchive tracks built layers only
        self.arity = ARITY[cell]

    def __call__(self, strings):
        """`(batch,)` strings -> `((ids (B, S), children (B, S, K)), error (B,))`. A tree
        that does not parse reads as one `[UNK]` word (its `error` says why)."""
        parsed = trees.parse(strings, labelled=True, arity=self.arity)
        words = tf.strings.lower(parsed["tokens"])
        first = tf.range(tf.shape(words)[1]) == 0
        words = tf.where((parsed["error"] > 0)[:, None] & first[None, :], "[UNK]", words)
        return (tf.cast(self.lookup(words), tf.int32), parsed["children"]), parsed["error"]

    def single(self, tree):
        """One scalar string -> `(ids (S,), children (S, K))`, for `tf.data`."""
        (ids, children), _ = self(tree[None])
        return ids[0], children[0]


class Translator:
    """Wraps a trained model with its tokenizers as exportable `tf.function`s.

    `beam` and `greedy` map a `(batch,)` string tensor to `{"translation": (batch,)
    strings, "score": (batch,) float32}`; `nbest` to `{"translations": (batch, K),
    "scores": (batch, K)}`, the beam's `K = decode.beam_size` hypotheses best first;
    `score` maps `sources` and `targets` `(batch,)` strings to `{"score": (batch,)
    log-probability of the target given the source, "tokens": (batch,) how many
    target tokens it sums over (the end included)}`. Input is repaired, never
    rejected: invalid UTF-8 bytes become U+FFFD, unknown tokens `[UNK]`, sentences over
    `data.max_length` tokens are truncated, and an empty or blank sentence translates
    to `""` with score 0. A model whose encoder reads trees takes parse trees instead
    (input `trees`); one that does not parse translates to `""` with score 0.

    Example:
    >>> import tempfile
    >>> from tasks.translate import tokenizers
    >>> from tasks.translate.config import PRESETS
    >>> cfg, folder = PRESETS["tiny"], Path(tempfile.mkdtemp())
    >>> source = tokenizers.build("word", lambda: ["the dog"], 10, folder / "source")
    >>> target = tokenizers.build("word", lambda: ["le chien"], 10, folder / "target")
    >>> model = seq2seq.build_model(cfg.model, source.vocabulary, target.size)
    >>> translator = Translator(model, source, target, cfg)
    >>> translator.beam(tf.constant(["the dog", ""]))["score"].shape
    TensorShape([2])
    >>> translator.score(tf.constant(["the dog"]), tf.constant(["le chien"]))["tokens"]
    <tf.Tensor: shape=(1,), dtype=int32, numpy=array([3], dtype=int32)>
    """

    def __init__(self, model: keras.Model, source, target, cfg: TranslateConfig):
        self.model = model
        self.cfg = cfg
        self.source, self.target = source, target
        self.trees = None
        if seq2seq.reads_trees(cfg.model):
            self.trees = TreeSource(source.vocabulary, cfg.model.tree)
        spec = TREES if self.trees else SENTENCES
        beam = cfg.decode.beam_size
        self.beam = endpoint(lambda batch: self.translate(batch, beam), spec)
        self.greedy = endpoint(lambda batch: self.translate(batch, 1), spec)
        self.nbest = endpoint(lambda batch: self.translate(batch, max(beam, 2), beam), spec)
        self.score = tf.function(self._score, input_signature=[
            tf.TensorSpec([None], tf.string, name="sources"),
            tf.TensorSpec([None], tf.string, name="targets"),
        ])  # fmt: skip

    def encode(self, sentences):
        """`(batch,)` strings -> `(batch, S)` int32 ids (for trees: ids and children),
        and `(batch,)` bool "was empty" (for trees: did not parse)."""
        if self.trees:
            source, error = self.trees(sentences)
            return source, error > 0
        ids = self.source.tokenize(_valid_utf8(sentences))[:, : self.cfg.data.max_length]
        ids = at_least_one(ids.to_tensor(), axes=(1,))  # (batch, S), S >= 1
        empty = ids[:, 0] == text.PAD
        # A fully masked row breaks cuDNN; an empty sentence reads one [UNK] instead.
        first = tf.range(tf.shape(ids)[1]) == 0
        return tf.where(empty[:, None] & first[None, :], text.UNK, ids), empty

    def translate(self, sentences, beam_size: int, results: int = 1) -> dict:
        """The `results` best translations of each sentence (one: `translation` and
        `score`; more: `translations` and `scores`, `(batch, results)`)."""
        count = tf.shape(sentences)[0]  # an empty batch runs one "" row (Tree-LSTMs need one)
        ids, empty = self.encode(at_least_one(sentences))
        tokens, scores = seq2seq.generate(
            self.model, ids, self.cfg.data.max_length + 1, self.cfg.decode, beam_size, results
        )  # (batch, results, steps), (batch, results)
        shape = tf.shape(tokens)
        flat = tf.reshape(tokens, [shape[0] * shape[1], shape[2]])
        translations = tf.reshape(self.target.detokenize(flat), shape[:2])
        translations = tf.where(empty[:, None], "", translations)[:count]
        scores = tf.where(empty[:, None], 0.0, scores)[:count]
        if results == 1:
            return {"translation": translations[:, 0], "score": scores[:, 0]}
        return {"translations": translations, "scores": scores}

    def _score(self, sources, targets) -> dict:
        """Teacher-forced log-probability of each target given its source."""
        count = tf.shape(sources)[0]
        ids, _ = self.encode(at_least_one(sources))
        wanted = self.target.tokenize(_valid_utf8(at_least_one(targets)))
        target_in, target_out = text.teacher_batch(wanted[:, : self.cfg.data.max_length])
        logits = self.model([*_model_source(ids), target_in])  # (batch, T, vocab)
        logp = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        picked = tf.gather(logp, target_out, batch_dims=2)  # (batch, T)
        weights = text.padding_weights(target_out)
        return {"score": tf.reduce_sum(picked * weights, axis=1)[:count],
                "tokens": tf.cast(tf.reduce_sum(weights, axis=1), tf.int32)[:count]}  # fmt: skip

    def export(self, path: Path) -> None:
        """Writes a SavedModel with `serving_default` (beam search), `greedy`, `nbest`
        and `score`."""
        resources = [self.trees.lookup] if self.trees else []
        write_saved_model(
            path,
            [self.model, *self.source.resources, *self.target.resources, *resources],
            {"serving_default": self.beam, "greedy": self.greedy, "nbest": self.nbest,
             "score": self.score},
        )  # fmt: skip


def _valid_utf8(strings):
    """Invalid UTF-8 bytes read as U+FFFD."""
    return tf.strings.unicode_transcode(strings, "UTF-8", "UTF-8", errors="replace")


def _model_source(ids) -> tuple:
    """The model's source inputs: `(ids,)`, or for trees `(ids, children)`."""
    return ids if isinstance(ids, tuple) else (ids,)
