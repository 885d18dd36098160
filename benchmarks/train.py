"""Training throughput, model FLOP utilisation and input-pipeline overhead per task.

For each task's default preset: one pass in Python over the real `tf.data` pipeline
fills an in-memory cache of its batches (and counts the epoch's work), one epoch
traces the step, then epochs through the real pipeline and over the cached batches
take turns, `REPEATS` of each, and each kind keeps its fastest (the machine is
shared: a disturbance only ever adds time, and it comes in spells that the turns
spread over both kinds). Throughput and MFU come from the cached epochs (the
training step alone); the input-pipeline ratio is real steps/s over cached steps/s.
MFU is the counted FLOPs of every step (`benchmarks.flops`) over the epoch's time,
over a large `tf.matmul`'s FLOP/s measured in the same run. Classify's model is also
timed, on the same batches, with Keras' `TimeDistributed` where it has
`models.TimeFolded` (what it ran before), an epoch after each of its cached epochs:
the speed-up of folding frames into the batch is the median of those pairs' ratios.

An epoch is timed from `on_epoch_begin` to `on_epoch_end`, not around `fit`: `fit`
returns only once its dataset iterator is destroyed, and that now and then waits
until 2.55, 5.11, 10.23 or 20.47 s after the call began (10 ms, doubled: the wake-ups
of tf.data's autotuning), a stall after the last step that made a 13 s translate
epoch take 20.5 s. A counter before the cache checks that the timed cached epochs
never ran the pipeline.
"""

import functools
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from benchmarks import flops, timing
from benchmarks.report import Row
from models import TimeFolded
from pipelines import run as pipeline

TASKS = ("translate", "caption", "classify")
PIPELINE_TARGET = 0.95
MFU_TARGET = 0.35  # the default translate model (the plain Keras stack reaches about 0.37)
REPEATS = 5  # timed epochs of each kind (real, cached), taking turns
FOLDED_TARGET = 1.3  # classify's examples/s over the same model with TimeDistributed


def run(quick: bool = False) -> list[Row]:
    """One row per task: examples/s, units/s, MFU and the input-pipeline ratio; MFU
    against the highest matmul peak measured between the tasks (`timing.between_peaks`)."""
    jobs = [functools.partial(measure, task, quick) for task in TASKS]
    measured, peaks = timing.between_peaks(jobs, 256 if quick else 2048)
    peak = max(peaks)
    rows = [Row("train", "matmul peak", {"GFLOP/s": peak / 1e9},
                note=f"float32 tf.matmul, the MFU denominator: the best of {len(peaks)}, "
                     f"the lowest {min(peaks) / 1e9:.0f}")]  # fmt: skip
    for task, (work, times) in zip(TASKS, measured, strict=True):
        rows.append(_row(task, work, times, peak))
        if times.twin is not None:
            rows.append(_folded_row(task, work, times.twin))
    return rows


class Timing(NamedTuple):
    """What `measure` times: the fastest real and cached epochs' seconds, a note, and
    for a model with `TimeFolded` its `TimeDistributed` twin's (see `measure`)."""

    real_s: float
    cached_s: float
    note: str
    twin: tuple[float, float] | None  # fastest epoch's seconds, median time ratio


def measure(task: str, quick: bool = False) -> tuple[dict, Timing]:
    """Times one task's training epochs (see the module docstring): the epoch's work
    (`epoch_work`) and the fastest real and cached epochs' seconds, a note, and (the
    task's model having a `TimeFolded`) for the model with `TimeDistributed` instead
    its fastest cached epoch's seconds and the median over turns of its epoch's time
    over the cached epoch just before it (the machine comes in spells that move
    whole epochs by a quarter; two epochs back to back share one), else None."""
    cfg = pipeline.resolve_config(task, preset="tiny" if quick else "default")
    with tempfile.TemporaryDirectory() as tmp, pipeline.precision(cfg.train.mixed_precision):
        _, splits, model = pipeline.prepare(task, cfg, Path(tmp))
        real = splits.train.take(2) if quick else splits.train
        produced = tf.Variable(0, dtype="int64")  # batches the real pipeline made for the cache
        cached = real.map(lambda *batch: _counted(produced, batch)).cache()
        work = epoch_work(model, cached)  # to the end: the cache is complete, and kept
        unfolded = _time_distributed(model)
        for each in (model, unfolded) if unfolded else (model,):
            _epoch(each, cached)  # traces the step
        repeats = range(1 if quick else REPEATS)
        times = [(_epoch(model, real), _epoch(model, cached),
                  _epoch(unfolded, cached) if unfolded else None) for _ in repeats]  # fmt: skip
        if int(produced.numpy()) != work["steps"]:
            raise RuntimeError(f"{task}: the cached epochs ran the input pipeline again")
        real_s, cached_s, unfolded_s = zip(*times, strict=True)
        twin = None
        if unfolded:  # its fastest epoch, and the median of its turns' time ratios
            ratios = [u / c for u, c in zip(unfolded_s, cached_s, strict=True)]
            twin = (min(unfolded_s), float(np.median(ratios)))
        real_s, cached_s = min(real_s), min(cached_s)
    note = f"batch {cfg.train.batch_size}" + (", XLA" if cfg.train.jit_compile else "")
    return work, Timing(real_s, cached_s, note, twin)


def _time_distributed(model: keras.Model) -> keras.Model | None:
    """`model` with Keras' `TimeDistributed` for each `TimeFolded` (the same weights,
    compiled alike), or None where it has none."""
    if not any(isinstance(layer, TimeFolded) for layer in model.layers):
        return None

    def clone(layer):
        kind = keras.layers.TimeDistributed if isinstance(layer, TimeFolded) else type(layer)
        return kind.from_config(layer.get_config())

    unfolded = keras.models.clone_model(model, clone_function=clone)
    unfolded.set_weights(model.get_weights())
    unfolded.compile_from_config(model.get_compile_config())
    return unfolded


def _row(task: str, work: dict, times: Timing, peak: float) -> Row:
    real_s, cached_s, note = times.real_s, times.cached_s, times.note
    ratio = cached_s / real_s  # real steps/s over cached steps/s, the same steps
    figures = {
        "examples/s": work["examples"] / cached_s,
        f"{work['unit']}/s": work["units"] / cached_s,
        "MFU": work["flops"] / cached_s / peak,
        "pipeline ratio": ratio,
    }
    target = f"pipeline ratio >= {PIPELINE_TARGET}"
    met = ratio >= PIPELINE_TARGET
    if task == "translate":
        target += f"; MFU >= {MFU_TARGET}"
        met = met and figures["MFU"] >= MFU_TARGET
    return Row("train", task, figures, target, met, note)


def _folded_row(task: str, work: dict, twin: tuple[float, float]) -> Row:
    """The model with `TimeFolded` against itself with Keras' `TimeDistributed`."""
    unfolded_s, speedup = twin
    return Row("train", f"{task}: frames folded into the batch vs TimeDistributed",
               {"TimeDistributed examples/s": work["examples"] / unfolded_s,
                "x TimeDistributed": speedup},
               f"x TimeDistributed >= {FOLDED_TARGET}", speedup >= FOLDED_TARGET,
               "the same model, weights and batches, the per-frame CNN wrapped in Keras' "
               "TimeDistributed (a call per frame) instead of models.TimeFolded")  # fmt: skip


def _counted(counter: tf.Variable, batch: tuple) -> tuple:
    counter.assign_add(1)
    return batch


class _EpochClock(keras.callbacks.Callback):
    """Seconds of the last epoch, from `on_epoch_begin` to `on_epoch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def _epoch(model: keras.Model, dataset: tf.data.Dataset) -> float:
    clock = _EpochClock()
    model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
    return clock.seconds


def epoch_work(model: keras.Model, dataset: tf.data.Dataset) -> dict:
    """Steps, examples, units (target tokens, frames or steps) and training FLOPs of
    one pass over `dataset`, whose elements are `(inputs, targets[, weights])`.

    Example:
    >>> model = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3)])
    >>> data = tf.data.Dataset.from_tensors((tf.zeros((5, 4, 2)), tf.zeros((5, 3))))
    >>> work = epoch_work(model, data)
    >>> work["examples"], work["unit"], work["units"], work["flops"]  # 3 * 2*5*4*(2+3)*4*3
    (5, 'steps', 20, 7200.0)
    """
    totals = {"steps": 0, "examples": 0, "units": 0, "flops": 0.0}
    per_shape = {}  # the FLOPs depend only on the (padded) input shapes
    for batch in dataset:
        inputs = batch[0]
        shapes = tuple(tuple(x.shape) for x in keras.tree.flatten(inputs))
        if shapes not in per_shape:
            per_shape[shapes] = flops.train_step_flops(model, inputs)
        unit, units = _units(batch)
        totals["steps"] += 1
        totals["examples"] += shapes[0][0]
        totals["units"] += units
        totals["flops"] += per_shape[shapes]
    return {**totals, "unit": unit}


def _units(batch) -> tuple[str, int]:
    """What a step's examples are made of: target tokens (the non-padding weights of a
    text batch), frames (clips) or steps (series), and how many."""
    if len(batch) == 3 and len(batch[2].shape) == 2:
        return "tokens", int(np.count_nonzero(batch[2]))
    first = keras.tree.flatten(batch[0])[0]
    name = "frames" if len(first.shape) == 5 else "steps"
    return name, int(first.shape[0] * first.shape[1])
