"""Runs the benchmark modules, prints the table and writes the JSON record.

Example:
>>> selected(["decode"])
['decode']
"""

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import report, runs
from benchmarks.quality import METRICS

# The benchmark modules, in running order: `benchmarks/<name>.py`, each with
# `run(quick: bool = False) -> list[report.Row]` (see the package docstring).
MODULES = ["train", "profile", "reference", "quality", "decode", "tree_lstm", "memory"]


def selected(names: list[str]) -> list[str]:
    """The modules to run: those named (in `MODULES` order), or all."""
    unknown = sorted(set(names) - set(MODULES))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; known: {', '.join(MODULES)}")
    return [name for name in MODULES if name in names] if names else list(MODULES)


def sources(pairs: list[str]) -> dict[str, list[str]]:
    """`--data TASK=SOURCE` values by task.

    Example:
    >>> sources(["translate=anki:pairs.tsv", "caption=folder:photos"])
    {'translate': ['anki:pairs.tsv'], 'caption': ['folder:photos']}
    """
    out: dict[str, list[str]] = {}
    for pair in pairs:
        task, _, source = pair.partition("=")
        if task not in METRICS or not source:
            raise SystemExit(f"--data takes TASK=SOURCE with TASK one of {tuple(METRICS)}, "
                             f"got {pair!r}")  # fmt: skip
        out.setdefault(task, []).append(source)
    return out


def run_benchmarks(names: list[str], quick: bool = False) -> list[report.Row]:
    """The rows of every selected module, printing progress to stderr."""
    rows = []
    for name in selected(names):
        start = time.perf_counter()
        new = importlib.import_module(f"benchmarks.{name}").run(quick)
        seconds = time.perf_counter() - start
        table = report.markdown(new)
        print(f"[bench] {name}: {seconds:.0f} s\n{table}", file=sys.stderr, flush=True)
        rows += new
    return rows


def main(argv: list[str] | None = None) -> Path:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {MODULES}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--runs", type=Path, help="keep (and reuse) training runs here")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="TASK=SOURCE",
        help="quality: also train TASK's default on SOURCE (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="JSON folder (default benchmarks/results; "
                        "with --quick, the runs folder)")  # fmt: skip
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        runs.RUNS_DIR = args.runs or Path(tmp)
        runs.SOURCES = sources(args.data)
        start = time.perf_counter()
        rows = run_benchmarks(args.names, args.quick)
        seconds = time.perf_counter() - start
        out = args.out or (runs.RUNS_DIR if args.quick else report.RESULTS)
        command = " ".join(["python -m benchmarks", *argv])
        part = "-".join(selected(args.names)) if args.names else ""  # not the full run's file
        path = report.write_json(rows, report.machine(), command, seconds, out, part)
    print(report.markdown(rows))
    print(f"\n{len(rows)} rows in {seconds / 60:.1f} min; wrote {path}")
    return path
