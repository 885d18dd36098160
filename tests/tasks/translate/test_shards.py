"""`python -m pipelines prepare` + `tfrecord:DIR`: prepared shards hold each split's
pairs tokenised as training on the source itself does (its twin), read back with a
shuffle that draws a new order each epoch (the same orders again on resume), split
between workers by file."""

import json

import pytest
import tensorflow as tf
from tensorflow.python.data.experimental.ops.distribute import _AutoShardDataset

from common.errors import ConfigError, DataError, UserError
from pipelines import distribution, run, settings
from tasks.base import SPLITS
from tasks.shards import MANIFEST, Shards
from tasks.translate.config import PRESETS
from tasks.translate.task import TranslateTask

OVERRIDES = ("data.size=400", "data.max_length=10")  # some pairs are longer: left out


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prepared") / "shards"
    run.write_shards("translate", preset="tiny", overrides=OVERRIDES, out=folder, count=3)
    return folder


def _job(tmp_path, source: str, *more: str) -> TranslateTask:
    cfg = settings.resolve(PRESETS, "tiny", [f"data.source={source}", *OVERRIDES, *more])
    return TranslateTask(cfg, tmp_path)


def _batches(ds: tf.data.Dataset) -> list[list]:
    return [tf.nest.map_structure(lambda t: t.numpy().tolist(), batch) for batch in ds]


def _examples(ds: tf.data.Dataset) -> list[tuple]:
    """Every example of one pass: (source ids, target output ids), padding dropped."""
    return [(tuple(x for x in s if x), tuple(x for x in t if x))
            for (source, _), target, _ in _batches(ds)
            for s, t in zip(source, target, strict=True)]  # fmt: skip


def test_shards_give_the_twin_examples_and_sentences(prepared, tmp_path):
    from_shards = _job(tmp_path / "a", f"tfrecord:{prepared}")
    twin = _job(tmp_path / "b", "toy_pairs")
    shards, direct = from_shards.prepare(), twin.prepare()
    assert from_shards.source.vocabulary == twin.source.vocabulary
    for split in ("val", "test"):  # unshuffled: the same batches (3 files, read in turn)
        assert _batches(getattr(shards, split)) == _batches(getattr(direct, split)), split
        assert from_shards.serving_inputs(split) == twin.serving_inputs(split)
    train = _examples(shards.train)
    assert sorted(train) == sorted(_examples(direct.train))
    written = Shards(prepared)  # every pair; the long ones without ids (references only)
    assert len(train) == written.meta["records"]["trainable"]["train"] < written.count("train")
    again = _examples(shards.train)
    assert again != train and sorted(again) == sorted(train)  # a new order each epoch
    metrics = from_shards.evaluate(from_shards.build_model(), "test")
    assert metrics["examples"] == written.count("test") == 40  # long pairs scored too


def test_a_resumed_run_draws_the_orders_again(prepared, tmp_path):
    def epochs(skipped: int) -> list:  # a fresh pipeline, as a rerun of the command builds
        train = _job(tmp_path, f"tfrecord:{prepared}").prepare().train
        for _ in range(skipped):
            iter(train)  # draws an order, unread: what `pipelines.run` does on resume
        return _batches(train.skip(2))

    unbroken = [epochs(0), epochs(1)]
    assert unbroken[0] != unbroken[1]
    assert epochs(1) == unbroken[1]


def test_workers_read_their_own_files(prepared, tmp_path):
    train = _job(tmp_path, f"tfrecord:{prepared}").prepare().train
    assert distribution.shard(train).options().experimental_distribute.auto_shard_policy == (
        tf.data.experimental.AutoShardPolicy.FILE
    )  # kept through the task's batching, and by `shard`
    shards = Shards(prepared)
    in_file = {}
    for i, path in enumerate(shards.files("train")):
        for record in tf.data.TFRecordDataset(str(path)):
            example = tf.io.parse_single_example(
                record, {"source": tf.io.FixedLenFeature([], tf.string)}
            )
            in_file[example["source"].numpy()] = i
    read = [  # what each of two workers reads: the rewrite MultiWorkerMirroredStrategy applies
        [
            e["source"]
            for e in _AutoShardDataset(
                shards.dataset("train", seed=0), 2, worker
            ).as_numpy_iterator()
        ]
        for worker in range(2)
    ]
    assert sorted(read[0] + read[1]) == sorted(in_file)  # every example, once
    assert {in_file[s] for s in read[0]} == {0, 2} and {in_file[s] for s in read[1]} == {1}


def test_shards_fix_their_encoding(prepared, tmp_path):
    with pytest.raises(ConfigError, match=r"data.max_length=12, but .* with data.max_length=10"):
        _job(tmp_path, f"tfrecord:{prepared}", "data.max_length=12")
    with pytest.raises(ConfigError, match="parse trees"):
        _job(tmp_path, f"tfrecord:{prepared}", "model.encoder=treelstm")
    with pytest.raises(DataError, match=f"{tmp_path}/{MANIFEST}: no such file"):
        _job(tmp_path, f"tfrecord:{tmp_path}")
    manifest = json.loads((prepared / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps({**manifest, "meta": {"task": "caption"}}))
    with pytest.raises(DataError, match="shards of the caption task"):
        _job(tmp_path, f"tfrecord:{tmp_path}")


def test_prepare_never_replaces_a_folder(prepared, tmp_path):
    before = sorted(p.name for p in prepared.iterdir())
    with pytest.raises(UserError, match="exists"):
        run.write_shards("translate", preset="tiny", out=prepared)
    assert sorted(p.name for p in prepared.iterdir()) == before
    with pytest.raises(DataError, match="no such file"):  # a bad source: nothing left behind
        run.write_shards("translate", "anki:/no/such.txt", "tiny", out=tmp_path / "t")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert {s: Shards(prepared).count(s) for s in SPLITS}["val"] > 0
