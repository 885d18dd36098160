"""Tree classification through the real CLI; the SavedModel parses raw strings."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from pipelines import cli, run, settings
from pipelines.inference import predict
from pipelines.versions import latest
from tasks import trees
from tasks.classify import listops
from tasks.classify.config import PRESETS
from tasks.classify.task import ClassifyTask
from tests.tasks.classify.test_end_to_end import train_tiny
from tests.tasks.classify.test_tree_sources import SST_LINES, write_sst

RELOAD = """
import importlib.util, json, sys
import tensorflow as tf
assert importlib.util.find_spec("pipelines") is None  # the project is not importable here
fn = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
out = {}
for name, batch in json.loads(sys.argv[2]).items():
    got = fn(trees=tf.constant(batch, tf.string))
    out[name] = {k: v.numpy().tolist() for k, v in got.items() if k != "probabilities"}
    out[name]["shape"] = got["probabilities"].shape.as_list()
print(json.dumps(out, default=lambda b: b.decode("utf-8", "replace")))
"""
HOSTILE = ["", "( 1", "1 ) (", "( ( ) 1 )", "\udcff".encode("utf-8", "surrogatepass").decode(
    "utf-8", "replace"), "( " * 3000 + "1" + " )" * 3000]  # fmt: skip


def _reload(export, batches: dict, tmp_path) -> dict:
    out = subprocess.run(
        [sys.executable, "-I", "-c", RELOAD, str(latest(export)), json.dumps(batches)],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.slow
def test_listops_treelstm_exports_a_parser_that_never_crashes(tmp_path):
    workdir, metrics = train_tiny(tmp_path, "listops", "encoder=treelstm")
    job = run.load_run(workdir)
    test = job.modality.load(("test",)).splits["test"]
    labels = [r["label"] for r in predict(workdir / "export", list(test.x))]
    right = np.mean([label == str(y) for label, y in zip(labels, test.y, strict=True)])
    assert metrics["examples"] == 40 and metrics["accuracy"] == round(right, 4)
    trees = test.x[:6].tolist()
    model = keras.saving.load_model(workdir / "checkpoints" / "best.keras", safe_mode=True)
    here = job.serving(model)(np.array(trees))
    fresh = _reload(workdir / "export", {"good": trees, "bad": HOSTILE, "none": []}, tmp_path)
    assert fresh["good"]["label"] == [b.decode() for b in here["label"].numpy()]
    assert all(fresh["good"]["valid"]) and fresh["good"]["error"] == [""] * 6
    bad = fresh["bad"]
    assert bad["valid"] == [False] * 4 + [True, True]  # one unknown word; a deep tree
    assert bad["label"][:4] == [""] * 4 and bad["label"][4] in "0123456789"
    assert bad["error"][:4] == ["empty tree", "unbalanced brackets", "unbalanced brackets",
                                "empty brackets ()"]  # fmt: skip
    assert fresh["none"]["shape"] == [0, 10]
    records = list(predict(workdir / "export", [trees[0], "( 1"]))
    assert records[0]["label"] == fresh["good"]["label"][0]
    assert len(records[0]["probabilities"]) == 10
    assert records[1] == {"input": "( 1", "error": "invalid input: unbalanced brackets"}


@pytest.mark.slow
def test_eval_and_export_of_a_listops_run_generate_no_training_trees(tmp_path, monkeypatch):
    """Export needs nothing but the trained run; eval makes only the held-out trees."""
    workdir, metrics = train_tiny(tmp_path, "listops", "encoder=treelstm")
    drawn = []
    original = listops.generate
    monkeypatch.setattr(listops, "generate", lambda size, *a, **k: drawn.append(size)
                        or original(size, *a, **k))  # fmt: skip
    again = run.export(workdir, tmp_path / "again")
    assert drawn == [] and (again / "saved_model.pb").exists() and again.name == "1"
    assert run.evaluate(workdir, "test")["accuracy"] == metrics["accuracy"]
    assert drawn == [40, 40 + 40]  # the tiny preset's val trees, then its test trees


@pytest.mark.slow
def test_listops_lstm_reads_the_flattened_tree(tmp_path):
    """Trained on expressions of at most 20 tokens, it is tested on every length, and
    the accuracy on the longer ones is reported apart."""
    workdir, metrics = train_tiny(tmp_path, "listops", "encoder=bilstm", "trees.max_length=20")
    assert metrics["examples"] == 40
    test = run.load_run(workdir).modality.load(("test",)).splits["test"]
    longer = [listops.length_and_depth(x)[0] > 20 for x in test.x]
    labels = [r["label"] for r in predict(workdir / "export", list(test.x))]
    right = [label == str(y) for label, y, long in zip(labels, test.y, longer, strict=True) if long]
    assert metrics["longer_examples"] == sum(longer) > 0
    assert metrics["longer_accuracy"] == pytest.approx(np.mean(right), abs=1e-4)
    out = _reload(workdir / "export", {"good": ["( ( ( [MAX 2 ) 9 ) ] )"]}, tmp_path)
    assert out["good"]["valid"] == [True] and out["good"]["label"][0] in "0123456789"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fine", "binary"])
def test_sst_every_node_supervised_with_frozen_pretrained_vectors(tmp_path, mode):
    folder = write_sst(tmp_path / "sst", SST_LINES * 8)
    vectors = {"It": [0.5, -1.0, 0.25], "film": [1.0, 2.0, 3.0], ".": [0.0, 0.5, 1.0]}
    glove = tmp_path / "glove.txt"
    glove.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors.items()))
    workdir, metrics = train_tiny(tmp_path, f"sst:{folder}", "encoder=treelstm", "node_labels=true",
                              f"sst_mode={mode}", f"embeddings={glove}",
                              "freeze_embeddings=true")  # fmt: skip
    assert metrics["examples"] == (40 if mode == "fine" else 32)
    model = keras.saving.load_model(workdir / "checkpoints" / "best.keras", safe_mode=True)
    vocabulary = model.get_layer("lookup").get_vocabulary()
    table = model.get_layer("embedding").get_weights()[0]  # (vocab + 2, 3), kept frozen
    for word, vector in vectors.items():
        np.testing.assert_allclose(table[vocabulary.index(word)], vector)
    out = _reload(workdir / "export", {"trees": SST_LINES[:2] + ["(2 (2 unseen) (2 words))"]},
                  tmp_path)  # fmt: skip
    assert out["trees"]["valid"] == [True] * 3
    assert out["trees"]["shape"] == [3, 5 if mode == "fine" else 2]


def _nary_tree(rng: np.random.Generator, depth: int) -> tuple[str, int]:
    """A labelled tree with 1-4 children a node; a word `wK` has label K (0-4), and a
    phrase the largest label of its children: a function of any number of children."""
    if depth == 0 or rng.random() < 0.3:
        label = int(rng.integers(0, 5))
        return f"({label} w{label})", label
    kids = [_nary_tree(rng, depth - 1) for _ in range(int(rng.integers(1, 5)))]
    label = max(k[1] for k in kids)
    return f"({label} {' '.join(k[0] for k in kids)})", label


@pytest.mark.slow
def test_child_sum_learns_a_function_of_any_number_of_children(tmp_path, capsys):
    """Dependency-shaped trees (a node has 1-4 children) in SST's bracketed format:
    the Child-Sum cell reads them; the binary N-ary cell refuses them by file and line."""
    rng = np.random.default_rng(0)
    folder = write_sst(tmp_path / "nary", [_nary_tree(rng, 3)[0] for _ in range(300)])
    for name in ("dev.txt", "test.txt"):
        (folder / name).write_text("\n".join(_nary_tree(rng, 3)[0] for _ in range(60)) + "\n")
    workdir, metrics = train_tiny(tmp_path, f"sst:{folder}", "encoder=treelstm", "tree=childsum",
                                  "node_labels=true", "units=16", "epochs=12",
                                  "learning_rate=0.02")  # fmt: skip
    assert metrics["accuracy"] >= 0.85 and metrics["all_node_accuracy"] >= 0.85, metrics
    with pytest.raises(SystemExit):
        cli.main(["train", "--task", "classify", "--preset", "tiny", "--workdir",
                  str(tmp_path / "binary"), "--data", f"sst:{folder}", "--set",
                  "encoder=treelstm", "--set", "tree=nary"])  # fmt: skip
    assert "train.txt:" in capsys.readouterr().err


def test_all_node_loss_of_a_tiny_tree_is_the_mean_over_its_labelled_nodes(tmp_path):
    """Every labelled node counts in the loss, padding and (binary) neutral ones not."""
    cfg = settings.resolve(PRESETS, "tiny", [f"data.source=sst:{write_sst(tmp_path / 's')}",
                                             "encoder=treelstm", "node_labels=true"])  # fmt: skip
    job = ClassifyTask(cfg, tmp_path / "run")
    splits = job.prepare()
    model = job.build_model()
    inputs, labels, weights = next(iter(splits.test))
    probabilities = np.asarray(model(inputs))  # (B, N, 5)
    picked = np.take_along_axis(probabilities, labels.numpy()[..., None], -1)[..., 0]
    mask = weights.numpy()
    expected = -(np.log(picked) * mask).sum() / mask.size  # Keras: the mean over all entries
    model.compile(**job.compile_args())  # the task's own loss
    loss = model.compute_loss(y=labels, y_pred=probabilities, sample_weight=weights)
    assert float(loss) == pytest.approx(expected, rel=1e-4)
    nodes = [len(trees.words(t, True)) * 2 - 1 for t in SST_LINES]  # binary trees
    assert sorted(mask.sum(1).astype(int).tolist()) == sorted(nodes)
