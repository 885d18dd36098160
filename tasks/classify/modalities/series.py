"""Price series: generated regimes and OHLCV CSV files, cut into labelled windows.

A window is `(series.window, 5)` raw open, high, low, close, volume. The front end
computes per-day features inside the model (`OHLCVFeatures`), normalises them with
statistics of the training windows only, and projects them; the export takes raw
float32 `windows`.
"""

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common.errors import DataError
from models import encoders
from tasks import plots
from tasks.base import parse_source, split_seed, split_sizes
from tasks.classify import ohlcv, regimes
from tasks.classify.features import OHLCVFeatures
from tasks.classify.modality import Data, Examples, gathered
from tasks.classify.windows import Windows

ADAPT_BATCH = 4096  # training windows the normalisation reads at a time


@dataclasses.dataclass(frozen=True)
class SeriesConfig:
    window: int = 30  # days per window
    horizon: int = 5  # ohlcv: the label is the return over the next `horizon` days
    dead_zone: float = 0.01  # ohlcv: |log return| below this is "flat"
    projection: int = 64  # per-day features are projected to this width

    def __post_init__(self):
        if self.window < 3 or self.horizon < 1:
            raise ValueError("series.window must be 3 or more and series.horizon 1 or more")


class Series:
    """Price windows -> label: in-model features, then the shared encoder over the days.

    Example:
    >>> from tasks.classify.config import config_for
    >>> data = Series(config_for("regimes"), Path("unused")).load(("val",))
    >>> data.classes, data.splits["val"].x.shape[1:]
    (('up', 'down', 'sideways', 'volatile'), (12, 5))
    """

    sources = {
        "regimes": "generated daily OHLCV series from a regime-switching process",
        "ohlcv": "ohlcv:PATH, a CSV file (or folder of them) with Date,Open,High,Low,Close,Volume",
    }
    tfds_feature = None
    fixed = ("series.window", "series.horizon", "series.dead_zone")  # what shards fix
    gives = (encoders.SEQUENCES,)  # what its front end can give an encoder
    input_name = "windows"  # the export's input
    per_node = False
    root_selection = False

    def __init__(self, cfg, workdir: Path):
        self.cfg = cfg
        self.series: SeriesConfig = cfg.series
        self.signature = tf.TensorSpec([None, self.series.window, 5], tf.float32, name="windows")
        self.workdir = Path(workdir)
        self.train_windows = None
        # (the source is checked where it is read; `predict` builds this from a run's
        # config, whose source may be prepared shards, `tfrecord:DIR`)
        generated = cfg.data.source.partition(":")[0] == "regimes"
        self.classes = regimes.CLASSES if generated else ohlcv.CLASSES

    def load(self, splits: tuple[str, ...]) -> Data:
        kind, arg = parse_source(self.cfg.data.source, self.sources)
        if kind == "regimes":
            sizes = split_sizes(self.cfg.data.size)
            return Data(self.classes, {name: self._regimes(sizes[name], name)
                                          for name in splits})  # fmt: skip
        if not arg:
            raise DataError(f"data source {kind!r} needs a path: {self.sources[kind]}")
        parts = _ohlcv_splits(Path(arg), self.series)
        return Data(self.classes, {name: parts[name] for name in splits})

    def _regimes(self, count: int, split: str) -> Examples:
        """Windows of fresh series, in series order: no series reaches two splits."""
        x, y, owner = regimes.windows(count, self.series.window,
                                      split_seed(self.cfg.data.seed, split))  # fmt: skip
        same = np.r_[False, owner[1:] == owner[:-1]]  # follows in the series
        return Examples(Windows.stacked(x), y, np.where(same, np.arange(len(y)) - 1, -1))

    def files(self) -> list[Path]:
        """The CSV files of an `ohlcv:` source (none for generated series)."""
        kind, arg = parse_source(self.cfg.data.source, self.sources)
        if kind != "ohlcv" or not arg:
            return []
        path = Path(arg)
        return sorted(path.glob("*.csv")) if path.is_dir() else [path]

    def prepare(self, train: Examples) -> None:
        """Keeps the training windows: the normalisation is fitted on them."""
        self.train_windows = train.x

    def restore(self) -> None:
        """Nothing to read back: the normalisation is part of the model."""

    def kept(self, inputs: Iterable[np.ndarray]) -> Windows:
        """Windows given one at a time (read back from shards: copies, each its own)."""
        return Windows.stacked(np.stack(list(inputs)))

    def dataset(self, examples: Examples, training: bool) -> tf.data.Dataset:
        """Shuffled indices (training), then one gather of windows per batch."""
        seed = self.cfg.train.seed if training else None
        return gathered(examples, self.cfg.train.batch_size, seed)

    def front(self, reads: str) -> tuple[list, tuple]:
        """Raw windows `(batch, days, 5)` -> normalised, projected `(batch, days - 1, P)`."""
        normalization = keras.layers.Normalization(axis=-1, name="normalization")
        features = OHLCVFeatures()
        windows = tf.data.Dataset.range(len(self.train_windows)).batch(ADAPT_BATCH)
        windows = windows.map(self.train_windows.gather)  # training windows only, a batch
        normalization.adapt(windows.map(features))  # at a time
        window = keras.Input((self.series.window, 5), name="windows")
        features = normalization(OHLCVFeatures(name="features")(window))
        projected = keras.layers.Dense(self.series.projection, "relu", name="projection")
        return [window], (projected(features),)

    def serve(self, model, windows):
        """A window with a NaN, infinite, zero or negative price, or a negative volume,
        is invalid (and never reaches the model)."""
        prices, volume = windows[..., :4], windows[..., 4]
        valid = tf.reduce_all(tf.math.is_finite(windows), axis=[1, 2])
        valid &= tf.reduce_all(prices > 0, axis=[1, 2]) & tf.reduce_all(volume >= 0, axis=1)
        safe = tf.where(valid[:, None, None], windows, tf.ones_like(windows))
        return model(safe), valid, {}

    def report(self, model, examples: Examples, predicted: np.ndarray, majority: int) -> dict:
        """The "same as last window" baseline: the label of the window whose outcome was
        known when this one ended; and a plot of a test stretch by label."""
        plots.series_labels(examples, predicted, self.classes,
                            self.workdir / "plots" / "series.png")  # fmt: skip
        last = np.where(examples.previous >= 0, examples.y[examples.previous], majority)
        return {"same_as_last_accuracy": float(np.mean(examples.y == last))}

    def read_input(self, given: str) -> np.ndarray:
        """The last `days` rows of a CSV (one ticker), float32 `(days, 5)`."""
        days, path = self.series.window, Path(given)
        if not given:
            raise DataError("an empty input: give a CSV file")
        tickers = ohlcv.read(path)
        if len(tickers) != 1:
            raise DataError(f"{path}: predict labels one ticker a file, found {len(tickers)}")
        ((_, table),) = tickers.values()
        if len(table) < days:
            raise DataError(f"{path}: {len(table)} rows, the model needs {days}")
        return table[-days:].astype("float32")


def _ohlcv_splits(path: Path, series: SeriesConfig) -> dict[str, Examples]:
    """Per ticker, chronological splits with a gap of `horizon` days; then concatenated:
    every ticker's rows once, and each split's windows as places in them."""
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    tables, offset = [], 0
    for ticker, (_, table) in ohlcv.read(path).items():
        starts, y, previous = ohlcv.windows(table, series.window, series.horizon,
                                            series.dead_zone, f"{path} ({ticker})")  # fmt: skip
        for name, idx in ohlcv.chronological(len(starts), series.horizon).items():
            if len(idx) == 0:
                raise DataError(f"{path} ({ticker}): too few rows for a {name} split")
            before = sum(len(p[1]) for p in parts[name])
            prev = previous[idx] - idx[0]  # re-indexed within the split
            prev = np.where(prev >= 0, prev + before, -1)
            parts[name].append((starts[idx] + offset, y[idx], prev))
        tables.append(table.astype("float32"))
        offset += len(table)
    rows = np.concatenate(tables)
    return {
        name: Examples(Windows(rows, np.concatenate([p[0] for p in chunks]), series.window),
                       *(np.concatenate([p[k] for p in chunks]) for k in (1, 2)))
        for name, chunks in parts.items()
    }  # fmt: skip
