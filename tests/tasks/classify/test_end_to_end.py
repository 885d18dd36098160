"""Both kinds of classify run through the real CLI, and their SavedModels reloaded."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pipelines import cli, run
from pipelines.inference import predict
from pipelines.versions import latest
from tests.tasks.classify.test_sources import HEADER

RELOAD = """
import importlib.util, json, sys
import numpy as np, tensorflow as tf
assert importlib.util.find_spec("pipelines") is None  # the project is not importable here
served = tf.saved_model.load(sys.argv[1])
fn = served.signatures["serving_default"]
name = next(iter(fn.structured_input_signature[1]))
out = fn(**{name: tf.constant(np.load(sys.argv[2]))})
print(json.dumps([l.decode() for l in out["label"].numpy()]))
"""


def _reload(export, batch, tmp_path):
    np.save(tmp_path / "batch.npy", batch)
    out = subprocess.run(
        [sys.executable, "-I", "-c", RELOAD, str(export), str(tmp_path / "batch.npy")],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


def train_tiny(tmp_path, data, *settings):
    workdir = tmp_path / "run"
    args = ["train", "--task", "classify", "--data", data, "--preset", "tiny",
            "--workdir", str(workdir)]  # fmt: skip
    for setting in settings:
        args += ["--set", setting]
    cli.main(args)
    return workdir, json.loads((workdir / "metrics.json").read_text())["test"]


@pytest.mark.slow
def test_video_trains_exports_and_serves_any_clip_size(tmp_path):
    workdir, metrics = train_tiny(tmp_path, "moving_shapes")
    assert {"accuracy", "macro_f1", "per_class", "majority_accuracy"} <= set(metrics)
    assert (workdir / "plots" / "confusion.png").exists()
    job = run.load_run(workdir)
    clips = job.modality.load(("test",)).splits["test"].x[:3]  # (3, 6, 16, 16, 3)
    folders = []
    for i, clip in enumerate(clips):
        folders.append(tmp_path / f"clip{i}")
        folders[-1].mkdir()
        for t, frame in enumerate(clip):
            Image.fromarray(frame).save(folders[-1] / f"{t:02d}.png")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "00.png").write_bytes(b"not a png")
    given = [str(folders[0]), str(tmp_path / "nowhere"), str(folders[1]),
             str(tmp_path / "broken"), str(folders[2])]  # fmt: skip
    records = list(predict(workdir / "export", given, batch_size=2))
    assert [r["input"] for r in records] == given
    assert "neither a folder of frames nor a video" in records[1]["error"]
    assert "not a readable image" in records[3]["error"]
    fresh = _reload(latest(workdir / "export"), clips, tmp_path)
    assert [records[i]["label"] for i in (0, 2, 4)] == fresh
    assert all(len(records[i]["probabilities"]) == len(job.classes) for i in (0, 2, 4))
    # Longer and larger clips are sampled and resized inside the graph.
    big = np.repeat(np.repeat(np.repeat(clips, 2, axis=1), 3, axis=2), 3, axis=3)
    assert len(_reload(latest(workdir / "export"), big, tmp_path)) == 3


def test_series_serving_flags_bad_windows_and_refuses_bad_shapes(tmp_path):
    workdir, metrics = train_tiny(tmp_path, "regimes")
    assert {"majority_accuracy", "same_as_last_accuracy"} <= set(metrics)
    assert (workdir / "plots" / "series.png").exists()
    served = tf.saved_model.load(str(latest(workdir / "export")))
    fn = served.signatures["serving_default"]
    good = np.full((12, 5), 100.0, np.float32)
    bad = [good.copy() for _ in range(4)]
    bad[0][3, 3], bad[1][5, 0], bad[2][2, 2], bad[3][7, 4] = np.nan, -1.0, 0.0, -5.0
    out = fn(windows=tf.constant(np.stack([good, *bad])))
    assert out["valid"].numpy().tolist() == [True, False, False, False, False]
    assert [x.decode() for x in out["label"].numpy()[1:]] == ["", "", "", ""]
    assert np.allclose(out["probabilities"].numpy()[1:], 0) and np.isclose(
        out["probabilities"].numpy()[0].sum(), 1
    )
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        fn(windows=tf.constant(np.ones((1, 7, 5), np.float32)))  # wrong window length
    job = run.load_run(workdir)
    windows = job.modality.load(("test",)).splits["test"].x[:4]
    in_process = [x.decode() for x in fn(windows=tf.constant(windows))["label"].numpy()]
    assert _reload(latest(workdir / "export"), windows, tmp_path) == in_process


def test_a_small_ohlcv_csv_trains_evaluates_against_baselines_and_exports(tmp_path):
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 300)))
    rows = [
        f"{np.datetime64('2020-01-01') + i},{c * 0.99},{c * 1.02},{c * 0.97},{c},{1e6 + i}"
        for i, c in enumerate(close)
    ]
    csv = tmp_path / "prices.csv"
    csv.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    workdir, metrics = train_tiny(tmp_path, f"ohlcv:{csv}", "series.horizon=3")
    test = run.load_run(workdir).modality.load(("test",)).splits["test"]
    majority = json.loads((workdir / "vocab" / "classes.json").read_text())["majority"]
    # a window's "last" is the one whose outcome was known when it ended: horizon back
    assert (test.previous[3:] == np.arange(len(test.y) - 3)).all() and metrics["examples"] > 20
    last = np.where(test.previous >= 0, test.y[test.previous], majority)
    assert metrics["same_as_last_accuracy"] == round(float(np.mean(last == test.y)), 4)
    (record,) = predict(workdir / "export", [str(csv)])
    assert record["label"] in ("down", "flat", "up") and len(record["probabilities"]) == 3


@pytest.mark.slow
@pytest.mark.parametrize("shuffle", [False, True])
def test_shuffled_training_labels_fall_to_the_baseline(tmp_path, shuffle):
    """The leakage check: nothing but the labels can carry the answer."""
    _, metrics = train_tiny(tmp_path, "regimes", "size=1200", "window=30", "units=32",
                        "series.projection=16", "epochs=8", "batch_size=32",
                        f"shuffle_labels={shuffle}")  # fmt: skip
    if shuffle:
        assert metrics["accuracy"] <= metrics["majority_accuracy"] + 0.15
    else:
        assert metrics["accuracy"] >= 0.8


@pytest.mark.slow
def test_a_per_frame_model_stays_near_chance_where_the_lstm_learns(tmp_path):
    """The label of a moving_shapes clip cannot be read off one frame (about 85 s)."""
    accuracy = {}
    for encoder in ("lstm", "frame"):
        workdir = tmp_path / encoder
        run.train("classify", None, "default", (f"encoder={encoder}", "size=2000",
                  "epochs=15", "patience=0"), workdir)  # fmt: skip
        accuracy[encoder] = json.loads((workdir / "metrics.json").read_text())["test"]["accuracy"]
    assert accuracy["frame"] < 1 / 6 + 0.1 and accuracy["lstm"] > 0.5, accuracy
