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
    """Wraps a trained model with its vocabularies as exportable `tf.function`s.

    `beam` and `greedy` map a `(batch,)` string tensor to `{"translation": (batch,)
    strings, "score": (batch,) float32}`. Input is repaired, never rejected: invalid
    UTF-8 bytes become U+FFFD, unknown words `[UNK]`, sentences over
    `data.max_length` tokens are truncated, and an empty or blank sentence
    translates to `""` with score 0. A model whose encoder reads trees takes parse
    trees instead (input `trees`); one that does not parse translates to `""` with
    score 0.

    Example:
    >>> from tasks.translate.config import PRESETS
    >>> cfg = PRESETS["tiny"]
    >>> model = seq2seq.build_model(cfg.model, ["the", "dog"], 2 + 2)
    >>> translator = Translator(model, ["the", "dog"], ["le", "chien"], cfg)
    >>> translator.beam(tf.constant(["the dog", ""]))["score"].shape
    TensorShape([2])
    """

    def __init__(
        self,
        model: keras.Model,
        source_vocab: list[str],
        target_vocab: list[str],
        cfg: TranslateConfig,
    ):
        self.model = model
        self.cfg = cfg
        self.target_vocab = target_vocab
        self.source_vectorizer = text.vectorizer(source_vocab, cfg.data.tokens, cfg.data.max_length)
        self.source_vectorizer.build((None,))  # ExportArchive tracks built layers only
        self.trees = None
        if seq2seq.reads_trees(cfg.model):
            self.trees = TreeSource(source_vocab, cfg.model.tree)
        spec = TREES if self.trees else SENTENCES
        self.beam = endpoint(lambda batch: self.translate(batch, cfg.decode.beam_size), spec)
        self.greedy = endpoint(lambda batch: self.translate(batch, 1), spec)

    def encode(self, sentences):
        """`(batch,)` strings -> `(batch, S)` int32 ids (for trees: ids and children),
        and `(batch,)` bool "was empty" (for trees: did not parse)."""
        if self.trees:
            source, error = self.trees(sentences)
            return source, error > 0
        clean = tf.strings.unicode_transcode(sentences, "UTF-8", "UTF-8", errors="replace")
        ids = tf.cast(self.source_vectorizer(clean), tf.int32)  # (batch, max_length)
        lengths = tf.reduce_sum(tf.cast(ids != text.PAD, tf.int32), axis=1)
        empty = lengths == 0
        ids = ids[:, : tf.maximum(tf.reduce_max(lengths), 1)]  # drop all-padding columns
        # A fully masked row breaks cuDNN; an empty sentence reads one [UNK] instead.
        first = tf.range(tf.shape(ids)[1]) == 0
        return tf.where(empty[:, None] & first[None, :], text.UNK, ids), empty

    def translate(self, sentences, beam_size: int) -> dict:
        count = tf.shape(sentences)[0]  # an empty batch runs one "" row (Tree-LSTMs need one)
        ids, empty = self.encode(at_least_one(sentences))
        tokens, scores = seq2seq.generate(
            self.model, ids, self.cfg.data.max_length + 1, self.cfg.decode, beam_size
        )
        translation = text.detokenize(tokens, self.target_vocab, self.cfg.data.tokens)
        return {
            "translation": tf.where(empty, "", translation)[:count],
            "score": tf.where(empty, 0.0, scores)[:count],
        }

    def export(self, path: Path) -> None:
        """Writes a SavedModel with `serving_default` (beam search) and `greedy`."""
        lookup = self.trees.lookup if self.trees else self.source_vectorizer
        write_saved_model(
            path,
            [self.model, lookup],
            {"serving_default": self.beam, "greedy": self.greedy},
        )
