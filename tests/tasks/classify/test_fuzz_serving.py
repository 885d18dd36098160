"""The signatures of tiny untrained classify exports (video, series, trees) under
hostile input: a defined row per input (`valid=False` for one that cannot be
classified), or a clear refusal of a wrong dtype, rank or size."""

import numpy as np
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

KINDS = {  # input name -> the tiny preset's settings (REVIEWS: a text table, written)
    "frames": [],
    "windows": ["data.source=regimes"],
    "trees": ["data.source=listops", "encoder=treelstm"],
    "texts": ["data.source=text:REVIEWS", "text.tokens=char"],
}
OUTPUTS = {"label": tf.string, "probabilities": tf.float32, "valid": tf.bool}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify")
    rows = [f"review {i} {'好' if i % 2 else '差'},{i % 2}" for i in range(30)]
    (folder / "reviews.csv").write_text("text,label\n" + "\n".join(rows), encoding="utf-8")
    kinds = {k: [s.replace("REVIEWS", str(folder / "reviews.csv")) for s in v]
             for k, v in KINDS.items()}  # fmt: skip
    return export_kinds("classify", kinds, folder)


@pytest.fixture(scope="module")
def served(exports):
    return {kind: tf.saved_model.load(str(path)) for kind, path in exports.items()}


def _classify(served, kind: str, batch) -> dict:
    batch = tf.constant(batch, tf.string if kind in ("trees", "texts") else None)
    out = served[kind].signatures["serving_default"](**{kind: batch})
    out = {k: v.numpy() for k, v in out.items()}
    extra = {"error": tf.string} if kind == "trees" else {}
    assert set(out) == set(OUTPUTS) | set(extra)
    for key, dtype in {**OUTPUTS, **extra}.items():
        assert out[key].dtype == dtype.as_numpy_dtype and len(out[key]) == batch.shape[0]
    valid = out["valid"]
    assert (out["label"][~valid] == b"").all() and not out["probabilities"][~valid].any()
    assert np.allclose(out["probabilities"][valid].sum(-1), 1, atol=1e-4)
    return out


@settings(max_examples=30)
@given(st.tuples(*(st.integers(0, n) for n in (3, 9, 20, 20))), st.integers(0, 2**16))
def test_clips_of_any_size_get_a_label_unless_empty(served, shape, seed):
    tried("classify frames")
    frames = np.random.default_rng(seed).integers(0, 256, (*shape, 3), np.uint8)
    out = _classify(served, "frames", frames)
    assert (out["valid"] == all(shape[1:])).all()


VALUE = st.floats(allow_subnormal=True, width=32) | st.sampled_from([0.0, -0.0, 1e-45, 3e38])


@settings(max_examples=40)
@given(st.integers(0, 4).flatmap(lambda n: st.lists(VALUE, min_size=n * 60, max_size=n * 60)))
def test_windows_with_any_values_get_a_label_or_are_flagged(served, values):
    tried("classify windows")
    windows = np.array(values, np.float32).reshape(-1, 12, 5)
    out = _classify(served, "windows", windows)
    prices, volume = windows[..., :4], windows[..., 4]
    usable = np.isfinite(windows).all((1, 2)) & (prices > 0).all((1, 2)) & (volume >= 0).all(1)
    assert out["valid"].tolist() == usable.tolist()


@settings(max_examples=40)
@given(st.lists(tree_bytes, max_size=5))
def test_a_tree_is_classified_exactly_when_it_parses_as_a_binary_tree(served, rows):
    tried("classify trees")
    out = _classify(served, "trees", rows)
    wants = [tree_reference(r, False, 2, trees.MAX_TOKENS) is not None for r in rows]
    assert out["valid"].tolist() == wants
    assert [e.decode() in trees.ERRORS[1:] for e in out["error"]] == [not w for w in wants]


@settings(max_examples=40)
@given(st.lists(raw_bytes, max_size=5))
def test_any_bytes_are_a_text_with_a_label(served, rows):
    tried("classify texts")
    assert _classify(served, "texts", rows)["valid"].all()


BAD_CALLS = {  # input name -> wrong dtypes, ranks and sizes
    "frames": [np.zeros((1, 2, 4, 4, 3), np.float32), np.zeros((2, 4, 4, 3), np.uint8),
               np.zeros((1, 2, 4, 4, 4), np.uint8), np.zeros((1, 2, 4, 4, 3), np.int64)],
    "windows": [np.ones((1, 12, 5), np.float64), np.ones((1, 13, 5), np.float32),
                np.ones((12, 5), np.float32), np.ones((1, 12, 6), np.float32)],
    "trees": [np.array([1, 2]), np.array("( 1 2 )", dtype=object),
              np.array([["( 1 2 )"]], dtype=object)],
    "texts": [np.array([1.5]), np.array("a text", dtype=object), np.array([["a"]], dtype=object)],
}  # fmt: skip
GOOD = {"frames": np.zeros((1, 2, 4, 4, 3), np.uint8), "windows": np.ones((1, 12, 5), np.float32),
        "trees": np.array(["( ( ( [MAX 2 ) 9 ) ] )"], dtype=object),
        "texts": np.array(["a review"], dtype=object)}  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_dtype_rank_or_size_is_refused_and_serving_goes_on(served, kind):
    fn = served[kind].signatures["serving_default"]
    for value in BAD_CALLS[kind]:
        refused(fn, **{kind: tf.constant(value)})
    refused(fn, **{kind: tf.constant(GOOD[kind]), "extra": tf.constant(GOOD[kind])})
    assert _classify(served, kind, GOOD[kind])["valid"].tolist() == [True]


def test_a_server_process_survives_hostile_clips(exports, tmp_path):
    shapes = [(0, 6, 16, 16, 3), (2, 0, 16, 16, 3), (1, 3, 0, 7, 3), (1, 1, 1, 1, 3)]
    batches = [np.zeros(shape, np.uint8) for shape in shapes]
    shapes = serve_in_fresh_process(exports["frames"], "serving_default", batches, tmp_path)
    assert [s["valid"] for s in shapes] == [[], [False, False], [False], [True]]
