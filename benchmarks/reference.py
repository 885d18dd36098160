"""Reference LSTM stacks, for scale beside the task models.

A plain Keras `Bidirectional(LSTM(256))` + `LSTM(256)` stack (batch 64, 50 steps, 128
inputs: the sizes the speed issue names) trained with `fit`, and, when PyTorch is
importable (it is optional, never a requirement), the same stack of `torch.nn.LSTM`
stepped by hand; then both at about the default translate model's sizes (128 units a
direction, 64 inputs, 12 steps: its batches' padded length), where each step's
matrix products are smaller. All are measured against the highest `tf.matmul` peak
measured between them in the same run.
"""

import functools
import importlib.util

import numpy as np
import tensorflow as tf

from benchmarks import timing
from benchmarks.report import Row

SIZES = (
    {"batch": 64, "steps": 50, "features": 128, "units": 256},
    {"batch": 64, "steps": 12, "features": 64, "units": 128},  # about translate's default
)
QUICK_SIZES = ({"batch": 4, "steps": 5, "features": 8, "units": 8},)
STEPS = 5  # training steps per timed call


def stack_flops(batch: int, steps: int, features: int, units: int) -> float:
    """Training FLOPs of one step of the BiLSTM + LSTM stack (3x its forward products).

    Example:
    >>> stack_flops(1, 1, 1, 1)  # 3 * 2 * ((1+1)*4 * 2 + (2+1)*4)
    168.0
    """
    gates = 4 * units
    bidirectional = 2 * (features + units) * gates
    top = (2 * units + units) * gates
    return 3.0 * 2 * batch * steps * (bidirectional + top)


def run(quick: bool = False) -> list[Row]:
    """The Keras stack's and (if importable) PyTorch's training MFU and examples/s, at
    each of the sizes; MFU against the highest matmul peak measured between the cases
    (`timing.between_peaks`)."""
    steps = {"keras": _keras_step, "torch": _torch_step}
    if importlib.util.find_spec("torch") is None:
        del steps["torch"]
    cases = [(name, sizes) for sizes in (QUICK_SIZES if quick else SIZES) for name in steps]
    jobs = [functools.partial(timing.seconds, steps[name](**sizes), 2 if quick else 3)
            for name, sizes in cases]  # fmt: skip
    times, peaks = timing.between_peaks(jobs, 256 if quick else 2048)
    peak = max(peaks)
    note = f"MFU against the best of {len(peaks)} tf.matmul peaks, {peak / 1e9:.0f} GFLOP/s"
    rows = []
    for (name, sizes), seconds in zip(cases, times, strict=True):
        seconds /= STEPS
        case = "BiLSTM({units}) + LSTM({units}), batch {batch}, {steps} steps".format(**sizes)
        figures = {"examples/s": sizes["batch"] / seconds,
                   "MFU": stack_flops(**sizes) / seconds / peak}  # fmt: skip
        rows.append(Row("reference", f"{name} {case}", figures, note=note))
    return rows


def _data(batch: int, steps: int, features: int, units: int):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, steps, features)).astype("float32")
    return x, rng.normal(size=(batch, 1)).astype("float32")


def _keras_step(batch: int, steps: int, features: int, units: int):
    """A callable that trains the Keras stack for `STEPS` steps (one `fit` call)."""
    import keras

    model = keras.Sequential([
        keras.Input((steps, features)),
        keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True)),
        keras.layers.LSTM(units),
        keras.layers.Dense(1),
    ])  # fmt: skip
    model.compile("adam", "mse")
    x, y = _data(batch, steps, features, units)
    data = tf.data.Dataset.from_tensors((x, y)).repeat(STEPS).cache()
    return lambda: model.fit(data, epochs=1, verbose=0)


def _torch_step(batch: int, steps: int, features: int, units: int):
    """A callable that trains the same stack in PyTorch for `STEPS` steps."""
    import torch

    lower = torch.nn.LSTM(features, units, batch_first=True, bidirectional=True)
    upper = torch.nn.LSTM(2 * units, units, batch_first=True)
    head = torch.nn.Linear(units, 1)
    params = [*lower.parameters(), *upper.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params)
    x, y = (torch.from_numpy(a) for a in _data(batch, steps, features, units))

    def train():
        for _ in range(STEPS):
            optimizer.zero_grad()
            out, _ = upper(lower(x)[0])
            loss = torch.nn.functional.mse_loss(head(out[:, -1]), y)
            loss.backward()
            optimizer.step()

    return train
