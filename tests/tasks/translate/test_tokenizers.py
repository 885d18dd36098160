"""Text as people write it: raw text -> ids -> text gives back the normalised input."""

import pytest
import tensorflow as tf

from tasks import text
from tasks.translate import tokenizers

TRAINING = [
    "Qui êtes-vous ?", "Ça alors !", "Je l'ai vu, hier.", "À l'aide !", "Élève-toi.",
    "Où est le Café Noël ?", "L'été dernier, j'étais à Zürich.", "Ils ne peuvent pas me voir.",
    "«Non», dit-il.", "C'est ﬁni !",
]  # fmt: skip
RAW = ["Qui êtes-vous\u202f?", "  Ça\u00a0alors !  ", "L'été dernier, j'étais à Zürich.",
       "C'est ﬁni !"]  # fmt: skip


@pytest.mark.parametrize("level", tokenizers.LEVELS)
def test_round_trip_keeps_case_accents_and_punctuation(tmp_path, level):
    tokenizer = tokenizers.build(level, lambda: TRAINING, 200, tmp_path / "target")
    ids = tokenizer.tokenize(tf.constant(RAW))
    assert not (ids == text.UNK).flat_values.numpy().any()  # every token known
    back = [t.decode("utf-8") for t in tokenizer.detokenize(ids.to_tensor()).numpy()]
    normalized = [t.decode("utf-8") for t in text.normalize(tf.constant(RAW)).numpy()]
    assert back == normalized
    assert back[:2] == ["Qui êtes-vous ?", "Ça alors !"]  # NFKC: no-break spaces, spaces
    assert back[3] == "C'est fini !"  # and ligatures, letters
    again = tokenizers.load(level, tmp_path / "target")
    assert again.tokenize(tf.constant(RAW)).to_list() == ids.to_list()


def test_word_spacing_follows_the_training_text(tmp_path):
    french = tokenizers.build("word", lambda: ["Va !", "Quoi ?", "Oui.", "Non, merci."], 50,
                              tmp_path / "fr")  # fmt: skip
    english = tokenizers.build("word", lambda: ["Go!", "What?", "Yes.", "No, thanks."], 50,
                               tmp_path / "en")  # fmt: skip
    spanish = tokenizers.build("word", lambda: ["¿Qué?", "¡Hola!", "Sí."], 50, tmp_path / "es")
    for tokenizer, line in ((french, "Quoi ? Non, merci."), (english, "What? No, thanks."),
                            (spanish, "¿Qué? ¡Hola!")):  # fmt: skip
        ids = tokenizer.tokenize(tf.constant([line])).to_tensor()
        assert tokenizer.detokenize(ids).numpy()[0].decode() == line
