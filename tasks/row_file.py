"""Rows of an array larger than memory, in a temporary file, read back a batch at a time."""

import os
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf


class RowFile:
    """Equal-shaped rows (images, or an encoder's features of them) appended a chunk at
    a time to a file in `folder`, and read back by index with `os.preadv`.

    The rows a batch reads pass through the kernel's page cache, which the operating
    system sizes and frees on its own, not through the process's memory: a data set
    of any size trains with the memory of a batch. (A memory map would count the
    pages read in the process's resident memory.) The file is created unlinked
    (`tempfile.TemporaryFile`), so it is gone when the process ends, killed or not,
    and never left in the run directory.

    Example:
    >>> rows = RowFile(tempfile.gettempdir())
    >>> rows.append(np.arange(6).reshape(3, 2)); rows.append(np.full((1, 2), 9))
    >>> rows.shape, rows.gather(tf.constant([3, 0])).numpy().tolist(), rows[1].tolist()
    ((4, 2), [[9, 9], [0, 1]], [2, 3])
    """

    def __init__(self, folder: Path | str):
        Path(folder).mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (open while read)
        self.count, self.row_shape, self.dtype, self._row_bytes = 0, None, None, 0

    def append(self, rows: np.ndarray) -> None:
        """Adds `(n, *shape)` rows; the first rows fix the shape and dtype."""
        rows = np.ascontiguousarray(rows)
        if self.row_shape is None:
            self.row_shape, self.dtype = rows.shape[1:], rows.dtype
            self._row_bytes = int(np.prod(self.row_shape, dtype=np.int64)) * self.dtype.itemsize
        if rows.shape[1:] != self.row_shape or rows.dtype != self.dtype:
            raise ValueError(f"rows of {rows.dtype}{list(rows.shape[1:])} after rows of "
                             f"{self.dtype}{list(self.row_shape)}")  # fmt: skip
        self._file.seek(0, os.SEEK_END)
        self._file.write(rows.tobytes())
        self._file.flush()
        self.count += len(rows)

    def __len__(self) -> int:
        return self.count

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.count, *self.row_shape)

    def __getitem__(self, rows) -> np.ndarray:
        """Rows as numpy indexes them: an int (one row), a slice or an index array."""
        picked = np.arange(self.count)[rows]
        return self.read(picked) if np.ndim(picked) else self.read(picked)[0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every row, in memory (for small sets and tests)."""
        rows = self.read(np.arange(self.count))
        return rows if dtype is None else rows.astype(dtype)

    def read(self, index: np.ndarray) -> np.ndarray:
        """`(n,)` row numbers -> `(n, *shape)` rows, each read straight into the result."""
        index = np.asarray(index, np.int64).reshape(-1)
        if index.size and (index.min() < 0 or index.max() >= self.count):
            raise IndexError(f"rows {index.min()}..{index.max()} of {self.count}")
        out = np.empty((len(index), *self.row_shape), self.dtype)
        flat = out.reshape(len(index), -1).view(np.uint8)  # (n, row bytes), out's memory
        fd = self._file.fileno()
        for row, i in enumerate(index):
            if os.preadv(fd, [flat[row]], int(i) * self._row_bytes) != self._row_bytes:
                raise OSError(f"row {i}: short read from the row file")
        return out

    def gather(self, index) -> tf.Tensor:
        """The graph op of `read`, for a `tf.data` map: `(n,)` int -> `(n, *shape)`."""
        rows = tf.numpy_function(self.read, [index], tf.as_dtype(self.dtype), stateful=False)
        rows.set_shape([None, *self.row_shape])
        return rows
