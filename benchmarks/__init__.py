"""`make bench`: how fast and how well each pipeline trains and serves, measured.

`python -m benchmarks [NAME ...] [--quick]` runs the benchmark modules listed in
`benchmarks.runner.MODULES` (all of them, or those named), prints one Markdown table
and writes `benchmarks/results/<YYYY-MM-DD>.json` (the rows plus machine facts: CPU
count, TensorFlow version, device).

The interface of a benchmark module (`benchmarks/<name>.py`, listed by name in
`MODULES`): one public function

    def run(quick: bool = False) -> list[Row]: ...

that measures and returns rows of the single table. `quick` means tiny sizes and
few repeats (the smoke test runs it in seconds); the figures are then meaningless.
A row (`benchmarks.report.Row`) is one thing measured, with its named figures:

    Row(
        bench="train",                  # the module's short name (table column 1)
        case="translate",               # what was measured (column 2)
        figures={"examples/s": 812.0, "tokens/s": 9100.0, "MFU": 0.61},
        target="MFU >= 0.65",           # optional: the target, in words
        met=False,                      # optional: True/False when there is a target
        note="",                        # optional: anything the reader must know
    )

Figures are plain floats (ratios as fractions, times in seconds); the table prints
them with their names, the JSON keeps them exact. Shared helpers for modules:
`benchmarks.timing.rate(fn, ...)` (calls per second of a callable after warm-up) and
`benchmarks.timing.matmul_peak()` (FLOP/s of a large `tf.matmul`, measured now).

Example:
>>> from benchmarks.report import Row
>>> Row("train", "translate", {"examples/s": 812.0}).figures["examples/s"]
812.0
"""
