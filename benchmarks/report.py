"""Benchmark rows, the Markdown table and the JSON record with the machine's facts."""

import dataclasses
import datetime
import json
import os
import platform
from pathlib import Path

from common import atomic

RESULTS = Path(__file__).parent / "results"


@dataclasses.dataclass
class Row:
    """One thing measured: its named figures, and the target it is held to if any.

    Example:
    >>> row = Row("decode", "translate beam 4 b64", {"sentences/s": 41.5}, "x", met=True)
    >>> row.cells()
    ['decode', 'translate beam 4 b64', '41.5 sentences/s', 'x: met']
    """

    bench: str  # the module's short name
    case: str  # what was measured
    figures: dict[str, float]  # name -> value; ratios as fractions, times in seconds
    target: str = ""  # the target in words, e.g. "MFU >= 0.65"
    met: bool | None = None  # whether the target is met (None: no target)
    note: str = ""

    def cells(self) -> list[str]:
        figures = ", ".join(f"{_number(v)} {k}" for k, v in self.figures.items())
        if self.note:
            figures = f"{figures} ({self.note})" if figures else self.note
        target = self.target
        if self.met is not None:
            target = f"{target}: {'met' if self.met else 'NOT met'}"
        return [self.bench, self.case, figures, target]


def _number(value: float) -> str:
    """Three significant figures, thousands separated: 0.0123, 4.56, 1,234."""
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def markdown(rows: list[Row]) -> str:
    """The single table: benchmark, case, measured figures, target.

    Example:
    >>> print(markdown([Row("train", "translate", {"examples/s": 812.0})]))
    | benchmark | case | measured | target |
    |---|---|---|---|
    | train | translate | 812 examples/s |  |
    """
    lines = ["| benchmark | case | measured | target |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict:
    """Facts that make the figures comparable: CPU count and model, TF, device."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return {
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": __import__("keras").__version__,
        "device": gpus[0].name if gpus else "CPU",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_json(rows: list[Row], facts: dict, command: str, seconds: float,
               out_dir: Path = RESULTS, part: str = "") -> Path:  # fmt: skip
    """Writes `out_dir/<YYYY-MM-DD>.json` for a run of every benchmark, or
    `<YYYY-MM-DD>-<part>.json` for a run of some (`part` names them), replacing the same
    day's file of the same kind, and returns its path."""
    today = datetime.date.today().isoformat()
    record = {
        "date": today,
        "command": command,
        "seconds": round(seconds, 1),
        "machine": facts,
        "rows": [dataclasses.asdict(row) for row in rows],
    }
    path = out_dir / f"{today}{'-' + part if part else ''}.json"
    atomic.write_text(path, json.dumps(record, indent=2) + "\n")
    return path
