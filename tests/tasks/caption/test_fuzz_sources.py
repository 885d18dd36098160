"""Hostile caption files and image names: a `DataError` naming the file and line (or
the image), never a path outside the image folder; well-formed files read back."""

import csv
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tasks.caption import sources
from tests.tasks.fuzz import fresh_folder, raw_bytes, read_or_error, text, tried

NAMES = ("a.png", "b c.jpg", "é.png")  # the images every example folder holds
CAPTION = text.filter(lambda s: s.strip())


def _folder(tmp_path):
    folder = fresh_folder(tmp_path)
    (folder / "images").mkdir()
    for i, name in enumerate(NAMES):
        Image.new("RGB", (12 + i, 9), (40 * i, 90, 200)).save(folder / "images" / name)
    return folder


def _read(folder):
    images = (folder / "images").resolve()  # a bad image's error names its resolved path
    found = [folder / n for n in sources.CAPTION_FILES if (folder / n).exists()]
    return read_or_error(lambda: sources.read_folder(folder, 8, 10**6), *found, images)


@settings(max_examples=50)
@given(st.sampled_from(["image,caption\n", "", "Image, Caption\r\n"]), st.lists(raw_bytes,
       max_size=5), st.sampled_from(["captions.csv", "Flickr8k.token.txt"]))  # fmt: skip
def test_hostile_caption_files_error_or_give_captioned_images(tmp_path, header, lines, name):
    tried("caption folder reader")
    folder = _folder(tmp_path)
    (folder / name).write_bytes(header.encode() + b"\n".join(lines))
    examples, _ = _read(folder)
    for example in examples or []:
        assert example.image.shape == (8, 8, 3) and all(c.strip() for c in example.captions)


@settings(max_examples=40)
@given(st.lists(st.tuples(st.sampled_from(NAMES), CAPTION), min_size=1, max_size=6), st.data())
def test_csv_reads_back_and_names_the_line_a_broken_row_starts_on(tmp_path, rows, data):
    tried("caption folder reader")
    folder = _folder(tmp_path)
    out = io.StringIO()
    csv.writer(out).writerows([("image", "caption"), *rows])  # quotes commas, newlines
    (folder / "captions.csv").write_text(out.getvalue(), encoding="utf-8")
    want: dict[str, list[str]] = {}
    for name, caption in rows:
        want.setdefault(name, []).append(caption.strip())
    assert [e.captions for e in sources.read_folder(folder, 8, 10**6)] == list(want.values())
    k = data.draw(st.integers(0, len(rows) - 1))
    broken = data.draw(st.sampled_from([(rows[k][0], " "), ("zz.png", rows[k][1]), ("..",)]))
    out = io.StringIO()
    csv.writer(out).writerows([("image", "caption"), *rows[:k]])
    start = len(io.StringIO(out.getvalue(), newline="").readlines()) + 1
    csv.writer(out).writerows([broken, *rows[k + 1 :]])
    (folder / "captions.csv").write_text(out.getvalue(), encoding="utf-8")
    assert _read(folder) == (None, start)


ESCAPES = ["../outside.png", "/ABS/outside.png", "link.png", "linked/x.png", "sub/../../x.png"]


@pytest.mark.parametrize("name", ESCAPES)
def test_image_names_cannot_leave_the_image_folder(tmp_path, name):
    folder = _folder(tmp_path)
    Image.new("RGB", (4, 4)).save(folder / "outside.png")
    (folder / "elsewhere").mkdir()
    Image.new("RGB", (4, 4)).save(folder / "elsewhere" / "x.png")
    (folder / "images" / "sub").mkdir()
    os.symlink(folder / "outside.png", folder / "images" / "link.png")
    os.symlink(folder / "elsewhere", folder / "images" / "linked")
    name = name.replace("/ABS", str(folder))
    (folder / "captions.csv").write_text(f"image,caption\na.png,fine\n{name},a picture\n")
    with pytest.raises(ValueError, match=r"captions.csv:3: image .* is outside the image folder"):
        sources.read_folder(folder, 8, 10**6)
    os.symlink(folder / "images" / "a.png", folder / "images" / "alias.png")  # inside: fine
    (folder / "captions.csv").write_text("image,caption\nalias.png,a picture\n")
    assert len(sources.read_folder(folder, 8, 10**6)) == 1


@settings(max_examples=40)
@given(st.lists(st.sampled_from(["..", ".", "a.png", "sub", "", "link", "/"]), min_size=1,
                max_size=5).map("/".join))  # fmt: skip
def test_a_generated_image_path_is_read_only_inside_the_image_folder(tmp_path, name):
    tried("caption folder reader")
    folder = _folder(tmp_path)
    (folder / "images" / "sub").mkdir()
    Image.new("RGB", (4, 4)).save(folder / "a.png")  # one level above the images
    os.symlink(folder, folder / "images" / "link")  # a link up to the data folder
    (folder / "captions.csv").write_text(f"image,caption\n{name},a picture\n")
    target = (folder / "images" / name).resolve()
    inside = target.is_relative_to((folder / "images").resolve())
    examples, line = _read(folder)
    if not inside:
        assert line == 2 and examples is None
    assert examples is None or target.is_file()
