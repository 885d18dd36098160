"""The tiny preset through the real CLI: train -> eval -> export -> predict -> reload."""

import csv
import json
import shutil
import subprocess
import sys

import keras
import pytest
import sacrebleu
import tensorflow as tf

from pipelines import cli, run
from pipelines.inference import predict
from tasks.base import hash_split
from tasks.translate import sources

pytestmark = pytest.mark.slow  # tiny runs end to end: `make test-all`

RELOAD = """
import importlib.util, json, sys
import tensorflow as tf
import tensorflow_text  # as the export's README.txt says: its ops are in the graph
assert importlib.util.find_spec("pipelines") is None  # the project is not importable here
served = tf.saved_model.load(sys.argv[1])
inputs = tf.constant([s.encode("latin-1") for s in json.loads(sys.argv[2])])
out = {}
for name in ("serving_default", "greedy"):
    result = served.signatures[name](sentences=inputs)
    out[name] = [[t.decode("utf-8"), round(float(s), 3)]
                 for t, s in zip(result["translation"].numpy(), result["score"].numpy())]
best = served.signatures["nbest"](sentences=inputs)
out["nbest"] = [[[t.decode("utf-8") for t in row], [round(float(s), 3) for s in scores]]
                for row, scores in zip(best["translations"].numpy(), best["scores"].numpy())]
scored = served.signatures["score"](sources=inputs, targets=tf.constant(
    [t.encode("utf-8") for t, _ in out["serving_default"]]))
out["score"] = [round(float(s), 3) for s in scored["score"].numpy()]
print(json.dumps(out))
"""

# Raw inputs as latin-1 code points so that invalid UTF-8 bytes survive the JSON trip.
BAD = ["", "   ", "zzz qqq xyzzy", "the dog " * 40, "the \xff\xfe dog sees a cat"]


def _reload_in_fresh_process(export, inputs, tmp_path):
    out = subprocess.run(
        [sys.executable, "-I", "-c", RELOAD, str(export), json.dumps(inputs)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run") / "translate"
    cli.main(
        [
            "train",
            "--task",
            "translate",
            "--preset",
            "tiny",
            "--workdir",
            str(workdir),
            "--set",
            "train.epochs=3",
            "--set",
            "train.learning_rate=0.01",
        ]
    )
    return workdir


def test_train_writes_the_run_directory(tiny_run):
    for name in (
        "config.json",
        "checkpoints/best.keras",
        "history.csv",
        "metrics.json",
        "plots/history.png",
        "plots/attention_0.png",
        "vocab/source.txt",
        "export/1/saved_model.pb",
        "export/1/pipeline.json",
    ):
        assert (tiny_run / name).exists(), name
    assert any((tiny_run / "logs").rglob("events.out.tfevents.*"))
    assert len((tiny_run / "history.csv").read_text().splitlines()) == 4  # header + 3 epochs
    metrics = json.loads((tiny_run / "metrics.json").read_text())["test"]
    assert metrics["bleu_signature"].startswith("nrefs:1|case:mixed")  # cased: the headline
    assert metrics["bleu_lc_signature"].startswith("nrefs:1|case:lc")
    assert len(metrics["samples"]) == 5
    # The score is the export's translations of the test split against its references.
    pairs = list(sources.read(run.load_run(tiny_run).cfg.data, "test"))
    hypotheses = [r["translation"] for r in predict(tiny_run / "export", [p.source for p in pairs])]
    bleu = sacrebleu.BLEU().corpus_score(hypotheses, [[p.target for p in pairs]])
    assert metrics["bleu"] == round(bleu.score, 2) and metrics["examples"] == len(pairs)


def test_the_best_checkpoint_is_the_best_validation_bleu(tiny_run):
    """Selection follows BLEU of translations, not the loss: the checkpoint kept is the
    epoch of the highest `val_bleu`, and scoring it again gives that BLEU."""
    with open(tiny_run / "history.csv") as f:
        history = list(csv.DictReader(f))
    bleus = [float(row["val_bleu"]) for row in history]
    job = run.load_run(tiny_run)
    model = keras.saving.load_model(tiny_run / run.CHECKPOINT, safe_mode=True)
    (score,) = job.callbacks(model)
    assert score.score(model) == pytest.approx(max(bleus), abs=1e-6)


def test_eval_prints_scores_and_samples(tiny_run, capsys):
    cli.main(["eval", "--workdir", str(tiny_run)])
    out = capsys.readouterr().out
    assert "bleu:" in out and "chrf:" in out and "references:" in out


def test_export_reloads_in_a_fresh_process_with_the_same_answers(tiny_run, tmp_path):
    cli.main(["export", "--workdir", str(tiny_run), "--out", str(tmp_path / "export")])
    export = tmp_path / "export" / "1"
    sentences = ["the dog sees a cat", "some happy kings do not follow the old horse"]
    predicted = [[r["translation"], round(r["score"], 3)] for r in predict(export, sentences)]
    fresh = _reload_in_fresh_process(export, sentences, tmp_path)
    assert predicted == fresh["serving_default"]
    assert any(t for t, _ in fresh["serving_default"])  # it translates to something
    # Python-side evaluation decodes through the same function as the export.
    samples = json.loads((tiny_run / "metrics.json").read_text())["test"]["samples"]
    again = predict(export, [s["source"] for s in samples])
    assert [r["translation"] for r in again] == [s["output"] for s in samples]


def test_predict_writes_a_json_line_per_input_in_order(tiny_run, tmp_path, capsys):
    sentences = ["the dog sees a cat", "", "some happy kings", "the cat", "a horse"]
    (tmp_path / "in.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    cli.main(["predict", "--workdir", str(tiny_run), "--input", str(tmp_path / "in.txt"),
              "--out", str(tmp_path / "out.jsonl"), "--batch-size", "2"])  # fmt: skip
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["input"] for r in written] == sentences and written[1]["translation"] == ""
    assert written == list(predict(tiny_run / "export", sentences, batch_size=5))
    cli.main(["predict", "--workdir", str(tiny_run), *sentences[:2]])  # to stdout
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == written[:2]


def test_predict_reads_its_inputs_a_batch_at_a_time(tiny_run):
    """However many inputs come, no more than a batch of them is held at once."""
    pulled = []

    def endless():
        while True:
            pulled.append(len(pulled))
            yield "the dog sees a cat"

    records = predict(tiny_run / "export", endless(), batch_size=3)
    first = [next(records) for _ in range(4)]
    assert len(pulled) == 6 and len({r["translation"] for r in first}) == 1


def test_exports_are_numbered_versions_and_predict_reads_the_latest(tiny_run, tmp_path):
    base = tmp_path / "served"
    first = run.export(tiny_run, base)
    assert first == base.resolve() / "1" and run.export(tiny_run, base) == first  # unchanged
    older = json.loads((first / "pipeline.json").read_text())
    (first / "pipeline.json").write_text(json.dumps({**older, "of": "an older checkpoint"}))
    kept = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
    second = run.export(tiny_run, base)
    assert second.name == "2" and {p: p.read_bytes() for p in kept} == kept  # 1 untouched
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]
    shutil.rmtree(second / "variables")  # a broken latest version is what predict reads
    with pytest.raises(Exception, match="variables"):
        list(predict(base, ["the dog"]))
    assert list(predict(first, ["the dog"]))[0]["input"] == "the dog"  # a version by name


def test_nbest_and_score_signatures_in_a_fresh_process(tiny_run, tmp_path):
    sentences = ["the dog sees a cat", "some happy kings do not follow the old horse"]
    fresh = _reload_in_fresh_process(tiny_run / "export" / "1", sentences, tmp_path)
    for (best, score), (found, scores), logp in zip(fresh["serving_default"], fresh["nbest"],
                                                    fresh["score"], strict=True):  # fmt: skip
        assert len(found) == 2 and found[0] == best and scores[0] == score  # tiny beam: 2
        assert scores[0] >= scores[1]
        assert logp < 0  # a log-probability of the translation, the end token included
    (record,) = predict(tiny_run / "export", sentences[:1], n_best=2)
    assert record["translations"] == fresh["nbest"][0][0]
    assert [round(s, 3) for s in record["scores"]] == fresh["nbest"][0][1]


def test_a_plain_process_is_told_what_the_export_needs(tiny_run, tmp_path):
    """Without tensorflow_text imported, loading fails on its ops; the export says so."""
    plain = RELOAD.replace("import tensorflow_text", "pass")
    out = subprocess.run([sys.executable, "-I", "-c", plain, str(tiny_run / "export" / "1"), "[]"],
                         cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert out.returncode != 0 and "Op type not registered" in out.stderr
    note = (tiny_run / "export" / "1" / "README.txt").read_text()
    assert "import tensorflow_text" in note and "pip install tensorflow-text==" in note


def test_serving_survives_bad_input(tiny_run, tmp_path):
    fresh = _reload_in_fresh_process(tiny_run / "export" / "1", BAD, tmp_path)
    for name in ("serving_default", "greedy"):
        (empty, _), (blank, _), unknown, long, broken = fresh[name]
        assert empty == "" and blank == ""  # defined output for empty input
        assert all(isinstance(t, str) for t, _ in (unknown, long, broken))
    served = tf.saved_model.load(str(tiny_run / "export" / "1"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a string tensor"):
        served.signatures["serving_default"](sentences=tf.constant([1, 2]))


def test_rerun_with_another_config_is_refused(tiny_run, capsys):
    with pytest.raises(SystemExit):
        cli.main(
            [
                "train",
                "--task",
                "translate",
                "--preset",
                "tiny",
                "--workdir",
                str(tiny_run),
                "--set",
                "model.units=64",
            ]
        )
    assert "holds a run with a different task or config" in capsys.readouterr().err


def test_a_tiny_anki_file_trains_evaluates_and_exports(tmp_path):
    lines = [f"I see {n} cats.\tJe vois {n} chats." for n in range(40)]
    (tmp_path / "fra.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    workdir = run.train(
        "translate",
        f"anki:{tmp_path / 'fra.txt'}",
        "tiny",
        ("data.tokens=char",),
        tmp_path / "anki",
    )
    held = [line for line in lines if hash_split(line.split("\t")[0], 0) == "test"]
    assert json.loads((workdir / "metrics.json").read_text())["test"]["examples"] == len(held) > 0
    (record,) = predict(workdir / "export", ["I see 3 cats."])
    assert set(record) == {"input", "translation", "score"}


def test_default_workdir_names():
    assert str(run.default_workdir("translate", "toy_pairs")) == "runs/translate-toy_pairs"
    assert str(run.default_workdir("translate", "anki:/x/fra.txt")) == "runs/translate-anki-fra"
    assert (
        str(run.default_workdir("translate", "tfds:ted_hrlr_translate/pt_to_en"))
        == "runs/translate-tfds-ted_hrlr_translate-pt_to_en"
    )


def test_tree_to_sequence_trains_on_gold_trees_and_serves_raw_trees(tmp_path):
    workdir = tmp_path / "run"
    glove = tmp_path / "vectors.txt"
    glove.write_text("the 0.1 0.2 0.3 0.4\ndog -0.5 0.5 -0.5 0.5\n")
    cli.main(["train", "--task", "translate", "--preset", "tiny", "--workdir", str(workdir),
              "--set", "encoder=treelstm", "--set", "layers=2",
              "--set", f"embeddings={glove}"])  # fmt: skip
    metrics = json.loads((workdir / "metrics.json").read_text())["test"]
    assert metrics["examples"] > 0 and "bleu" in metrics
    model = keras.saving.load_model(workdir / "checkpoints" / "best.keras", safe_mode=True)
    assert model.get_layer("source_embedding").get_weights()[0].shape[1] == 4  # the file's width
    job = run.load_run(workdir)
    pair = next(sources.read(job.cfg.data, "test"))
    here = job.translator(model).beam(tf.constant([pair.tree]))["translation"].numpy()[0]
    inputs = [pair.tree, "(S (NP", "", "(S (NP (DT zzz)) (VP (VB qqq)))"]
    fresh = subprocess.run(
        [sys.executable, "-I", "-c", RELOAD.replace("sentences=", "trees="),
         str(workdir / "export" / "1"), json.dumps(inputs)],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = json.loads(fresh.stdout.splitlines()[-1])["serving_default"]
    assert out[0][0] == here.decode()
    assert out[1] == ["", 0.0] and out[2] == ["", 0.0]  # did not parse: empty, score 0
    assert out[3][1] != 0.0  # unknown words still translate
