"""Plain text classification: the `text:` and `tfds:` sources, and raw strings served."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds

from common.errors import DataError
from pipelines.inference import predict
from pipelines.versions import latest
from tasks import text
from tasks.base import SPLITS, hash_split
from tasks.classify.modalities import Text, for_source
from tasks.string_rows import StringRows
from tests.tasks.classify.data import load_cfg, load_data
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
        f'{i},{"pos" if i % 2 else "neg"},"text, number {i}"\n' for i in range(60)))  # fmt: skip
    data = load_data(f"text:{tmp_path / 'a.csv'}")
    assert for_source(f"text:{tmp_path / 'a.csv'}") is Text and data.classes == ("neg", "pos")
    for name, part in data.splits.items():  # each text in the split its hash gives
        assert len(part.y) and {hash_split(x, 0) for x in part.x} == {name}
    texts = {x: y for part in data.splits.values() for x, y in zip(part.x, part.y, strict=True)}
    assert len(texts) == 60 and texts["text, number 3"] == 1 and texts["text, number 4"] == 0
    (tmp_path / "b.tsv").write_text("label\ttext\n" + "".join(f"x\tone {i}\ny\ttwo {i}\n"
                                                                for i in range(20)))  # fmt: skip
    assert load_data(f"text:{tmp_path / 'b.tsv'}").classes == ("x", "y")


def test_texts_stream_into_a_file_read_a_batch_at_a_time(tmp_path, monkeypatch):
    """The twin: the file read whole with `csv`, each row to the split its hash gives;
    quoted texts over several lines, and chunks smaller than the file."""
    monkeypatch.setattr(text, "CHUNK", 7)
    rows = [(f'review {i}{chr(10) + "more" if i % 9 == 0 else ""}, "quoted"', f"c{i % 3}")
            for i in range(120)]  # fmt: skip
    with (tmp_path / "a.csv").open("w", newline="") as file:
        csv.writer(file).writerows([("text", "label"), *rows])
    data = load_data(f"text:{tmp_path / 'a.csv'}", workdir=tmp_path / "run")
    assert data.classes == ("c0", "c1", "c2")
    for name in SPLITS:
        twin = [(t, int(y[1])) for t, y in rows if hash_split(t, 0) == name]
        part = data.splits[name]
        assert isinstance(part.x, StringRows) and len(twin) == len(part.x) > 0
        assert list(zip(part.x, part.y.tolist(), strict=True)) == twin
        batches = Text(load_cfg(f"text:{tmp_path / 'a.csv'}"), tmp_path).dataset(part, False)
        read = [(t.decode(), int(y)) for xs, ys in batches
                for t, y in zip(xs.numpy(), ys.numpy(), strict=True)]  # fmt: skip
        assert read == twin  # batch by batch, as the file gives them
    assert not list((tmp_path / "run" / "cache").iterdir())  # unlinked: nothing left behind


@pytest.mark.parametrize("content,message", [
    ("words,label\nhi,a\n", "a.csv:1: the header must name a text column"),
    ("text,label\nhi,a\n,b\nho,a\n", "a.csv:3: empty text"),
    ("text,label\nhi,a\nho\n", "a.csv:3: expected 2 columns, got 1"),
    ("text,label\nhi,a\nho,a\nhu,a\n", "one label only ('a')"),
    ("text,label\nhi,a\nho,b\n", "the (val|test) split is empty"),
])  # fmt: skip
def test_bad_tables_name_the_file_and_line(tmp_path, content, message):
    (tmp_path / "a.csv").write_text(content)
    with pytest.raises(DataError, match=message.replace("('", r"\('").replace("')", r"'\)")):
        load_data(f"text:{tmp_path / 'a.csv'}")


def _write(folder, texts: dict[str, int]):
    for label, count in texts.items():
        (folder / label).mkdir(parents=True)
        for i in range(count):
            (folder / label / f"{i}_7.txt").write_text(f"{label} review {i}<br />more")


def test_label_folders_and_imdb_layout(tmp_path):
    _write(tmp_path / "flat", {"neg": 30, "pos": 30})
    flat = load_data(f"text:{tmp_path / 'flat'}")
    assert flat.classes == ("neg", "pos") and sum(len(p.y) for p in flat.splits.values()) == 60
    _write(tmp_path / "aclImdb" / "train", {"neg": 30, "pos": 30, "unsup": 5})
    _write(tmp_path / "aclImdb" / "test", {"neg": 3, "pos": 4})
    imdb = load_data(f"text:{tmp_path / 'aclImdb'}")
    assert imdb.classes == ("neg", "pos")  # unsup is in train only: not a class
    assert len(imdb.splits["test"].y) == 7  # the ready-made test split stays the test split
    assert len(imdb.splits["train"].y) + len(imdb.splits["val"].y) == 60
    assert {hash_split(x, 0) for x in imdb.splits["val"].x} == {"val"}


def test_tfds_imdb_reviews_goes_through_the_same_path():
    with tfds.testing.mock_data(num_examples=30):
        assert for_source("tfds:imdb_reviews") is Text
        data = load_data("tfds:imdb_reviews")
    assert data.classes == ("neg", "pos") and len(data.splits["test"].y) == 30
    assert len(data.splits["train"].y) + len(data.splits["val"].y) == 30
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
