"""The tiny caption preset through the real CLI, and its SavedModel in a fresh process."""

import csv
import io
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import sacrebleu
import tensorflow as tf
from PIL import Image

from pipelines import cli, run
from pipelines.inference import predict
from tasks.caption import metrics as caption_metrics
from tasks.caption import sources

pytestmark = pytest.mark.slow  # tiny runs end to end: `make test-all`

RELOAD = """
import importlib.util, json, pathlib, sys
import tensorflow as tf
assert importlib.util.find_spec("pipelines") is None  # the project is not importable here
served = tf.saved_model.load(sys.argv[1])
images = tf.constant([pathlib.Path(p).read_bytes() for p in sys.argv[2:]])
out = served.signatures["serving_default"](images=images)
print(json.dumps([[c.decode(), round(float(s), 3)]
                  for c, s in zip(out["caption"].numpy(), out["score"].numpy())]))
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run") / "caption"
    cli.main(["train", "--task", "caption", "--preset", "tiny", "--workdir", str(workdir),
              "--set", "train.epochs=3", "--set", "train.learning_rate=0.01"])  # fmt: skip
    return workdir


@pytest.fixture(scope="module")
def test_images(tiny_run, tmp_path_factory):
    """The first test-split scenes of the run, written as PNG and JPEG files."""
    job = run.load_run(tiny_run)
    (test,) = sources.load(job.cfg.data, ("test",)).values()
    folder = tmp_path_factory.mktemp("images")
    paths = []
    for i, example in enumerate(test[:3]):
        paths.append(folder / f"scene{i}.png")
        Image.fromarray(example.image).save(paths[-1])
    Image.fromarray(test[0].image).convert("L").save(folder / "gray.jpg")
    Image.new("RGBA", (3000, 2000), (200, 30, 30, 255)).save(folder / "huge.png")
    return paths, [folder / "gray.jpg", folder / "huge.png"]


def test_train_writes_metrics_and_pictures(tiny_run):
    for name in (
        "plots/captions.png",
        "plots/attention_0.png",
        "plots/history.png",
        "vocab/captions.txt",
        "export/1/saved_model.pb",
        "checkpoints/best.keras",
    ):
        assert (tiny_run / name).exists(), name  # fmt: skip
    metrics = json.loads((tiny_run / "metrics.json").read_text())["test"]
    assert metrics["images"] == 6 and metrics["blind_caption"].startswith("a ")
    # The scores are the export's captions of the test images against their references.
    job = run.load_run(tiny_run)
    (test,) = sources.load(job.cfg.data, ("test",)).values()
    served = tf.saved_model.load(str(tiny_run / "export" / "1")).signatures["serving_default"]
    captions = served(images=tf.constant(job.serving_inputs("test")))["caption"].numpy()
    references = [e.captions for e in test]
    scores = caption_metrics.coco_scores(references, [c.decode() for c in captions])
    blind = caption_metrics.coco_scores(references, [metrics["blind_caption"]] * len(test))
    for key in ("bleu1", "bleu4", "cider", "rouge_l"):
        assert metrics[key] == round(scores[key], 4), key
        assert metrics[f"blind_{key}"] == round(blind[key], 4), key
    streams = [[r[k] for r in references] for k in range(5)]  # five references an image
    bleu = sacrebleu.BLEU(lowercase=True).corpus_score([c.decode() for c in captions], streams)
    assert metrics["sacrebleu_lc"] == round(bleu.score, 4)


def test_the_best_checkpoint_is_the_best_validation_cider(tiny_run):
    """Selection follows CIDEr-D of captions, not the loss: the checkpoint kept is the
    epoch of the highest `val_cider`, and scoring it again gives that CIDEr-D."""
    with open(tiny_run / "history.csv") as f:
        ciders = [float(row["val_cider"]) for row in csv.DictReader(f)]
    assert len(ciders) == 3
    job = run.load_run(tiny_run)
    job.val = sources.load(job.cfg.data, ("val",))["val"]
    model = keras.saving.load_model(tiny_run / run.CHECKPOINT, safe_mode=True)
    (score,) = job.callbacks(model)
    assert score.score(model) == pytest.approx(max(ciders), abs=1e-6)


def test_predict_and_a_fresh_process_agree_with_evaluation(tiny_run, test_images, tmp_path):
    pngs, others = test_images
    records = list(predict(tiny_run / "export", [str(p) for p in pngs + others]))
    fresh = subprocess.run(
        [sys.executable, "-I", "-c", RELOAD, str(tiny_run / "export" / "1"),
         *map(str, pngs + others)],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    reloaded = json.loads(fresh.stdout.splitlines()[-1])
    assert [[r["caption"], round(r["score"], 3)] for r in records] == reloaded
    # PNG is lossless, so the export sees the pixels evaluation saw: same captions.
    samples = json.loads((tiny_run / "metrics.json").read_text())["test"]["samples"]
    assert [r["caption"] for r in records[:3]] == [s["output"] for s in samples[:3]]


def test_serving_flags_bad_bytes_and_captions_the_rest(tiny_run, test_images):
    served = tf.saved_model.load(str(tiny_run / "export" / "1"))
    good = test_images[0][0].read_bytes()
    truncated = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
        truncated, format="JPEG"
    )
    alone = served.signatures["serving_default"](images=tf.constant([good]))["caption"][0]
    for bad in (b"", b"not an image at all", truncated.getvalue()[:400]):
        out = served.signatures["serving_default"](images=tf.constant([good, bad]))
        assert out["valid"].numpy().tolist() == [True, False]
        assert out["caption"].numpy().tolist() == [alone.numpy(), b""]
        assert out["score"].numpy()[1] == 0.0
    out = served.signatures["greedy"](images=tf.constant([good]))
    assert out["caption"].shape == (1,)


def test_predict_reports_bad_files_on_their_lines_and_goes_on(tiny_run, test_images, tmp_path,
                                                             capsys):  # fmt: skip
    good = [str(p) for p in test_images[0][:2]]
    (tmp_path / "notes.png").write_text("not an image")
    given = [good[0], "nope.png", str(tmp_path / "notes.png"), str(tmp_path), "", good[1]]
    (tmp_path / "in.txt").write_text("\n".join(given) + "\n")
    with pytest.raises(SystemExit) as stop:
        cli.main(["predict", "--model", str(tiny_run / "export"), "--batch-size", "2",
                  "--input", str(tmp_path / "in.txt")])  # fmt: skip
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert stop.value.code == 2 and "4 input(s) refused" in err and "line 2, 3, 4, 5 " in err
    assert [r["input"] for r in records] == given
    assert records[1] == {"input": "nope.png", "error": "nope.png: No such file or directory"}
    assert records[2]["error"].endswith("not a readable image (JPEG, PNG, GIF or BMP) within "
                                        "data.max_pixels")  # fmt: skip
    assert records[3]["error"] == f"{tmp_path}: Is a directory"
    assert records[4]["error"].startswith("an empty input: not a readable image")
    assert [r["caption"] for r in records[::5]] == [
        r["caption"] for r in predict(tiny_run / "export", good)
    ]


def test_a_tiny_flickr_folder_trains_evaluates_and_exports(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    rows = ["image,caption"]
    for i in range(12):
        colour = ("red", "green", "blue")[i % 3]
        pixels = np.zeros((48, 40, 3), np.uint8)
        pixels[..., i % 3] = 200 + rng.integers(0, 50)
        Image.fromarray(pixels).save(tmp_path / "images" / f"{i}.jpg")
        rows += [f"{i}.jpg,A {colour} picture.", f"{i}.jpg,Everything is {colour}."]
    (tmp_path / "captions.txt").write_text("\n".join(rows) + "\n")
    workdir = run.train("caption", f"folder:{tmp_path}", "tiny", (), tmp_path / "run")
    assert json.loads((workdir / "metrics.json").read_text())["test"]["images"] == 1
    (record,) = predict(workdir / "export", [str(tmp_path / "images" / "0.jpg")])
    assert set(record) == {"input", "caption", "score"}


def test_cached_features_train_the_decoder_and_export_the_whole_captioner(tmp_path):
    workdir = run.train("caption", None, "tiny", ("freeze_backbone=true", "cache_features=true"),
                        tmp_path / "cached")  # fmt: skip
    assert (workdir / "checkpoints" / "encoder.weights.h5").exists()
    fitted = keras.saving.load_model(workdir / "checkpoints" / "best.keras", safe_mode=True)
    assert [i.name for i in fitted.inputs] == ["grid", "pooled", "caption_in"]
    job = run.load_run(workdir)
    image = sources.load(job.cfg.data, ("test",))["test"][0].image
    Image.fromarray(image).save(tmp_path / "scene.png")
    (record,) = predict(workdir / "export", [str(tmp_path / "scene.png")])
    caption = record["caption"]
    samples = json.loads((workdir / "metrics.json").read_text())["test"]["samples"]
    assert caption == samples[0]["output"]


def test_cached_features_need_a_frozen_backbone(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--task", "caption", "--preset", "tiny", "--workdir",
                  str(tmp_path), "--set", "cache_features=true"])  # fmt: skip
    assert "cache_features needs model.freeze_backbone=true" in capsys.readouterr().err
