"""Figures the tasks write into a run's `plots/` folder."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def attention_heatmap(weights, rows: list[str], columns: list[str], path: Path, title: str):
    """Saves a `(len(rows), len(columns))` attention matrix as a labelled heatmap."""
    fig, ax = plt.subplots(figsize=(1 + 0.45 * len(columns), 1 + 0.4 * len(rows)))
    ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
