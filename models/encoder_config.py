"""The settings an encoder is built from; each task's model config extends them."""

import dataclasses

from models import encoders
from models.tree_encoder import CELLS


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Which encoder of the catalog (`models.encoders`) and its sizes, checked when made.

    Example:
    >>> EncoderConfig(encoder="treelstm", layers=2).units
    128
    >>> EncoderConfig(encoder="gru")
    Traceback (most recent call last):
    ValueError: unknown encoder 'gru'; encoders: lstm (stacked LSTMs); ...
    """

    encoder: str = "bilstm"  # a name in models.encoders.CATALOG
    units: int = 128  # hidden size of each LSTM (per direction) and of a Tree-LSTM
    layers: int = 1  # stacked layers; for tree encoders the Tree-LSTM is the top one
    dropout: float = 0.1
    tree: str = "nary"  # tree encoders: nary (ordered, at most 2 children) | childsum (any)

    def __post_init__(self):
        encoders.get(self.encoder)
        if self.units < 1 or self.layers < 1:
            raise ValueError(f"model.units and model.layers must be 1 or more, got "
                             f"{self.units} and {self.layers}")  # fmt: skip
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {self.dropout}")
        if self.tree not in CELLS:
            raise ValueError(f"model.tree must be one of {tuple(CELLS)}, got {self.tree!r}")
