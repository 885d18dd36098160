"""Decoding speed through the exported SavedModel: greedy and beam 4, batch 1 and 64.

The default translate and caption runs (`benchmarks.runs`) are exported again with
`decode.beam_size=4`, loaded with `tf.saved_model.load` and fed raw test inputs
(sentences, PNG bytes), as a server would be.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from benchmarks import runs, timing
from benchmarks.report import Row
from pipelines import run as pipeline

BEAM = 4
BATCH = 64
BEAM_TARGET = 2.5  # beam 4 costs at most this many times greedy, per sentence at batch 64
OUTPUTS = {"translate": "sentences", "caption": "captions"}
RAW_INPUTS = {  # task -> its test split as the export's raw input
    "translate": lambda examples: [e.source for e in examples],
    "caption": lambda examples: [tf.io.encode_png(e.image).numpy() for e in examples],
}


def run(quick: bool = False) -> list[Row]:
    """Per task and search: outputs/s at batch 1 and 64, p50/p95 latency of one input."""
    rows = []
    for task in RAW_INPUTS:
        served, inputs = _served(task, quick)
        rates = {}
        for search, signature in (("greedy", "greedy"), (f"beam {BEAM}", "serving_default")):
            rates[search], figures = measure(served.signatures[signature], inputs, quick)
            figures = {(OUTPUTS[task] + k if k.startswith("/") else k): v
                       for k, v in figures.items()}  # fmt: skip
            rows.append(Row("decode", f"{task} {search}", figures))
        ratio = rates["greedy"] / rates[f"beam {BEAM}"]
        rows[-1].figures[f"x greedy's time at b{BATCH}"] = ratio
        rows[-1].target = f"beam {BEAM} <= {BEAM_TARGET}x greedy per output at b{BATCH}"
        rows[-1].met = ratio <= BEAM_TARGET
    return rows


def _served(task: str, quick: bool):
    """The loaded beam-4 export of the task's default run and its raw test inputs."""
    done = runs.trained(task, quick)
    job = pipeline.load_run(done.workdir)
    job.cfg = dataclasses.replace(
        job.cfg, decode=dataclasses.replace(job.cfg.decode, beam_size=BEAM)
    )
    job.datasets()
    out = done.workdir / f"export-beam{BEAM}"
    if not out.exists():
        pipeline.export(done.workdir, out, job)
    return tf.saved_model.load(str(out)), RAW_INPUTS[task](job.examples["test"])


def measure(signature, inputs: list, quick: bool = False) -> tuple[float, dict]:
    """Outputs/s at batch 64 (the first value) and the figures of one signature."""
    (name,) = signature.structured_input_signature[1]  # the one raw input

    def call(batch):
        return lambda: signature(**{name: tf.constant(batch)})

    batches = [inputs[i : i + BATCH] for i in range(0, BATCH * (1 if quick else 4), BATCH)]
    batches = [b for b in batches if len(b) == BATCH] or [inputs[:BATCH]]
    per_batch = timing.seconds(lambda: [call(b)() for b in batches], repeats=1 if quick else 2)
    at_64 = len(batches) * len(batches[0]) / per_batch
    single = timing.latencies(call(inputs[:1]), 3 if quick else 40)
    return at_64, {
        "/s at b1": 1.0 / single.mean(),
        f"/s at b{BATCH}": at_64,
        "ms p50 at b1": float(np.percentile(single, 50)) * 1e3,
        "ms p95 at b1": float(np.percentile(single, 95)) * 1e3,
    }
