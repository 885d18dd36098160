"""The translate task's tokenizers, one per `data.tokens`, built on the training split.

- `word`: the `max_vocab` most frequent words, punctuation split off (`tasks/text.py`);
  detokenised to the language's spacing: a punctuation mark is attached to the word
  before (or after) it when the training text mostly writes it so ("Go!" but French
  "Va !"; Spanish "¿Qué?").
- `char`: the most frequent characters, spaces included.
- `subword`: a SentencePiece unigram model (Kudo 2018) of `max_vocab` pieces.

All read text through `tasks.text.normalize` (NFKC, case and accents kept), inside the
graph, so a SavedModel takes raw strings; `detokenize` gives text back in the same
normalised form. A side's tokenizer is saved in the run's `vocab/` folder
(`SIDE.txt` and `SIDE.json`, or `SIDE.model`).

Example:
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> words = build("word", lambda: ["Va !", "Cours !", "Bonjour."], 100, folder / "target")
>>> ids = words.tokenize(tf.constant(["Cours !"]))
>>> words.detokenize(ids.to_tensor()).numpy()[0].decode()
'Cours !'
"""

import io
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import sentencepiece
import tensorflow as tf
import tensorflow_text as tf_text

from common import atomic
from tasks import text
from tasks.base import batched

LEVELS = ("word", "char", "subword")
SUBWORD_SENTENCES = 2_000_000  # SentencePiece's sample of a larger corpus


class VocabularyTokenizer:
    """Word or character tokens of a fixed vocabulary (`vocabulary[i]` is id `i + 2`).

    `tokenize` maps `(batch,)` strings to `(batch, None)` int32 ids (ragged);
    `detokenize` maps `(batch, steps)` ids back to strings, stopping at `[end]`.
    """

    def __init__(self, vocabulary: list[str], level: str, spacing: tuple[str, str] = ("", "")):
        self.vocabulary, self.level, self.spacing = vocabulary, level, tuple(spacing)
        self.size = len(vocabulary) + 2
        self.layer = text.vectorizer(vocabulary, level, keep_case=True)
        self.layer.build((None,))  # ExportArchive tracks built layers only
        self.resources = [self.layer]

    def tokenize(self, texts) -> tf.RaggedTensor:
        return tf.cast(self.layer(texts), tf.int32)

    def detokenize(self, ids):
        return text.detokenize(ids, self.vocabulary, self.level, self.spacing)

    def save(self, path: Path) -> None:
        text.save_vocabulary(path.with_suffix(".txt"), self.vocabulary)
        atomic.write_text(path.with_suffix(".json"), json.dumps({"spacing": self.spacing}))

    @classmethod
    def load(cls, path: Path, level: str) -> "VocabularyTokenizer":
        spacing = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["spacing"]
        return cls(text.load_vocabulary(path.with_suffix(".txt")), level, spacing)


class SubwordTokenizer:
    """SentencePiece pieces, applied in the graph by `tensorflow_text` (so a SavedModel
    that uses it needs `import tensorflow_text` before loading). Ids: 0 padding,
    1 `[UNK]`, 2 `[start]`, 3 `[end]`, then the pieces."""

    def __init__(self, proto: bytes):
        self.proto = proto
        processor = sentencepiece.SentencePieceProcessor(model_proto=proto)
        self.vocabulary = [processor.id_to_piece(i) for i in range(2, processor.vocab_size())]
        self.size = processor.vocab_size()
        self.model = tf_text.SentencepieceTokenizer(model=proto, out_type=tf.int32)
        self.resources = [self.model]

    def tokenize(self, texts) -> tf.RaggedTensor:
        return self.model.tokenize(text.normalize(texts))

    def detokenize(self, ids):
        pieces = text.before_end(ids)
        return self.model.detokenize(tf.ragged.boolean_mask(pieces, pieces > text.END))

    def save(self, path: Path) -> None:
        with atomic.replacing(path.with_suffix(".model")) as tmp:
            tmp.write_bytes(self.proto)

    @classmethod
    def load(cls, path: Path, level: str = "subword") -> "SubwordTokenizer":
        return cls(path.with_suffix(".model").read_bytes())


def build(level: str, texts: Callable[[], Iterable[str]], max_vocab: int, path: Path):
    """A tokenizer of `level` fitted to (training) text, saved at `path` (no suffix).

    `texts()` reads the text anew, lazily, for each pass over it (a word vocabulary
    takes two: the counts, then the spacing of punctuation), so a corpus larger than
    memory streams through. SentencePiece trains on at most `SUBWORD_SENTENCES` of
    them (a uniform sample when there are more).
    """
    if level == "subword":
        tokenizer = SubwordTokenizer(_sentencepiece(_normalized(texts()), max_vocab))
    else:
        vocabulary = text.build_vocabulary(texts(), level, max_vocab, keep_case=True)
        spacing = _attached(_normalized(texts())) if level == "word" else ("", "")
        tokenizer = VocabularyTokenizer(vocabulary, level, spacing)
    tokenizer.save(path)
    return tokenizer


def load(level: str, path: Path):
    """The tokenizer `build` saved at `path`."""
    return (SubwordTokenizer if level == "subword" else VocabularyTokenizer).load(path, level)


def _normalized(texts: Iterable[str]) -> Iterator[str]:
    """`texts` through `text.normalize`, a chunk at a time."""
    for chunk in batched(texts, text.CHUNK):
        yield from (t.decode("utf-8") for t in text.normalize(tf.constant(chunk)).numpy())


def _attached(texts: Iterable[str]) -> tuple[str, str]:
    """The punctuation marks `texts` write, at least two times in three, without a
    space before them (closing marks), and those without a space after (opening ones).

    Example:
    >>> _attached(["Va !", "Quoi ?", "Bien.", "Oui, non.", "¿Qué?"])
    ('.,', '¿')
    """
    counts = {mark: np.zeros((2, 2), int) for mark in text.PUNCTUATION}  # (side, spaced)
    for line in texts:
        for i, char in enumerate(line):
            if char in counts:
                if i > 0:
                    counts[char][0, int(line[i - 1] == " ")] += 1
                if i + 1 < len(line):
                    counts[char][1, int(line[i + 1] == " ")] += 1

    def side(k: int) -> str:
        return "".join(mark for mark, c in counts.items() if c[k, 0] > 2 * c[k, 1])

    return side(0), side(1)


def _sentencepiece(texts: Iterator[str], size: int) -> bytes:
    """A unigram SentencePiece model of (at most) `size` pieces, specials included."""
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=texts,
        input_sentence_size=SUBWORD_SENTENCES,  # SentencePiece holds what it trains on
        shuffle_input_sentence=True,
        model_writer=model,
        model_type="unigram",
        vocab_size=size,
        hard_vocab_limit=False,  # a small corpus may not have `size` pieces
        character_coverage=1.0,
        normalization_rule_name="identity",  # `text.normalize` did it, in the graph
        pad_id=text.PAD,
        unk_id=text.UNK,
        bos_id=text.START,
        eos_id=text.END,
        pad_piece="[pad]",
        unk_piece="[UNK]",
        bos_piece="[start]",
        eos_piece="[end]",
        num_threads=1,  # the same model from the same text
        minloglevel=2,
    )
    return model.getvalue()
