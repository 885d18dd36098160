"""Text handling shared by the text tasks: normalising, vocabularies, detokenising,
teacher forcing and the decoder's loss.

Token ids: 0 is padding, 1 is `[UNK]` (both added by `TextVectorization`), 2 is
`[start]` and 3 is `[end]`; the rest follow in order of training-set frequency.
"""

from collections.abc import Callable, Iterable
from pathlib import Path

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from common import atomic
from tasks.base import batched

PAD, UNK, START, END = 0, 1, 2, 3
CHUNK = 4096  # texts normalised, counted or tokenised at a time
SPECIALS = ["[start]", "[end]"]
LEVELS = ("word", "char")


PUNCTUATION = '.,!?;:"¿¡'  # split off words as tokens of their own


def normalize(text):
    """Text as a model reads and writes it: Unicode NFKC (compatibility forms folded:
    no-break and other spaces become spaces, ligatures letters), runs of white space
    one space, none at the ends. Case, accents and punctuation are kept. In-graph
    (`tensorflow_text.normalize_utf8`), so training and the SavedModel agree.

    Example:
    >>> normalize(tf.constant(["  Ça\u202fva\u00a0?  ﬁn "])).numpy()[0].decode()
    'Ça va ? fin'
    """
    return _squeezed(tf_text.normalize_utf8(text, "NFKC"))


# White space as Python's `str.isspace` knows it (Unicode separators, and the ASCII and
# C1 controls it counts), not RE2's ASCII `\s` alone.
WHITESPACE = r"[\s\x{0b}\p{Z}\x{1c}-\x{1f}\x{85}]+"


def _squeezed(text):
    """Runs of white space one space, none at the ends.

    Example:
    >>> _squeezed(tf.constant("\u3000a\x85\u2028b\x1f")).numpy().decode()
    'a b'
    """
    return tf.strings.strip(tf.strings.regex_replace(text, WHITESPACE, " "))


def _split_punctuation(text):
    return tf.strings.regex_replace(text, f"([{PUNCTUATION}])", r" \1 ")


@keras.saving.register_keras_serializable(package="tasks")
def standardize(text):
    """Lower-cases (Unicode-aware), splits punctuation off words, squeezes spaces
    (captions and classified texts; core TensorFlow ops only).

    Example:
    >>> standardize(tf.constant("Soyez  Raisonnables!")).numpy().decode()
    'soyez raisonnables !'
    """
    return _squeezed(_split_punctuation(tf.strings.lower(text, encoding="utf-8")))


@keras.saving.register_keras_serializable(package="tasks")
def cased(text):
    """`normalize`, and punctuation split off words, case kept (translation's words).

    Example:
    >>> cased(tf.constant("Soyez  Raisonnables!")).numpy().decode()
    'Soyez Raisonnables !'
    """
    return normalize(_split_punctuation(text))


def _standardizer(level: str, keep_case: bool):
    """How a vectorizer standardises: lower-cased words (and characters) by default;
    with `keep_case`, `cased` words or `normalize`d characters (translation)."""
    if not keep_case:
        return standardize
    return cased if level == "word" else normalize


def compile_args(label_smoothing: float = 0.0) -> dict:
    """Loss and metric of a text decoder; batches carry padding weights."""
    return {
        "loss": SmoothedCrossentropy(label_smoothing),
        "weighted_metrics": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    }


@keras.saving.register_keras_serializable(package="tasks")
class SmoothedCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy of logits (or, `from_logits=False`, of
    probabilities) with label smoothing (Szegedy et al. 2016): the target is
    `1 - smoothing` on the true class and `smoothing` spread evenly over the classes,
    which keeps a model from growing over-confident. With `smoothing=0` it is Keras'
    `SparseCategoricalCrossentropy`. Labels `(...)` index predictions `(..., classes)`.

    Example:
    >>> logits, target = tf.constant([[[2.0, 0.0, 0.0]]]), tf.constant([[0]])
    >>> plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(SmoothedCrossentropy(0.0)(target, logits)), 5) == round(
    ...     float(plain(target, logits)), 5)
    True
    """

    def __init__(self, smoothing: float = 0.0, from_logits: bool = True,
                 name: str = "smoothed_crossentropy", **kwargs):  # fmt: skip
        super().__init__(name=name, **kwargs)
        self.smoothing, self.from_logits = smoothing, from_logits

    def call(self, y_true, y_pred):
        # y_true (batch, ...) ids, y_pred (batch, ..., classes) -> (batch, ...)
        y_pred = tf.cast(y_pred, tf.float32)
        if self.from_logits:
            logp = tf.nn.log_softmax(y_pred, axis=-1)
        else:  # clipped as Keras clips probabilities
            logp = tf.math.log(tf.clip_by_value(y_pred, keras.config.epsilon(), 1.0))
        y_true = tf.cast(y_true, tf.int32)
        true = -tf.gather(logp, y_true, batch_dims=y_true.shape.rank)
        return (1.0 - self.smoothing) * true - self.smoothing * tf.reduce_mean(logp, axis=-1)

    def get_config(self):
        return {**super().get_config(), "smoothing": self.smoothing,
                "from_logits": self.from_logits}  # fmt: skip


def _split(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"token level must be one of {LEVELS}, got {level!r}")
    return "whitespace" if level == "word" else "character"


def vectorizer(vocabulary: list[str], level: str, length: int | None = None,
               keep_case: bool = False):  # fmt: skip
    """A `TextVectorization` over a fixed vocabulary (without `""` and `[UNK]`),
    standardising with `standardize` (or, with `keep_case`, `cased`).

    With `length` the output is `(batch, length)`, padded or truncated; without it,
    a ragged `(batch, None)` tensor.
    """
    return keras.layers.TextVectorization(
        vocabulary=vocabulary,
        standardize=_standardizer(level, keep_case),
        split=_split(level),
        output_sequence_length=length,
        ragged=length is None,
    )


def build_vocabulary(texts: Iterable[str], level: str, max_tokens: int,
                     keep_case: bool = False) -> list[str]:  # fmt: skip
    """The `max_tokens` most frequent tokens of `texts` (read once, a chunk at a time),
    after the special tokens."""
    layer = keras.layers.TextVectorization(
        max_tokens=max_tokens + 2, standardize=_standardizer(level, keep_case),
        split=_split(level),
    )  # + padding and [UNK]  # fmt: skip
    layer.adapt(tf.constant(chunk) for chunk in batched(texts, CHUNK))  # errors propagate
    return SPECIALS + [t for t in layer.get_vocabulary()[2:] if t not in SPECIALS]


def save_vocabulary(path: Path, vocabulary: list[str]) -> None:
    atomic.write_text(path, "".join(f"{token}\n" for token in vocabulary))


def load_vocabulary(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def before_end(ids) -> tf.RaggedTensor:
    """`(batch, steps)` ids -> the ids before each row's first `[end]`, padding dropped.

    Example:
    >>> before_end(tf.constant([[5, 6, 3, 7], [8, 0, 0, 0]])).to_list()
    [[5, 6], [8]]
    """
    live = tf.math.cumsum(tf.cast(ids == END, tf.int32), axis=1) == 0  # (batch, steps)
    return tf.ragged.boolean_mask(ids, live & (ids != PAD))


def detokenize(ids, vocabulary: list[str], level: str,
               spacing: tuple[str, str] = (".,!?;:", "")):  # fmt: skip
    """`(batch, steps)` ids -> `(batch,)` strings, stopping at the first `[end]`.

    Word level joins with spaces, then attaches the punctuation marks of
    `spacing[0]` to the word before them and those of `spacing[1]` to the word after
    them (a language's convention: English "Go!", French "Va !", Spanish "¿Qué?").
    """
    table = tf.constant(["", "[UNK]", *vocabulary])
    tokens = tf.gather(table, before_end(ids))
    text = tf.strings.reduce_join(tokens, axis=1, separator=" " if level == "word" else "")
    closing, opening = spacing
    if level == "word" and closing:
        text = tf.strings.regex_replace(text, f" ([{_escaped(closing)}])", r"\1")
    if level == "word" and opening:
        text = tf.strings.regex_replace(text, f"([{_escaped(opening)}]) ", r"\1")
    return text


def _escaped(characters: str) -> str:
    return "".join("\\" + c if c in "\\]^-[" else c for c in characters)


def load_or_build_vocabulary(path: Path, texts: Iterable[str], level: str, max_tokens: int):
    """The run's saved vocabulary, or one built from (training) `texts` and saved there."""
    if path.exists():
        return load_vocabulary(path)
    vocabulary = build_vocabulary(texts, level, max_tokens)
    save_vocabulary(path, vocabulary)
    return vocabulary


def token_name(vocabulary: list[str], token_id: int) -> str:
    """A readable name for one id (for plots); spaces of character tokens shown as ␣."""
    token = vocabulary[token_id - 2] if token_id >= 2 else ("", "[UNK]")[token_id]
    return token.replace(" ", "␣")


def teacher_batch(targets: tf.RaggedTensor):
    """`(batch, None)` ragged ids -> `[start] ids` and `ids [end]` `(batch, T)`, padded.

    Example:
    >>> inp, out = teacher_batch(tf.ragged.constant([[5, 6], [7]]))
    >>> inp.numpy().tolist(), out.numpy().tolist()
    ([[2, 5, 6], [2, 7, 0]], [[5, 6, 3], [7, 3, 0]])
    """
    rows = [targets.nrows(), 1]
    full = tf.concat([tf.fill(rows, START), targets, tf.fill(rows, END)], axis=1)
    return full[:, :-1].to_tensor(), full[:, 1:].to_tensor()


def length_batches(examples: tf.data.Dataset, key: Callable, batch_size: int, pool: int,
                   seed: int = 0):  # fmt: skip
    """Batches of examples of like length: `examples` (in a shuffled order: indices, or
    dicts and tuples of tensors) are read `pool` batches' worth at a time, each sorted
    by `key(run)` (`(n,)` lengths of a run of `n` examples, stably) and cut into
    batches, which come in an order shuffled with `seed` (not shortest first: the
    length of a batch does not follow its place; a stateless shuffle, the same
    whatever TensorFlow's global seed). A batch then pads to little more than its own
    examples' length, and the epoch has as many batches as `examples.batch(batch_size)`;
    `pool=1` is that plain batching.

    Example:
    >>> order = tf.data.Dataset.from_tensor_slices([0, 1, 2, 3, 4, 5, 6])
    >>> lengths = tf.constant([5, 1, 5, 1, 3, 3, 2])
    >>> batches = length_batches(order, lambda i: tf.gather(lengths, i), 2, pool=3)
    >>> [b.numpy().tolist() for b in batches], int(batches.cardinality())
    ([[0, 2], [1, 3], [4, 5], [6]], 4)
    """

    def sorted_batches(run):  # (<= pool * batch_size, ...) examples
        places = tf.argsort(key(run), stable=True)
        run = tf.nest.map_structure(lambda t: tf.gather(t, places), run)
        count = (tf.size(places, tf.int64) + batch_size - 1) // batch_size
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=[seed, 0])
        return tf.data.Dataset.from_tensor_slices(order).map(
            lambda i: tf.nest.map_structure(lambda t: t[i * batch_size : (i + 1) * batch_size], run)
        )

    if pool == 1:
        return examples.batch(batch_size)
    batches = examples.batch(batch_size * pool).flat_map(  # a tuple comes as arguments
        lambda *run: sorted_batches(run if len(run) > 1 else run[0])
    )
    count = int(examples.cardinality())  # flat_map loses it; Keras' epochs and steps use it
    if count < 0:
        return batches
    return batches.apply(tf.data.experimental.assert_cardinality(-(-count // batch_size)))


def padding_weights(target_out):
    """Per-token loss weights: 0 on padding, 1 elsewhere."""
    return tf.cast(target_out != PAD, tf.float32)


def generate(decoder, memory, summary, max_length: int, beam_size: int, alpha: float,
             memory_mask=None, results: int = 1, no_repeat_ngram: int = 0):  # fmt: skip
    """Decodes text with an `AttentionDecoder`: the `results` best hypotheses, `(batch,
    results, max_length)` ids and `(batch, results)` scores.

    Starts from `[start]`, stops at `[end]`, never emits padding, `[start]` or `[UNK]`:
    with a vocabulary smaller than the training text's, the rare words' shared `[UNK]`
    is among the most frequent targets and would otherwise take over outputs (a third of
    the Flickr8k captions at `data.max_vocab=1000`). With `no_repeat_ngram`, no output
    repeats an n-gram of that many tokens.
    """
    return decoder.generate(
        memory,
        summary,
        START,
        END,
        max_length,
        memory_mask=memory_mask,
        beam_size=beam_size,
        alpha=alpha,
        num_results=results,
        banned_ids=(PAD, START, UNK),
        no_repeat_ngram=no_repeat_ngram,
    )


def reference_streams(references: list[list[str]]) -> list[list]:
    """Per-output reference lists (any number each) as sacrebleu's reference streams,
    `None` where an output has fewer references than the most.

    Example:
    >>> reference_streams([["a", "b"], ["c"]])
    [['a', 'c'], ['b', None]]
    """
    width = max((len(r) for r in references), default=1)
    return [[r[k] if k < len(r) else None for r in references] for k in range(width)]
