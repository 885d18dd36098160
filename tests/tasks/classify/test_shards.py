"""`python -m pipelines prepare --task classify` + `tfrecord:DIR`: for every modality
the shards give the classes and the batches training on the source itself gives."""

import numpy as np
import pytest
import tensorflow as tf

from common.errors import ConfigError
from pipelines import run, settings
from tasks.base import SPLITS
from tasks.classify.config import PRESETS
from tasks.classify.task import ClassifyTask

SOURCES = {  # modality -> the tiny preset's settings for a source of it
    "video": ["data.source=moving_shapes"],
    "series": ["data.source=regimes", "data.size=90"],
    "trees": ["data.source=listops"],
    "text": ["data.source=text:REVIEWS"],
}


def _batches(ds: tf.data.Dataset) -> list:
    return [tf.nest.map_structure(lambda t: np.asarray(t).tolist(), batch) for batch in ds]


@pytest.mark.parametrize("modality", sorted(SOURCES))
def test_shards_give_the_twin_classes_and_batches(modality, tmp_path):
    reviews = tmp_path / "reviews.csv"
    rows = [f"film {i} was {'good' if i % 2 else 'bad'},{'pos' if i % 2 else 'neg'}\n"
            for i in range(60)]  # fmt: skip
    reviews.write_text("text,label\n" + "".join(rows))
    source = [s.replace("REVIEWS", str(reviews)) for s in SOURCES[modality]]
    folder = run.write_shards("classify", preset="tiny", overrides=source, out=tmp_path / "shards",
                              count=3)  # fmt: skip
    more = [s for s in source if not s.startswith("data.source=")]
    cfg = settings.resolve(PRESETS, "tiny", [f"data.source=tfrecord:{folder}", *more])
    from_shards = ClassifyTask(cfg, tmp_path / "a")
    twin = ClassifyTask(settings.resolve(PRESETS, "tiny", source), tmp_path / "b")
    assert type(from_shards.modality) is type(twin.modality)
    shards, direct = from_shards.prepare(), twin.prepare()
    assert (from_shards.classes, from_shards.majority) == (twin.classes, twin.majority)
    for split in SPLITS:
        assert _batches(getattr(shards, split)) == _batches(getattr(direct, split)), split
    model = from_shards.build_model()
    assert (
        from_shards.evaluate(model, "test")["examples"] == twin.evaluate(model, "test")["examples"]
    )


def test_shards_fix_their_modality_fields(tmp_path):
    folder = run.write_shards("classify", preset="tiny", out=tmp_path / "shards", count=1)
    cfg = settings.resolve(PRESETS, "tiny", [f"data.source=tfrecord:{folder}", "video.frames=4"])
    with pytest.raises(ConfigError, match=r"video.frames=4, but .* with video.frames="):
        ClassifyTask(cfg, tmp_path / "run")
