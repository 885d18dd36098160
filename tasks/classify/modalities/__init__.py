"""The classify modalities, and which one reads a data source.

Each source kind belongs to one modality; `tfds:NAME` goes to the modality whose
`tfds_feature` the TFDS set has (`video` or `text`).
"""

from common.errors import DataError
from tasks.base import parse_source
from tasks.classify.modalities.series import Series
from tasks.classify.modalities.text import Text
from tasks.classify.modalities.trees import Trees
from tasks.classify.modalities.video import Video

MODALITIES = (Video, Series, Trees, Text)
SOURCES = {}
for _modality in MODALITIES:
    for _kind, _about in _modality.sources.items():
        SOURCES[_kind] = f"{SOURCES[_kind]}; or {_about}" if _kind in SOURCES else _about


def for_source(source: str) -> type:
    """The modality that reads the data source `source` (`KIND[:ARG]`).

    Example:
    >>> for_source("listops").__name__, for_source("text:reviews.csv").__name__
    ('Trees', 'Text')
    """
    kind, arg = parse_source(source, SOURCES)
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
