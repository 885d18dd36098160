"""Strings of a data set larger than memory, in a temporary file, read back a batch at a time."""

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import tensorflow as tf


class StringRows:
    """Strings (texts of any length) appended to a file in `folder` as UTF-8, and read
    back by index with `os.preadv`; memory keeps two int64 per string (where it
    starts and ends). The variable-length sibling of `tasks.row_file.RowFile`, and,
    like it, an unlinked file: gone when the process ends, killed or not.

    Example:
    >>> rows = StringRows(tempfile.gettempdir())
    >>> rows.extend(["a good film", "été"]); rows.extend(["bad"])
    >>> len(rows), rows[1], rows[1:].tolist(), rows.gather(tf.constant([2, 0])).numpy().tolist()
    (3, 'été', ['été', 'bad'], [b'bad', b'a good film'])
    """

    def __init__(self, folder: Path | str):
        Path(folder).mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (open while read)
        self._ends: list[np.ndarray] = []  # per extend: (n,) int64 end offsets
        self._bounds = np.zeros(1, np.int64)  # (count + 1,) offsets, made when read
        self._size = 0

    def extend(self, strings: Iterable[str]) -> None:
        """Adds the strings, in order."""
        data = [s.encode("utf-8") for s in strings]
        if not data:
            return
        self._file.seek(0, os.SEEK_END)
        self._file.write(b"".join(data))
        self._file.flush()
        self._ends.append(self._size + np.cumsum([len(d) for d in data], dtype=np.int64))
        self._size = int(self._ends[-1][-1])

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def _offsets(self) -> np.ndarray:
        if self._ends:  # appended since the last read
            self._bounds = np.concatenate([self._bounds, *self._ends])
            self._ends = []
        return self._bounds

    def __getitem__(self, rows):
        """A str for an int; an object array of str for a slice or an index array."""
        picked = np.arange(len(self))[rows]
        if not np.ndim(picked):
            return self.read(np.array([picked]))[0].decode("utf-8")
        return np.array([b.decode("utf-8") for b in self.read(picked)], dtype=object)

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), 4096):
            yield from self[start : start + 4096]

    def read(self, index: np.ndarray) -> np.ndarray:
        """`(n,)` row numbers -> `(n,)` UTF-8 bytes (an object array)."""
        index = np.asarray(index, np.int64).reshape(-1)
        offsets = self._offsets
        if index.size and (index.min() < 0 or index.max() >= len(offsets) - 1):
            raise IndexError(f"rows {index.min()}..{index.max()} of {len(offsets) - 1}")
        out = np.empty(len(index), dtype=object)
        fd = self._file.fileno()
        for row, i in enumerate(index):
            start, end = int(offsets[i]), int(offsets[i + 1])
            buffer = bytearray(end - start)
            if end > start and os.preadv(fd, [buffer], start) != end - start:
                raise OSError(f"row {i}: short read from the string file")
            out[row] = bytes(buffer)
        return out

    def gather(self, index) -> tf.Tensor:
        """The graph op of `read`, for a `tf.data` map: `(n,)` int -> `(n,)` tf.string."""
        rows = tf.numpy_function(self.read, [index], tf.string, stateful=False)
        rows.set_shape([None])
        return rows
