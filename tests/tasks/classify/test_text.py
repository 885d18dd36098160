"""Plain text classification: the `text:` and `tfds:` sources, and raw strings served."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds

from common.errors import DataError
from pipelines.inference import predict
from pipelines.versions import latest
from tasks.classify.modalities import Text, for_source
from tests.tasks.classify.data import load_data
from tests.tasks.classify.test_end_to_end import train_tiny

RELOAD = """
import importlib.util, json, sys
import tensorflow as tf
assert importlib.util.find_spec("pipelines") is None  # the project is not importable here
fn = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
texts = [s.encode("utf-8", "surrogateescape") for s in json.loads(sys.argv[2])]
out = fn(texts=tf.constant(texts, tf.string))
print(json.dumps({"label": [b.decode() for b in out["label"].numpy()],
                  "valid": out["valid"].numpy().tolist()}))
"""


def _reviews(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Chinese restaurant reviews whose label one character tells: 好 good, 差 bad."""
    rng = np.random.default_rng(seed)
    filler = list("这家店的菜服务环境价格味道还可以我们昨天去了")
    rows = []
    for i in range(count):
        words = "".join(rng.choice(filler, size=rng.integers(3, 9)))
        label = ("好评", "差评")[i % 2]
        mark = "好" if label == "好评" else "差"
        cut = rng.integers(0, len(words) + 1)
        rows.append((words[:cut] + mark + words[cut:], label))
    return rows


def test_csv_and_tsv_with_named_columns_in_any_order(tmp_path):
    (tmp_path / "a.csv").write_text("id,Sentiment,Review\n" + "".join(
        f'{i},{"pos" if i % 2 else "neg"},"text, number {i}"\n' for i in range(20)))  # fmt: skip
    data = load_data(f"text:{tmp_path / 'a.csv'}")
    assert for_source(f"text:{tmp_path / 'a.csv'}") is Text and data.classes == ("neg", "pos")
    assert {k: len(v.y) for k, v in data.splits.items()} == {"train": 16, "val": 2, "test": 2}
    texts = {x: y for part in data.splits.values() for x, y in zip(part.x, part.y, strict=True)}
    assert texts["text, number 3"] == 1 and texts["text, number 4"] == 0
    (tmp_path / "b.tsv").write_text("label\ttext\n" + "x\tone\ny\ttwo\nx\tthree\n")
    assert load_data(f"text:{tmp_path / 'b.tsv'}").classes == ("x", "y")


@pytest.mark.parametrize("content,message", [
    ("words,label\nhi,a\n", "a.csv:1: the header must name a text column"),
    ("text,label\nhi,a\n,b\nho,a\n", "a.csv:3: empty text"),
    ("text,label\nhi,a\nho\n", "a.csv:3: expected 2 columns, got 1"),
    ("text,label\nhi,a\nho,a\nhu,a\n", "one label only ('a')"),
])  # fmt: skip
def test_bad_tables_name_the_file_and_line(tmp_path, content, message):
    (tmp_path / "a.csv").write_text(content)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_data(f"text:{tmp_path / 'a.csv'}")


def _write(folder, texts: dict[str, int]):
    for label, count in texts.items():
        (folder / label).mkdir(parents=True)
        for i in range(count):
            (folder / label / f"{i}_7.txt").write_text(f"{label} review {i}<br />more")


def test_label_folders_and_imdb_layout(tmp_path):
    _write(tmp_path / "flat", {"neg": 10, "pos": 10})
    flat = load_data(f"text:{tmp_path / 'flat'}")
    assert flat.classes == ("neg", "pos") and sum(len(p.y) for p in flat.splits.values()) == 20
    _write(tmp_path / "aclImdb" / "train", {"neg": 10, "pos": 10, "unsup": 5})
    _write(tmp_path / "aclImdb" / "test", {"neg": 3, "pos": 4})
    imdb = load_data(f"text:{tmp_path / 'aclImdb'}")
    assert imdb.classes == ("neg", "pos")  # unsup is in train only: not a class
    assert len(imdb.splits["test"].y) == 7  # the ready-made test split stays the test split
    assert len(imdb.splits["train"].y) + len(imdb.splits["val"].y) == 20


def test_tfds_imdb_reviews_goes_through_the_same_path():
    with tfds.testing.mock_data(num_examples=10):
        assert for_source("tfds:imdb_reviews") is Text
        data = load_data("tfds:imdb_reviews")
    assert data.classes == ("neg", "pos") and len(data.splits["test"].y) == 10
    assert isinstance(data.splits["train"].x[0], str)


@pytest.mark.slow
def test_chinese_characters_train_export_and_serve_raw_strings(tmp_path):
    """Character tokens need no segmenter; the export takes raw strings, any strings."""
    path = tmp_path / "reviews.tsv"
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in _reviews(240)))
    workdir, metrics = train_tiny(tmp_path, f"text:{path}", "text.tokens=char", "units=16",
                                  "epochs=12", "learning_rate=0.01")  # fmt: skip
    assert metrics["accuracy"] >= 0.9, metrics  # one character tells the label
    tokens = (workdir / "vocab" / "tokens.txt").read_text(encoding="utf-8").split()
    assert "好" in tokens and "差" in tokens
    texts = ["服务好", "味道差", "", "\udcff\udcfe坏", "好" * 5000]
    here = [r["label"] for r in predict(workdir / "export", texts[:2])]
    out = subprocess.run(
        [sys.executable, "-I", "-c", RELOAD, str(latest(workdir / "export")),
         json.dumps(texts, ensure_ascii=False)],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    fresh = json.loads(out.stdout.splitlines()[-1])
    assert fresh["label"][:2] == here == ["好评", "差评"]
    assert fresh["valid"] == [True] * 5 and all(fresh["label"])
