"""Quality: the test metric of each default training run, its time and peak memory;
with `--data TASK=SOURCE`, also of the task's default run on that data (a real corpus,
say: `make bench ARGS="quality --data translate=anki:PATH"`)."""

import csv
import json

from benchmarks import runs
from benchmarks.report import Row

METRICS = {  # task -> the test metrics reported, as named in its metrics.json
    "translate": ("bleu", "chrf"),
    "caption": ("bleu4", "cider"),
    "classify": ("accuracy",),
}


def run(quick: bool = False) -> list[Row]:
    """One row per task and data source: test metrics, the wall time of the whole
    `train` command (data, fit, evaluation, export), epochs run and peak RSS."""
    rows = []
    for task, names in METRICS.items():
        for source in [None, *runs.SOURCES.get(task, [])]:
            rows.append(_row(task, names, runs.trained(task, quick, source), quick, source))
    return rows


def _row(task: str, names: tuple[str, ...], done: runs.Run, quick: bool, source) -> Row:
    test = json.loads((done.workdir / "metrics.json").read_text())["test"]
    with (done.workdir / "history.csv").open() as f:
        epochs = len(list(csv.DictReader(f)))
    figures = {name: test[name] for name in names}
    figures |= {"s to train": done.seconds, "epochs": epochs, "MiB peak RSS": done.peak_rss_mb}
    name = f"{task} ({'tiny' if quick else 'default'}{f', {source}' if source else ''})"
    return Row("quality", name, figures)
