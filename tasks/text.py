"""Text handling shared by the text tasks: standardisation, vocabularies, detokenising.

Token ids: 0 is padding, 1 is `[UNK]` (both added by `TextVectorization`), 2 is
`[start]` and 3 is `[end]`; the rest follow in order of training-set frequency.
"""

from pathlib import Path

import keras
import tensorflow as tf

from common import atomic

PAD, UNK, START, END = 0, 1, 2, 3
SPECIALS = ["[start]", "[end]"]
LEVELS = ("word", "char")


@keras.saving.register_keras_serializable(package="tasks")
def standardize(text):
    """Lower-cases (Unicode-aware), splits punctuation off words, squeezes spaces.

    Example:
    >>> standardize(tf.constant("Soyez Raisonnables!")).numpy().decode()
    'soyez raisonnables !'
    """
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r'([.,!?;:"¿¡])', r" \1 ")
    text = tf.strings.regex_replace(text, r"\s+", " ")
    return tf.strings.strip(text)


def compile_args() -> dict:
    """Loss and metric of a text decoder; batches carry padding weights."""
    return {
        "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "weighted_metrics": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    }


def _split(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"token level must be one of {LEVELS}, got {level!r}")
    return "whitespace" if level == "word" else "character"


def vectorizer(vocabulary: list[str], level: str, length: int | None = None):
    """A `TextVectorization` over a fixed vocabulary (without `""` and `[UNK]`).

    With `length` the output is `(batch, length)`, padded or truncated; without it,
    a ragged `(batch, None)` tensor.
    """
    return keras.layers.TextVectorization(
        vocabulary=vocabulary,
        standardize=standardize,
        split=_split(level),
        output_sequence_length=length,
        ragged=length is None,
    )


def build_vocabulary(texts: list[str], level: str, max_tokens: int) -> list[str]:
    """The `max_tokens` most frequent tokens of `texts`, after the special tokens."""
    layer = keras.layers.TextVectorization(
        max_tokens=max_tokens + 2, standardize=standardize, split=_split(level)
    )  # + padding and [UNK]
    layer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(4096))
    return SPECIALS + [t for t in layer.get_vocabulary()[2:] if t not in SPECIALS]


def save_vocabulary(path: Path, vocabulary: list[str]) -> None:
    atomic.write_text(path, "".join(f"{token}\n" for token in vocabulary))


def load_vocabulary(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def detokenize(ids, vocabulary: list[str], level: str):
    """`(batch, steps)` ids -> `(batch,)` strings, stopping at the first `[end]`.

    Word level joins with spaces and re-attaches closing punctuation.
    """
    table = tf.constant(["", "[UNK]", *vocabulary])
    live = tf.math.cumsum(tf.cast(ids == END, tf.int32), axis=1) == 0  # (batch, steps)
    tokens = tf.ragged.boolean_mask(tf.gather(table, ids), live)
    text = tf.strings.reduce_join(tokens, axis=1, separator=" " if level == "word" else "")
    if level == "word":
        text = tf.strings.regex_replace(text, r" ([.,!?;:])", r"\1")
    return text


def load_or_build_vocabulary(path: Path, texts: list[str], level: str, max_tokens: int):
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


def teacher_forcing(target):
    """`(T,)` ids -> `[start] ids` as decoder input, `ids [end]` as its target."""
    target = tf.concat([[START], target, [END]], axis=0)
    return target[:-1], target[1:]


def padding_weights(target_out):
    """Per-token loss weights: 0 on padding, 1 elsewhere."""
    return tf.cast(target_out != PAD, tf.float32)


def generate(
    decoder, memory, summary, max_length: int, beam_size: int, alpha: float, memory_mask=None
):
    """Decodes text with an `AttentionDecoder`: `(batch, max_length)` ids, `(batch,)` scores.

    Starts from `[start]`, stops at `[end]`, never emits padding or `[start]`.
    """
    tokens, scores = decoder.generate(
        memory,
        summary,
        START,
        END,
        max_length,
        memory_mask=memory_mask,
        beam_size=beam_size,
        alpha=alpha,
        banned_ids=(PAD, START),
    )
    return tokens[:, 0], scores[:, 0]
