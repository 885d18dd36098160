"""Quality: the test metric of each default training run, its time and peak memory."""

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
    """One row per task: test metrics, the wall time of the whole `train` command
    (data, fit, evaluation, export), epochs run and peak RSS."""
    rows = []
    for task, names in METRICS.items():
        done = runs.trained(task, quick)
        test = json.loads((done.workdir / "metrics.json").read_text())["test"]
        with (done.workdir / "history.csv").open() as f:
            epochs = len(list(csv.DictReader(f)))
        figures = {name: test[name] for name in names}
        figures |= {"s to train": done.seconds, "epochs": epochs,
                    "MiB peak RSS": done.peak_rss_mb}  # fmt: skip
        rows.append(Row("quality", f"{task} ({'tiny' if quick else 'default'})", figures))
    return rows
