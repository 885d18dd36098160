"""Every signature of tiny untrained translate exports (sentences and trees) under
hostile input: a translation per row, or a clear refusal at the boundary."""

import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks import trees
from tests.tasks.fuzz import (
    export_kinds,
    raw_bytes,
    refused,
    serve_in_fresh_process,
    tree_bytes,
    tree_reference,
    tried,
)

NAMES = ("serving_default", "greedy")
OUTPUTS = {"translation": tf.string, "score": tf.float32}
KINDS = {"sentences": [], "trees": ["encoder=treelstm"]}  # input name -> settings


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return export_kinds("translate", KINDS, tmp_path_factory.mktemp("translate"))


@pytest.fixture(scope="module")
def served(exports):
    return {kind: tf.saved_model.load(str(path)) for kind, path in exports.items()}


def _translate(served, kind: str, name: str, batch):
    out = served[kind].signatures[name](**{kind: tf.constant(batch, tf.string)})
    assert set(out) == set(OUTPUTS) and all(out[k].dtype == d for k, d in OUTPUTS.items())
    assert out["translation"].shape == out["score"].shape == (len(batch),)
    for text_ in out["translation"].numpy():
        text_.decode("utf-8")  # always valid UTF-8
    return out["translation"].numpy(), out["score"].numpy()


@settings(max_examples=30)
@given(st.lists(raw_bytes, max_size=5), st.sampled_from(NAMES))
def test_any_bytes_translate_and_blank_rows_give_empty_text(served, batch, name):
    tried(f"translate sentences {name}")
    translations, scores = _translate(served, "sentences", name, batch)
    for row, translation, score in zip(batch, translations, scores, strict=True):
        if not row.decode("utf-8", "replace").strip():
            assert translation == b"" and score == 0.0


@settings(max_examples=30)
@given(st.lists(tree_bytes, max_size=5), st.sampled_from(NAMES))
def test_a_tree_that_does_not_parse_gives_empty_text(served, batch, name):
    tried(f"translate trees {name}")
    translations, scores = _translate(served, "trees", name, batch)
    for row, translation, score in zip(batch, translations, scores, strict=True):
        if tree_reference(row, True, None, trees.MAX_TOKENS) is None:
            assert translation == b"" and score == 0.0
        else:
            assert score != 0.0


BAD_CALLS = [  # (input name, value): a wrong dtype, rank or name
    (None, tf.constant([1, 2])),
    (None, tf.constant([[0.5]])),
    (None, tf.constant("a")),
    (None, tf.constant([["a", "b"]])),
    ("images", tf.constant(["a"])),
]


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_dtype_rank_or_name_is_refused_and_serving_goes_on(served, kind):
    for name in NAMES:
        fn = served[kind].signatures[name]
        for key, value in BAD_CALLS:
            refused(fn, **{key or kind: value})
        refused(fn, **{kind: tf.constant(["a"]), "extra": tf.constant(["b"])})
        _translate(served, kind, name, [b"(S (NP (DT the) (NN dog)))"])


def test_a_server_process_survives_hostile_batches(exports, tmp_path):
    hostile = [b"", b"\xff\xfe(", b"( " * 300000, b"(S " * 5000 + b")" * 5000]
    shapes = serve_in_fresh_process(exports["trees"], "serving_default",
                                    [hostile, [], [b"(S (NN dog))"]], tmp_path)  # fmt: skip
    assert [s["translation"] for s in shapes] == [[4], [0], [1]]
