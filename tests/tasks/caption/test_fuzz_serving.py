"""Both signatures of a tiny untrained caption export under hostile image bytes: a
caption per row (`valid=False` and `""` for a row that does not decode), or a clear
refusal of a wrong dtype, rank or name."""

import io
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.tasks.fuzz import export_tiny, huge, refused, serve_in_fresh_process, tried

NAMES = ("serving_default", "greedy")
OUTPUTS = {"caption": tf.string, "score": tf.float32, "valid": tf.bool}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return export_tiny("caption", [], tmp_path_factory.mktemp("caption"))


@pytest.fixture(scope="module")
def served(export):
    return tf.saved_model.load(str(export))


@st.composite
def image_file(draw) -> bytes:
    """A real PNG, JPEG, GIF or BMP file of random size, colour mode and pixels."""
    form = draw(st.sampled_from(["PNG", "JPEG", "GIF", "BMP"]))
    mode = draw(st.sampled_from(["RGB", "L", "RGBA", "P"] if form == "PNG" else ["RGB", "L"]))
    width, height = draw(st.integers(1, 48)), draw(st.integers(1, 48))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    pixels = rng.integers(0, 256, (height, width, 3), np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(out, form)
    return out.getvalue()


def lying_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header (with a correct checksum) claims `width x height`."""
    out = io.BytesIO()
    Image.new("RGB", (2, 2)).save(out, "PNG")
    data = bytearray(out.getvalue())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:33] = header + struct.pack(">I", zlib.crc32(header))
    return bytes(data)


@st.composite
def hostile_image(draw) -> tuple[bytes, bool | None]:
    """Bytes for one row, and whether they must decode (True), must not (False) or
    may either way (None: a damaged file some decoders still read)."""
    good = draw(image_file())
    cut, flip = draw(st.integers(0, len(good) - 1)), draw(st.integers(0, len(good) - 1))
    flipped = bytearray(good)
    flipped[flip] ^= draw(st.integers(1, 255))
    side = st.sampled_from([2**16 - 1, 20000, 10**6, 2**31 - 1])
    return draw(st.sampled_from([
        (good, True), (good[:cut], None), (bytes(flipped), None), (b"", False),
        (draw(st.binary(max_size=100)), None), (draw(huge()), None),
        (lying_png(draw(side), draw(side)), False),
    ]))  # fmt: skip


@settings(max_examples=40)
@given(st.lists(hostile_image(), max_size=4), st.sampled_from(NAMES))
def test_every_row_gets_a_caption_or_is_flagged(served, rows, name):
    tried(f"caption {name}")
    out = served.signatures[name](images=tf.constant([r for r, _ in rows], tf.string))
    assert set(out) == set(OUTPUTS) and all(out[k].dtype == d for k, d in OUTPUTS.items())
    assert all(v.shape == (len(rows),) for v in out.values())
    for (_, decodes), caption, score, valid in zip(
        rows, *(out[k].numpy() for k in ("caption", "score", "valid")), strict=True
    ):
        assert decodes is None or valid == decodes
        assert valid or (caption == b"" and score == 0.0)
        caption.decode("utf-8")


def test_wrong_dtype_rank_or_name_is_refused_and_serving_goes_on(served):
    good = io.BytesIO()
    Image.new("RGB", (5, 7), (200, 10, 10)).save(good, "PNG")
    for name in NAMES:
        fn = served.signatures[name]
        for value in (tf.zeros([1], tf.uint8), tf.constant(b"x"), tf.constant([[b"x"]])):
            refused(fn, images=value)
        refused(fn, sentences=tf.constant([b"x"]))
        assert fn(images=tf.constant([good.getvalue()]))["valid"].numpy().tolist() == [True]


def test_a_server_process_survives_hostile_batches(export, tmp_path):
    png = io.BytesIO()
    Image.new("L", (30, 20), 90).save(png, "PNG")
    hostile = [b"", b"GIF89a", png.getvalue()[:60], lying_png(20000, 20000), b"\x00" * 2**20]
    shapes = serve_in_fresh_process(export, "serving_default",
                                    [hostile, [], [png.getvalue()]], tmp_path)  # fmt: skip
    assert [s["valid"] for s in shapes] == [[False] * 5, [], [True]]
