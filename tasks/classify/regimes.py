"""`regimes`: generated daily OHLCV series from a regime-switching process.

Each series walks through regimes of 40 to 120 days: trending up, trending down,
sideways (mean-reverting, quiet) and volatile (no drift, large moves). The log close
follows the regime's drift and volatility; open, high, low and volume are drawn
around it (volume rises with volatility). Windows that lie inside one regime are
labelled with it.

Example:
>>> table, regime = series(200, np.random.default_rng(0))
>>> table.shape, sorted(set(regime.tolist())) <= [0, 1, 2, 3]
((200, 5), True)
"""

import numpy as np

CLASSES = ("up", "down", "sideways", "volatile")
DRIFT = (0.006, -0.006, 0.0, 0.0)  # daily log-return drift per regime
VOLATILITY = (0.01, 0.01, 0.006, 0.03)


def series(days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One `(days, 5)` OHLCV table (open, high, low, close, volume) and its regimes."""
    regime = np.empty(days, dtype="int64")
    start = 0
    while start < days:
        length = int(rng.integers(40, 121))
        regime[start : start + length] = rng.integers(0, len(CLASSES))
        start += length
    log_close = np.empty(days)
    level = np.log(rng.uniform(20, 200))
    anchor = level
    for t in range(days):
        r = regime[t]
        pull = -0.1 * (level - anchor) if r == 2 else 0.0  # sideways reverts
        level += DRIFT[r] + pull + VOLATILITY[r] * rng.normal()
        if r != 2:
            anchor = level
        log_close[t] = level
    close = np.exp(log_close)
    vol = np.array(VOLATILITY)[regime]
    open_ = close * np.exp(vol * 0.5 * rng.normal(size=days))
    spread = np.abs(rng.normal(size=(2, days))) * vol * close
    high = np.maximum(open_, close) + spread[0]
    low = np.minimum(open_, close) - spread[1]
    volume = rng.lognormal(13, 0.3, days) * (1 + 20 * vol)
    return np.stack([open_, high, low, close, volume], axis=1), regime


def windows(count: int, window: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` windows `(count, window, 5)` from fresh series, labels, and series ids.

    Windows come from consecutive series, every `window // 2` days, kept only when
    the whole window lies in one regime; windows of one series are in time order.
    """
    rng = np.random.default_rng(seed)
    out, labels, owners = [], [], []
    series_id = 0
    while len(out) < count:
        table, regime = series(600, rng)
        for end in range(window, 600 + 1, window // 2):
            span = regime[end - window : end]
            if (span == span[0]).all() and len(out) < count:
                out.append(table[end - window : end])
                labels.append(span[0])
                owners.append(series_id)
        series_id += 1
    return np.stack(out).astype("float32"), np.array(labels), np.array(owners)
