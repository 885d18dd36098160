"""Reading `predict` inputs: clip folders of frames, and the last window of CSV files."""

from pathlib import Path

import numpy as np
from PIL import Image

from tasks.base import DataError
from tasks.classify import ohlcv
from tasks.classify.sources import VIDEO_SUFFIXES


def clips(paths: list[str]) -> np.ndarray:
    """Folders of frames -> uint8 `(batch, frames, height, width, 3)`.

    Frames are read in file-name order and resized to the first frame's size;
    clips of unequal length are cut to the shortest (the model samples frames evenly).
    """
    videos = []
    for folder in map(Path, paths):
        frames = sorted(p for p in folder.glob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
        if not frames:
            raise DataError(f"{folder}: no frames ({', '.join(VIDEO_SUFFIXES)}) in this folder")
        size = Image.open(frames[0]).size
        videos.append(np.stack([_frame(p, size) for p in frames]))
    shortest = min(len(v) for v in videos)
    return np.stack([v[:shortest] for v in videos])


def _frame(path: Path, size: tuple[int, int]) -> np.ndarray:
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB").resize(size))
    except OSError as err:
        raise DataError(f"{path}: not a readable image ({err})") from None


def last_windows(paths: list[str], days: int) -> np.ndarray:
    """The last `days` rows of each CSV (one ticker each) -> float32 `(batch, days, 5)`."""
    out = []
    for path in map(Path, paths):
        tickers = ohlcv.read(path)
        if len(tickers) != 1:
            raise DataError(f"{path}: predict labels one ticker a file, found {len(tickers)}")
        ((_, table),) = tickers.values()
        if len(table) < days:
            raise DataError(f"{path}: {len(table)} rows, the model needs {days}")
        out.append(table[-days:])
    return np.stack(out).astype("float32")
