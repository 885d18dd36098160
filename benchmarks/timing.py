"""Timing helpers shared by the benchmark modules: rates, latencies, the matmul peak."""

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def seconds(fn: Callable[[], object], repeats: int = 3) -> float:
    """The best (least disturbed) wall time of `repeats` calls of `fn`, after one warm-up.

    Example:
    >>> seconds(lambda: sum(range(10)), repeats=2) >= 0.0
    True
    """
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def seconds_each(fns: dict[str, Callable[[], object]], repeats: int = 3) -> dict[str, float]:
    """The best wall time of each of `fns`, called in turn `repeats` times after one
    warm-up each: a slow spell of a shared machine slows them all, not one alone.

    Example:
    >>> times = seconds_each({"a": lambda: sum(range(10)), "b": lambda: 0}, repeats=2)
    >>> sorted(times), min(times.values()) >= 0.0
    (['a', 'b'], True)
    """
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def rate(fn: Callable[[], object], work: float, repeats: int = 3) -> float:
    """Units of `work` per second that one call of `fn` does (best of `repeats`)."""
    return work / seconds(fn, repeats)


def latencies(fn: Callable[[], object], calls: int) -> np.ndarray:
    """The wall time of each of `calls` calls of `fn` (after one warm-up), in seconds."""
    fn()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    return times


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of an `n x n` float32 `tf.matmul`, measured now (best of `repeats`).

    Example:
    >>> matmul_peak(n=64, repeats=1) > 0
    True
    """
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    product = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    return rate(lambda: product(a, b).numpy(), 2.0 * n**3, repeats)


def between_peaks(jobs: Sequence[Callable[[], T]], n: int = 2048) -> tuple[list[T], list[float]]:
    """Runs `jobs` in turn with `matmul_peak(n)` measured before the first and after
    each: their results and the peaks. The highest peak is the MFU denominator: the
    machine is shared, and one peak caught in a slow spell (143 GFLOP/s once, 347
    usual; 111 against 205 in one run) made every MFU against it far too high.

    Example:
    >>> results, peaks = between_peaks([lambda: "a", lambda: "b"], n=64)
    >>> results, len(peaks)
    (['a', 'b'], 3)
    """
    peaks, results = [matmul_peak(n)], []
    for job in jobs:
        results.append(job())
        peaks.append(matmul_peak(n))
    return results, peaks
