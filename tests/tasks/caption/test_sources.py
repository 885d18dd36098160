import dataclasses

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from common.errors import DataError
from tasks import images
from tasks.caption import metrics, shapes, sources
from tasks.caption.config import PRESETS, DataConfig
from tasks.caption.shapes import _Shape
from tasks.caption.task import CaptionTask


def _load(source: str, size: int = 50, image_size: int = 32, splits=("train", "val", "test")):
    cfg = DataConfig(source=source, size=size, image_size=image_size, max_pixels=10**6)
    return sources.load(cfg, splits)


def test_shapes_are_deterministic_and_split_by_image():
    a, b = _load("shapes"), _load("shapes")
    assert [len(a[s]) for s in ("train", "val", "test")] == [40, 5, 5]
    for split in a:
        for x, y in zip(a[split], b[split], strict=True):
            np.testing.assert_array_equal(x.image, y.image)
            assert x.captions == y.captions
    assert a["train"][0].image.shape == (32, 32, 3) and len(a["train"][0].captions) == 5
    np.testing.assert_array_equal(_load("shapes", splits=("val",))["val"][0].image,
                                  a["val"][0].image)  # fmt: skip


def test_captions_name_relation_colour_size_and_paraphrase():
    left = _Shape("circle", "red", "small", 10, 30, 5)
    right = _Shape("square", "blue", "big", 50, 32, 9)
    below = _Shape("triangle", "green", "small", 52, 60, 5)
    assert shapes.captions([left, right, below]) == [
        "a small red circle left of a big blue square above a small green triangle",
        "a small red circle to the left of a big blue square on top of a small green triangle",
        "a little red circle left of a large blue square above a little green triangle",
        "there is a small red circle left of a big blue square above a small green triangle",
        "a small green triangle below a big blue square right of a small red circle",
    ]


def test_shape_colour_is_drawn_where_the_caption_says():
    for scene in shapes.generate(30, 64, seed=1):
        colour = scene.captions[0].split()[2]
        target = np.array(shapes.COLOURS[colour])
        distance = np.abs(scene.image.astype(int) - target).sum(-1)
        assert (distance < 80).sum() > 10  # some pixels of the first shape's colour


def test_a_model_that_ignores_the_image_scores_badly():
    scenes = shapes.generate(300, 32, seed=2)
    most_common = max(set(s.captions[0] for s in scenes),
                      key=[s.captions[0] for s in scenes].count)  # fmt: skip
    blind = metrics.coco_scores([s.captions for s in scenes], [most_common] * len(scenes))
    assert blind["bleu4"] < 0.3


def _image(path, mode="RGB", size=(40, 30)):
    Image.new(mode, size, color=120 if mode == "L" else None).save(path)


def _flickr_folder(tmp_path, token_format=False, n=5):
    (tmp_path / "images").mkdir()
    for i in range(n):
        _image(tmp_path / "images" / f"{i}.jpg")
    if token_format:
        lines = [f"{i}.jpg#{k}\ta dog number {i} runs" for i in range(n) for k in range(2)]
        (tmp_path / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
    else:
        lines = ["image,caption"] + [f'{i}.jpg,"a dog, number {i}, runs"' for i in range(n)]
        (tmp_path / "captions.txt").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.parametrize("token_format", [False, True])
def test_flickr_folder_in_both_caption_formats(tmp_path, token_format):
    folder = _flickr_folder(tmp_path, token_format, n=10)
    splits = _load(f"folder:{folder}", image_size=24)
    names = [[e.origin for e in splits[s]] for s in ("train", "val", "test")]
    assert [len(n) for n in names] == [8, 1, 1]
    assert len({o for n in names for o in n}) == 10  # split by image, no image twice
    example = splits["train"][0]
    assert example.image.shape == (24, 24, 3) and example.image.dtype == np.uint8
    assert len(example.captions) == (2 if token_format else 1)
    if not token_format:
        assert example.captions[0].startswith("a dog, number")  # quoted commas kept


def test_grayscale_and_rgba_images_become_rgb(tmp_path):
    folder = _flickr_folder(tmp_path, n=3)
    _image(folder / "images" / "0.jpg", mode="L")
    Image.new("RGBA", (20, 20), (10, 200, 30, 128)).save(folder / "images" / "2.png")
    (folder / "captions.txt").write_text("image,caption\n0.jpg,a\n1.jpg,b\n2.png,c\n")
    examples = sources.read_folder(folder, 16, 10**6)
    assert all(e.image.shape == (16, 16, 3) for e in examples)
    np.testing.assert_array_equal(examples[2].image[8, 8], [10, 200, 30])


@pytest.mark.parametrize("damage,message", [
    ("missing", "captions.txt:3: image 1.jpg not found"),
    ("empty_caption", "captions.txt:3: empty caption for 1.jpg"),
    ("not_an_image", "1.jpg: not a readable image"),
    ("truncated", "1.jpg: corrupt or truncated image"),
    ("huge", "1.jpg: 4000x3000 pixels is over data.max_pixels"),
])  # fmt: skip
def test_bad_folders_name_the_file_or_line(tmp_path, damage, message):
    folder = _flickr_folder(tmp_path, n=3)
    bad = folder / "images" / "1.jpg"
    if damage == "missing":
        bad.unlink()
    elif damage == "empty_caption":
        (folder / "captions.txt").write_text("image,caption\n0.jpg,a dog\n1.jpg,\n2.jpg,a cat\n")
    elif damage == "not_an_image":
        bad.write_text("this is not a picture")
    elif damage == "truncated":  # header intact, scan data cut in half
        noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
        Image.fromarray(noise).save(bad)
        bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    else:
        Image.new("RGB", (4000, 3000)).save(bad)
    with pytest.raises(DataError, match=message):  # pixels are read when asked for
        [example.image for example in sources.read_folder(folder, 16, max_pixels=10_000_000)]


def test_a_folder_trains_from_files_read_a_batch_at_a_time(tmp_path):
    """The training pipeline's batches hold each pair's image as `images.load` reads
    it, while the examples hold no pixels; a corrupt file stops `prepare` by name."""
    (tmp_path / "data").mkdir()
    folder = _flickr_folder(tmp_path / "data", n=10)  # captions "a dog, number I, runs"
    for i in range(10):  # image I in its own colour
        Image.new("RGB", (40, 30), (25 * i, 200 - 20 * i, 90)).save(folder / "images" / f"{i}.jpg")
    cfg = PRESETS["tiny"]
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, source=f"folder:{folder}",
                                                            image_size=16))  # fmt: skip
    task = CaptionTask(cfg, tmp_path / "run")
    splits = task.prepare()
    train = sources.load(cfg.data, ("train",))["train"]
    assert all(callable(e.pixels) for e in train + task.val)
    table = ["", "[UNK]", *task.vocabulary]  # token ids -> words
    seen = []
    for (pixels, caption_in), _, _ in splits.train:
        for image, ids in zip(pixels.numpy(), caption_in.numpy(), strict=True):
            (number,) = [table[i] for i in ids if table[i].isdigit()]
            want = images.load(folder / "images" / f"{number}.jpg", 16, 10**6)
            np.testing.assert_array_equal(image, want)
            seen.append(number)
    assert sorted(seen) == sorted(e.captions[0].split()[3].rstrip(",") for e in train)
    assert not list((tmp_path / "run" / "cache").iterdir())  # unlinked files only
    (folder / "images" / "3.jpg").write_bytes(b"not a picture")
    with pytest.raises(DataError, match="3.jpg: not a readable image"):
        CaptionTask(cfg, tmp_path / "run2").prepare()


def test_folder_without_a_caption_file(tmp_path):
    with pytest.raises(DataError, match="no caption file"):
        _load(f"folder:{tmp_path}", image_size=16)


def test_tfds_coco_captions_source():
    """A TFDS split's images are written to a file as they are read, and read back
    from there: the same pixels as the split resized in memory."""
    with tfds.testing.mock_data(num_examples=4):
        splits = _load("tfds:coco_captions", image_size=16)
        whole = [images.resize(ex["image"], 16).numpy()
                 for ex in tfds.load("coco_captions", split="train")]  # fmt: skip
    assert [len(splits[s]) for s in ("train", "val", "test")] == [4, 4, 4]
    example = splits["train"][0]
    assert example.image.shape == (16, 16, 3) and example.image.dtype == np.uint8
    assert callable(example.pixels)  # not held: read from the row file when asked
    assert all(np.array_equal(e.image, w) for e, w in zip(splits["train"], whole, strict=True))
    assert len({e.image.tobytes() for e in splits["train"]}) > 1
    assert example.captions and all(isinstance(c, str) for c in example.captions)
