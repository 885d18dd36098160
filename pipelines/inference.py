"""Batch inference with an exported SavedModel: inputs in, one JSON record each out.

`predict` reads its inputs lazily (a list, a file's lines, stdin) and runs them through
the export `batch_size` at a time, so memory stays bounded by one batch however many
inputs come; `write_json_lines` writes the records in input order, one line each.

Example:
>>> import io
>>> records = [{"input": "a.png", "caption": "a dog"}, {"input": "b.txt", "error": "not an image"}]
>>> out = io.StringIO()
>>> write_json_lines(records, out)
[2]
>>> print(out.getvalue(), end="")
{"input": "a.png", "caption": "a dog"}
{"input": "b.txt", "error": "not an image"}
>>> list(lines(io.StringIO("one\\r\\ntwo\\n")))
['one', 'two']
"""

import contextlib
import importlib
import json
import sys
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TextIO

from common import atomic
from common.errors import UserError
from pipelines import settings, versions
from pipelines.run_directory import read_json
from tasks import get_task

BATCH_SIZE = 64


def predict(model: Path, inputs: Iterable[str], n_best: int = 1,
            batch_size: int = BATCH_SIZE) -> Iterator[dict]:  # fmt: skip
    """Runs the export at `model` (its latest version, for a folder of versions) on
    `inputs`; yields `{"input": given, **outputs}` per input, in order, where an input
    the task refuses (a missing file, not an image) gets `{"input", "error"}` and the
    rest go on. `n_best` asks a text generator for its best hypotheses."""
    if batch_size < 1 or n_best < 1:
        raise UserError(f"--batch-size {batch_size}, --n-best {n_best}: give 1 or more")
    model = versions.latest(Path(model))
    record = read_json(model / versions.MARK)
    task_cls = get_task(record["task"])
    if "config" not in record:
        raise UserError(f"{model} records no config (an export from before batch predict): "
                        f"move it aside and export the run again")  # fmt: skip
    try:
        cfg = settings.from_dict(type(task_cls.presets["default"]), record["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise UserError(f"{model / versions.MARK}: a config this version cannot read "
                        f"({err})") from None  # fmt: skip
    for module in record.get("imports", {}):
        importlib.import_module(module)  # registers the ops the graph uses
    import tensorflow as tf  # here: `python -m pipelines` shows argument errors first

    served = tf.saved_model.load(str(model))
    if n_best > 1 and "nbest" not in served.signatures:
        raise UserError(f"--n-best: a {record['task']} export gives one answer per input")
    given = iter(inputs)
    while batch := list(islice(given, batch_size)):
        for one, out in zip(batch, task_cls.predict(served, cfg, batch, n_best), strict=True):
            yield {"input": one, **out}


def lines(source: TextIO) -> Iterator[str]:
    """The lines of `source` without their line ends, read as they are needed."""
    return (line.rstrip("\r\n") for line in source)


def write_json_lines(records: Iterable[dict], out: TextIO,
                     progress: TextIO | None = None) -> list[int]:  # fmt: skip
    """Writes each record as one JSON line to `out`; returns the (1-based) numbers of
    the records that carry an `error`. With `progress` (a terminal), a count and rate
    are kept up to date on it."""
    failed, start, count = [], time.monotonic(), 0
    for count, record in enumerate(records, 1):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if "error" in record:
            failed.append(count)
        if progress:
            rate = count / max(time.monotonic() - start, 1e-9)
            progress.write(f"\r{count} inputs, {len(failed)} refused, {rate:.1f}/s")
            progress.flush()
    if progress and count:
        progress.write("\n")
    return failed


def run(model: Path, inputs: list[str], input_file: str | None, out: Path | None,
        n_best: int, batch_size: int) -> list[int]:  # fmt: skip
    """The `predict` command: inputs from the command line, or the lines of
    `input_file` (`-`: stdin); JSON lines to `out` (written whole or not at all) or
    stdout; progress on stderr when it is a terminal. Returns the failed lines."""
    if input_file and inputs:
        raise UserError("give inputs on the command line or --input FILE, not both")
    if not input_file and not inputs:
        raise UserError("predict needs at least one input, or --input FILE ('-': stdin)")
    if out is not None and Path(out).is_dir():
        raise UserError(f"--out {out} is a folder: give a file name")
    progress = sys.stderr if sys.stderr.isatty() else None
    with _opened(input_file) as source:
        records = predict(model, lines(source) if source else inputs, n_best, batch_size)
        if out is None:  # a command-line input of bytes that are not UTF-8 shows as \xNN
            sys.stdout.reconfigure(errors="backslashreplace")
            return write_json_lines(records, sys.stdout, progress)
        with atomic.replacing(out) as tmp, open(tmp, "w", encoding="utf-8",
                                                errors="backslashreplace") as sink:  # fmt: skip
            return write_json_lines(records, sink, progress)


@contextlib.contextmanager
def _opened(input_file: str | None) -> Iterator[TextIO | None]:
    """`input_file` open for reading as UTF-8 text, bytes that are not UTF-8 read as
    U+FFFD (`-`: stdin); None without one."""
    if input_file == "-":
        sys.stdin.reconfigure(errors="replace")
        yield sys.stdin
    elif not input_file:
        yield None
    else:
        try:
            source = open(input_file, encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError as err:
            raise UserError(f"--input {input_file}: {err.strerror}") from None
        with source:
            yield source
