"""The default training runs the quality and decoding benchmarks share.

Each run is `python -m pipelines train` in a child process, so its wall time and peak
resident memory (read from /proc, see `child`) are its own; a run is made once per
benchmark session and kept in `RUNS_DIR` (a temporary folder, or `--runs DIR` to keep
and reuse them).
"""

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

RUNS_DIR = Path("runs/bench")  # the runner points this at the session's folder
SOURCES: dict[str, list[str]] = {}  # task -> more data sources to run (`--data TASK=SOURCE`)
SAMPLE_S = 0.02  # how often a run's peak memory is read


@dataclasses.dataclass
class Run:
    """A finished training run: where it is, what it took."""

    workdir: Path
    seconds: float  # wall time of the whole `train` command (data, fit, eval, export)
    peak_rss_mb: float  # the child process's peak resident set size


def trained(task: str, quick: bool = False, source: str | None = None) -> Run:
    """The task's default run on its default data or on `source` (`tiny`, one epoch,
    with `quick`), training it if needed, in `RUNS_DIR/<task>-<preset>[-<source>]`."""
    preset = "tiny" if quick else "default"
    name = f"{task}-{preset}" + (f"-{_slug(source)}" if source else "")
    workdir = RUNS_DIR / name
    record = workdir / "bench_run.json"
    if not record.exists():
        data = ["--data", source] if source else []
        command = [sys.executable, "-m", "pipelines", "train", "--task", task, *data,
                   "--preset", preset, "--workdir", str(workdir)]  # fmt: skip
        workdir.mkdir(parents=True, exist_ok=True)
        seconds, rss = child(command, workdir / "train.log")
        record.write_text(json.dumps({"seconds": seconds, "peak_rss_mb": rss}) + "\n")
    facts = json.loads(record.read_text())
    return Run(workdir, facts["seconds"], facts["peak_rss_mb"])


def _slug(source: str) -> str:
    """A folder name for a data source.

    Example:
    >>> _slug("anki:../corpora/tatoeba-eng-fra")
    'anki-corpora-tatoeba-eng-fra'
    """
    return "-".join(part for part in re.split(r"[^A-Za-z0-9_]+", source) if part)


def child(command: list[str], log: Path) -> tuple[float, float]:
    """Runs `command`; returns its wall time (s) and peak RSS (MiB), or fails with its log.

    The peak is the child's own high-water mark, `VmHWM` in `/proc/PID/status`, read
    every `SAMPLE_S` until it exits. `ru_maxrss` from `wait4` is not the child's: a
    process started by fork and exec keeps, in the kernel's record, the peak of the
    memory it was forked from, so every run read as the benchmark process (2,265 MiB
    for all three). VmHWM only grows, so the last sample misses at most what the run's
    last `SAMPLE_S` added.
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    peak_kib = 0
    with log.open("w") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        while child.poll() is None:
            peak_kib = max(peak_kib, high_water_kib(child.pid))
            time.sleep(SAMPLE_S)
    if child.returncode:
        raise RuntimeError(f"{' '.join(command)} failed; see {log}:\n{log.read_text()[-2000:]}")
    return time.perf_counter() - start, peak_kib / 1024


def high_water_kib(pid: int) -> int:
    """The process's peak resident set size so far (KiB), 0 once it has exited.

    Example:
    >>> import os
    >>> high_water_kib(os.getpid()) > 0
    True
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else 0  # a zombie has no memory lines
