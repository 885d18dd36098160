"""Windows of price series kept as places in their rows, not as copies."""

import numpy as np
import tensorflow as tf


class Windows:
    """`(n, window, features)` windows that overlap: the series' rows once, and where
    each window starts. Indexed like the array they stand for (a window is copied out
    when asked for), so memory grows with the rows, not with rows times `window`.

    Example:
    >>> rows = np.arange(12, dtype="float32").reshape(6, 2)  # 6 days, 2 features
    >>> windows = Windows(rows, np.array([0, 1, 3]), window=3)
    >>> windows.shape, windows[1].tolist(), windows[[0, 2], -1, 0].tolist()
    ((3, 3, 2), [[2.0, 3.0], [4.0, 5.0], [6.0, 7.0]], [4.0, 10.0])
    >>> windows[..., 1].shape, np.array_equal(windows[..., 1], np.asarray(windows)[..., 1])
    ((3, 3), True)
    >>> windows.gather(tf.constant([2])).numpy()[0, :, 1].tolist()
    [7.0, 9.0, 11.0]
    """

    def __init__(self, rows: np.ndarray, starts: np.ndarray, window: int):
        self.rows = np.asarray(rows, "float32")  # (days, features), every series's
        self.starts = np.asarray(starts, np.int64)  # (n,) the first row of each window
        self.window = window

    @classmethod
    def stacked(cls, windows: np.ndarray) -> "Windows":
        """Windows `(n, window, features)` that do not share rows, as they are."""
        n, window, features = windows.shape
        return cls(windows.reshape(n * window, features), np.arange(n) * window, window)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self), self.window, self.rows.shape[1])

    def __getitem__(self, key) -> np.ndarray:
        """As the `(n, window, features)` array: `w[i]`, `w[a:b]`, `w[index, -1, 3]`."""
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if first is Ellipsis:  # w[..., :4]: every window, then the rest as numpy reads it
            first, rest = slice(None), (Ellipsis, *rest)
        picked = np.arange(len(self))[first]
        out = self.rows[self.starts[np.atleast_1d(picked)][:, None] + np.arange(self.window)]
        return out[(0, *rest)] if np.ndim(picked) == 0 else out[(slice(None), *rest)]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every window, in memory (for small sets and tests)."""
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def gather(self, index) -> tf.Tensor:
        """The graph op of indexing, for a `tf.data` map: `(k,)` int -> `(k, window,
        features)` float32 (read from the rows in numpy: not a graph constant)."""
        out = tf.numpy_function(lambda i: self[i], [index], tf.float32, stateful=False)
        out.set_shape([None, self.window, self.rows.shape[1]])
        return out
