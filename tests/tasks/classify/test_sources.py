import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from common.errors import DataError
from tasks.base import hash_split
from tasks.classify import moving_shapes, ohlcv, regimes
from tasks.classify.modalities import Series, Video, for_source
from tasks.classify.modalities import video as video_module
from tasks.classify.modalities.video import FOLDER_READERS
from tasks.classify.windows import Windows
from tests.tasks.classify.data import load_cfg as data_cfg
from tests.tasks.classify.data import load_data

HEADER = "Date,Open,High,Low,Close,Volume"


def test_moving_shapes_are_deterministic_and_balanced():
    a, la = moving_shapes.generate(60, 6, 16, seed=0)
    b, lb = moving_shapes.generate(60, 6, 16, seed=0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert set(la.tolist()) == set(range(len(moving_shapes.CLASSES)))


def test_a_single_frame_looks_the_same_for_every_class():
    """Where the shape is, and how big, has one distribution in every class."""
    clips, labels = moving_shapes.generate(600, 8, 32, seed=1)
    bright = clips.max(-1) >= 90  # (clips, frames, h, w) shape pixels
    area = bright[:, 4].sum((1, 2))  # the middle frame's shape area
    column = (bright[:, 4].any(1) * np.arange(32)).sum(1) / np.maximum(
        bright[:, 4].any(1).sum(1), 1
    )
    for k in range(len(moving_shapes.CLASSES)):
        assert abs(np.median(area[labels == k]) - np.median(area)) < 0.25 * np.median(area)
        assert abs(column[labels == k].mean() - 15.5) < 3


def test_regime_windows_and_splits_are_chronological_per_series():
    data = load_data("regimes", "size=400", "window=20")
    assert for_source("regimes") is Series and data.classes == regimes.CLASSES
    train = data.splits["train"]
    assert train.x.shape[1:] == (20, 5) and (train.x[..., :4] > 0).all()
    linked = train.previous >= 0
    assert linked.any() and (train.previous[linked] == np.flatnonzero(linked) - 1).all()


def _csv(path, rows, header=HEADER):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def _rows(n, start=100.0, step=1.0, ticker=None):
    rows = []
    for i in range(n):
        day = np.datetime64("2024-01-01") + i
        price = start + step * i
        row = f"{day},{price},{price + 1},{price - 1},{price + 0.5},{1000 + i}"
        rows.append(f"{ticker},{row}" if ticker else row)
    return rows


def test_ohlcv_columns_in_any_order_and_case_with_tickers(tmp_path):
    rows = [",".join(r.split(",")[::-1]) for r in _rows(5)]
    path = _csv(tmp_path / "a.csv", rows, "VOLUME,close,Low,HIGH,open,date")
    ((dates, table),) = ohlcv.read(path).values()
    assert table.shape == (5, 5) and table[0].tolist() == [100, 101, 99, 100.5, 1000]
    many = _csv(tmp_path / "b.csv", _rows(4, ticker="AAA") + _rows(4, ticker="BBB"),
                "Ticker,Date,Open,High,Low,Close,Volume")  # fmt: skip
    assert sorted(ohlcv.read(many)) == ["AAA", "BBB"]


@pytest.mark.parametrize("row,message", [
    ("2024-01-09,nan,101,99,100,10", "a.csv:10: open is nan"),
    ("2024-01-09,100,inf,99,100,10", "a.csv:10: high is inf"),
    ("2024-01-09,100,101,0,100,10", "a.csv:10: low must be positive"),
    ("2024-01-09,-5,101,99,100,10", "a.csv:10: open must be positive"),
    ("2024-01-09,100,101,99,,10", "a.csv:10: close '' is not a number"),
    ("2024-01-09,100,101,99,100,-1", "a.csv:10: volume must be positive"),
    ("2024-01-08,100,101,99,100,10", "a.csv:10: date 2024-01-08 duplicates"),
    ("2024-01-02,100,101,99,100,10", "a.csv:10: date 2024-01-02 comes before"),
    ("09/01/2024,100,101,99,100,10", "a.csv:10: date '09/01/2024' is not YYYY-MM-DD"),
])  # fmt: skip
def test_ohlcv_bad_values_name_file_row_and_field(tmp_path, row, message):
    path = _csv(tmp_path / "a.csv", _rows(8) + [row])
    with pytest.raises(DataError, match=message):
        ohlcv.read(path)


def test_ohlcv_missing_columns_and_too_few_rows(tmp_path):
    with pytest.raises(DataError, match="missing column\\(s\\) volume"):
        ohlcv.read(_csv(tmp_path / "a.csv", ["2024-01-01,1,2,0.5,1"], HEADER[:-7]))
    with pytest.raises(DataError, match="6 rows, need at least window \\+ horizon = 8"):
        ohlcv.windows(np.ones((6, 5)), 5, 3, 0.01, "x.csv")


def test_ohlcv_labels_look_ahead_and_features_do_not():
    close = np.array([100, 100, 100, 100, 110, 100, 100, 90, 100, 100], float)
    table = np.stack([close, close, close, close, np.ones(10)], 1)
    starts, y, previous = ohlcv.windows(table, window=3, horizon=1, dead_zone=0.01, name="t")
    # Window i covers days i..i+2 and is labelled by day i+3 against day i+2.
    np.testing.assert_array_equal(Windows(table, starts, 3)[1, :, 3], close[1:4])
    assert y.tolist() == [1, 2, 0, 1, 0, 2, 1]
    assert previous.tolist() == [-1, 0, 1, 2, 3, 4, 5]  # the window whose label was known


def test_chronological_split_leaves_a_horizon_gap():
    parts = ohlcv.chronological(100, horizon=5)
    assert parts["val"][0] - parts["train"][-1] == 6 and parts["test"][0] - parts["val"][-1] == 6


def _frames_folder(root, clips_per_class=2, frames=5):
    for name in ("jump", "walk"):
        for c in range(clips_per_class):
            clip = root / name / f"clip{c}"
            clip.mkdir(parents=True)
            for f in range(frames):
                Image.new("RGB", (20, 16), (f * 30, 0, 0)).save(clip / f"{f:03d}.jpg")
    return root


def _read_frames(root, frames):
    listed, read = FOLDER_READERS["frames"]
    folders, labels, classes = listed(root)
    return np.concatenate(list(read(folders, frames, 8, 10**6))), labels, classes


def test_frame_folders_sample_frames_evenly(tmp_path):
    clips, labels, classes = _read_frames(_frames_folder(tmp_path, frames=9), 3)
    assert classes == ("jump", "walk") and labels.tolist() == [0, 0, 1, 1]
    assert clips.shape == (4, 3, 8, 8, 3)
    np.testing.assert_allclose(clips[0, :, 4, 4, 0], [0, 120, 240], atol=12)  # frames 0, 4, 8


@pytest.mark.parametrize("damage,message", [
    ("short", "clip1: 4 frames, need at least video.frames=5"),
    ("unreadable", "002.jpg: not a readable image"),
    ("empty_class", "run: empty class folder"),
])  # fmt: skip
def test_bad_frame_folders(tmp_path, damage, message):
    root = _frames_folder(tmp_path)
    if damage == "short":
        (root / "walk" / "clip1" / "004.jpg").unlink()
    elif damage == "unreadable":
        (root / "jump" / "clip0" / "002.jpg").write_text("no")
    else:
        (root / "run").mkdir()
    with pytest.raises(DataError, match=message):
        _read_frames(root, 5)


def test_tfds_video_source(monkeypatch):
    """Clips go to their split's row file a chunk at a time as TFDS gives them: the
    training split's labels in order, a tenth (by hash) carved out for validation."""
    monkeypatch.setattr(video_module, "CHUNK", 3)
    with tfds.testing.mock_data(num_examples=10):
        assert for_source("tfds:ucf101") is Video
        data = load_data("tfds:ucf101", "frames=4", "frame_size=8")
        labels = [int(ex["label"]) for ex in tfds.load("ucf101", split="train")]
    assert len(data.classes) == 101
    assert data.splits["train"].x.shape[1:] == (4, 8, 8, 3)
    held = [hash_split(f"#{i}", 0) == "val" for i in range(10)]
    for split, wanted in (("train", False), ("val", True)):
        expected = [y for y, h in zip(labels, held, strict=True) if h == wanted]
        part = data.splits[split]
        assert part.y.tolist() == expected and len(part.x) == len(expected)


def test_ohlcv_windows_are_places_in_the_rows_read_once(tmp_path):
    """The twin: each ticker's windows stacked as copies, split as before."""
    rows = _rows(40, ticker="AAA") + _rows(30, start=50.0, step=-0.5, ticker="BBB")
    path = _csv(tmp_path / "many.csv", rows, "Ticker," + HEADER)
    data = load_data(f"ohlcv:{path}", "series.window=5", "series.horizon=2")
    tables = [table for _, table in ohlcv.read(path).values()]
    for name, part in data.splits.items():
        assert isinstance(part.x, Windows) and part.x.rows.shape == (70, 5)  # every day once
        stacked = []
        for table in tables:
            starts, _, _ = ohlcv.windows(table, 5, 2, 0.01, "t")
            idx = ohlcv.chronological(len(starts), 2)[name]
            stacked += [table[s : s + 5] for s in starts[idx]]
        np.testing.assert_array_equal(np.asarray(part.x), np.stack(stacked).astype("float32"))
        batches = Series(data_cfg(f"ohlcv:{path}"), tmp_path).dataset(part, training=False)
        np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), np.stack(stacked))
    assert data.splits["train"].x.rows is data.splits["test"].x.rows
