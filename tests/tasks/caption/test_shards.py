"""`python -m pipelines prepare --task caption` + `tfrecord:DIR`: the shards hold each
split's resized images and all their captions, and training on them gives the
batches training on the source itself gives (its twin)."""

import numpy as np
import pytest
import tensorflow as tf

from common.errors import ConfigError
from pipelines import run, settings
from tasks.base import SPLITS
from tasks.caption import sources
from tasks.caption.config import PRESETS
from tasks.caption.task import CaptionTask
from tasks.shards import Shards


def _task(tmp_path, source: str, *more: str) -> CaptionTask:
    return CaptionTask(settings.resolve(PRESETS, "tiny", [f"data.source={source}", *more]),
                       tmp_path)  # fmt: skip


def _batches(ds: tf.data.Dataset) -> list:
    return [tf.nest.map_structure(lambda t: t.numpy().tolist(), batch) for batch in ds]


def test_shards_give_the_twin_images_captions_and_batches(tmp_path):
    folder = run.write_shards("caption", preset="tiny", out=tmp_path / "shards", count=3)
    assert [len(Shards(folder).files(s)) for s in SPLITS] == [3, 3, 3]
    twin, from_shards = _task(tmp_path / "a", "shapes"), _task(tmp_path / "b", f"tfrecord:{folder}")
    for split in SPLITS:
        (expected,), (got,) = (
            sources.load(t.cfg.data, (split,)).values() for t in (twin, from_shards)
        )
        assert [e.captions for e in got] == [e.captions for e in expected], split
        assert np.array_equal(
            np.stack([e.image for e in got]), np.stack([e.image for e in expected])
        )
    direct, shards = twin.prepare(), from_shards.prepare()
    assert from_shards.vocabulary == twin.vocabulary
    for split in SPLITS:  # the same examples in the same order: the same batches
        assert _batches(getattr(shards, split)) == _batches(getattr(direct, split)), split
    metrics = from_shards.evaluate(from_shards.build_model(), "test")
    assert metrics["images"] == Shards(folder).count("test") == 6


def test_shards_fix_the_image_size(tmp_path):
    folder = run.write_shards("caption", preset="tiny", out=tmp_path / "shards", count=1)
    with pytest.raises(ConfigError, match=r"data.image_size=48, but .* with data.image_size=32"):
        sources.load(_task(tmp_path, f"tfrecord:{folder}", "data.image_size=48").cfg.data)
