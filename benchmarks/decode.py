"""Decoding speed through the exported SavedModel: greedy and beam 4, batch 1 and 64.

The default translate and caption runs (`benchmarks.runs`) are exported again with
`decode.beam_size=4`, loaded with `tf.saved_model.load` and fed raw test inputs
(sentences, PNG bytes), as a server would be. At batch 64 the two searches take
turns, `REPEATS` passes over the same batches each, and each keeps its best pass:
their ratio then compares the two on the same stretch of a shared machine.
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
REPEATS = 7  # timed passes of each search over the batch-64 batches
OUTPUTS = {"translate": "sentences", "caption": "captions"}
TASKS = ("translate", "caption")


def run(quick: bool = False) -> list[Row]:
    """Per task and search: outputs/s at batch 1 and 64, p50/p95 latency of one input."""
    rows = []
    for task in TASKS:
        served, inputs = _served(task, quick)
        searches = {"greedy": served.signatures["greedy"],
                    f"beam {BEAM}": served.signatures["serving_default"]}  # fmt: skip
        rates = batch_rates(searches, inputs, quick)
        for search, signature in searches.items():
            figures = measure(signature, inputs, rates[search], quick)
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
    cfg = dataclasses.replace(job.cfg, decode=dataclasses.replace(job.cfg.decode, beam_size=BEAM))
    beam = type(job)(cfg, done.workdir)
    beam.restore()
    export = pipeline.export(done.workdir, done.workdir / f"export-beam{BEAM}", beam)
    return tf.saved_model.load(str(export)), beam.serving_inputs("test")


def _caller(signature):
    """`signature` called on a list of raw inputs (its one input)."""
    (name,) = signature.structured_input_signature[1]
    return lambda batch: signature(**{name: tf.constant(batch)})


def batch_rates(signatures: dict, inputs: list, quick: bool = False) -> dict[str, float]:
    """Outputs/s of each signature at batch 64, the signatures taking turns (see above)."""
    batches = [inputs[i : i + BATCH] for i in range(0, BATCH * (1 if quick else 4), BATCH)]
    batches = [b for b in batches if len(b) == BATCH] or [inputs[:BATCH]]

    def one_pass(call):
        return lambda: [call(batch) for batch in batches]

    passes = {key: one_pass(_caller(signature)) for key, signature in signatures.items()}
    seconds = timing.seconds_each(passes, repeats=1 if quick else REPEATS)
    return {key: len(batches) * len(batches[0]) / s for key, s in seconds.items()}


def measure(signature, inputs: list, at_64: float, quick: bool = False) -> dict:
    """The figures of one signature: outputs/s at batch 1 and `at_64` (`batch_rates`),
    p50/p95 latency of one input."""
    call = _caller(signature)
    single = timing.latencies(lambda: call(inputs[:1]), 3 if quick else 40)
    return {
        "/s at b1": 1.0 / single.mean(),
        f"/s at b{BATCH}": at_64,
        "ms p50 at b1": float(np.percentile(single, 50)) * 1e3,
        "ms p95 at b1": float(np.percentile(single, 95)) * 1e3,
    }
