"""Where a training step's time goes, per task: TensorFlow's profiler, op by op.

For each task's default preset, `STEPS` training steps on cached batches (after one
traced epoch) run under `tf.profiler.experimental`; every TensorFlow op the trace
records is charged to the layer whose name scope it runs in (forward and backward
alike: `gradient_tape/<model>/decoder/attention/...` is the decoder's attention), the
optimizer's ops to `optimizer`. A row gives each part's share of the summed op time
(both cores' ops summed: shares, not wall time), the largest first, and the op kinds
that take the most.
"""

import collections
import re
import tempfile
from pathlib import Path

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from benchmarks.report import Row
from benchmarks.train import TASKS
from pipelines import run as pipeline

STEPS = 30  # profiled training steps per task
SHOWN = 8  # parts and op kinds per row
_SCOPE_SUFFIX = re.compile(r"_\d+$")  # Keras' name scopes: layer `attention` -> `attention_1`


def run(quick: bool = False) -> list[Row]:
    """One row per task: the parts of its training step, by share of op time."""
    return [_row(task, quick) for task in TASKS]


def _row(task: str, quick: bool) -> Row:
    cfg = pipeline.resolve_config(task, preset="tiny" if quick else "default")
    with tempfile.TemporaryDirectory() as tmp, pipeline.precision(cfg.train.mixed_precision):
        _, splits, model = pipeline.prepare(task, cfg, Path(tmp))
        batches = splits.train.take(2 if quick else STEPS).cache()
        model.fit(batches, epochs=1, verbose=0)  # traces the step, fills the cache
        tf.profiler.experimental.start(str(Path(tmp) / "profile"))
        model.fit(batches, epochs=1, verbose=0)
        tf.profiler.experimental.stop()
        (trace,) = (Path(tmp) / "profile").rglob("*.xplane.pb")
        parts, kinds = op_times(trace.read_bytes(), model.name, model.optimizer.name)
    total = sum(parts.values())
    figures = {f"% {name}": 100 * t / total for name, t in parts.most_common(SHOWN)}
    top = ", ".join(f"{kind} {100 * t / total:.0f}%" for kind, t in kinds.most_common(SHOWN))
    return Row("profile", f"{task} training step", figures, note=f"by op kind: {top}")


def op_times(xspace: bytes, model_name: str, optimizer_name: str):
    """Picoseconds of TensorFlow ops in a profiler trace (`*.xplane.pb`), by the part
    of `model_name` they run in (`optimizer`: in `optimizer_name`'s scope) and by op
    kind: two `collections.Counter`s.

    Example:
    >>> from tensorflow.tsl.profiler.protobuf import xplane_pb2
    >>> space = xplane_pb2.XSpace()
    >>> plane = space.planes.add()
    >>> plane.event_metadata[1].name = "gradient_tape/m_1/decoder_1/lstm_0_1/MatMul:MatMul"
    >>> plane.event_metadata[2].name = "adam/Sqrt:Sqrt"
    >>> line = plane.lines.add()
    >>> _ = line.events.add(metadata_id=1, duration_ps=30), line.events.add(metadata_id=2,
    ...                                                                     duration_ps=10)
    >>> op_times(space.SerializeToString(), "m", "adam")
    (Counter({'decoder/lstm_0': 30, 'optimizer': 10}), Counter({'MatMul': 30, 'Sqrt': 10}))
    """
    space = xplane_pb2.XSpace.FromString(xspace)
    parts, kinds = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                scope, _, kind = name.rpartition(":")
                if "/" not in scope or "::" in name or kind.startswith("__"):
                    continue  # not an op in a graph: the executor, a function, a tf.data stage
                parts[_part(scope, model_name, optimizer_name)] += event.duration_ps
                kinds[kind] += event.duration_ps
    return parts, kinds


def _part(scope: str, model_name: str, optimizer_name: str) -> str:
    """The layer (two levels deep) an op's name scope is in, `optimizer` for the
    optimizer's, `other` for the rest."""
    names = [_SCOPE_SUFFIX.sub("", s) for s in scope.split("/")]
    if model_name in names:
        inside = names[names.index(model_name) + 1 : -1]  # the op's own name last
        return "/".join(inside[:2]) or "other"
    return "optimizer" if optimizer_name in names else "other"
