"""The classify modalities, and which one reads a data source.

Each source kind belongs to one modality; `tfds:NAME` goes to the modality whose
`tfds_feature` the TFDS set has (`video` or `text`); prepared shards (`tfrecord:DIR`)
to the one that read the source they were written from.
"""

import dataclasses

from common.errors import DataError
from tasks.base import parse_source
from tasks.classify.modalities.series import Series
from tasks.classify.modalities.text import Text
from tasks.classify.modalities.trees import Trees
from tasks.classify.modalities.video import Video
from tasks.shards import Shards

MODALITIES = (Video, Series, Trees, Text)
SOURCES = {}
for _modality in MODALITIES:
    for _kind, _about in _modality.sources.items():
        SOURCES[_kind] = f"{SOURCES[_kind]}; or {_about}" if _kind in SOURCES else _about
SOURCES["tfrecord"] = ("tfrecord:DIR, examples of any source written by `python -m pipelines "
                       "prepare --task classify`")  # fmt: skip


def for_source(source: str) -> type:
    """The modality that reads the data source `source` (`KIND[:ARG]`).

    Example:
    >>> for_source("listops").__name__, for_source("text:reviews.csv").__name__
    ('Trees', 'Text')
    """
    kind, arg = parse_source(source, SOURCES)
    if kind == "tfrecord":
        return for_input(Shards(arg).meta["records"]["input"])
    if kind != "tfds":
        return next(m for m in MODALITIES if kind in m.sources)
    import tensorflow_datasets as tfds  # heavy; only this source needs it

    features = tfds.builder(arg).info.features
    for modality in MODALITIES:
        if modality.tfds_feature and modality.tfds_feature in features:
            return modality
    wanted = " or ".join(repr(m.tfds_feature) for m in MODALITIES if m.tfds_feature)
    raise DataError(f"tfds:{arg} has no {wanted} feature to classify")


def for_input(name: str) -> type:
    """The modality whose export takes the input called `name` (`frames`, ...)."""
    return next(m for m in MODALITIES if m.input_name == name)


def prepared(cfg) -> tuple[Shards | None, object]:
    """For a `tfrecord:DIR` source: its shards, checked to be classify's with the
    fields their modality fixes as `cfg` (a classify config) has them, and `cfg` with
    the source they were written from (what the modality reads its kind from). For
    another source: None and `cfg`."""
    kind, arg = parse_source(cfg.data.source, SOURCES)
    if kind != "tfrecord":
        return None, cfg
    modality = for_input(Shards(arg).meta["records"]["input"])
    asked = {}
    for field in modality.fixed:
        section, name = field.split(".")
        asked[field] = getattr(getattr(cfg, section), name)
    shards = Shards.of(arg, "classify", asked)
    written = shards.meta["config"]["data"]["source"]
    return shards, dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, source=written))
