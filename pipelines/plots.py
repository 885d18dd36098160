"""The training-curve plot written at the end of training."""

import csv
from pathlib import Path

from matplotlib.ticker import MaxNLocator

from common.figures import plt, save


def plot_history(history_csv: Path, out: Path) -> None:
    """One panel per metric in Keras's `CSVLogger` file, training beside validation."""
    with history_csv.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    metrics = [
        k for k in rows[0] if k not in ("epoch", "learning_rate") and not k.startswith("val_")
    ]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
    epochs = [int(r["epoch"]) + 1 for r in rows]
    for ax, metric in zip(axes[0], metrics, strict=True):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in rows[0] and all(r[key] not in ("", "NA") for r in rows):
                ax.plot(epochs, [float(r[key]) for r in rows], marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(metric)
        ax.legend()
    fig.tight_layout()
    save(fig, out)
